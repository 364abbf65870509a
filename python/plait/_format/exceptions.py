"""Exceptions raised by plait, with Ray's names so `import plait as ray` code keeps working."""

from __future__ import annotations

from typing import Any


class RayError(Exception):
    """Base of every plait error."""


PlaitError = RayError


class RayTaskError(RayError):
    """A remote task or actor method raised.

    `plait.get` re-raises it as an instance of both RayTaskError and the original
    exception's class, so `except ValueError` catches a remote ValueError.
    """

    def __init__(
        self,
        function_name: str = "",
        traceback_str: str = "",
        cause: BaseException | None = None,
        type_name: str = "",
        language: str = "python",
    ) -> None:
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause
        self.type_name = type_name or (type(cause).__name__ if cause is not None else "")
        self.language = language
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{self.type_name} raised"
        if self.function_name:
            head += f" in task {self.function_name!r}"
        if self.language != "python":
            head += f" ({self.language})"
        body = self.traceback_str.rstrip() or str(self.cause)
        return f"{head}:\n{body}"

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        plain = type(self) in (RayTaskError, CrossLanguageError)
        base = CrossLanguageError if isinstance(self, CrossLanguageError) else RayTaskError
        return (
            _rebuild_task_error,
            (
                plain,
                base,
                self.function_name,
                self.traceback_str,
                self.cause,
                self.type_name,
                self.language,
            ),
        )

    def as_instanceof_cause(self) -> RayTaskError:
        """An exception that is both a RayTaskError and an instance of the cause's class."""
        cause = self.cause
        if cause is None or isinstance(cause, RayTaskError):
            return self
        cause_cls = type(cause)
        if not isinstance(cause, Exception):
            return self
        name = f"RayTaskError({cause_cls.__name__})"
        try:
            cls = _dual_classes.get(cause_cls)
            if cls is None:
                cls = type(name, (RayTaskError, cause_cls), {"__init__": _dual_init})
                cls.__module__ = "plait.exceptions"
                _dual_classes[cause_cls] = cls
            err: RayTaskError = cls.__new__(cls)  # type: ignore[call-overload]
            _dual_init(
                err, self.function_name, self.traceback_str, cause, self.type_name, self.language
            )
            err.args = cause.args
            return err
        except TypeError:  # e.g. a cause class with an incompatible layout
            return self


_dual_classes: dict[type, type] = {}


def _rebuild_task_error(
    plain: bool,
    base: type[RayTaskError],
    function_name: str,
    traceback_str: str,
    cause: BaseException | None,
    type_name: str,
    language: str,
) -> RayTaskError:
    err = base(function_name, traceback_str, cause, type_name, language)
    return err if plain else err.as_instanceof_cause()


def _dual_init(
    self: RayTaskError,
    function_name: str,
    traceback_str: str,
    cause: BaseException | None,
    type_name: str,
    language: str,
) -> None:
    self.function_name = function_name
    self.traceback_str = traceback_str
    self.cause = cause
    self.type_name = type_name
    self.language = language


class CrossLanguageError(RayTaskError):
    """An error raised by code in another language (Java, C++)."""


class RayActorError(RayError):
    """The actor died or could not be created; its method calls fail with this."""

    def __init__(
        self,
        message: str = "The actor died.",
        actor_id: str = "",
        cause: BaseException | None = None,
    ) -> None:
        self.actor_id = actor_id
        self.cause = cause
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default pickling passes only args (the message) to __init__.
        return (type(self), (str(self), self.actor_id), self.__dict__)


class ActorDiedError(RayActorError):
    pass


class ActorUnavailableError(RayActorError):
    pass


class GetTimeoutError(RayError, TimeoutError):
    """plait.get did not get every value within its timeout."""


class TaskCancelledError(RayError):
    def __init__(self, task_id: str = "", message: str | None = None) -> None:
        self.task_id = task_id
        super().__init__(message or f"Task {task_id} was cancelled.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.task_id, str(self)), self.__dict__)


class WorkerCrashedError(RayError):
    """The worker running the task died (and retries, if any, were used up)."""


class ObjectLostError(RayError):
    def __init__(self, object_id: str = "", message: str | None = None) -> None:
        self.object_id = object_id
        super().__init__(message or f"Object {object_id} is lost.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.object_id, str(self)), self.__dict__)


class OwnerDiedError(ObjectLostError):
    pass


class ObjectStoreFullError(RayError, MemoryError):
    pass


class RaySystemError(RayError):
    pass


class NodeDiedError(RayError):
    pass


__all__ = [
    "RayError",
    "PlaitError",
    "RayTaskError",
    "CrossLanguageError",
    "RayActorError",
    "ActorDiedError",
    "ActorUnavailableError",
    "GetTimeoutError",
    "TaskCancelledError",
    "WorkerCrashedError",
    "ObjectLostError",
    "OwnerDiedError",
    "ObjectStoreFullError",
    "RaySystemError",
    "NodeDiedError",
]

# The classes are public as plait.exceptions (which re-exports this module); tracebacks and
# pickles name them there, as Ray's users expect.
for _name in __all__:
    if _name != "PlaitError":
        globals()[_name].__module__ = "plait.exceptions"
