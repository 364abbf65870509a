"""The conformance runner's own logic, without a cluster: reading cases, building values,
judging outcomes, known failures. (The suite itself runs with `plait conformance`.)"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from plait_fixtures import ROOT

from plait._conformance.cases import (
    Case,
    CaseError,
    Golden,
    build_literal,
    build_op,
    golden_cases,
    load_cases,
    set_golden,
)
from plait._conformance.expect import Verdict, golden_verdict, verdict
from plait._conformance.runner import _classify, load_known_failures

SUITE = ROOT / "conformance-tests"
CAPS = {
    "language": "java",
    "error_type": "java.lang.IllegalStateException",
    "python_only_values": False,
}


@pytest.fixture(autouse=True)
def golden() -> Golden:
    g = Golden(SUITE / "golden" / "values.json")
    set_golden(g)
    return g


def case(expect: dict, op: dict | None = None) -> Case:
    return Case(
        group="g",
        name="c",
        description="",
        tier="required",
        op=op or {"op": "call", "function": "echo", "args": []},
        expect=expect,
    )


def test_committed_cases_load_and_build(golden: Golden) -> None:
    cases = load_cases(SUITE / "cases") + golden_cases(golden)
    assert len(cases) >= 150
    for c in cases:
        if c.group != "golden":
            op = build_op(c.op, "python-java")  # every golden name and generator resolves
            assert op["op"] in ("call", "actor"), c.id
        assert c.description, f"{c.id} has no description"


def test_bad_case_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"cases": [{"name": "x", "op": {}}]}))
    with pytest.raises(CaseError, match="a.json case 0 .x.: a case needs 'expect'"):
        load_cases(tmp_path)
    (tmp_path / "a.json").write_text(
        json.dumps({"cases": [{"name": "x", "op": {}, "expect": {}, "tier": "optional"}]})
    )
    with pytest.raises(CaseError, match="tier must be one of"):
        load_cases(tmp_path)
    (tmp_path / "a.json").write_text(
        json.dumps({"cases": [{"name": "x", "op": {}, "expect": {}}] * 2})
    )
    with pytest.raises(CaseError, match="defined twice"):
        load_cases(tmp_path)


def test_values_from_descriptions() -> None:
    assert build_literal({"golden": "int_int64_min"}) == -(2**63)
    assert build_literal([1, "a", None, {"type": "bin", "hex": "00ff"}]) == [
        1,
        "a",
        None,
        b"\x00\xff",
    ]
    assert build_literal({"gen": "nested_list", "depth": 3}) == [[[1]]]
    assert build_literal({"gen": "bytes", "size": 300})[250:253] == b"\xfa\x00\x01"
    assert build_literal({"gen": "table", "rows": 4}).num_rows == 4
    with pytest.raises(CaseError, match="no golden value named 'nope'"):
        build_literal({"golden": "nope"})
    op = build_op(
        {
            "op": "actor",
            "name": "counter",
            "args": [1],
            "calls": [{"method": "add", "args": [{"golden": "int_0"}]}, {"kill": True}],
        },
        "cpp-java",
    )
    assert op["name"] == "counter-cpp-java"
    assert op["calls"] == [{"method": "add", "args": [0]}, {"kill": True}]


def test_value_verdicts() -> None:
    ok = {"ok": True}
    assert verdict(case({"value": 5}), {**ok, "value": 5}, "java", CAPS).passed
    v = verdict(case({"value": 5}), {**ok, "value": 6}, "java", CAPS)
    assert not v.passed and "expected {'type': 'int', 'value': '5'}" in v.detail
    assert not verdict(case({"value": 5}), {**ok, "value": 5.0}, "java", CAPS).passed
    assert not verdict(case({"value": True}), {**ok, "value": 1}, "java", CAPS).passed
    # maps compare without order; NaN equals NaN; a tuple is not a list
    m = {"type": "map", "entries": [["a", 1], ["b", 2]]}
    assert verdict(case({"value": m}), {**ok, "value": {"b": 2, "a": 1}}, "java", CAPS).passed
    assert verdict(
        case({"value": {"golden": "float_nan"}}), {**ok, "value": math.nan}, "java", CAPS
    ).passed
    assert not verdict(
        case({"value": {"golden": "tuple_pair"}}), {**ok, "value": [1, "a"]}, "java", CAPS
    ).passed
    # an expectation per callee
    per = case({"python": {"value": 1}, "default": {"value": 2}})
    assert verdict(per, {**ok, "value": 1}, "python", CAPS).passed
    assert verdict(per, {**ok, "value": 2}, "cpp", CAPS).passed
    failed = {"ok": False, "error": {"kind": "task", "type": "X", "message": "boom"}}
    assert "failed: task X: boom" in verdict(case({"value": 1}), failed, "java", CAPS).detail


def test_error_verdicts() -> None:
    err = {
        "ok": False,
        "error": {
            "kind": "task",
            "type": "java.lang.IllegalStateException",
            "language": "java",
            "message": "Boom in task",
        },
    }
    want = case(
        {"error": {"kind": "task", "type": "$error_type", "message": "boom", "language": "$callee"}}
    )
    assert verdict(want, err, "java", CAPS).passed
    assert not verdict(want, err, "cpp", CAPS).passed  # language must be cpp there
    assert not verdict(case({"error": {"kind": "timeout"}}), err, "java", CAPS).passed
    v = verdict(want, {"ok": True, "value": 1}, "java", CAPS)
    assert not v.passed and "expected an error" in v.detail


def test_actor_results_in_order() -> None:
    c = case({"values": [1, {"error": {"kind": "task"}}, 2]})
    good = {
        "ok": True,
        "results": [
            {"ok": True, "value": 1},
            {"ok": False, "error": {"kind": "task"}},
            {"ok": True, "value": 2},
        ],
    }
    assert verdict(c, good, "java", CAPS).passed
    swapped = {"ok": True, "results": [good["results"][i] for i in (2, 1, 0)]}
    assert "call 0" in verdict(c, swapped, "java", CAPS).detail
    assert not verdict(c, {"ok": True, "results": []}, "java", CAPS).passed


def test_golden_verdicts(golden: Golden) -> None:
    by_name = {c.name: c for c in golden_cases(golden)}
    nil = by_name["nil"]
    assert golden_verdict(nil, {"ok": True, "value": bytes.fromhex(nil.golden["hex"])}, CAPS).passed
    assert not golden_verdict(nil, {"ok": True, "value": b"PLAI"}, CAPS).passed
    refused = {"ok": False, "error": {"message": "cannot read builtins.set in Java"}}
    assert golden_verdict(by_name["python_set"], refused, CAPS).passed
    vague = {"ok": False, "error": {"message": "cannot read it"}}
    assert not golden_verdict(by_name["python_set"], vague, CAPS).passed
    # Python holds Python-only values: its codec must give the bytes back
    py = {**CAPS, "python_only_values": True}
    assert not golden_verdict(by_name["python_set"], refused, py).passed
    assert golden_verdict(by_name["reject_magic"], {"ok": False, "error": {}}, CAPS).passed
    assert not golden_verdict(by_name["reject_magic"], {"ok": True, "value": b""}, CAPS).passed


def test_golden_tuples_in_languages_without_them(golden: Golden) -> None:
    """Java and C++ read a Tuple ext as an array (object-format.md, ext 7): their bytes
    differ, and what they give back must be the value with tuples as arrays, except map
    keys, which Python reads as tuples."""
    from plait._format import serialize

    nested = {c.name: c for c in golden_cases(golden)}["tuple_nested"]
    as_java = {(1, 2): [[], "pair"]}  # keys stay tuples, values become lists
    outcome = {"ok": True, "value": serialize(as_java).to_bytes()}
    assert golden_verdict(nested, outcome, CAPS).passed
    assert not golden_verdict(nested, outcome, {**CAPS, "tuples": True}).passed
    kept = {"ok": True, "value": bytes.fromhex(nested.golden["hex"])}
    assert not golden_verdict(nested, kept, CAPS).passed  # tuples must not survive


def test_known_failures_expire(tmp_path: Path) -> None:
    (tmp_path / "java.txt").write_text("# comment\n\nerrors/*  python->java  # why\n")
    known = load_known_failures(tmp_path)
    c = Case(group="errors", name="x", description="", tier="required", op={}, expect={})
    used: set[int] = set()
    r = _classify(c, "python", "java", Verdict(False, "bad"), 0.0, known, used)
    assert r.status == "xfail" and used == {0}
    r = _classify(c, "python", "java", Verdict(True), 0.0, known, used)
    assert r.status == "xpass" and "remove the line" in r.detail
    assert _classify(c, "cpp", "java", Verdict(False, "bad"), 0.0, known, set()).status == "failed"
    (tmp_path / "java.txt").write_text("errors/x python->java\n")
    with pytest.raises(CaseError, match="java.txt:1: expected"):
        load_known_failures(tmp_path)


def test_chunked_array_verdicts() -> None:
    """A chunked array matches on its type and each chunk's values, chunk by chunk."""
    from plait._conformance.expect import same_desc

    def chunked(*chunks: list[int]) -> dict[str, object]:
        return {
            "type": "arrow",
            "kind": "chunked_array",
            "arrow_type": "int64",
            "chunks": list(chunks),
        }

    assert same_desc(chunked([1, 2], [3]), chunked([1, 2], [3])) == ""
    assert "chunked array differs" in same_desc(chunked([1, 2], [3]), chunked([1, 2, 3]))
    assert "chunked array differs" in same_desc(chunked([1, 2], [3]), chunked([1, 2], [4]))
