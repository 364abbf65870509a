"""@plait.remote on classes: ActorClass, ActorHandle, ActorMethod, @plait.method."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from plait._core.context import core_worker_or_init, current_core_worker
from plait._core.task_spec import make_return_refs, new_task
from plait._format import set_actor_handle_factory
from plait._format.ids import random_id
from plait._protocol import common_pb2, gcs_pb2
from plait._remote_function import (
    ACTOR_OPTIONS,
    _returns,
    check_call,
    check_options,
    resource_request,
    signature_of,
)


def method(*, num_returns: int = 1, **_ignored: Any) -> Callable[[Any], Any]:
    """Decorate an actor method to set its options, e.g. @plait.method(num_returns=2)."""

    def deco(fn: Any) -> Any:
        fn.__plait_num_returns__ = num_returns
        return fn

    return deco


def _methods_of(cls: type) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("__") and name not in ("__call__",):
            continue
        if callable(member):
            out[name] = int(getattr(member, "__plait_num_returns__", 1))
    return out


def _is_async_class(cls: type) -> bool:
    return any(
        inspect.iscoroutinefunction(m) or inspect.isasyncgenfunction(m)
        for _, m in inspect.getmembers(cls)
        if callable(m)
    )


class ActorClass:
    def __init__(self, cls: type, options: dict[str, Any]) -> None:
        check_options(options, ACTOR_OPTIONS, "an actor class")
        self._cls = cls
        self._options = options
        self._methods = _methods_of(cls)
        self._signatures = {
            name: signature_of(getattr(cls, name), drop_self=True)
            for name in self._methods
            if not isinstance(inspect.getattr_static(cls, name), (staticmethod, classmethod))
        }
        self._init_signature = signature_of(cls)
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__module__ = cls.__module__
        self.__doc__ = cls.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actors cannot be instantiated directly. Instead of "
            f"'{self._cls.__name__}()', use '{self._cls.__name__}.remote()'."
        )

    def options(self, **options: Any) -> ActorClass:
        ac = ActorClass.__new__(ActorClass)
        ac.__dict__.update(self.__dict__)
        ac._options = {**self._options, **options}
        check_options(ac._options, ACTOR_OPTIONS, "an actor class")
        return ac

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        cw = core_worker_or_init()
        check_call(self._init_signature, args, kwargs, f"actor class '{self._cls.__name__}'")
        desc = common_pb2.FunctionDescriptor(
            language=common_pb2.PYTHON, python=cw.functions.export(self._cls)
        )
        return create_actor(
            desc,
            self._cls.__qualname__,
            self._methods,
            self._options,
            args,
            kwargs,
            is_async=_is_async_class(self._cls),
            signatures=self._signatures,
        )

    def __reduce__(self) -> Any:
        return (ActorClass, (self._cls, self._options))


LANGUAGE_NAMES = {common_pb2.PYTHON: "python", common_pb2.JAVA: "java", common_pb2.CPP: "cpp"}


def create_actor(
    desc: common_pb2.FunctionDescriptor,
    class_name: str,
    methods: dict[str, int],
    opts: dict[str, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    is_async: bool = False,
    signatures: dict[str, inspect.Signature | None] | None = None,
) -> ActorHandle:
    """Register an actor with the GCS and have it created; the handle returns at once."""
    cw = current_core_worker()
    name = opts.get("name") or ""
    namespace = opts.get("namespace") or cw.namespace
    lifetime = opts.get("lifetime")
    if lifetime not in (None, "detached", "non_detached"):
        raise ValueError(f"lifetime must be 'detached' or 'non_detached', got {lifetime!r}")
    if name and not isinstance(name, str):
        raise TypeError(f"actor name must be a str, got {type(name).__name__}")
    if name and opts.get("get_if_exists"):
        found = cw.gcs_sync.GetNamedActor(
            gcs_pb2.GetNamedActorRequest(name=name, namespace=namespace), timeout=30
        )
        if found.found:
            return ActorHandle.from_info(found.actor)
    detached = lifetime == "detached"
    max_conc = int(opts.get("max_concurrency") or (1000 if is_async else 1))
    actor_id = random_id()
    # Encode the arguments first: an unserializable one fails the call before the actor
    # (and its name) is registered.
    task = new_task(
        cw,
        type_=common_pb2.ACTOR_CREATION_TASK,
        function=desc,
        args=args,
        kwargs=kwargs,
        num_returns=0,
        resources=resource_request(opts, 0.0),
        max_retries=0,
        name=f"{class_name}.__init__",
    )
    info = common_pb2.ActorInfo(
        actor_id=actor_id,
        job_id=cw.job_id,
        name=name,
        namespace=namespace,
        state=common_pb2.PENDING_CREATION,
        owner=cw.address_pb(),
        detached=detached,
        class_name=class_name,
        language=desc.language,
        method_num_returns=methods,
        is_async=is_async,
        max_concurrency=max_conc,
    )
    reply = cw.gcs_sync.RegisterActor(gcs_pb2.RegisterActorRequest(actor=info), timeout=30)
    if reply.error:
        raise ValueError(reply.error)
    ac = task.spec.actor_creation
    ac.actor_id = actor_id
    ac.max_concurrency = max_conc
    ac.name = name
    ac.namespace = namespace
    ac.detached = detached
    ac.is_async = is_async
    make_return_refs(cw, task)
    cw.actor_submitter.create(task, detached)
    return ActorHandle(
        actor_id, class_name, dict(methods), signatures, LANGUAGE_NAMES[desc.language]
    )


class ActorMethod:
    def __init__(self, handle: ActorHandle, name: str, num_returns: int) -> None:
        self._handle = handle
        self._name = name
        self._num_returns = num_returns

    def options(self, **options: Any) -> ActorMethod:
        unknown = set(options) - {"num_returns", "name", "concurrency_group"}
        if unknown:
            raise ValueError(f"Invalid option(s) for an actor method: {sorted(unknown)}")
        return ActorMethod(
            self._handle, self._name, int(options.get("num_returns", self._num_returns))
        )

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        h = self._handle
        cw = current_core_worker()
        check_call(
            h._signatures.get(self._name),
            args,
            kwargs,
            f"actor method '{h._class_name}.{self._name}'",
        )
        desc = h._descriptors.get(self._name)
        if desc is None:
            desc = h._descriptors[self._name] = method_descriptor(
                h._language, h._class_name, self._name
            )
        task = new_task(
            cw,
            type_=common_pb2.ACTOR_TASK,
            function=desc,
            args=args,
            kwargs=kwargs,
            num_returns=self._num_returns,
            resources={},
            max_retries=0,
            name=f"{h._class_name}.{self._name}",
        )
        at = task.spec.actor_task
        at.actor_id = h._actor_id
        at.method_name = self._name
        at.caller_id = cw.worker_id
        refs = make_return_refs(cw, task)
        cw.actor_submitter.submit(task)
        return _returns(refs, self._num_returns)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actor methods cannot be called directly. Instead of running "
            f"'object.{self._name}()', try 'object.{self._name}.remote()'."
        )


def method_descriptor(language: str, class_name: str, method: str) -> common_pb2.FunctionDescriptor:
    if language == "java":
        return common_pb2.FunctionDescriptor(
            language=common_pb2.JAVA,
            java=common_pb2.JavaFunction(class_name=class_name, method=method, arity=-1),
        )
    if language == "cpp":
        return common_pb2.FunctionDescriptor(
            language=common_pb2.CPP, cpp=common_pb2.CppFunction(symbol=f"{class_name}::{method}")
        )
    return common_pb2.FunctionDescriptor(
        language=common_pb2.PYTHON,
        python=common_pb2.PythonFunction(qualname=f"{class_name}.{method}"),
    )


class ActorHandle:
    def __init__(
        self,
        actor_id: bytes,
        class_name: str,
        methods: dict[str, int],
        signatures: dict[str, inspect.Signature | None] | None = None,
        language: str = "python",
    ) -> None:
        self._actor_id = actor_id
        self._class_name = class_name
        self._methods = methods
        self._signatures = signatures or {}
        self._language = language
        self._descriptors: dict[str, common_pb2.FunctionDescriptor] = {}

    @staticmethod
    def from_info(info: common_pb2.ActorInfo) -> ActorHandle:
        return ActorHandle(
            info.actor_id,
            info.class_name,
            dict(info.method_num_returns),
            language=LANGUAGE_NAMES.get(info.language, "python"),
        )

    def __getattr__(self, name: str) -> ActorMethod:
        methods = self.__dict__.get("_methods", {})
        if name.startswith("_") and name not in methods:
            raise AttributeError(name)
        if name in methods:
            return ActorMethod(self, name, methods[name])
        if self.__dict__.get("_language", "python") != "python" or not methods:
            # Java/C++ actors (and Python actors made from another language, whose
            # methods we do not know): any method may be called; the actor checks it.
            return ActorMethod(self, name, 1)
        raise AttributeError(f"'{self._class_name}' actor has no method '{name}'")

    def __plait_actor_state__(self) -> dict[str, Any]:
        return {
            "actor_id": self._actor_id,
            "class_name": self._class_name,
            "language": self._language,
            "methods": self._methods,
        }

    @staticmethod
    def _from_state(state: dict[str, Any]) -> ActorHandle:
        return ActorHandle(
            bytes(state["actor_id"]),
            str(state.get("class_name", "")),
            {str(k): int(v) for k, v in dict(state.get("methods", {})).items()},
            language=str(state.get("language", "python")),
        )

    def __reduce__(self) -> Any:
        return (ActorHandle._from_state, (self.__plait_actor_state__(),))

    def __repr__(self) -> str:
        return f"Actor({self._class_name}, {self._actor_id.hex()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorHandle) and other._actor_id == self._actor_id

    def __hash__(self) -> int:
        return hash(self._actor_id)


set_actor_handle_factory(ActorHandle._from_state)
