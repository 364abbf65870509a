"""The owner's in-process store: the status and small values of the objects it owns.

A value is either inline bytes (small objects, errors) or a note that it lives in the
shared-memory store of some node. Waiters are callbacks, run outside the lock, so both the
I/O loop and user threads can wait on objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredObject:
    data: bytes | None
    in_store: bool = False
    node_id: str = ""
    size: int = 0
    is_error: bool = False

    @staticmethod
    def inline(data: bytes) -> StoredObject:
        return StoredObject(data=data, size=len(data))


Callback = Callable[[StoredObject], None]


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[bytes, StoredObject] = {}
        self._waiters: dict[bytes, list[Callback]] = {}

    def put(self, object_id: bytes, obj: StoredObject) -> None:
        with self._lock:
            if object_id in self._objects:
                return  # first value wins (e.g. a cancel racing a reply)
            self._objects[object_id] = obj
            waiters = self._waiters.pop(object_id, [])
        for cb in waiters:
            cb(obj)

    def get(self, object_id: bytes) -> StoredObject | None:
        with self._lock:
            return self._objects.get(object_id)

    def contains(self, object_id: bytes) -> bool:
        with self._lock:
            return object_id in self._objects

    def on_ready(self, object_id: bytes, cb: Callback) -> StoredObject | None:
        """Return the object if ready; else call cb(obj) once it is put."""
        with self._lock:
            obj = self._objects.get(object_id)
            if obj is None:
                self._waiters.setdefault(object_id, []).append(cb)
                return None
        return obj

    def remove_waiter(self, object_id: bytes, cb: Callback) -> None:
        with self._lock:
            lst = self._waiters.get(object_id)
            if lst and cb in lst:
                lst.remove(cb)
                if not lst:
                    del self._waiters[object_id]

    def delete(self, object_id: bytes) -> StoredObject | None:
        with self._lock:
            return self._objects.pop(object_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)
