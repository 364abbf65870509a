"""Python-only values: cloudpickle, with ObjectRefs found and out-of-band array buffers.

ObjectRefs inside a pickled value are found through ObjectRef.__reduce__, which calls
`reduce_object_ref`: while the codec pickles or unpickles, a per-thread "ref sink" list is
active and every ref reduced or rebuilt is appended to it. This costs nothing per pickled
object (a persistent_id hook would run for every object in the pickle), and the pickle
stays self-contained: a ref pickled outside the codec still unpickles anywhere.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import Any

import cloudpickle

from plait._format._constants import PICKLE_OOB_MIN
from plait._format._types import DeserializationError, SerializationError
from plait._format.object_ref import ObjectRef, OwnerAddress


class _Sinks(threading.local):
    # The innermost active collector of refs; None outside codec calls. Saved and restored
    # around each use, so nested serialize calls (from a user __reduce__) stay separate.
    refs: list[ObjectRef] | None = None


_sinks = _Sinks()


def reduce_object_ref(ref: ObjectRef) -> tuple[Callable[..., ObjectRef], tuple[Any, ...]]:
    """ObjectRef.__reduce__: rebuild from plain fields; record the ref if the codec asks."""
    sink = _sinks.refs
    if sink is not None:
        sink.append(ref)
    owner = ref.owner
    return (
        _rebuild_object_ref,
        (ref.object_id, owner.node_id, owner.ip, owner.port, owner.worker_id),
    )


def _rebuild_object_ref(
    object_id: bytes, node_id: str, ip: str, port: int, worker_id: bytes
) -> ObjectRef:
    ref = ObjectRef(object_id, OwnerAddress(node_id, ip, port, worker_id))
    sink = _sinks.refs
    if sink is not None:
        sink.append(ref)
    return ref


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

    saved = _sinks.refs
    _sinks.refs = refs
    try:
        data: bytes = cloudpickle.dumps(obj, protocol=5, buffer_callback=buffer_callback)
    except SerializationError:
        raise
    except Exception as e:
        raise SerializationError(
            f"cannot serialize a value of type {type_name(obj)!r}: {type(e).__name__}: {e}"
        ) from e
    finally:
        _sinks.refs = saved
    return data, oob


def loads(name: str, data: Any, buffers: list[memoryview], refs: list[ObjectRef]) -> Any:
    """Unpickle a Python-only value; refs rebuilt inside are appended to refs."""
    saved = _sinks.refs
    _sinks.refs = refs
    try:
        return pickle.loads(data, buffers=buffers)
    except Exception as e:
        raise DeserializationError(
            f"cannot rebuild a pickled value of Python type {name!r}: {type(e).__name__}: {e}"
        ) from e
    finally:
        _sinks.refs = saved
