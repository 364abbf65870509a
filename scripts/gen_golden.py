#!/usr/bin/env python3
"""Write conformance-tests/golden/values.json: the object format's golden byte vectors.

The only writer of that file. Each case is a value in the language-neutral JSON form
(docs/object-format.md, "Golden vectors") and the bytes the Python codec encodes it to.
`--check` fails when the committed file no longer matches the codec: byte-exact cases must
encode to the same bytes, decode-only cases (Arrow) must still decode to their value, and
reject cases must still be rejected.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from plait._format import (  # noqa: E402
    DeserializationError,
    deserialize,
    serialize,
)
from plait._format._neutral import float_desc, from_neutral, to_neutral  # noqa: E402

OUT = ROOT / "conformance-tests" / "golden" / "values.json"
# The format table: its dtype and Arrow kind lists decide which cases exist, so a dtype or
# kind added there gets a golden vector (or this script fails naming it).
FORMAT_TABLE = json.loads((ROOT / "proto" / "object_format.json").read_text())
Desc = dict[str, Any]


# -- neutral value builders ------------------------------------------------------------
def nil() -> Desc:
    return {"type": "nil"}


def boolean(v: bool) -> Desc:
    return {"type": "bool", "value": v}


def integer(v: int) -> Desc:
    return {"type": "int", "value": str(v)}


def string(v: str) -> Desc:
    return {"type": "str", "value": v}


def binary(v: bytes) -> Desc:
    return {"type": "bin", "hex": v.hex()}


def array(*items: Desc) -> Desc:
    return {"type": "array", "items": list(items)}


def tup(*items: Desc) -> Desc:
    return {"type": "tuple", "items": list(items)}


def mapping(*entries: tuple[Desc, Desc]) -> Desc:
    return {"type": "map", "entries": [[k, v] for k, v in entries]}


OWNER = {
    "node_id": "5f0c2a9e1b7d4c3a",
    "ip": "10.0.0.7",
    "port": 41523,
    "worker_id": "00112233445566778899aabbccddeeff",
}


def object_ref(object_id: str, owner: dict[str, Any] = OWNER) -> Desc:
    return {"type": "object_ref", "object_id": object_id, "owner": owner}


def tensor(dtype: str, shape: list[int], data: list[Any]) -> Desc:
    return {"type": "tensor", "dtype": dtype, "shape": shape, "data": data}


def error(
    type_name: str,
    message: str,
    language: str,
    stack: str,
    cause: Desc | None = None,
    python_pickle: bytes | None = None,
) -> Desc:
    return {
        "type": "error",
        "type_name": type_name,
        "message": message,
        "language": language,
        "stack": stack,
        "cause": cause,
        "python_pickle": None if python_pickle is None else python_pickle.hex(),
    }


def python_only(python_type: str, python_repr: str) -> Desc:
    return {"type": "python_pickle", "python_type": python_type, "python_repr": python_repr}


# -- the cases ---------------------------------------------------------------------------
Case = tuple[str, str, Desc]

BYTES_CASES: list[Case] = [
    ("nil", "msgpack nil", nil()),
    ("true", "msgpack true", boolean(True)),
    ("false", "msgpack false", boolean(False)),
    *[
        (f"int_{name}", f"integer {v}: {form}", integer(v))
        for name, v, form in [
            ("0", 0, "positive fixint"),
            ("127", 127, "largest positive fixint"),
            ("128", 128, "uint8 (positive values use the uint family)"),
            ("255", 255, "largest uint8"),
            ("256", 256, "uint16"),
            ("65535", 65535, "largest uint16"),
            ("65536", 65536, "uint32"),
            ("4294967295", 4294967295, "largest uint32"),
            ("4294967296", 4294967296, "uint64"),
            ("int64_max", (1 << 63) - 1, "int64 max, as uint64"),
            ("2pow63", 1 << 63, "int64 max + 1: only uint64 holds it"),
            ("uint64_max", (1 << 64) - 1, "uint64 max"),
            ("minus1", -1, "negative fixint"),
            ("minus32", -32, "smallest negative fixint"),
            ("minus33", -33, "int8"),
            ("minus128", -128, "smallest int8"),
            ("minus129", -129, "int16"),
            ("minus32768", -32768, "smallest int16"),
            ("minus32769", -32769, "int32"),
            ("minus2pow31", -(1 << 31), "smallest int32"),
            ("minus2pow31_minus1", -(1 << 31) - 1, "int64"),
            ("int64_min", -(1 << 63), "int64 min"),
        ]
    ],
    *[
        (f"float_{name}", f"float64 {v!r}: always float64 (0xcb), never float32", float_desc(v))
        for name, v in [
            ("0", 0.0),
            ("minus0", -0.0),
            ("1_5", 1.5),
            ("minus2_25", -2.25),
            ("1e300", 1e300),
            ("denormal_min", 5e-324),
            ("nan", float("nan")),
            ("inf", float("inf")),
            ("minus_inf", float("-inf")),
            ("integral", 3.0),
        ]
    ],
    ("str_empty", "empty str", string("")),
    ("str_ascii", "fixstr", string("hello")),
    ("str_unicode", "UTF-8: 2, 3 and 4-byte sequences", string("h\u00e9llo \u2713 \U0001f389")),
    ("str_31", "31 bytes: largest fixstr", string("a" * 31)),
    ("str_32", "32 bytes: str8", string("b" * 32)),
    ("str_256", "256 bytes: str16", string("c" * 256)),
    ("bin_empty", "empty bin (bin8)", binary(b"")),
    ("bin_small", "bin8", binary(bytes([0, 1, 2, 255]))),
    ("bin_256", "256 bytes: bin16", binary(bytes(range(256)))),
    ("array_empty", "empty array", array()),
    (
        "array_mixed",
        "array of mixed types",
        array(integer(1), string("a"), nil(), boolean(True), float_desc(0.5)),
    ),
    ("array_15", "15 items: largest fixarray", array(*[integer(i) for i in range(15)])),
    ("array_16", "16 items: array16", array(*[integer(i) for i in range(16)])),
    ("array_nested", "nested arrays", array(array(), array(array(integer(-1))))),
    ("map_empty", "empty map", mapping()),
    (
        "map_str_keys",
        "map with str keys, insertion order kept",
        mapping((string("b"), integer(1)), (string("a"), array(boolean(True)))),
    ),
    (
        "map_any_keys",
        "map keys of any type (int, nil, float, bin, bool)",
        mapping(
            (integer(1), string("one")),
            (nil(), boolean(False)),
            (float_desc(2.5), string("x")),
            (binary(b"k"), integer(-7)),
            (boolean(False), nil()),
        ),
    ),
    (
        "map_16",
        "16 entries: map16",
        mapping(*[(string(f"k{i:02d}"), integer(i)) for i in range(16)]),
    ),
    (
        "map_nested",
        "nested maps and arrays",
        mapping((string("outer"), mapping((string("inner"), array(integer(1), mapping()))))),
    ),
    ("tuple_empty", "empty tuple: ext 7 with payload [] (fixext1)", tup()),
    ("tuple_pair", "tuple ext; other languages read it as an array", tup(integer(1), string("a"))),
    (
        "tuple_nested",
        "tuple inside tuple, and a tuple as a map key",
        mapping((tup(integer(1), integer(2)), tup(tup(), string("pair")))),
    ),
    (
        "object_ref",
        "ObjectRef ext (header flag 0x01)",
        object_ref("0102030405060708090a0b0c0d0e0f1000000001"),
    ),
    (
        "object_refs_nested",
        "refs in an array and a map; same owner twice",
        array(
            object_ref("a0" * 16 + "00000001"),
            mapping(
                (
                    string("r"),
                    object_ref(
                        "b1" * 16 + "00000002",
                        {"node_id": "", "ip": "::1", "port": 0, "worker_id": ""},
                    ),
                )
            ),
        ),
    ),
    (
        "actor_handle",
        "actor handle ext carrying its state map",
        {
            "type": "actor_handle",
            "state": mapping(
                (string("actor_id"), binary(bytes(range(16)))),
                (string("class_name"), string("Counter")),
                (string("language"), string("python")),
                (
                    string("methods"),
                    mapping((string("incr"), integer(1)), (string("get"), integer(1))),
                ),
            ),
        },
    ),
    (
        "tensor_float64",
        "2x3 float64 tensor in buffer 0",
        tensor("float64", [2, 3], [0.0, 0.5, 1.0, -1.5, 2.25, 1e10]),
    ),
    ("tensor_int32", "int32 vector", tensor("int32", [4], [1, -2, 2147483647, -2147483648])),
    (
        "tensor_bool",
        "bool tensor: one byte per element, 0 or 1",
        tensor("bool", [3], [True, False, True]),
    ),
    ("tensor_scalar", "0-d uint8 tensor (shape [])", tensor("uint8", [], [200])),
    (
        "tensor_empty",
        "empty float32 tensor of shape [0, 3]: a zero-length buffer",
        tensor("float32", [0, 3], []),
    ),
    (
        "tensor_pair",
        "two buffers: offsets aligned to 64 with zero padding",
        array(tensor("int16", [3], [1, 2, 3]), tensor("uint64", [2], [0, (1 << 64) - 1])),
    ),
    (
        "error_simple",
        "error ext",
        error("ValueError", "bad value", "python", "Traceback ...\nValueError: bad value\n"),
    ),
    (
        "error_with_cause",
        "error ext with a cause and a Python pickle other languages ignore",
        error(
            "java.lang.IllegalStateException",
            "outer",
            "java",
            "at Main.main(Main.java:3)",
            cause=error("std::runtime_error", "inner", "cpp", ""),
            python_pickle=b"\x80\x05N.",
        ),
    ),
]


def dtype_sample(name: str, kind: str, itemsize: int) -> list[Any]:
    """Elements that pin a dtype's byte layout: its extremes, zero, a sign, a fraction."""
    import numpy as np

    bits = 8 * itemsize
    if kind == "bool":
        return [True, False, True]
    if kind == "int":
        return [-(1 << (bits - 1)), -1, 0, 1, (1 << (bits - 1)) - 1]
    if kind == "uint":
        return [0, 1, (1 << bits) - 1]
    if kind == "float":  # each value is exact in the dtype, so JSON carries it exactly
        info = np.finfo(name)
        return [0.0, 1.0, -2.5, float(info.max), float(info.tiny)]
    if kind == "complex":  # [real, imag] pairs
        return [[1.5, -2.0], [0.0, 1.0], [-0.25, 65536.0]]
    raise ValueError(f"dtype {name}: no golden sample for element kind {kind!r}")


# One tensor per dtype of the format table.
DTYPE_CASES: list[Case] = [
    (
        f"tensor_dtype_{d['name']}",
        f"{d['name']} tensor ({d['itemsize']}-byte elements): extremes, zero, sign",
        tensor(d["name"], [n], data),
    )
    for d in FORMAT_TABLE["dtypes"]
    for data in [dtype_sample(d["name"], d["kind"], d["itemsize"])]
    for n in [len(data)]
]

# One value per Arrow kind of the format table (keyed by kind).
ARROW_SAMPLES: dict[str, tuple[str, Desc]] = {
    "table": (
        "Arrow table (int64 + utf8 with a null) as an IPC stream in buffer 0",
        {
            "type": "arrow",
            "kind": "table",
            "schema": [{"name": "id", "type": "int64"}, {"name": "name", "type": "utf8"}],
            "columns": [[1, 2, 3], ["a", None, "\u00e9t\u00e9"]],
        },
    ),
    "record_batch": (
        "Arrow record batch (float64 + bool, with nulls): exactly one batch",
        {
            "type": "arrow",
            "kind": "record_batch",
            "schema": [{"name": "x", "type": "float64"}, {"name": "ok", "type": "bool"}],
            "columns": [[0.5, None, -1.0], [True, False, None]],
        },
    ),
    "array": (
        "Arrow array: a one-column record batch",
        {"type": "arrow", "kind": "array", "arrow_type": "float64", "values": [1.5, None, -2.0]},
    ),
    "chunked_array": (
        "Arrow chunked array of two chunks: one column, one batch per chunk",
        {
            "type": "arrow",
            "kind": "chunked_array",
            "arrow_type": "int64",
            "chunks": [[1, 2], [None, 4, 5]],
        },
    ),
}


def arrow_cases() -> list[Case]:
    cases: list[Case] = []
    for k in FORMAT_TABLE["arrow_kinds"]:
        if k["name"] not in ARROW_SAMPLES:
            raise ValueError(f"Arrow kind {k['name']!r}: add a sample to ARROW_SAMPLES")
        description, value = ARROW_SAMPLES[k["name"]]
        cases.append((f"arrow_{k['name']}", description, value))
    return cases


DECODE_CASES: list[Case] = arrow_cases()

REFUSE_CASES: list[Case] = [
    (
        "python_set",
        "a Python set: Python-only pickle ext (header flag 0x02)",
        python_only("builtins.set", "{1, 2, 3}"),
    ),
    (
        "python_big_int",
        "an int beyond uint64 is Python-only",
        python_only("builtins.int", str(1 << 70)),
    ),
]


def _header(
    flags: int, payload: bytes, nbuf: int = 0, version: int = 1, magic: bytes = b"PLAI"
) -> bytes:
    return struct.pack("<4sBBHQQ", magic, version, flags, 0, len(payload), nbuf)


# Malformed objects every reader must reject (with an error, not a crash or a value).
REJECT_CASES: list[tuple[str, str, bytes]] = [
    ("reject_magic", "wrong magic", _header(0, b"\xc0", magic=b"PLAX") + b"\xc0"),
    ("reject_version", "unknown format version 2", _header(0, b"\xc0", version=2) + b"\xc0"),
    ("reject_short", "shorter than the header", b"PLAI\x01\x00"),
    (
        "reject_truncated",
        "payload length runs past the end",
        _header(0, b"\x93\x01\x02\x03") + b"\x93\x01",
    ),
    (
        "reject_buffer_range",
        "buffer table entry outside the object",
        _header(0, b"\xc0", nbuf=1) + struct.pack("<QQ", 64, 1000) + b"\xc0",
    ),
    (
        "reject_unknown_ext",
        "unknown extension type 42",
        _header(0, b"\xd4\x2a\x00") + b"\xd4\x2a\x00",
    ),
    (
        "reject_trailing_payload",
        "two msgpack values in the payload",
        _header(0, b"\x01\x02") + b"\x01\x02",
    ),
]


def build() -> dict[str, Any]:
    cases: list[dict[str, Any]] = []
    for check, group in (
        ("bytes", BYTES_CASES + DTYPE_CASES),
        ("decode", DECODE_CASES),
        ("refuse", REFUSE_CASES),
    ):
        for name, description, value in group:
            case: dict[str, Any] = {
                "name": name,
                "description": description,
                "check": check,
                "value": value,
            }
            if check == "refuse":
                case["refuse_type"] = value["python_type"]
            data = serialize(from_neutral(value)).to_bytes()
            if to_neutral(deserialize(data)) != value:  # e.g. keys 1 and True collide
                raise ValueError(f"case {name}: the value does not survive a round trip")
            case["hex"] = data.hex()
            cases.append(case)
    for name, description, data in REJECT_CASES:
        cases.append(
            {"name": name, "description": description, "check": "reject", "hex": data.hex()}
        )
    return {
        "format": "plait object format, version 1 (docs/object-format.md)",
        "generated_by": "scripts/gen_golden.py",
        "cases": cases,
    }


def problems(committed: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Why the committed file is stale (empty when it is still right)."""
    out: list[str] = []
    old = {c["name"]: c for c in committed["cases"]}
    new = {c["name"]: c for c in fresh["cases"]}
    if list(old) != list(new):
        out.append("the set of cases changed")
    for name, case in new.items():
        prev = old.get(name)
        if prev is None:
            continue
        if case["check"] == "decode":  # bytes depend on the Arrow writer's version
            if {k: v for k, v in prev.items() if k != "hex"} != {
                k: v for k, v in case.items() if k != "hex"
            }:
                out.append(f"{name}: description changed")
            elif to_neutral(deserialize(bytes.fromhex(prev["hex"]))) != case["value"]:
                out.append(f"{name}: committed bytes no longer decode to the value")
        elif prev != case:
            out.append(f"{name}: differs")
        if case["check"] == "reject":
            try:
                deserialize(bytes.fromhex(case["hex"]))
                out.append(f"{name}: was not rejected")
            except DeserializationError:
                pass
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed golden file is stale"
    )
    args = parser.parse_args()
    fresh = build()
    if args.check:
        if not OUT.exists():
            print(f"{OUT} is missing; run scripts/gen_golden.py", file=sys.stderr)
            return 1
        found = problems(json.loads(OUT.read_text()), fresh)
        for p in found:
            print(f"stale golden vector: {p}", file=sys.stderr)
        if found:
            print("run scripts/gen_golden.py to regenerate", file=sys.stderr)
            return 1
        print(f"{OUT.relative_to(ROOT)} is up to date ({len(fresh['cases'])} cases)")
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fresh, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(fresh['cases'])} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
