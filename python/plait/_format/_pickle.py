"""Python-only values: cloudpickle, with ObjectRefs found and out-of-band array buffers.

ObjectRefs inside a pickled value are collected by ObjectRef.__reduce__ and its rebuild
function while `collecting_refs` is active (see object_ref.py).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import cloudpickle

from plait._format._constants import PICKLE_OOB_MIN
from plait._format._types import DeserializationError, SerializationError
from plait._format.object_ref import ObjectRef, collecting_refs


def type_name(obj: Any) -> str:
    """The qualified name other languages print when they refuse a pickled value."""
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def dumps(
    obj: Any, refs: list[ObjectRef], add_buffer: Callable[[memoryview, Any], int]
) -> tuple[bytes, list[int]]:
    """Pickle obj; refs inside are appended to refs, big PickleBuffers go out of band.

    Returns the pickle and the buffer indices (from add_buffer) of its out-of-band buffers.
    """
    oob: list[int] = []

    def buffer_callback(pb: pickle.PickleBuffer) -> bool:
        try:
            raw = pb.raw()
        except BufferError:  # not contiguous: only in-band is possible
            return True
        if raw.nbytes < PICKLE_OOB_MIN:
            return True
        oob.append(add_buffer(raw, pb))
        return False  # false means: leave it out of the pickle stream

    try:
        with collecting_refs(refs):
            data: bytes = cloudpickle.dumps(obj, protocol=5, buffer_callback=buffer_callback)
    except SerializationError:
        raise
    except Exception as e:
        raise SerializationError(
            f"cannot serialize a value of type {type_name(obj)!r}: {type(e).__name__}: {e}"
        ) from e
    return data, oob


def loads(name: str, data: Any, buffers: list[memoryview], refs: list[ObjectRef]) -> Any:
    """Unpickle a Python-only value; refs rebuilt inside are appended to refs."""
    try:
        with collecting_refs(refs):
            return pickle.loads(data, buffers=buffers)
    except Exception as e:
        raise DeserializationError(
            f"cannot rebuild a pickled value of Python type {name!r}: {type(e).__name__}: {e}"
        ) from e
