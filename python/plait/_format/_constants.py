"""Constants of the object format (docs/object-format.md is the normative description).

Everything a reader or writer in any language must agree on lives here, so the Python
encoder and decoder cannot drift apart from each other or from the spec.
"""

from __future__ import annotations

import struct
from typing import Final

MAGIC: Final = b"PLAI"
VERSION: Final = 1

# magic, version, flags, reserved (u16, zero), payload_length (u64), buffer_count (u64);
# all little-endian, 24 bytes, so the buffer table that follows is 8-byte aligned.
HEADER: Final = struct.Struct("<4sBBHQQ")
HEADER_SIZE: Final = HEADER.size
# One buffer table entry: offset from the start of the object, length; both u64 LE.
BUFFER_ENTRY: Final = struct.Struct("<QQ")
BUFFER_ENTRY_SIZE: Final = BUFFER_ENTRY.size
# Out-of-band buffers start at multiples of this, counted from the object's first byte:
# enough for AVX-512 loads and Arrow's recommended alignment.
ALIGNMENT: Final = 64

# Header flags. Writers set them exactly; readers may use them as hints only.
FLAG_HAS_OBJECT_REFS: Final = 0x01  # an ObjectRef appears anywhere, pickles included
FLAG_HAS_PYTHON_ONLY: Final = 0x02  # a Python pickle ext appears anywhere

# msgpack extension type codes.
EXT_OBJECT_REF: Final = 1
EXT_ACTOR_HANDLE: Final = 2
EXT_ARROW: Final = 3
EXT_TENSOR: Final = 4
EXT_ERROR: Final = 5
EXT_PYTHON_PICKLE: Final = 6
EXT_TUPLE: Final = 7

# The tensor element types every language understands (numpy's names).
TENSOR_DTYPES: Final = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    }
)

# Arrow ext kinds: what the IPC stream in the buffer is read back as.
ARROW_TABLE: Final = "table"
ARROW_RECORD_BATCH: Final = "record_batch"
ARROW_ARRAY: Final = "array"
ARROW_CHUNKED_ARRAY: Final = "chunked_array"
ARROW_KINDS: Final = frozenset({ARROW_TABLE, ARROW_RECORD_BATCH, ARROW_ARRAY, ARROW_CHUNKED_ARRAY})

# Pickles up to this size stay inside the msgpack payload; larger ones get their own
# out-of-band buffer so they are copied once, straight into the destination.
PICKLE_INLINE_MAX: Final = 64 * 1024
# Protocol-5 pickle buffers (numpy arrays inside pickled objects) at least this large go
# out of band; smaller ones are cheaper in-band than a 64-byte-aligned buffer.
PICKLE_OOB_MIN: Final = 64 * 1024


def align(offset: int) -> int:
    """The first multiple of ALIGNMENT at or after offset."""
    return (offset + ALIGNMENT - 1) & ~(ALIGNMENT - 1)
