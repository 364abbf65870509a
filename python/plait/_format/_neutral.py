"""The language-neutral JSON description of values used by the golden vectors.

conformance-tests/golden/values.json describes each case's value in this JSON form (see
docs/object-format.md, "Golden vectors") so that every language can build the value and
compare what it decodes. This module is the Python reading of that description: the
golden-vector generator builds values with `from_neutral`, tests compare `to_neutral`
of decoded values with the file.
"""

from __future__ import annotations

import ast
import struct
from typing import Any

from plait._format._constants import (
    ARROW_ARRAY,
    ARROW_CHUNKED_ARRAY,
    ARROW_RECORD_BATCH,
    ARROW_TABLE,
    ARROW_TYPES,
)
from plait._format._types import ActorHandleData, ErrorInfo
from plait._format.object_ref import ObjectRef, OwnerAddress

Desc = dict[str, Any]

# Neutral Arrow type names (proto/object_format.json) whose pyarrow factory is named
# differently; the others are pyarrow's own names.
_PYARROW_FACTORY = {"bool": "bool_", "utf8": "string"}


def _float_bits(x: float) -> str:
    return struct.pack(">d", x).hex()


def float_desc(x: float) -> Desc:
    return {"type": "float", "value": repr(x), "bits": _float_bits(x)}


def _arrow_type(name: str) -> Any:
    import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

    if name not in ARROW_TYPES:
        raise ValueError(f"no neutral Arrow type {name!r}")
    return getattr(pa, _PYARROW_FACTORY.get(name, name))()


def _arrow_type_name(t: Any) -> str:
    for name in ARROW_TYPES:
        if _arrow_type(name) == t:
            return name
    raise ValueError(f"Arrow type {t} has no neutral name")


def from_neutral(desc: Desc) -> Any:
    """Build the Python value a description stands for."""
    kind = desc["type"]
    if kind == "nil":
        return None
    if kind == "bool":
        return bool(desc["value"])
    if kind == "int":
        return int(desc["value"])
    if kind == "float":
        value: float = struct.unpack(">d", bytes.fromhex(desc["bits"]))[0]
        return value
    if kind == "str":
        return str(desc["value"])
    if kind == "bin":
        return bytes.fromhex(desc["hex"])
    if kind == "array":
        return [from_neutral(d) for d in desc["items"]]
    if kind == "tuple":
        return tuple(from_neutral(d) for d in desc["items"])
    if kind == "map":
        return {from_neutral(k): from_neutral(v) for k, v in desc["entries"]}
    if kind == "object_ref":
        o = desc["owner"]
        return ObjectRef(
            bytes.fromhex(desc["object_id"]),
            OwnerAddress(o["node_id"], o["ip"], int(o["port"]), bytes.fromhex(o["worker_id"])),
        )
    if kind == "actor_handle":
        return ActorHandleData(from_neutral(desc["state"]))
    if kind == "tensor":
        import numpy as np  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        data = desc["data"]
        if desc["dtype"].startswith("complex"):  # elements are [real, imag] pairs
            data = [complex(re, im) for re, im in data]
        return np.array(data, dtype=desc["dtype"]).reshape(desc["shape"])
    if kind == "arrow":
        return _arrow_from_neutral(desc)
    if kind == "error":
        cause = desc["cause"]
        pickled = desc["python_pickle"]
        return ErrorInfo(
            desc["type_name"],
            desc["message"],
            desc["language"],
            desc["stack"],
            None if cause is None else from_neutral(cause),
            None if pickled is None else bytes.fromhex(pickled),
        )
    if kind == "python_pickle":
        # Python-only values in the golden file are Python literals (sets, huge ints).
        return ast.literal_eval(desc["python_repr"])
    raise ValueError(f"unknown neutral value type {kind!r}")


def _arrow_from_neutral(desc: Desc) -> Any:
    import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

    if desc["kind"] == ARROW_ARRAY:
        return pa.array(desc["values"], type=_arrow_type(desc["arrow_type"]))
    if desc["kind"] == ARROW_CHUNKED_ARRAY:
        return pa.chunked_array(desc["chunks"], type=_arrow_type(desc["arrow_type"]))
    schema = pa.schema([pa.field(f["name"], _arrow_type(f["type"])) for f in desc["schema"]])
    columns = [pa.array(c, type=f.type) for c, f in zip(desc["columns"], schema, strict=False)]
    if desc["kind"] == ARROW_TABLE:
        return pa.Table.from_arrays(columns, schema=schema)
    if desc["kind"] == ARROW_RECORD_BATCH:
        return pa.RecordBatch.from_arrays(columns, schema=schema)
    raise ValueError(f"unknown neutral Arrow kind {desc['kind']!r}")


def to_neutral(value: Any) -> Desc:
    """Describe a decoded Python value (inverse of from_neutral)."""
    if value is None:
        return {"type": "nil"}
    t = type(value)
    if t is bool:
        return {"type": "bool", "value": value}
    if t is int and -(1 << 63) <= value < (1 << 64):
        return {"type": "int", "value": str(value)}
    if t is float:
        return float_desc(value)
    if t is str:
        return {"type": "str", "value": value}
    if t is bytes:
        return {"type": "bin", "hex": value.hex()}
    if t is list:
        return {"type": "array", "items": [to_neutral(v) for v in value]}
    if t is tuple:
        return {"type": "tuple", "items": [to_neutral(v) for v in value]}
    if t is dict:
        return {
            "type": "map",
            "entries": [[to_neutral(k), to_neutral(v)] for k, v in value.items()],
        }
    if t is ObjectRef:
        o = value.owner
        return {
            "type": "object_ref",
            "object_id": value.object_id.hex(),
            "owner": {
                "node_id": o.node_id,
                "ip": o.ip,
                "port": o.port,
                "worker_id": o.worker_id.hex(),
            },
        }
    if t is ActorHandleData:
        return {"type": "actor_handle", "state": to_neutral(value.state)}
    if t is ErrorInfo:
        return {
            "type": "error",
            "type_name": value.type_name,
            "message": value.message,
            "language": value.language,
            "stack": value.stack,
            "cause": None if value.cause is None else to_neutral(value.cause),
            "python_pickle": None if value.python_pickle is None else value.python_pickle.hex(),
        }
    if t.__module__ == "numpy" and t.__name__ == "ndarray":
        data = value.reshape(-1).tolist()
        if value.dtype.kind == "c":  # JSON has no complex numbers: [real, imag] pairs
            data = [[z.real, z.imag] for z in data]
        return {
            "type": "tensor",
            "dtype": value.dtype.name,
            "shape": list(value.shape),
            "data": data,
        }
    if t.__module__.startswith("pyarrow"):
        return _arrow_to_neutral(value)
    return {
        "type": "python_pickle",
        "python_type": f"{t.__module__}.{t.__qualname__}",
        "python_repr": repr(value),
    }


def _arrow_to_neutral(value: Any) -> Desc:
    import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

    if isinstance(value, pa.Array):
        return {
            "type": "arrow",
            "kind": ARROW_ARRAY,
            "arrow_type": _arrow_type_name(value.type),
            "values": value.to_pylist(),
        }
    if isinstance(value, pa.ChunkedArray):
        return {
            "type": "arrow",
            "kind": ARROW_CHUNKED_ARRAY,
            "arrow_type": _arrow_type_name(value.type),
            "chunks": [chunk.to_pylist() for chunk in value.chunks],
        }
    kind = ARROW_TABLE if isinstance(value, pa.Table) else ARROW_RECORD_BATCH
    return {
        "type": "arrow",
        "kind": kind,
        "schema": [{"name": f.name, "type": _arrow_type_name(f.type)} for f in value.schema],
        "columns": [value.column(i).to_pylist() for i in range(value.num_columns)],
    }
