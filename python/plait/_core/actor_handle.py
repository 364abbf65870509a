"""Actors of any language from the caller's side: creating one, its handle and method calls,
looking one up by name, killing one. The public API (plait._actor, plait._api) and HostApi
(for C++ and Java code) both use these, so an actor behaves the same whoever made it."""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

from plait._core.context import current_core_worker
from plait._core.options import CallOptions, resolve
from plait._core.submit import check_call, returns, submit_actor_task
from plait._core.task_spec import make_return_refs, new_task
from plait._format.ids import random_id
from plait._protocol import common_pb2, gcs_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

LANGUAGE_NAMES = {common_pb2.PYTHON: "python", common_pb2.JAVA: "java", common_pb2.CPP: "cpp"}


def create_actor(
    cw: CoreWorker,
    desc: common_pb2.FunctionDescriptor,
    class_name: str,
    options: CallOptions,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    methods: dict[str, int] | None = None,
    is_async: bool = False,
    signatures: dict[str, inspect.Signature | None] | None = None,
) -> ActorHandle:
    """Register an actor with the GCS and have it created; the handle returns at once."""
    methods = methods or {}
    name = options.name
    namespace = options.namespace or cw.namespace
    if name and options.get_if_exists:
        found = cw.gcs_sync.GetNamedActor(
            gcs_pb2.GetNamedActorRequest(name=name, namespace=namespace), timeout=30
        )
        if found.found:
            return ActorHandle.from_info(found.actor)
    max_conc = options.max_concurrency or (1000 if is_async else 1)
    actor_id = random_id()
    # Encode the arguments first: an unserializable one fails the call before the actor
    # (and its name) is registered. The creation task is named after the class; the
    # actor's name is in the ActorInfo.
    task = new_task(
        cw,
        type_=common_pb2.ACTOR_CREATION_TASK,
        function=desc,
        args=args,
        kwargs=kwargs,
        options=dataclasses.replace(options, name="", num_returns=0, max_retries=0),
        name=f"{class_name}.__init__",
    )
    info = common_pb2.ActorInfo(
        actor_id=actor_id,
        job_id=cw.job_id,
        name=name,
        namespace=namespace,
        state=common_pb2.PENDING_CREATION,
        owner=cw.address_pb(),
        detached=options.detached,
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
    ac.detached = options.detached
    ac.is_async = is_async
    make_return_refs(cw, task)
    cw.actor_submitter.create(task, options.detached)
    return ActorHandle(
        actor_id, class_name, dict(methods), signatures, LANGUAGE_NAMES[desc.language]
    )


def get_named_actor(cw: CoreWorker, name: str, namespace: str | None) -> ActorHandle:
    """The handle of the live actor called `name` (in the caller's namespace by default)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"Please supply a non-empty actor name, got {name!r}")
    ns = namespace if namespace is not None else cw.namespace
    reply = cw.gcs_sync.GetNamedActor(
        gcs_pb2.GetNamedActorRequest(name=name, namespace=ns), timeout=30
    )
    if not reply.found:
        raise ValueError(
            f"Failed to look up actor with name '{name}' in namespace '{ns}'. "
            "This could be because 1. You are trying to look up a named actor "
            "you didn't create. 2. The named actor died. 3. You did not use a "
            "namespace matching the namespace of the actor."
        )
    return ActorHandle.from_info(reply.actor)


def kill_actor(cw: CoreWorker, actor: ActorHandle, no_restart: bool = True) -> None:
    if not isinstance(actor, ActorHandle):
        raise ValueError(
            f"plait.kill() only supported for actors. For tasks, try "
            f"plait.cancel(). Got: {type(actor).__name__}."
        )
    cw.io.run(cw.actor_submitter.kill(actor._actor_id, no_restart), timeout=30)


class ActorMethod:
    def __init__(
        self,
        handle: ActorHandle,
        name: str,
        num_returns: int,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._handle = handle
        self._name = name
        self._raw = options or {}
        self._options = (
            resolve({"num_returns": num_returns, **self._raw}, "method", self._what())
            if options
            else CallOptions(num_returns=num_returns)
        )

    def _what(self) -> str:
        return f"actor method '{self._handle._class_name}.{self._name}'"

    def options(self, **options: Any) -> ActorMethod:
        return ActorMethod(
            self._handle, self._name, self._options.num_returns, {**self._raw, **options}
        )

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        h = self._handle
        cw = current_core_worker()
        check_call(h._signatures.get(self._name), args, kwargs, self._what())
        desc = h._descriptors.get(self._name)
        if desc is None:
            desc = h._descriptors[self._name] = method_descriptor(
                h._language, h._class_name, self._name
            )
        refs = submit_actor_task(
            cw,
            h._actor_id,
            self._name,
            desc,
            args,
            kwargs,
            self._options,
            f"{h._class_name}.{self._name}",
        )
        return returns(refs, self._options.num_returns)

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
