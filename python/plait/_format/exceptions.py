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
    """An error raised by code in another language (Java, C++), or one that crossed
    languages on its way here (a Python error that a Java task let propagate, ...).

    One link of the chain per language hop: `type_name` (qualified, in its language),
    `language`, `message` (the exception's own message), `remote_stack` (the stack as that
    language printed it; may be empty), `cause` (the next link's exception, also
    `__cause__`; None where the error began), `languages` (the languages crossed, where
    the error began first, this link's last) and `origin_message` ("<type>: <message>" of
    the error where it began). `str()` starts with the origin message and the languages:
    ``ValueError: bad input (python, via java)``. When the error began as a Python
    exception, `plait.get` raises an instance of that exception's class too.
    """

    def __init__(
        self,
        function_name: str = "",
        traceback_str: str = "",
        cause: BaseException | None = None,
        type_name: str = "",
        language: str = "",
        *,
        message: str = "",
        languages: tuple[str, ...] = (),
        origin_message: str = "",
    ) -> None:
        self.message = message
        self.languages = tuple(languages) or (*_languages_of(cause), language)
        self.origin_message = origin_message or _origin_message_of(cause, type_name, message)
        super().__init__(function_name, traceback_str, cause, type_name, language)
        if cause is not None:
            self.__cause__ = cause

    @property
    def remote_stack(self) -> str:
        """The stack trace as the remote language printed it (may be empty)."""
        return self.traceback_str

    def _message(self) -> str:
        lines = [f"{self.origin_message} ({_crossed(self.languages)})"]
        if self.function_name:
            lines[0] += f" in task {self.function_name!r}"
        stack = self.traceback_str.rstrip()
        own = f"{self.type_name}: {self.message}" if self.message else self.type_name
        if self.cause is not None and not stack.startswith(self.type_name):
            lines.append(f"[{self.language}] {own}")
        if stack:
            lines.append(stack)
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (
            _rebuild_cross_language_error,
            (
                type(self) is CrossLanguageError,
                self.function_name,
                self.traceback_str,
                self.cause,
                self.type_name,
                self.language,
                self.message,
                self.languages,
                self.origin_message,
            ),
        )

    def as_instanceof_origin(self) -> CrossLanguageError:
        """This error as an instance of the class of the Python exception it began as too
        (so `except ValueError` catches a ValueError that crossed Java); itself when it
        did not begin in Python."""
        origin = _origin_of(self.cause)
        if origin is None or not isinstance(origin, Exception):
            return self
        origin_cls = type(origin)
        try:
            cls = _dual_cross_classes.get(origin_cls)
            if cls is None:
                cls = type(
                    f"CrossLanguageError({origin_cls.__name__})",
                    (CrossLanguageError, origin_cls),
                    {"__init__": _dual_cross_init},
                )
                cls.__module__ = "plait.exceptions"
                _dual_cross_classes[origin_cls] = cls
            err: CrossLanguageError = cls.__new__(cls)  # type: ignore[call-overload]
        except TypeError:  # e.g. an origin class with an incompatible layout
            return self
        err.__dict__.update(self.__dict__)
        err.args = origin.args
        err.__cause__ = self.__cause__
        return err


_dual_cross_classes: dict[type, type] = {}


def _dual_cross_init(self: CrossLanguageError, *args: Any, **kwargs: Any) -> None:
    # The dual class's instances are filled in by as_instanceof_origin, never by the
    # origin class's own __init__ (whose signature is unknown).
    pass


def _rebuild_cross_language_error(
    plain: bool,
    function_name: str,
    traceback_str: str,
    cause: BaseException | None,
    type_name: str,
    language: str,
    message: str,
    languages: tuple[str, ...],
    origin_message: str,
) -> CrossLanguageError:
    err = CrossLanguageError(
        function_name,
        traceback_str,
        cause,
        type_name,
        language,
        message=message,
        languages=languages,
        origin_message=origin_message,
    )
    return err if plain else err.as_instanceof_origin()


def _origin_of(link: BaseException | None) -> BaseException | None:
    """The Python exception a chain began as, or None when it began in another language."""
    while isinstance(link, CrossLanguageError):
        link = link.cause
    if isinstance(link, RayTaskError):
        return None if isinstance(link.cause, RayTaskError) else link.cause
    return link


def _languages_of(link: BaseException | None) -> tuple[str, ...]:
    if link is None:
        return ()
    if isinstance(link, CrossLanguageError):
        return link.languages
    if isinstance(link, RayTaskError):
        return (link.language,)
    return ("python",)


def _origin_message_of(link: BaseException | None, type_name: str, message: str) -> str:
    if isinstance(link, CrossLanguageError):
        return link.origin_message
    origin = _origin_of(link)
    if origin is not None:
        return f"{type(origin).__name__}: {origin}"
    if isinstance(link, RayTaskError):
        return link.type_name
    return f"{type_name}: {message}" if message else type_name


def _crossed(languages: tuple[str, ...]) -> str:
    """("python", "java") -> "python, via java"."""
    if len(languages) <= 1:
        return "".join(languages)
    return f"{languages[0]}, via {', '.join(languages[1:])}"


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
