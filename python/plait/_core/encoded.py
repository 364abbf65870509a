"""Objects that are already encoded (by a C++ or Java codec): the same interface as the
codec's SerializedObject, so the core worker stores and ships them the same way."""

from __future__ import annotations

from typing import Any, Protocol

from plait._format import deserialize_with_refs
from plait._format._constants import (
    BUFFER_ENTRY_SIZE,
    EXT_ERROR,
    FLAG_HAS_OBJECT_REFS,
    HEADER_BUFFER_COUNT_OFFSET,
    HEADER_FLAGS_OFFSET,
    HEADER_SIZE,
)
from plait._format.object_ref import ObjectRef

# Values up to this size travel inline (in requests, replies and the owner's memory store);
# larger ones go to the node's shared-memory store.
INLINE_THRESHOLD = 100 * 1024


def has_refs(data: Any) -> bool:
    mv = memoryview(data)
    return len(mv) > HEADER_FLAGS_OFFSET and bool(mv[HEADER_FLAGS_OFFSET] & FLAG_HAS_OBJECT_REFS)


def refs_in(data: Any) -> list[ObjectRef]:
    """The ObjectRefs an encoded object holds (decodes it only when its flags say so)."""
    if not has_refs(data):
        return []
    return deserialize_with_refs(data)[1]


class Encodable(Protocol):
    """What the core worker stores and ships: the codec's SerializedObject or an
    EncodedObject."""

    contained_refs: list[ObjectRef]

    def total_size(self) -> int: ...

    def write_to(self, dest: memoryview) -> None: ...

    def to_bytes(self) -> bytes: ...

    def parts(self) -> list[Any]: ...


class EncodedObject:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.contained_refs = refs_in(data)

    def total_size(self) -> int:
        return len(memoryview(self.data))

    def write_to(self, dest: memoryview) -> None:
        dest[: self.total_size()] = memoryview(self.data).cast("B")

    def parts(self) -> list[Any]:
        return [self.data]

    def to_bytes(self) -> bytes:
        return bytes(self.data)


# msgpack ext markers -> where the ext's type byte is, relative to the marker:
# fixext 1/2/4/8/16, then ext 8/16/32.
_EXT_TYPE_OFFSET = {0xD4: 1, 0xD5: 1, 0xD6: 1, 0xD7: 1, 0xD8: 1, 0xC7: 2, 0xC8: 3, 0xC9: 5}


def is_error_value(data: Any) -> bool:
    """Whether an encoded object's top-level value is an Error ext (read off its bytes)."""
    mv = memoryview(data).cast("B")
    if len(mv) < HEADER_SIZE:
        return False
    nbuf = int.from_bytes(mv[HEADER_BUFFER_COUNT_OFFSET:HEADER_SIZE], "little")
    i = HEADER_SIZE + nbuf * BUFFER_ENTRY_SIZE
    if i >= len(mv):
        return False
    type_at = _EXT_TYPE_OFFSET.get(mv[i])
    return type_at is not None and i + type_at < len(mv) and mv[i + type_at] == EXT_ERROR
