"""serialize(): a Python value into the object format.

Hot path: one msgpack.Packer per thread (reused: creating one costs more than packing a
small value) with `strict_types=True`, so everything that is not exactly a msgpack native
type (tuples, numpy scalars, subclasses, big ints) reaches `_Encoder.default`, which turns
it into an extension type. A value with no extension types never calls back into Python.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import msgpack

from plait._format import _arrow, _pickle
from plait._format._constants import (
    BUFFER_ENTRY,
    BUFFER_ENTRY_SIZE,
    EXT_ACTOR_HANDLE,
    EXT_ARROW,
    EXT_ERROR,
    EXT_OBJECT_REF,
    EXT_PYTHON_PICKLE,
    EXT_TENSOR,
    EXT_TUPLE,
    FLAG_HAS_OBJECT_REFS,
    FLAG_HAS_PYTHON_ONLY,
    HEADER,
    HEADER_SIZE,
    MAGIC,
    PICKLE_INLINE_MAX,
    TENSOR_DTYPES,
    VERSION,
    align,
)
from plait._format._types import ActorHandleData, ErrorInfo, SerializationError
from plait._format.object_ref import ObjectRef, OwnerAddress


def ExtType(code: int, data: bytes) -> Any:  # noqa: N802 - stands in for msgpack.ExtType
    # msgpack.ExtType(...) validates its arguments in Python; ours are right by
    # construction, and building the namedtuple directly halves the cost per ext.
    return _new_tuple(msgpack.ExtType, (code, data))


_new_tuple = tuple.__new__
_ZEROS = bytes(64)


class _Source(Protocol):
    """One out-of-band buffer, written when the object is."""

    nbytes: int

    def write_into(self, dest: memoryview) -> None: ...

    def chunk(self) -> Any: ...  # a bytes-like object holding the buffer's bytes


class _MemSource:
    """Bytes that already exist (a numpy array's data, a pickle); copied on write."""

    __slots__ = ("view", "keep", "nbytes")

    def __init__(self, view: memoryview, keep: Any) -> None:
        self.view = view
        self.keep = keep  # the exporter must outlive the view (e.g. a PickleBuffer)
        self.nbytes = view.nbytes

    def write_into(self, dest: memoryview) -> None:
        dest[:] = self.view  # both 1-D unsigned bytes: a plain memcpy

    def chunk(self) -> Any:
        return self.view


class SerializedObject:
    """An encoded value, not yet laid out in memory: size it, then write it anywhere."""

    __slots__ = ("contained_refs", "_payload", "_flags", "_sources", "_offsets", "_size")

    def __init__(
        self, payload: bytes, flags: int, refs: list[ObjectRef], sources: Sequence[_Source]
    ) -> None:
        self.contained_refs = refs
        self._payload = payload
        self._flags = flags
        self._sources = sources
        end = HEADER_SIZE + len(payload)
        if not sources:
            self._offsets: list[int] = []
            self._size = end
            return
        end += BUFFER_ENTRY_SIZE * len(sources)
        offsets = []
        for src in sources:
            off = align(end)
            offsets.append(off)
            end = off + src.nbytes
        self._offsets = offsets
        self._size = end

    @property
    def flags(self) -> int:
        return self._flags

    def total_size(self) -> int:
        """The exact number of bytes write_to writes and to_bytes returns."""
        return self._size

    def _head(self) -> bytes:
        """Header plus buffer table."""
        head = HEADER.pack(MAGIC, VERSION, self._flags, 0, len(self._payload), len(self._sources))
        if not self._sources:
            return head
        return head + b"".join(
            BUFFER_ENTRY.pack(off, src.nbytes)
            for off, src in zip(self._offsets, self._sources, strict=False)
        )

    def write_to(self, dest: Any) -> None:
        """Write the whole object into dest (writable, at least total_size bytes).

        Each part is copied straight into dest (no intermediate full copy), so this is the
        way to fill shared memory.
        """
        mv = dest if type(dest) is memoryview else memoryview(dest)
        if mv.format != "B" or mv.ndim != 1:
            mv = mv.cast("B")
        if mv.readonly:
            raise ValueError("write_to needs a writable buffer")
        if len(mv) < self._size:
            raise ValueError(
                f"buffer of {len(mv)} bytes is smaller than the object ({self._size} bytes)"
            )
        head = self._head()
        end = len(head)
        mv[:end] = head
        payload_end = end + len(self._payload)
        mv[end:payload_end] = self._payload
        end = payload_end
        for off, src in zip(self._offsets, self._sources, strict=False):
            if off > end:  # padding must be zero: dest may be reused memory
                mv[end:off] = _ZEROS[: off - end]
            end = off + src.nbytes
            src.write_into(mv[off:end])

    def parts(self) -> list[Any]:
        """The encoded object as consecutive byte chunks (header, payload, padding,
        buffers): for writing it with one writev instead of through a mapping."""
        if not self._sources:
            return [
                HEADER.pack(MAGIC, VERSION, self._flags, 0, len(self._payload), 0),
                self._payload,
            ]
        parts: list[Any] = [self._head(), self._payload]
        end = HEADER_SIZE + BUFFER_ENTRY_SIZE * len(self._sources) + len(self._payload)
        for off, src in zip(self._offsets, self._sources, strict=False):
            if off > end:
                parts.append(_ZEROS[: off - end])
            parts.append(src.chunk())
            end = off + src.nbytes
        return parts

    def to_bytes(self) -> bytes:
        if not self._sources:
            return (
                HEADER.pack(MAGIC, VERSION, self._flags, 0, len(self._payload), 0) + self._payload
            )
        parts: list[Any] = [self._head(), self._payload]
        end = HEADER_SIZE + BUFFER_ENTRY_SIZE * len(self._sources) + len(self._payload)
        for off, src in zip(self._offsets, self._sources, strict=False):
            if off > end:
                parts.append(_ZEROS[: off - end])
            parts.append(src.chunk())
            end = off + src.nbytes
        return b"".join(parts)

    def __repr__(self) -> str:
        return (
            f"SerializedObject(size={self._size}, buffers={len(self._sources)}, "
            f"refs={len(self.contained_refs)})"
        )


# ObjectRef payload: [object_id bin, [node_id, ip, port, worker_id]]. The owner part is the
# same for many refs, so its packed bytes are cached; the id's bin8 prefix is precomputed.
_REF_PREFIX = [b"\x92\xc4" + bytes((n,)) for n in range(256)]
_owner_cache: dict[OwnerAddress, bytes] = {}


def object_ref_payload(ref: ObjectRef) -> bytes:
    owner = ref.owner
    packed: bytes | None = _owner_cache.get(owner)
    if packed is None:
        packed = msgpack.packb(
            [owner.node_id, owner.ip, owner.port, owner.worker_id], use_bin_type=True
        )
        if len(_owner_cache) >= 1024:
            _owner_cache.clear()
        _owner_cache[owner] = packed
    oid = ref.object_id
    if len(oid) < 256:
        return _REF_PREFIX[len(oid)] + oid + packed
    packed_oid: bytes = msgpack.packb(oid, use_bin_type=True)
    return b"\x92" + packed_oid + packed


Handler = Callable[["_Encoder", Any], Any]


class _Encoder:
    """Per-thread encoding state; `default` turns non-native values into ext types."""

    __slots__ = ("refs", "sources", "flags", "busy", "_packers", "_depth", "_plain", "__weakref__")

    def __init__(self) -> None:
        self.refs: list[ObjectRef] = []
        self.sources: list[_Source] = []
        self.flags = 0
        self.busy = False
        # packers[d] packs ext payloads nested d levels deep: a Packer cannot be re-entered
        # from its own default callback.
        self._packers = [self._new_packer()]
        self._depth = 0
        self._plain = msgpack.Packer(use_bin_type=True, strict_types=True)

    def _new_packer(self) -> Any:
        return msgpack.Packer(default=self.default, use_bin_type=True, strict_types=True)

    def take(self) -> tuple[list[ObjectRef], list[_Source], int]:
        """Hand the collected refs/buffers to the caller and reset for the next value."""
        refs, sources, flags = self.refs, self.sources, self.flags
        if refs:
            self.refs = []
        if sources:
            self.sources = []
        self.flags = 0
        if refs:
            flags |= FLAG_HAS_OBJECT_REFS
        return refs, sources, flags

    def encode(self, value: Any) -> bytes:
        try:
            payload: bytes = self._packers[0].pack(value)
            return payload
        except (RecursionError, UnicodeEncodeError, ValueError) as e:
            if (
                isinstance(e, ValueError)
                and not isinstance(e, UnicodeEncodeError)
                and "recursion" not in str(e)
            ):
                raise SerializationError(
                    f"cannot serialize a value of type {_pickle.type_name(value)!r}: {e}"
                ) from e
            # Cyclic or very deep structures and strings with lone surrogates have no
            # msgpack form; Python's pickle handles them.
            self.take()
            self._depth = 0
            return self._plain.pack(self.pickle_value(value))  # type: ignore[no-any-return]

    def drop_packers(self) -> None:
        """Replace the packers: each keeps its buffer at the largest size it ever packed."""
        self._packers = [self._new_packer()]

    def pack_nested(self, value: Any) -> bytes:
        depth = self._depth + 1
        if depth == len(self._packers):
            self._packers.append(self._new_packer())
        self._depth = depth
        try:
            return self._packers[depth].pack(value)  # type: ignore[no-any-return]
        finally:
            self._depth = depth - 1

    def add_buffer(self, source: _Source) -> int:
        self.sources.append(source)
        return len(self.sources) - 1

    def add_memory(self, view: memoryview, keep: Any) -> int:
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        return self.add_buffer(_MemSource(view, keep))

    def default(self, obj: Any) -> Any:
        handler = _handlers.get(type(obj))
        if handler is None:
            handler = _classify(obj)
        return handler(self, obj)

    # -- ext encoders ----------------------------------------------------------------
    def object_ref(self, ref: ObjectRef) -> Any:
        self.refs.append(ref)
        return ExtType(EXT_OBJECT_REF, object_ref_payload(ref))

    def tuple_(self, value: tuple[Any, ...]) -> Any:
        return ExtType(EXT_TUPLE, self.pack_nested(list(value)))

    def error(self, e: ErrorInfo) -> Any:
        if e.cause is not None and not isinstance(e.cause, ErrorInfo):
            raise SerializationError(
                f"ErrorInfo.cause must be an ErrorInfo or None, not {type(e.cause).__name__}"
            )
        return ExtType(
            EXT_ERROR,
            self.pack_nested(
                [e.type_name, e.message, e.language, e.stack, e.cause, e.python_pickle]
            ),
        )

    def actor_handle(self, obj: Any) -> Any:
        state = obj.__plait_actor_state__()
        if type(state) is not dict:
            raise SerializationError(
                f"{_pickle.type_name(obj)}.__plait_actor_state__() must return a dict, "
                f"not {type(state).__name__}"
            )
        return ExtType(EXT_ACTOR_HANDLE, self.pack_nested(state))

    def tensor(self, arr: Any) -> Any:
        import numpy as np  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        dtype = arr.dtype
        if dtype.name not in TENSOR_DTYPES or dtype.fields is not None:
            return self.pickle_value(arr)
        if dtype.byteorder == ">" or (dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(dtype.newbyteorder("<"))  # the format is little-endian
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        index = self.add_memory(memoryview(arr.reshape(-1).view(np.uint8)), arr)
        return ExtType(EXT_TENSOR, self._plain.pack([dtype.name, list(arr.shape), index]))

    def numpy_scalar(self, obj: Any) -> Any:
        return obj.item()  # bool, int or float: numpy scalars map to msgpack natives

    def arrow(self, obj: Any) -> Any:
        kind = _arrow.kind_of(obj)
        assert kind is not None
        index = self.add_buffer(_arrow.ArrowSource(obj, kind))
        return ExtType(EXT_ARROW, self._plain.pack([kind, index]))

    def pickle_value(self, obj: Any) -> Any:
        data, oob = _pickle.dumps(obj, self.refs, self.add_memory)
        self.flags |= FLAG_HAS_PYTHON_ONLY
        body: bytes | int = data
        if len(data) > PICKLE_INLINE_MAX:
            body = self.add_memory(memoryview(data), data)
        return ExtType(EXT_PYTHON_PICKLE, self._plain.pack([_pickle.type_name(obj), body, oob]))


# Exact type -> encoder; filled lazily by _classify for numpy, Arrow and actor classes.
_handlers: dict[type, Handler] = {
    ObjectRef: _Encoder.object_ref,
    tuple: _Encoder.tuple_,
    ErrorInfo: _Encoder.error,
    ActorHandleData: _Encoder.actor_handle,
}
_MAX_HANDLERS = 4096  # classes made on the fly (in a loop) must not grow this forever


def _classify(obj: Any) -> Handler:
    t = type(obj)
    handler: Handler = _Encoder.pickle_value
    np = sys.modules.get("numpy")  # if numpy is not imported, obj is no numpy object
    if np is not None and t is np.ndarray:
        handler = _Encoder.tensor
    elif np is not None and isinstance(obj, np.generic):
        if obj.dtype.kind in "biuf":
            handler = _Encoder.numpy_scalar
    elif _arrow.kind_of(obj) is not None:
        handler = _Encoder.arrow
    elif callable(getattr(t, "__plait_actor_state__", None)):
        handler = _Encoder.actor_handle
    if len(_handlers) < _MAX_HANDLERS:
        _handlers[t] = handler
    return handler


# A payload bigger than this (a large str or bytes value) is not worth keeping a packer
# buffer of that size around for the thread's next, probably small, value.
_PACKER_KEEP_MAX = 1 << 20


class _Local(threading.local):
    encoder: _Encoder | None = None


_local = _Local()


def serialize(value: Any) -> SerializedObject:
    """Encode value; ObjectRefs met on the way are listed in contained_refs."""
    enc = _local.encoder
    if enc is None or enc.busy:  # busy: serialize called from inside serialize
        enc = _Encoder()
        if _local.encoder is None:
            _local.encoder = enc
    enc.busy = True
    try:
        payload = enc.encode(value)
        refs, sources, flags = enc.take()
        if len(payload) > _PACKER_KEEP_MAX:
            enc.drop_packers()
    except BaseException:
        enc.take()
        enc._depth = 0
        raise
    finally:
        enc.busy = False
    return SerializedObject(payload, flags, refs, sources)
