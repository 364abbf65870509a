"""The Python callee of the conformance suite: the functions and the actor class every
language's adapter registers under the same names (docs/conformance.md, "Callee").

Plain functions, not @plait.remote: C++ and Java call them by module and name, the Python
caller wraps them itself.
"""

from __future__ import annotations

import time
from typing import Any

import plait


def capabilities() -> dict[str, Any]:
    return {
        "language": "python",
        "kwargs": True,
        "python_only_values": True,
        "uint64": True,
        "tuples": True,
        "error_type": "ValueError",
    }


def echo(x: Any) -> Any:
    return x


def _int64(value: Any, what: str) -> int:
    # bool is an int in Python, but not an int64 in the object format's type table.
    if type(value) is not int:
        raise TypeError(f"{what} must be an int64, got {type(value).__name__}")
    return value


def _str(value: Any, what: str) -> str:
    if type(value) is not str:
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    return value


def add(a: int, b: int) -> int:
    return _int64(a, "a") + _int64(b, "b")


def concat(a: str, b: str) -> str:
    return _str(a, "a") + _str(b, "b")


def fail(message: str) -> None:
    raise ValueError(message)


def sleep_ms(ms: int) -> int:
    time.sleep(_int64(ms, "ms") / 1000)
    return ms


def sum_list(xs: list[int]) -> int:
    if type(xs) is not list:
        raise TypeError(f"xs must be a list, got {type(xs).__name__}")
    return sum(_int64(x, "xs[i]") for x in xs)


def get_first(xs: list[Any]) -> Any:
    ref = xs[0]
    if not isinstance(ref, plait.ObjectRef):
        raise TypeError(f"xs[0] must be an ObjectRef, got {type(ref).__name__}")
    return plait.get(ref, timeout=60)


def put_value(x: Any) -> Any:
    return plait.put(x)


def call_actor_add(handle: Any, k: int) -> int:
    result: int = plait.get(handle.add.remote(_int64(k, "k")), timeout=60)
    return result


def table_sum(table: Any, column: str) -> float:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(table, (pa.Table, pa.RecordBatch)):
        raise TypeError(f"table must be an Arrow table, got {type(table).__name__}")
    total = pc.sum(table.column(_str(column, "column"))).as_py()
    return float(total or 0)


def tensor_sum(t: Any) -> float:
    import numpy as np

    if not isinstance(t, np.ndarray):
        raise TypeError(f"t must be a tensor, got {type(t).__name__}")
    return float(t.sum())


def codec_roundtrip(b: bytes) -> bytes:
    """Decode with this language's codec, encode again: the golden-vector check."""
    from plait._format import deserialize, serialize

    if type(b) is not bytes:
        raise TypeError(f"b must be bytes, got {type(b).__name__}")
    return serialize(deserialize(b)).to_bytes()


class Counter:
    def __init__(self, start: int) -> None:
        self.total = _int64(start, "start")

    def add(self, k: int) -> int:
        self.total += _int64(k, "k")
        return self.total

    def get(self) -> int:
        return self.total

    def echo(self, x: Any) -> Any:
        return x

    def fail(self, message: str) -> None:
        raise ValueError(message)
