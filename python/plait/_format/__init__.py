"""The language-neutral value codec: Python values <-> plait's object format.

The format (a header, a msgpack payload, 64-byte-aligned out-of-band buffers) is specified
in docs/object-format.md; conformance-tests/golden/ holds the byte vectors every language's
codec must reproduce.
"""

from __future__ import annotations

from plait._format._decoder import deserialize, deserialize_with_refs
from plait._format._encoder import SerializedObject, serialize
from plait._format._types import (
    ActorHandleData,
    DeserializationError,
    ErrorInfo,
    SerializationError,
)

__all__ = [
    "ActorHandleData",
    "DeserializationError",
    "ErrorInfo",
    "SerializationError",
    "SerializedObject",
    "deserialize",
    "deserialize_with_refs",
    "serialize",
]
