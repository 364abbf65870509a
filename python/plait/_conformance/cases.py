"""Conformance cases: read from conformance-tests/cases/*.json and the golden vectors.

Values in case files are described as in the golden vectors (docs/object-format.md), with
three conveniences: plain JSON literals (numbers, strings, booleans, null, lists) stand for
themselves, `{"golden": NAME}` for the value of a golden case, and `{"gen": ...}` for values
too large to spell out (see `build_value`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plait._format._neutral import from_neutral

LANGUAGES = ("python", "cpp", "java")
TIERS = ("required", "recommended")


class CaseError(ValueError):
    """A case file that does not follow docs/conformance.md."""


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    description: str
    tier: str
    op: dict[str, Any]  # as in the file (values still described)
    expect: dict[str, Any]  # as in the file, possibly keyed by callee
    requires_caller: tuple[str, ...] = ()
    requires_callee: tuple[str, ...] = ()
    callers: tuple[str, ...] = LANGUAGES
    callees: tuple[str, ...] = LANGUAGES
    golden: dict[str, Any] | None = field(default=None, compare=False)  # golden group only

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


class Golden:
    """The golden vectors, by name."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text())
        self.cases: dict[str, dict[str, Any]] = {c["name"]: c for c in data["cases"]}

    def value_desc(self, name: str) -> dict[str, Any]:
        case = self.cases.get(name)
        if case is None or "value" not in case:
            raise CaseError(f"no golden value named {name!r}")
        desc: dict[str, Any] = case["value"]
        return desc


def _generated(spec: dict[str, Any]) -> Any:
    kind = spec["gen"]
    if kind == "bytes":  # {"gen": "bytes", "size": N}: a recognisable pattern
        size = int(spec["size"])
        return bytes(i % 251 for i in range(size))
    if kind == "nested_list":  # {"gen": "nested_list", "depth": N}: [[[...[leaf]...]]]
        value: Any = build_literal(spec.get("leaf", 1))
        for _ in range(int(spec["depth"])):
            value = [value]
        return value
    if kind == "nested_map":  # {"gen": "nested_map", "depth": N}: {"k": {"k": ... leaf}}
        value = build_literal(spec.get("leaf", 1))
        for _ in range(int(spec["depth"])):
            value = {"k": value}
        return value
    if kind == "range_list":  # {"gen": "range_list", "size": N}: [0, 1, ..., N-1]
        return list(range(int(spec["size"])))
    if kind == "str":  # {"gen": "str", "size": N, "unit": "é"}: unit repeated
        return str(spec.get("unit", "a")) * int(spec["size"])
    if kind == "tensor":  # {"gen": "tensor", "dtype": D, "shape": [...]}: arange
        import numpy as np  # noqa: PLC0415 (only cases that build a tensor pay for it)

        shape = [int(n) for n in spec["shape"]]
        count = int(np.prod(shape)) if shape else 1
        return np.arange(count).astype(spec["dtype"]).reshape(shape)
    if kind == "table":  # {"gen": "table", "rows": N}: one column per common type
        import pyarrow as pa  # noqa: PLC0415 (only cases that build a table pay for it)

        n = int(spec["rows"])
        return pa.table(
            {
                "i64": pa.array(range(n), pa.int64()),
                "f64": pa.array([i * 0.5 for i in range(n)], pa.float64()),
                "i32": pa.array([i % 1000 for i in range(n)], pa.int32()),
                "s": pa.array([f"row{i}" for i in range(n)], pa.string()),
                "b": pa.array([i % 2 == 0 for i in range(n)], pa.bool_()),
            }
        )
    raise CaseError(f"unknown generator {kind!r}")


_golden: Golden | None = None


def set_golden(golden: Golden) -> None:
    global _golden
    _golden = golden


def build_literal(desc: Any) -> Any:
    """The Python value a case file's value description stands for."""
    if desc is None or isinstance(desc, (bool, int, float, str)):
        return desc
    if isinstance(desc, list):
        return [build_literal(d) for d in desc]
    if isinstance(desc, dict):
        if "golden" in desc:
            if _golden is None:
                raise CaseError("golden vectors not loaded")
            return from_neutral(_golden.value_desc(desc["golden"]))
        if "gen" in desc:
            return _generated(desc)
        if "type" in desc:
            return _from_desc(desc)
    raise CaseError(f"not a value description: {desc!r}")


def _from_desc(desc: dict[str, Any]) -> Any:
    # Containers may hold the conveniences too.
    kind = desc["type"]
    if kind == "array":
        return [build_literal(d) for d in desc["items"]]
    if kind == "tuple":
        return tuple(build_literal(d) for d in desc["items"])
    if kind == "map":
        return {build_literal(k): build_literal(v) for k, v in desc["entries"]}
    return from_neutral(desc)


def build_op(op: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The operation as the caller adapter receives it: values built, names made unique
    per pair (suffix) so that pairs cannot see each other's named actors."""
    out = dict(op)
    if "args" in op:
        out["args"] = [build_literal(a) for a in op["args"]]
    if "kwargs" in op:
        out["kwargs"] = {k: build_literal(v) for k, v in op["kwargs"].items()}
    if "calls" in op:
        out["calls"] = [
            {**c, "args": [build_literal(a) for a in c.get("args", [])]}
            if not c.get("kill")
            else dict(c)
            for c in op["calls"]
        ]
    if op.get("name"):
        out["name"] = f"{op['name']}-{suffix}"
    return out


def _tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CaseError(f"{where} must be a list of strings")
    return tuple(value)


def _case(group: str, raw: dict[str, Any], where: str) -> Case:
    for key in ("name", "op", "expect"):
        if key not in raw:
            raise CaseError(f"{where}: a case needs {key!r}")
    tier = raw.get("tier", "required")
    if tier not in TIERS:
        raise CaseError(f"{where}: tier must be one of {TIERS}, not {tier!r}")
    requires = raw.get("requires", {})
    callers = _tuple(raw.get("callers"), f"{where}.callers") or LANGUAGES
    callees = _tuple(raw.get("callees"), f"{where}.callees") or LANGUAGES
    for lang in callers + callees:
        if lang not in LANGUAGES:
            raise CaseError(f"{where}: unknown language {lang!r}")
    return Case(
        group=group,
        name=str(raw["name"]),
        description=raw.get("description", ""),
        tier=tier,
        op=raw["op"],
        expect=raw["expect"],
        requires_caller=_tuple(requires.get("caller"), f"{where}.requires.caller"),
        requires_callee=_tuple(requires.get("callee"), f"{where}.requires.callee"),
        callers=callers,
        callees=callees,
    )


def load_cases(cases_dir: Path) -> list[Case]:
    """Every case of every file in cases_dir, in file and then file order."""
    cases: list[Case] = []
    seen: set[str] = set()
    for path in sorted(cases_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise CaseError(f"{path.name}: not JSON: {e}") from None
        group = data.get("group") or path.stem
        for i, raw in enumerate(data.get("cases", [])):
            case = _case(group, raw, f"{path.name} case {i} ({raw.get('name', '?')})")
            if case.id in seen:
                raise CaseError(f"{path.name}: case {case.id} is defined twice")
            seen.add(case.id)
            cases.append(case)
    return cases


def golden_cases(golden: Golden) -> list[Case]:
    """One case per golden vector: each language's codec decodes and re-encodes it."""
    out = []
    for name, raw in golden.cases.items():
        out.append(
            Case(
                group="golden",
                name=name,
                description=raw.get("description", ""),
                tier="required",
                op={"op": "codec_roundtrip"},
                expect={"check": raw["check"]},
                golden=raw,
            )
        )
    return out
