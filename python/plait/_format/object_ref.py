"""ObjectRef: a reference to a value owned by one core worker.

Reference counting is delegated to the process's core worker through a hook so this module
stays free of runtime imports (the codec depends on it).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, NamedTuple


class OwnerAddress(NamedTuple):
    """Where the owner of an object listens (mirrors proto Address)."""

    node_id: str
    ip: str
    port: int
    worker_id: bytes


# Set by the core worker: called with (ref, +1) when a ref is created in this process and
# (ref, -1) when it is collected.
RefCountHook = Callable[["ObjectRef", int], None]
_hook: RefCountHook | None = None


def set_ref_count_hook(hook: RefCountHook | None) -> None:
    global _hook
    _hook = hook


class ObjectRef:
    __slots__ = ("object_id", "owner", "_counted", "__weakref__")

    def __init__(self, object_id: bytes, owner: OwnerAddress, *, count: bool = True) -> None:
        self.object_id = object_id
        self.owner = owner
        self._counted = False
        if count and _hook is not None:
            _hook(self, 1)
            self._counted = True

    def __del__(self) -> None:
        if self._counted and _hook is not None:
            try:
                _hook(self, -1)
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

    def __reduce__(self) -> Any:
        # Pickling (inside a cloudpickled value) goes through the codec's ref table so the
        # ref is still tracked; a bare pickle outside plait cannot carry ownership.
        from plait._format import reduce_object_ref

        return reduce_object_ref(self)

    def __await__(self) -> Generator[Any, None, Any]:
        from plait._core.context import current_core_worker

        return current_core_worker().get_async(self).__await__()

    def future(self) -> Any:
        from plait._core.context import current_core_worker

        return current_core_worker().get_future(self)
