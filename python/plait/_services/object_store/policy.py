"""The object store's bookkeeping and decisions, without any file I/O.

`StorePolicy` holds the object table (id -> size, state, last access) and the capacity
accounting of one node's shared-memory store. It answers "what must be spilled to make
room for N bytes?" and records what the file layer then did; `LocalObjectStore` performs
the file work. Keeping the decisions here lets them be tested without files.

Accounting: `used_bytes` counts the objects that occupy shared memory, i.e. those being
created (their full size is reserved at creation) and those sealed. Spilled objects live
on disk and count only towards `spilled_bytes`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass


class ObjectState(enum.Enum):
    CREATING = "creating"  # reserved, a writer is filling the file; not readable yet
    SEALED = "sealed"  # immutable, in shared memory
    SPILLED = "spilled"  # immutable, moved to the spill directory on disk


@dataclass
class ObjectEntry:
    object_id: bytes
    size: int
    state: ObjectState
    last_access: float


class ObjectStoreFullError(Exception):
    """The store cannot make room for an object, even after spilling everything it may."""


def format_size(n: int) -> str:
    """Bytes in the unit a person reads best, with the exact count for large values."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024.0
        if value < 1024.0 or unit == "TiB":
            return f"{value:.1f} {unit} ({n} bytes)"
    raise AssertionError("unreachable")


class StorePolicy:
    """Object table and capacity accounting for one node's store.

    Not thread-safe: the owner (LocalObjectStore) serializes calls.
    """

    def __init__(self, capacity_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity_bytes <= 0:
            raise ValueError(f"store capacity must be positive, got {capacity_bytes}")
        self.capacity_bytes = capacity_bytes
        self._clock = clock
        # Insertion order is irrelevant; LRU order is computed from last_access on demand,
        # which is cheap next to the file copies a spill costs.
        self._objects: dict[bytes, ObjectEntry] = {}
        self.used_bytes = 0
        self.spilled_bytes = 0

    # -- queries -----------------------------------------------------------------
    def get(self, object_id: bytes) -> ObjectEntry | None:
        return self._objects.get(object_id)

    def state(self, object_id: bytes) -> ObjectState | None:
        entry = self._objects.get(object_id)
        return None if entry is None else entry.state

    def __contains__(self, object_id: bytes) -> bool:
        return object_id in self._objects

    def __len__(self) -> int:
        return len(self._objects)

    def num_in_memory(self) -> int:
        return sum(1 for e in self._objects.values() if e.state is not ObjectState.SPILLED)

    def num_spilled(self) -> int:
        return sum(1 for e in self._objects.values() if e.state is ObjectState.SPILLED)

    def object_ids(self) -> list[bytes]:
        return list(self._objects)

    # -- decisions -----------------------------------------------------------------
    def plan_room(self, size: int, *, exclude: bytes | None = None) -> list[bytes]:
        """The sealed objects to spill, least recently used first, so `size` more bytes fit.

        Raises ObjectStoreFullError (naming the sizes involved) when even spilling every
        sealed object would not make room: the object is larger than the capacity, or the
        rest of the store is held by objects still being created. `exclude` is never
        chosen (the object being restored).
        """
        if size < 0:
            raise ValueError(f"object size must be non-negative, got {size}")
        if size > self.capacity_bytes:
            raise ObjectStoreFullError(
                f"object store full: an object of {format_size(size)} is larger than the "
                f"store's capacity of {format_size(self.capacity_bytes)}"
            )
        need = self.used_bytes + size - self.capacity_bytes
        if need <= 0:
            return []
        candidates = sorted(
            (
                e
                for e in self._objects.values()
                if e.state is ObjectState.SEALED and e.object_id != exclude
            ),
            key=lambda e: e.last_access,
        )
        victims: list[bytes] = []
        freed = 0
        for entry in candidates:
            if freed >= need:
                break
            victims.append(entry.object_id)
            freed += entry.size
        if freed < need:
            creating = sum(
                e.size for e in self._objects.values() if e.state is ObjectState.CREATING
            )
            raise ObjectStoreFullError(
                f"object store full: cannot make room for an object of {format_size(size)}; "
                f"capacity {format_size(self.capacity_bytes)}, in use "
                f"{format_size(self.used_bytes)} of which {format_size(creating)} is held "
                f"by objects still being created and cannot be spilled"
            )
        return victims

    # -- state changes (recorded after the file layer did the work) ------------------
    def add_creating(self, object_id: bytes, size: int) -> None:
        """Reserve `size` bytes for a new object. The caller made room with plan_room."""
        if object_id in self._objects:
            raise KeyError(f"object {object_id.hex()} already in the store")
        self._objects[object_id] = ObjectEntry(object_id, size, ObjectState.CREATING, self._clock())
        self.used_bytes += size

    def seal(self, object_id: bytes, size: int | None = None) -> None:
        """CREATING -> SEALED; `size` corrects the reservation to the size actually written."""
        entry = self._require(object_id, ObjectState.CREATING)
        if size is not None and size != entry.size:
            self.used_bytes += size - entry.size
            entry.size = size
        entry.state = ObjectState.SEALED
        entry.last_access = self._clock()

    def mark_spilled(self, object_id: bytes) -> None:
        entry = self._require(object_id, ObjectState.SEALED)
        entry.state = ObjectState.SPILLED
        self.used_bytes -= entry.size
        self.spilled_bytes += entry.size

    def mark_restored(self, object_id: bytes) -> None:
        """SPILLED -> SEALED. The caller made room with plan_room(size, exclude=id)."""
        entry = self._require(object_id, ObjectState.SPILLED)
        entry.state = ObjectState.SEALED
        self.spilled_bytes -= entry.size
        self.used_bytes += entry.size
        entry.last_access = self._clock()

    def touch(self, object_id: bytes) -> None:
        """Record a read, so LRU spilling picks this object last."""
        entry = self._objects.get(object_id)
        if entry is not None:
            entry.last_access = self._clock()

    def remove(self, object_id: bytes) -> ObjectEntry | None:
        """Forget an object in any state (freed, or a failed creation); returns its entry."""
        entry = self._objects.pop(object_id, None)
        if entry is None:
            return None
        if entry.state is ObjectState.SPILLED:
            self.spilled_bytes -= entry.size
        else:
            self.used_bytes -= entry.size
        return entry

    def _require(self, object_id: bytes, state: ObjectState) -> ObjectEntry:
        entry = self._objects.get(object_id)
        if entry is None:
            raise KeyError(f"object {object_id.hex()} is not in the store")
        if entry.state is not state:
            raise ValueError(
                f"object {object_id.hex()} is {entry.state.value}, expected {state.value}"
            )
        return entry
