"""Task return values as the owner stores them."""

from __future__ import annotations

from plait._core.memory_store import StoredObject
from plait._protocol import common_pb2


def stored_from_return(ro: common_pb2.ReturnObject, is_error: bool = False) -> StoredObject:
    """A worker's ReturnObject as a StoredObject (inline bytes, or where it is stored)."""
    if ro.in_store:
        return StoredObject(
            data=None, in_store=True, node_id=ro.node_id, size=ro.size, is_error=is_error
        )
    return StoredObject(data=ro.data, size=len(ro.data), is_error=is_error)
