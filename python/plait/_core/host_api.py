"""The byte-level face of the core worker that C++ and Java SDKs call (in-process).

Values and references cross as encoded objects (docs/object-format.md), so the SDKs need
only their codec. Errors that a caller should see as values (a failed task's result) come
back encoded; misuse (a malformed argument, an unknown actor name) raises ValueError or
TypeError with a message naming the problem, which the bridge turns into the SDK's
exception.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from plait._core.actor_handle import (
    ActorHandle,
    ActorMethod,
    create_actor,
    get_named_actor,
    kill_actor,
)
from plait._core.context import task_context
from plait._core.encoded import EncodedObject, refs_in
from plait._core.options import CallOptions, resolve, resource_options
from plait._core.submit import returns, submit_task
from plait._format import deserialize, serialize
from plait._format.object_ref import ObjectRef
from plait._protocol import common_pb2, gcs_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

_LANGUAGES = {"python": common_pb2.PYTHON, "java": common_pb2.JAVA, "cpp": common_pb2.CPP}


def descriptor(language: str, name_parts: Sequence[str]) -> common_pb2.FunctionDescriptor:
    """python: [module, qualname]; java: [class_name, method]; cpp: [registered name]."""
    parts = list(name_parts)
    if language == "python" and len(parts) == 2:
        return common_pb2.FunctionDescriptor(
            language=common_pb2.PYTHON,
            python=common_pb2.PythonFunction(module=parts[0], qualname=parts[1]),
        )
    if language == "java" and len(parts) == 2:
        return common_pb2.FunctionDescriptor(
            language=common_pb2.JAVA,
            java=common_pb2.JavaFunction(class_name=parts[0], method=parts[1], arity=-1),
        )
    if language == "cpp" and len(parts) == 1:
        return common_pb2.FunctionDescriptor(
            language=common_pb2.CPP, cpp=common_pb2.CppFunction(symbol=parts[0])
        )
    raise ValueError(
        f"a {language!r} function is named by "
        f"{ {'python': '[module, qualname]', 'java': '[class, method]', 'cpp': '[name]'}.get(language, '?') }, "
        f"got {parts!r}"
    )


class HostApi:
    """One per core worker (CoreWorker.host_api). It holds a Python ObjectRef for every
    ref it hands to foreign code, so the object stays alive while that code may use it;
    the SDK gives it back with release() when its own ref object is collected."""

    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self._held: dict[bytes, list[ObjectRef]] = {}
        # Holds given back during a task, by task id: kept until that task's results are
        # registered (flush_released), so concurrent tasks (threaded or async actors)
        # cannot drop each other's.
        self._released: dict[bytes, list[ObjectRef]] = {}
        self._lock = threading.Lock()
        # The last actor handle call_actor decoded, by its encoding: foreign code calls the
        # same actor over and over, and the handle caches its methods' descriptors.
        self._last_handle: tuple[bytes, ActorHandle] | None = None
        # Likewise the last function submit_task resolved (its descriptor and options).
        self._last_function: (
            tuple[tuple[Any, ...], common_pb2.FunctionDescriptor, CallOptions] | None
        ) = None

    def hold(self, refs: Sequence[ObjectRef]) -> None:
        with self._lock:
            for r in refs:
                self._held.setdefault(r.object_id, []).append(r)

    def release(self, encoded_refs: bytes) -> None:
        """Foreign code dropped these refs (one hold each). Inside a task the holds go
        only when the task's results are registered (flush_released), since a result may
        contain a ref whose last foreign copy died as the function returned."""
        ctx = task_context.get()
        dropped: list[ObjectRef] = []
        with self._lock:
            kept = self._released.setdefault(ctx.task_id, []) if ctx is not None else dropped
            for r in _refs(deserialize(encoded_refs)):
                held = self._held.get(r.object_id)
                if held:
                    kept.append(held.pop())
                    if not held:
                        del self._held[r.object_id]
        del dropped  # outside a task: the holds go now

    def flush_released(self, task_id: bytes) -> None:
        """The task's results are registered: the holds it gave back may go."""
        with self._lock:
            self._released.pop(task_id, None)

    def num_held(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._held.values())

    def _encode_held(self, value: Any) -> bytes:
        so = serialize(value)
        self.hold(so.contained_refs)
        return so.to_bytes()

    # -- objects --------------------------------------------------------------------
    def put(self, encoded: bytes) -> bytes:
        ref = self.cw.put_serialized(EncodedObject(encoded))
        return self._encode_held(ref)

    def get(self, encoded_refs: bytes, timeout_s: float) -> list[Any]:
        """Encoded values of a list of refs (failed ones as encoded Error values)."""
        refs = _refs(deserialize(encoded_refs))
        timeout = None if timeout_s < 0 else timeout_s
        values = self.cw.get_encoded(refs, timeout, raise_errors=False)
        for v in values:  # refs inside the values now live in foreign code too
            self.hold(refs_in(v))
        return values

    # -- tasks and actors -----------------------------------------------------------------
    def submit_task(
        self,
        language: str,
        name_parts: Sequence[str],
        args: Sequence[bytes],
        kwarg_names: Sequence[str],
        num_returns: int,
        resources: dict[str, float],
    ) -> bytes:
        key = (language, tuple(name_parts), num_returns, tuple(resources.items()))
        last = self._last_function
        if last is not None and last[0] == key:
            _, desc, opts = last
        else:
            desc = descriptor(language, name_parts)
            # The same options table and validation as a Python caller's .remote().
            opts = resolve(
                {"num_returns": num_returns, **resource_options(resources)},
                "task",
                f"function {'.'.join(name_parts)!r}",
            )
            self._last_function = (key, desc, opts)
        pos, kw = _split(args, kwarg_names)
        refs = submit_task(self.cw, desc, tuple(pos), kw, opts, ".".join(name_parts))
        return self._encode_held(_as_list(returns(refs, num_returns), num_returns))

    def create_actor(
        self,
        language: str,
        name_parts: Sequence[str],
        args: Sequence[bytes],
        kwarg_names: Sequence[str],
        options: dict[str, Any],
    ) -> bytes:
        desc = descriptor(language, (name_parts[0], "<init>") if language == "java" else name_parts)
        class_name = name_parts[-1] if language == "python" else name_parts[0]
        # The SDKs send {"resources": {"CPU": 1, ...}, ...}; unset options as None.
        opts = {k: v for k, v in options.items() if v is not None and k != "resources"}
        opts.update(resource_options(dict(options.get("resources") or {})))
        call_options = resolve(opts, "actor", f"actor class {class_name!r}")
        pos, kw = _split(args, kwarg_names)
        handle = create_actor(self.cw, desc, class_name, call_options, tuple(pos), kw)
        return serialize(handle).to_bytes()

    def call_actor(
        self,
        encoded_handle: bytes,
        method: str,
        args: Sequence[bytes],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> bytes:
        last = self._last_handle
        if last is not None and last[0] == encoded_handle:
            handle = last[1]
        else:
            handle = _handle(encoded_handle)
            self._last_handle = (bytes(encoded_handle), handle)
        pos, kw = _split(args, kwarg_names)
        getattr(handle, method)  # a Python actor's unknown method fails here, by name
        out = ActorMethod(handle, method, num_returns).remote(*pos, **kw)
        return self._encode_held(_as_list(out, num_returns))

    def get_actor(self, name: str, namespace: str) -> bytes:
        return serialize(get_named_actor(self.cw, name, namespace or None)).to_bytes()

    def kill_actor(self, encoded_handle: bytes) -> None:
        kill_actor(self.cw, _handle(encoded_handle))

    def namespace(self) -> str:
        return self.cw.namespace

    def named_actor_exists(self, name: str, namespace: str) -> bool:
        reply = self.cw.gcs_sync.GetNamedActor(
            gcs_pb2.GetNamedActorRequest(name=name, namespace=namespace or self.cw.namespace),
            timeout=30,
        )
        return bool(reply.found)


def _handle(encoded: bytes) -> ActorHandle:
    handle = deserialize(encoded)
    if isinstance(handle, ActorHandle):
        return handle
    if hasattr(handle, "__plait_actor_state__"):  # the public API's handle type
        return ActorHandle._from_state(handle.__plait_actor_state__())
    raise TypeError(f"expected an encoded actor handle, got {type(handle).__name__}")


def _refs(value: Any) -> list[ObjectRef]:
    items = value if isinstance(value, list) else [value]
    for r in items:
        if not isinstance(r, ObjectRef):
            raise TypeError(f"expected ObjectRefs, got {type(r).__name__}")
    return items


def _split(args: Sequence[bytes], kwarg_names: Sequence[str]) -> tuple[list[Any], dict[str, Any]]:
    """Encoded arguments as call arguments: a top-level ref stays a ref (so the callee gets
    its value, as in Python); anything else passes through still encoded."""
    values: list[Any] = []
    for a in args:
        enc = EncodedObject(a)
        if len(enc.contained_refs) == 1:
            v = deserialize(a)
            values.append(v if isinstance(v, ObjectRef) else enc)
        else:
            values.append(enc)
    n = len(kwarg_names)
    if n:
        return values[:-n], dict(zip(kwarg_names, values[-n:], strict=False))
    return values, {}


def _as_list(out: Any, num_returns: int) -> list[Any]:
    if num_returns == 1:
        return [out]
    return list(out) if out is not None else []
