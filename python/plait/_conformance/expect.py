"""Whether an outcome meets a case's expectation (docs/conformance.md, "Cases")."""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Any

from plait._conformance.cases import LANGUAGES, Case, build_literal
from plait._format import deserialize
from plait._format._neutral import to_neutral


@dataclass(frozen=True)
class Verdict:
    passed: bool
    detail: str = ""


PASS = Verdict(True)


def _fail(detail: str) -> Verdict:
    return Verdict(False, detail)


def _by_callee(spec: Any, callee: str) -> Any:
    """A {"python": .., "cpp": .., "java": ..} map picks the callee's entry ("default" for
    the others); anything else applies to every callee."""
    if isinstance(spec, dict) and spec and set(spec) <= {*LANGUAGES, "default"}:
        return spec.get(callee, spec.get("default"))
    return spec


# ---- values -------------------------------------------------------------------------


def _same_float(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["bits"] == b["bits"]:
        return True
    # Any NaN equals any NaN: languages need not keep a NaN's payload.
    xa = struct.unpack(">d", bytes.fromhex(a["bits"]))[0]
    xb = struct.unpack(">d", bytes.fromhex(b["bits"]))[0]
    return math.isnan(xa) and math.isnan(xb)


def _same_scalar_list(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=False):
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if (
            x != y
            or type(x) is not type(y)
            and not (isinstance(x, (int, float)) and isinstance(y, (int, float)))
        ):
            return False
    return True


def same_desc(want: dict[str, Any], got: dict[str, Any], path: str = "value") -> str:
    """'' when the two neutral descriptions stand for the same value, else where and how
    they differ. Maps compare without regard to entry order (a language's map type may
    not keep it); everything else compares exactly, floats by their bits."""
    if want["type"] != got["type"]:
        return f"{path}: expected {want['type']}, got {got['type']} ({_short(got)})"
    kind = want["type"]
    if kind == "float":
        return (
            ""
            if _same_float(want, got)
            else f"{path}: expected {want['value']}, got {got['value']}"
        )
    if kind in ("array", "tuple"):
        wi, gi = want["items"], got["items"]
        if len(wi) != len(gi):
            return f"{path}: expected {len(wi)} items, got {len(gi)}"
        for i, (w, g) in enumerate(zip(wi, gi, strict=False)):
            diff = same_desc(w, g, f"{path}[{i}]")
            if diff:
                return diff
        return ""
    if kind == "map":
        we, ge = list(want["entries"]), list(got["entries"])
        if len(we) != len(ge):
            return f"{path}: expected {len(we)} entries, got {len(ge)}"
        for wk, wv in we:
            match = next((i for i, (gk, _) in enumerate(ge) if not same_desc(wk, gk)), None)
            if match is None:
                return f"{path}: key {_short(wk)} missing"
            diff = same_desc(wv, ge.pop(match)[1], f"{path}[{_short(wk)}]")
            if diff:
                return diff
        return ""
    if kind == "tensor":
        for key in ("dtype", "shape"):
            if want[key] != got[key]:
                return f"{path}: tensor {key} {got[key]}, expected {want[key]}"
        return "" if _same_scalar_list(want["data"], got["data"]) else f"{path}: tensor data differ"
    if kind == "arrow":
        if want["kind"] != got["kind"]:
            return f"{path}: expected Arrow {want['kind']}, got {got['kind']}"
        if want["kind"] == "array":
            same = want["arrow_type"] == got["arrow_type"] and _same_scalar_list(
                want["values"], got["values"]
            )
            return "" if same else f"{path}: Arrow array differs"
        if want["kind"] == "chunked_array":
            same = (
                want["arrow_type"] == got["arrow_type"]
                and len(want["chunks"]) == len(got["chunks"])
                and all(map(_same_scalar_list, want["chunks"], got["chunks"]))
            )
            return "" if same else f"{path}: Arrow chunked array differs"
        if want["schema"] != got["schema"]:
            return f"{path}: Arrow schema {got['schema']}, expected {want['schema']}"
        for w, g, f in zip(want["columns"], got["columns"], want["schema"], strict=False):
            if not _same_scalar_list(w, g):
                return f"{path}: Arrow column {f['name']!r} differs"
        return ""
    if kind == "error":
        for key in ("type_name", "message", "language"):
            if want[key] != got[key]:
                return f"{path}: error {key} {got[key]!r}, expected {want[key]!r}"
        return ""
    return "" if want == got else f"{path}: expected {_short(want)}, got {_short(got)}"


def _short(desc: dict[str, Any]) -> str:
    text = repr(desc)
    return text if len(text) < 120 else text[:117] + "..."


def describe(value: Any) -> dict[str, Any]:
    try:
        return to_neutral(value)
    except Exception as e:  # noqa: BLE001 - e.g. an Arrow type without a neutral name
        return {"type": "undescribable", "python_type": type(value).__name__, "error": str(e)}


def value_verdict(expected: Any, got: Any) -> Verdict:
    diff = same_desc(describe(build_literal(expected)), describe(got))
    return PASS if not diff else _fail(diff)


# ---- errors -------------------------------------------------------------------------


def _pattern(spec: Any, callee: str, caps: dict[str, Any]) -> str | None:
    spec = _by_callee(spec, callee)
    if spec is None:
        return None
    text = str(spec)
    text = text.replace("$error_type", re.escape(str(caps.get("error_type", ""))))
    return text.replace("$callee", callee)


def error_verdict(
    expected: dict[str, Any], outcome: dict[str, Any], callee: str, caps: dict[str, Any]
) -> Verdict:
    if outcome.get("ok"):
        got = outcome.get("value", outcome.get("results"))
        return _fail(f"expected an error, got a result: {_short(describe(got))}")
    error = outcome.get("error") or {}
    for key in ("kind", "type", "language", "message"):
        pattern = _pattern(expected.get(key), callee, caps)
        if pattern is None:
            continue
        actual = str(error.get(key, ""))
        hit = (
            actual == pattern
            if key == "kind"
            else re.search(pattern, actual, re.IGNORECASE | re.DOTALL) is not None
        )
        if not hit:
            return _fail(f"error {key}: expected /{pattern}/, got {actual[:300]!r}")
    return PASS


# ---- cases --------------------------------------------------------------------------


def _one(
    expect: dict[str, Any], outcome: dict[str, Any], callee: str, caps: dict[str, Any]
) -> Verdict:
    if "error" in expect:
        return error_verdict(expect["error"], outcome, callee, caps)
    if not outcome.get("ok"):
        err = outcome.get("error") or {}
        return _fail(
            f"failed: {err.get('kind')} {err.get('type')}: {str(err.get('message', ''))[:400]}"
        )
    if "value" in expect:
        return value_verdict(_by_callee(expect["value"], callee), outcome.get("value"))
    return _fail(f"expectation has neither value nor error: {expect}")


def verdict(case: Case, outcome: dict[str, Any], callee: str, caps: dict[str, Any]) -> Verdict:
    """Does `outcome` (what the caller's run returned) meet the case for this callee?"""
    expect = _by_callee(case.expect, callee)
    if not isinstance(expect, dict):
        return _fail(f"no expectation for callee {callee}")
    if "values" not in expect:
        return _one(expect, outcome, callee, caps)
    if not outcome.get("ok"):
        return _one({"value": None}, outcome, callee, caps)
    results = outcome.get("results")
    wants = expect["values"]
    if not isinstance(results, list) or len(results) != len(wants):
        return _fail(f"expected {len(wants)} results, got {results!r:.300}")
    for i, (want, result) in enumerate(zip(wants, results, strict=False)):
        want = _by_callee(want, callee)
        sub = want if isinstance(want, dict) and "error" in want else {"value": want}
        v = _one(sub, result, callee, caps)
        if not v.passed:
            return _fail(f"call {i}: {v.detail}")
    return PASS


def _has_tuple(desc: Any) -> bool:
    if isinstance(desc, dict):
        return desc.get("type") == "tuple" or any(_has_tuple(v) for v in desc.values())
    return isinstance(desc, list) and any(_has_tuple(v) for v in desc)


def tuples_as_arrays(desc: dict[str, Any], key: bool = False) -> dict[str, Any]:
    """A value as it comes back from a language that reads tuples as arrays, decoded by
    Python: tuples become arrays, except in map keys, which Python reads as tuples."""
    kind = desc["type"]
    if kind in ("array", "tuple"):
        items = [tuples_as_arrays(d, key) for d in desc["items"]]
        return {"type": "tuple" if key else "array", "items": items}
    if kind == "map":
        return {
            "type": "map",
            "entries": [
                [tuples_as_arrays(k, True), tuples_as_arrays(v)] for k, v in desc["entries"]
            ],
        }
    return desc


def golden_verdict(case: Case, outcome: dict[str, Any], caps: dict[str, Any]) -> Verdict:
    """A golden vector decoded and re-encoded by one language's codec."""
    golden = case.golden or {}
    check = golden["check"]
    got = outcome.get("value")
    if check == "reject" or (check == "refuse" and not caps.get("python_only_values")):
        if outcome.get("ok"):
            return _fail(f"expected the codec to {check} it, it gave {got!r:.80}")
        message = str((outcome.get("error") or {}).get("message", ""))
        if check == "refuse" and golden["refuse_type"] not in message:
            return _fail(f"refusal does not name {golden['refuse_type']!r}: {message[:300]!r}")
        return PASS
    if not outcome.get("ok"):
        err = outcome.get("error") or {}
        return _fail(f"codec failed: {err.get('type')}: {str(err.get('message'))[:400]}")
    if not isinstance(got, bytes):
        return _fail(f"codec_roundtrip returned {type(got).__name__}, not bytes")
    want: dict[str, Any] = golden.get("value") or {}
    if not caps.get("tuples") and _has_tuple(want):
        # Only Python writes the Tuple ext; other codecs read it as an array and write
        # arrays back (docs/object-format.md, ext 7): the bytes differ by design.
        check, want = "decode", tuples_as_arrays(want)
    if check in ("bytes", "refuse"):
        if got.hex() == golden["hex"]:
            return PASS
        return _fail(f"bytes differ: expected {golden['hex'][:160]}, got {got.hex()[:160]}")
    try:
        decoded = deserialize(got)
    except Exception as e:  # noqa: BLE001
        return _fail(f"its bytes do not decode in Python: {e}")
    diff = same_desc(want, describe(decoded))
    return PASS if not diff else _fail(diff)
