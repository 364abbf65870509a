"""The value codec: golden vectors, round trips, zero copy, refs, errors."""

from __future__ import annotations

import gc
import importlib.util
import json
import mmap
import os
import pickle
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pyarrow as pa
import pytest
from plait_fixtures import ROOT

import plait._format as codec
from plait._format import (
    ActorHandleData,
    DeserializationError,
    ErrorInfo,
    SerializationError,
    deserialize,
    deserialize_with_refs,
    serialize,
)
from plait._format._constants import ALIGNMENT, HEADER, HEADER_SIZE
from plait._format._neutral import from_neutral, to_neutral
from plait._format.object_ref import ObjectRef, OwnerAddress, bind_runtime, bound_runtime

GOLDEN = json.loads((ROOT / "conformance-tests" / "golden" / "values.json").read_text())
CASES = {c["name"]: c for c in GOLDEN["cases"]}
OWNER = OwnerAddress("node-1", "127.0.0.1", 7001, b"\x07" * 16)


@pytest.fixture(autouse=True)
def no_runtime_bound() -> None:
    # No core worker runs here, so refs are plain data and handles decode to their state.
    assert bound_runtime() is None


def ref(i: int, owner: OwnerAddress = OWNER) -> ObjectRef:
    return ObjectRef(i.to_bytes(20, "big"), owner)


def roundtrip(value: Any) -> Any:
    so = serialize(value)
    data = so.to_bytes()
    assert len(data) == so.total_size()
    return deserialize(data)


def header(data: bytes) -> tuple[Any, ...]:
    return tuple(HEADER.unpack_from(data))


# -- golden vectors -------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c["check"] != "reject"])
def test_golden_case_decodes_to_its_value(name: str) -> None:
    case = CASES[name]
    assert to_neutral(deserialize(bytes.fromhex(case["hex"]))) == case["value"]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c["check"] in ("bytes", "refuse")])
def test_golden_case_encodes_to_exact_bytes(name: str) -> None:
    case = CASES[name]
    assert serialize(from_neutral(case["value"])).to_bytes().hex() == case["hex"]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c["check"] == "decode"])
def test_golden_decode_only_case_round_trips(name: str) -> None:
    case = CASES[name]
    assert to_neutral(roundtrip(from_neutral(case["value"]))) == case["value"]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c["check"] == "refuse"])
def test_golden_refused_case_is_flagged_and_names_its_type(name: str) -> None:
    case = CASES[name]
    data = bytes.fromhex(case["hex"])
    assert header(data)[2] & 0x02
    payload = data[HEADER_SIZE:]
    ext = msgpack.unpackb(payload)  # no ext_hook: the raw ext, as a refusing reader sees it
    assert ext.code == 6
    assert msgpack.unpackb(ext.data)[0] == case["refuse_type"]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c["check"] == "reject"])
def test_golden_malformed_object_is_rejected(name: str) -> None:
    with pytest.raises(DeserializationError):
        deserialize(bytes.fromhex(CASES[name]["hex"]))


def test_golden_file_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen_golden", ROOT / "scripts" / "gen_golden.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.problems(GOLDEN, gen.build()) == []


def test_public_api_is_pinned() -> None:
    assert sorted(codec.__all__) == [
        "ActorHandleData",
        "DeserializationError",
        "ErrorInfo",
        "SerializationError",
        "SerializedObject",
        "deserialize",
        "deserialize_with_refs",
        "serialize",
    ]


# -- native values --------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -1,
        2**63 - 1,
        -(2**63),
        2**64 - 1,
        1.25,
        "",
        "snow \u2603",
        b"\x00\xff",
        [],
        [1, [2, [3]]],
        {},
        {"a": {"b": [None]}},
        {1: "x", None: 2, b"k": 3.5, (1, 2): 4},
        (),
        (1, "a", (2.0,)),
        [(), ((),)],
    ],
)
def test_native_values_round_trip_with_their_types(value: Any) -> None:
    out = roundtrip(value)
    assert out == value
    assert to_neutral(out) == to_neutral(value)  # tuples stay tuples, lists lists


def test_bytearray_and_memoryview_decode_as_bytes() -> None:
    assert roundtrip([bytearray(b"ab"), memoryview(b"cd")]) == [b"ab", b"cd"]


def test_numpy_scalars_become_msgpack_natives() -> None:
    value = [np.int8(-3), np.uint64(2**64 - 1), np.float32(0.5), np.float64(2.5), np.bool_(True)]
    assert serialize(value).to_bytes() == serialize([-3, 2**64 - 1, 0.5, 2.5, True]).to_bytes()
    out = roundtrip(value)
    assert [type(v) for v in out] == [int, int, float, float, bool]


def test_python_only_values_round_trip_and_set_the_flag() -> None:
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    big = 2**100
    value = [{1, 2}, frozenset({3}), big, -big, Point(3), OwnerAddress("n", "ip", 1, b"")]
    so = serialize(value)
    assert so.flags & 0x02
    out = deserialize(so.to_bytes())
    assert out[:4] == value[:4] and out[4].x == 3 and out[5] == value[5]
    assert type(out[5]) is OwnerAddress  # a tuple subclass keeps its class


def test_cyclic_and_surrogate_values_fall_back_to_pickle() -> None:
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    out = roundtrip(cyclic)
    assert out[0] == 1 and out[1] is out
    assert roundtrip("bad \ud800 surrogate") == "bad \ud800 surrogate"


@pytest.mark.parametrize(
    "make", [threading.Lock, lambda: (i for i in range(3))], ids=["lock", "generator"]
)
def test_unserializable_value_raises_serialization_error_naming_type(make: Any) -> None:
    value = make()
    with pytest.raises(SerializationError) as info:
        serialize({"nested": [value]})
    assert isinstance(info.value, TypeError)
    assert type(value).__name__ in str(info.value)
    assert "cannot serialize" in str(info.value)
    # The per-thread encoder recovered: the next value encodes normally.
    assert roundtrip([1, (2,)]) == [1, (2,)]


# -- tensors --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype",
    [
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
    ],
)
def test_tensor_dtypes_round_trip(dtype: str) -> None:
    arr = (np.arange(24) % 7).astype(dtype).reshape(2, 3, 4)
    out = roundtrip(arr)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    assert np.array_equal(out, arr)


def test_tensor_layouts_are_made_contiguous_little_endian() -> None:
    base = np.arange(60, dtype=np.float64).reshape(6, 10)
    for arr in (base[::2, 1::3], np.asfortranarray(base), base.astype(">i4"), base.T):
        out = roundtrip(arr)
        assert np.array_equal(out, arr) and out.flags.c_contiguous
        assert out.dtype.byteorder in ("<", "=")


def test_tensor_decode_is_read_only_zero_copy_view() -> None:
    arr = np.arange(1000, dtype=np.int64)
    so = serialize(arr)
    dest = bytearray(so.total_size())
    so.write_to(dest)
    view = memoryview(dest)
    out = deserialize(view)
    assert not out.flags.writeable
    start = np.frombuffer(dest, dtype=np.uint8).ctypes.data
    assert start <= out.ctypes.data < start + len(dest)
    assert (out.ctypes.data - start) % ALIGNMENT == 0
    assert np.array_equal(out, arr)


def test_unsupported_dtypes_are_pickled() -> None:
    value = [
        np.array(["a", "bc"]),
        np.array([1, "x"], dtype=object),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
    ]
    so = serialize(value)
    assert so.flags & 0x02
    out = deserialize(so.to_bytes())
    assert all(np.array_equal(a, b) for a, b in zip(out, value, strict=False))


def test_big_array_inside_pickled_object_goes_out_of_band() -> None:
    class Holder:
        def __init__(self) -> None:
            self.arr = np.arange(100_000, dtype=np.float64)

    so = serialize(Holder())
    assert header(so.to_bytes())[5] == 1  # the array's bytes are one out-of-band buffer
    assert so.total_size() < 100_000 * 8 + 4096  # the array was not copied in-band
    out = deserialize(so.to_bytes())
    assert np.array_equal(out.arr, np.arange(100_000, dtype=np.float64))


def test_big_pickle_goes_out_of_band() -> None:
    value = {frozenset([i]) for i in range(20_000)}
    so = serialize(value)
    data = so.to_bytes()
    assert header(data)[5] == 1
    assert deserialize(data) == value


# -- Arrow ----------------------------------------------------------------------------
TABLE = pa.table(
    {
        "id": pa.array(range(1000), pa.int64()),
        "name": pa.array([f"row{i}" if i % 7 else None for i in range(1000)]),
    }
)


@pytest.mark.parametrize(
    "value",
    [
        TABLE,
        TABLE.to_batches()[0],
        TABLE.column("name").chunk(0),
        TABLE.column("id"),
        pa.chunked_array([[1, 2], [3]]),
        pa.chunked_array([], type=pa.int32()),
        pa.table({"x": pa.array([], pa.float64())}),
        TABLE.slice(10, 20),
    ],
    ids=[
        "table",
        "batch",
        "array",
        "chunked",
        "chunked2",
        "chunked_empty",
        "table_empty",
        "table_slice",
    ],
)
def test_arrow_values_round_trip(value: Any) -> None:
    out = roundtrip(value)
    assert type(out) is type(value)
    assert out.equals(value)


def _arrow_buffers(table: pa.Table) -> Iterator[pa.Buffer]:
    for column in table.columns:
        for chunk in column.chunks:
            yield from (b for b in chunk.buffers() if b is not None)


@pytest.fixture
def shm_dir(tmp_path: Path) -> Path:
    return Path("/dev/shm") if os.path.isdir("/dev/shm") else tmp_path


def test_arrow_from_memory_map_points_into_the_mapping(shm_dir: Path) -> None:
    so = serialize({"table": TABLE, "tensor": np.arange(100.0)})
    path = shm_dir / f"plait-codec-test-{os.getpid()}"
    try:
        with open(path, "w+b") as f:
            f.truncate(so.total_size())
            with mmap.mmap(f.fileno(), so.total_size()) as mm:
                so.write_to(mm)
        buf = pa.memory_map(str(path)).read_buffer()
        out = deserialize(buf)
        lo, hi = buf.address, buf.address + buf.size
        addresses = [b.address for b in _arrow_buffers(out["table"])]
        assert addresses and all(lo <= a < hi for a in addresses)
        assert lo <= out["tensor"].ctypes.data < hi
        del buf
        gc.collect()
        # The values keep the mapping alive on their own.
        assert out["table"].equals(TABLE)
        assert np.array_equal(out["tensor"], np.arange(100.0))
    finally:
        path.unlink(missing_ok=True)


# -- refs -----------------------------------------------------------------------------
class WithRef:
    def __init__(self, r: ObjectRef) -> None:
        self.r = r


def test_contained_refs_listed_in_order_everywhere() -> None:
    refs = [ref(i) for i in range(6)]
    value = [
        refs[0],
        (refs[1], {"k": refs[2]}),
        {refs[3]: 1},
        WithRef(refs[4]),
        ErrorInfo("E", "m", "python", "", None, None),
        refs[5],
    ]
    so = serialize(value)
    assert so.contained_refs == refs
    assert so.flags & 0x01
    out, found = deserialize_with_refs(so.to_bytes())
    assert found == refs
    assert out[3].r == refs[4] and out[3].r.owner == OWNER
    assert found[0].owner == OWNER


def test_values_without_refs_report_none() -> None:
    so = serialize([1, "a", (2,)])
    assert so.contained_refs == [] and not so.flags & 0x01
    assert deserialize_with_refs(so.to_bytes())[1] == []


def test_plain_pickle_of_ref_outside_codec_rebuilds_it() -> None:
    r = ref(9)
    out = pickle.loads(pickle.dumps({"r": r}))["r"]
    assert out == r and out.owner == OWNER


def test_many_refs_with_several_owners() -> None:
    owners = [OwnerAddress(f"n{i}", "10.0.0.1", 9000 + i, bytes([i]) * 16) for i in range(3)]
    refs = [ref(i, owners[i % 3]) for i in range(3000)]
    out, found = deserialize_with_refs(serialize(refs).to_bytes())
    assert out == refs == found
    assert [r.owner for r in out] == [r.owner for r in refs]


# -- actor handles and errors ---------------------------------------------------------
class FakeHandle:
    def __init__(self, actor_id: bytes) -> None:
        self.actor_id = actor_id

    def __plait_actor_state__(self) -> dict[str, Any]:
        return {"actor_id": self.actor_id, "methods": ["f"]}


def test_actor_handle_without_factory_decodes_to_state() -> None:
    out = roundtrip([FakeHandle(b"a1")])
    assert out == [ActorHandleData({"actor_id": b"a1", "methods": ["f"]})]
    # ...which encodes back to the same bytes, so handles can be forwarded.
    assert serialize(out[0]).to_bytes() == serialize(FakeHandle(b"a1")).to_bytes()


class HandleRuntime:
    """The part of a core worker the decoder asks for a live actor handle."""

    def ref_created(self, ref: ObjectRef) -> None:
        pass

    def ref_collected(self, ref: ObjectRef) -> None:
        pass

    def get_async(self, ref: ObjectRef) -> Any:
        raise AssertionError("not awaited here")

    def get_future(self, ref: ObjectRef) -> Any:
        raise AssertionError("not awaited here")

    def actor_handle(self, state: dict[Any, Any]) -> object:
        return FakeHandle(state["actor_id"])


def test_bound_runtime_rebuilds_actor_handles() -> None:
    bind_runtime(HandleRuntime())
    try:
        out = roundtrip({"h": FakeHandle(b"a2")})
    finally:
        bind_runtime(None)
    assert isinstance(out["h"], FakeHandle) and out["h"].actor_id == b"a2"


def test_error_info_round_trips_with_cause_chain() -> None:
    cause = ErrorInfo("KeyError", "'k'", "python", "tb", None, pickle.dumps(KeyError("k")))
    err = ErrorInfo("RayTaskError", "boom", "python", "stack", cause, None)
    out = roundtrip(err)
    assert out == err
    assert isinstance(pickle.loads(out.cause.python_pickle), KeyError)


# -- layout and writing -----------------------------------------------------------------
def test_buffers_are_aligned_and_padding_is_zero() -> None:
    value = [np.arange(3, dtype=np.int8), np.arange(5, dtype=np.int16), TABLE]
    so = serialize(value)
    data = so.to_bytes()
    magic, version, flags, reserved, payload_len, nbuf = header(data)
    assert (magic, version, reserved, nbuf) == (b"PLAI", 1, 0, 3)
    end = HEADER_SIZE + 16 * nbuf + payload_len
    for i in range(nbuf):
        off, length = struct.unpack_from("<QQ", data, HEADER_SIZE + 16 * i)
        assert off % ALIGNMENT == 0 and off >= end and off - end < ALIGNMENT
        assert data[end:off] == bytes(off - end)
        end = off + length
    assert end == len(data) == so.total_size()


def test_write_to_fills_dirty_memory_exactly_like_to_bytes() -> None:
    so = serialize([np.arange(7, dtype=np.uint8), "x", TABLE, {3, 4}])
    dest = bytearray(b"\xee" * (so.total_size() + 10))
    so.write_to(dest)
    assert bytes(dest[: so.total_size()]) == so.to_bytes()
    assert dest[so.total_size() :] == b"\xee" * 10


def test_write_to_rejects_small_or_read_only_buffers() -> None:
    so = serialize(np.arange(10))
    with pytest.raises(ValueError):
        so.write_to(bytearray(so.total_size() - 1))
    with pytest.raises(ValueError):
        so.write_to(memoryview(bytes(so.total_size())))


def test_deserialize_accepts_bytes_memoryview_and_arrow_buffer() -> None:
    value: dict[str, Any] = {"a": np.arange(4), "b": (1, "x"), "r": ref(1)}
    data = serialize(value).to_bytes()
    for src in (data, bytearray(data), memoryview(data), pa.py_buffer(data)):
        out, found = deserialize_with_refs(src)
        assert np.array_equal(out["a"], value["a"]) and out["b"] == (1, "x")
        assert found == [ref(1)]


def test_trailing_bytes_after_the_object_are_ignored() -> None:
    data = serialize([np.arange(3), "z"]).to_bytes()
    out = deserialize(data + b"\x00" * 100)
    assert np.array_equal(out[0], np.arange(3)) and out[1] == "z"


def test_serialize_is_reentrant_and_thread_safe() -> None:
    class Reentrant:
        def __reduce__(self) -> Any:
            inner = serialize((1, ref(77))).to_bytes()
            return (deserialize, (inner,))

    so = serialize([ref(1), Reentrant(), ref(2)])
    assert so.contained_refs[0] == ref(1) and so.contained_refs[-1] == ref(2)
    assert deserialize(so.to_bytes())[1] == (1, ref(77))

    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(300):
                value: list[Any] = [k, i, (str(i),), ref(i), np.arange(i % 5)]
                out = roundtrip(value)
                assert out[:4] == value[:4] and np.array_equal(out[4], value[4])
        except BaseException as e:  # reported below; a thread cannot fail the test
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors


def _object_with_payload(payload: bytes) -> bytes:
    return b"PLAI" + bytes([1, 0, 0, 0]) + struct.pack("<QQ", len(payload), 0) + payload


def test_array_map_keys_read_as_tuples() -> None:
    # What Java and C++ write for a map with tuple keys: the keys as plain arrays.
    payload = msgpack.packb({(1, (2, "x")): "v", "plain": [1, 2]}, use_bin_type=True)
    assert deserialize(_object_with_payload(payload)) == {(1, (2, "x")): "v", "plain": [1, 2]}
    nested_map_key = msgpack.packb([{"k": 1}], use_bin_type=True)[1:]  # a map, no array
    with pytest.raises(DeserializationError, match="map key is a map"):
        deserialize(_object_with_payload(b"\x81" + nested_map_key + b"\x01"))
