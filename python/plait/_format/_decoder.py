"""deserialize(): the object format back into Python values.

Out-of-band buffers are never copied: tensors are numpy arrays over a memoryview of the
input and Arrow data is read from a pyarrow.Buffer slice of it, so when the input maps
shared memory the values point into shared memory. Those views hold a reference to the
input object, which keeps the mapping alive as long as any value uses it.
"""

from __future__ import annotations

from typing import Any

import msgpack

from plait._format import _arrow, _pickle
from plait._format._constants import (
    ARROW_KINDS,
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
    HEADER,
    HEADER_SIZE,
    MAGIC,
    TENSOR_DTYPES,
    VERSION,
)
from plait._format._types import ActorHandleData, DeserializationError, ErrorInfo
from plait._format.object_ref import ObjectRef, OwnerAddress, bound_runtime

_unpackb = msgpack.unpackb
_owner_cache: dict[bytes, OwnerAddress] = {}


def _decode_object_ref(data: bytes) -> ObjectRef:
    # Fast path for the canonical form: fixarray(2), bin8 id, then the owner array, whose
    # bytes repeat across refs of one owner and are cached.
    if len(data) > 3 and data[0] == 0x92 and data[1] == 0xC4 and 3 + data[2] < len(data):
        end = 3 + data[2]
        oid = data[3:end]
        owner_bytes = data[end:]
        owner = _owner_cache.get(owner_bytes)
        if owner is None:
            owner = _owner_from(_unpackb(owner_bytes, raw=False))
            if len(_owner_cache) >= 1024:
                _owner_cache.clear()
            _owner_cache[owner_bytes] = owner
        return ObjectRef(oid, owner)
    try:
        oid, fields = _unpackb(data, raw=False)
    except (ValueError, TypeError) as e:
        raise DeserializationError(f"malformed ObjectRef payload: {e}") from e
    if not isinstance(oid, bytes):
        raise DeserializationError("malformed ObjectRef payload: object id is not bin")
    return ObjectRef(oid, _owner_from(fields))


def _owner_from(fields: Any) -> OwnerAddress:
    try:
        node_id, ip, port, worker_id = fields
    except (ValueError, TypeError) as e:
        raise DeserializationError(f"malformed ObjectRef owner: {fields!r}") from e
    if not (
        isinstance(node_id, str)
        and isinstance(ip, str)
        and type(port) is int
        and isinstance(worker_id, bytes)
    ):
        raise DeserializationError(f"malformed ObjectRef owner: {fields!r}")
    return OwnerAddress(node_id, ip, port, worker_id)


def _hashable(key: Any) -> Any:
    if type(key) is list:
        return tuple(_hashable(k) for k in key)
    if type(key) is dict:
        raise DeserializationError("a map key is a map, which Python cannot use as a dict key")
    return key


def _dict_with_hashable_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    return {_hashable(k): v for k, v in pairs}


class _Decoder:
    """State of one deserialize call: the input, its buffer table, the refs found."""

    __slots__ = ("view", "source", "table", "refs", "_pa_base")

    def __init__(self, view: memoryview, source: Any, table: list[tuple[int, int]]) -> None:
        self.view = view
        self.source = source  # what the caller passed (maybe a pyarrow.Buffer)
        self.table = table
        self.refs: list[ObjectRef] = []
        self._pa_base: Any = None

    def unpack(self, data: Any) -> Any:
        mark = len(self.refs)
        try:
            return _unpackb(data, ext_hook=self.ext_hook, raw=False, strict_map_key=False)
        except TypeError as e:
            if "unhashable" not in str(e):
                raise
        # A map key that is an array: Java and C++ read tuples as arrays and write them
        # back so, and a list cannot be a dict key. Decode again (rare: the fast path
        # above has no per-map hook), reading such keys as tuples.
        del self.refs[mark:]
        return _unpackb(
            data,
            ext_hook=self.ext_hook,
            raw=False,
            strict_map_key=False,
            object_pairs_hook=_dict_with_hashable_keys,
        )

    def ext_hook(self, code: int, data: bytes) -> Any:
        if code == EXT_OBJECT_REF:
            ref = _decode_object_ref(data)
            self.refs.append(ref)
            return ref
        if code == EXT_TUPLE:
            items = self.unpack(data)
            if type(items) is not list:
                raise DeserializationError("tuple ext payload is not an array")
            return tuple(items)
        if code == EXT_TENSOR:
            return self._tensor(data)
        if code == EXT_ARROW:
            return self._arrow(data)
        if code == EXT_ERROR:
            return self._error(data)
        if code == EXT_ACTOR_HANDLE:
            state = self.unpack(data)
            if type(state) is not dict:
                raise DeserializationError("actor handle ext payload is not a map")
            # A process with a core worker decodes a live handle; elsewhere (tools, tests)
            # the handle's plain state.
            runtime = bound_runtime()
            return ActorHandleData(state) if runtime is None else runtime.actor_handle(state)
        if code == EXT_PYTHON_PICKLE:
            return self._pickle(data)
        raise DeserializationError(f"unknown msgpack extension type {code}")

    # -- out-of-band buffers ------------------------------------------------------------
    def _entry(self, index: Any) -> tuple[int, int]:
        if type(index) is not int or not 0 <= index < len(self.table):
            raise DeserializationError(
                f"buffer index {index!r} out of range ({len(self.table)} buffers)"
            )
        return self.table[index]

    def memory(self, index: Any) -> memoryview:
        off, length = self._entry(index)
        return self.view[off : off + length]

    def arrow_buffer(self, index: Any) -> Any:
        import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        off, length = self._entry(index)
        if self._pa_base is None:
            src = self.source
            self._pa_base = src if isinstance(src, pa.Buffer) else pa.py_buffer(self.view)
        return self._pa_base.slice(off, length)

    # -- ext decoders --------------------------------------------------------------------
    def _tensor(self, data: bytes) -> Any:
        import numpy as np  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        try:
            dtype_name, shape, index = _unpackb(data, raw=False)
            shape = tuple(shape)
        except (ValueError, TypeError) as e:
            raise DeserializationError(f"malformed tensor payload: {e}") from e
        if dtype_name not in TENSOR_DTYPES:
            raise DeserializationError(f"unknown tensor dtype {dtype_name!r}")
        if not all(type(d) is int and d >= 0 for d in shape):
            raise DeserializationError(f"malformed tensor shape {shape!r}")
        dtype = np.dtype(dtype_name).newbyteorder("<")
        mem = self.memory(index)
        count = 1
        for d in shape:
            count *= d
        if count * dtype.itemsize != mem.nbytes:
            raise DeserializationError(
                f"tensor of shape {shape} and dtype {dtype_name} needs "
                f"{count * dtype.itemsize} bytes, buffer has {mem.nbytes}"
            )
        arr = np.frombuffer(mem, dtype=dtype).reshape(shape)
        arr.flags.writeable = False  # shared with the store and other readers
        return arr

    def _arrow(self, data: bytes) -> Any:
        try:
            kind, index = _unpackb(data, raw=False)
        except (ValueError, TypeError) as e:
            raise DeserializationError(f"malformed Arrow payload: {e}") from e
        if kind not in ARROW_KINDS:
            raise DeserializationError(f"unknown Arrow kind {kind!r}")
        return _arrow.read(kind, self.arrow_buffer(index))

    def _error(self, data: bytes) -> ErrorInfo:
        fields = self.unpack(data)
        if type(fields) is not list or len(fields) < 6:
            raise DeserializationError("error ext payload is not an array of 6 items")
        type_name, message, language, stack, cause, pickled = fields[:6]
        if (
            not all(isinstance(s, str) for s in (type_name, message, language, stack))
            or not (cause is None or isinstance(cause, ErrorInfo))
            or not (pickled is None or isinstance(pickled, bytes))
        ):
            raise DeserializationError("malformed error ext payload")
        return ErrorInfo(type_name, message, language, stack, cause, pickled)

    def _pickle(self, data: bytes) -> Any:
        try:
            name, body, oob = _unpackb(data, raw=False)
            buffers = [self.memory(i).toreadonly() for i in oob]
        except (ValueError, TypeError) as e:
            raise DeserializationError(f"malformed Python pickle payload: {e}") from e
        pickled = body if isinstance(body, bytes) else self.memory(body)
        return _pickle.loads(str(name), pickled, buffers, self.refs)


def _parse(data: Any) -> tuple[memoryview, int, int, list[tuple[int, int]], int]:
    """Validate the header and buffer table: (view, flags, payload start, table, end)."""
    view = data if type(data) is memoryview else memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    size = len(view)
    if size < HEADER_SIZE:
        raise DeserializationError(f"object is {size} bytes, shorter than the header")
    magic, version, flags, _reserved, payload_len, nbuf = HEADER.unpack_from(view)
    if magic != MAGIC:
        raise DeserializationError(f"not a plait object (magic {bytes(magic)!r})")
    if version != VERSION:
        raise DeserializationError(f"unsupported object format version {version}")
    start = HEADER_SIZE + BUFFER_ENTRY_SIZE * nbuf
    end = start + payload_len
    if end > size:
        raise DeserializationError(f"object is truncated: {size} bytes, payload ends at {end}")
    table: list[tuple[int, int]] = []
    for i in range(nbuf):
        off, length = BUFFER_ENTRY.unpack_from(view, HEADER_SIZE + BUFFER_ENTRY_SIZE * i)
        if off + length > size:
            raise DeserializationError(
                f"buffer {i} ({off}+{length}) lies outside the object ({size} bytes)"
            )
        table.append((off, length))
    return view, flags, start, table, end


class _Discard(list[ObjectRef]):
    """A ref sink that keeps nothing: for objects whose header says they hold no refs."""

    def append(self, ref: ObjectRef) -> None:
        pass


# Decodes objects with no out-of-band buffers and no refs; it holds no per-call state, so
# one instance serves every thread and small values skip building a decoder.
_STATELESS = _Decoder(memoryview(b""), None, [])
_STATELESS.refs = _Discard()


def deserialize_with_refs(data: Any) -> tuple[Any, list[ObjectRef]]:
    """Decode an object; also return every ObjectRef found in it (pickles included)."""
    try:
        if type(data) is bytes and len(data) >= HEADER_SIZE:
            # Fast path for small inline values: no buffers and (per the flags) no refs.
            magic, version, flags, _reserved, payload_len, nbuf = HEADER.unpack_from(data)
            end = HEADER_SIZE + payload_len
            if (
                nbuf == 0
                and not flags & FLAG_HAS_OBJECT_REFS
                and magic == MAGIC
                and version == VERSION
                and end <= len(data)
            ):
                return _STATELESS.unpack(data[HEADER_SIZE:end]), []
        view, _flags, start, table, end = _parse(data)
        dec = _Decoder(view, data, table)
        return dec.unpack(view[start:end]), dec.refs
    except DeserializationError:
        raise
    except (msgpack.UnpackException, ValueError) as e:
        raise DeserializationError(f"malformed msgpack payload: {e}") from e
    except TypeError as e:  # e.g. an array or map used as a map key: no Python form
        raise DeserializationError(f"payload has no Python form: {e}") from e


def deserialize(data: Any) -> Any:
    """Decode an object written by any language's codec (bytes, memoryview, pyarrow.Buffer).

    Tensors and Arrow data returned point into data (zero copy) and keep it alive.
    """
    return deserialize_with_refs(data)[0]
