"""ObjectRef: a reference to a value owned by one core worker.

The format layer knows refs only as data (an id and the owner's address). What a ref does
in a running process (count itself, be awaited, decode an actor handle next to it) is
asked of the process's *runtime*: the core worker binds itself with `bind_runtime` when it
starts and unbinds when it stops, so this module imports nothing above the format layer.

Pickling: ObjectRefs inside a pickled value are found through `ObjectRef.__reduce__`.
While the codec pickles or unpickles, a per-thread "ref sink" list is active
(`collecting_refs`) and every ref reduced or rebuilt is appended to it. This costs nothing
per pickled object (a persistent_id hook would run for every object in the pickle), and
the pickle stays self-contained: a ref pickled outside the codec still unpickles anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol


class OwnerAddress(NamedTuple):
    """Where the owner of an object listens (mirrors proto Address)."""

    node_id: str
    ip: str
    port: int
    worker_id: bytes


class RefRuntime(Protocol):
    """What a ref needs from the process's core worker."""

    def ref_created(self, ref: ObjectRef) -> None:
        """A ref to the object now exists in this process (counted until collected)."""

    def ref_collected(self, ref: ObjectRef) -> None:
        """A counted ref was collected; may run in any thread, from __del__."""

    def get_async(self, ref: ObjectRef) -> Any:
        """An awaitable of the ref's value (`await ref`)."""

    def get_future(self, ref: ObjectRef) -> Future[Any]:
        """A concurrent.futures.Future of the ref's value (`ref.future()`)."""

    def actor_handle(self, state: dict[Any, Any]) -> object:
        """The actor handle a decoded handle state stands for."""


_runtime: RefRuntime | None = None


def bind_runtime(runtime: RefRuntime | None) -> None:
    """Called by the core worker as it starts (itself) and stops (None)."""
    global _runtime
    _runtime = runtime


def bound_runtime() -> RefRuntime | None:
    return _runtime


class ObjectRef:
    __slots__ = ("object_id", "owner", "_counted", "__weakref__")

    def __init__(self, object_id: bytes, owner: OwnerAddress, *, count: bool = True) -> None:
        self.object_id = object_id
        self.owner = owner
        self._counted = False
        runtime = _runtime
        if count and runtime is not None:
            runtime.ref_created(self)
            self._counted = True

    def __del__(self) -> None:
        runtime = _runtime
        if self._counted and runtime is not None:
            try:
                runtime.ref_collected(self)
            except Exception:  # interpreter shutdown; nothing to release to
                pass

    def hex(self) -> str:
        return self.object_id.hex()

    def binary(self) -> bytes:
        return self.object_id

    def task_id(self) -> bytes:
        return self.object_id[:16]

    def __repr__(self) -> str:
        return f"ObjectRef({self.object_id.hex()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectRef) and other.object_id == self.object_id

    def __hash__(self) -> int:
        return hash(self.object_id)

    def __reduce__(self) -> tuple[Callable[..., ObjectRef], tuple[Any, ...]]:
        # Rebuilt from plain fields; recorded in the codec's ref table when the codec is the
        # one pickling, so the ref is still tracked.
        sink = _sinks.refs
        if sink is not None:
            sink.append(self)
        owner = self.owner
        return (
            _rebuild_object_ref,
            (self.object_id, owner.node_id, owner.ip, owner.port, owner.worker_id),
        )

    def __await__(self) -> Generator[Any, None, Any]:
        return _require_runtime().get_async(self).__await__()  # type: ignore[no-any-return]

    def future(self) -> Future[Any]:
        return _require_runtime().get_future(self)


def _require_runtime() -> RefRuntime:
    runtime = _runtime
    if runtime is None:
        raise RuntimeError("plait is not initialized: call plait.init() first")
    return runtime


class _Sinks(threading.local):
    # The innermost active collector of refs; None outside codec calls. Saved and restored
    # around each use, so nested serialize calls (from a user __reduce__) stay separate.
    refs: list[ObjectRef] | None = None


_sinks = _Sinks()


@contextmanager
def collecting_refs(refs: list[ObjectRef]) -> Iterator[None]:
    """Every ref pickled or unpickled in this thread meanwhile is appended to refs."""
    saved = _sinks.refs
    _sinks.refs = refs
    try:
        yield
    finally:
        _sinks.refs = saved


def _rebuild_object_ref(
    object_id: bytes, node_id: str, ip: str, port: int, worker_id: bytes
) -> ObjectRef:
    ref = ObjectRef(object_id, OwnerAddress(node_id, ip, port, worker_id))
    sink = _sinks.refs
    if sink is not None:
        sink.append(ref)
    return ref
