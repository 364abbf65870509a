"""Runs the conformance cases for every caller x callee pair on a real local cluster."""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plait
from plait import exceptions as exc
from plait._conformance.adapters import ADAPTERS
from plait._conformance.cases import (
    Case,
    CaseError,
    Golden,
    build_op,
    golden_cases,
    load_cases,
    set_golden,
)
from plait._conformance.expect import Verdict, golden_verdict, verdict

CODEC = "codec"  # the caller column of the golden group: the runner itself
SLACK_S = 60.0  # beyond an op's own timeout, before a caller counts as hung


@dataclass(frozen=True)
class KnownFailure:
    pattern: str  # case id, fnmatch wildcards allowed
    caller: str  # language, "codec" or "*"
    callee: str
    reason: str
    source: str  # file:line

    def matches(self, case_id: str, caller: str, callee: str) -> bool:
        return (
            fnmatch.fnmatchcase(case_id, self.pattern)
            and self.caller in ("*", caller)
            and self.callee in ("*", callee)
        )


_LINE = re.compile(
    r"^(?P<case>\S+)\s+(?P<caller>[\w*]+)->(?P<callee>[\w*]+)\s+#\s*(?P<reason>\S.*)$"
)


def load_known_failures(directory: Path) -> list[KnownFailure]:
    out = []
    for path in sorted(directory.glob("*.txt")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            m = _LINE.match(text)
            if m is None:
                raise CaseError(
                    f"{path.name}:{n}: expected 'group/case caller->callee  # reason', got {text!r}"
                )
            out.append(
                KnownFailure(m["case"], m["caller"], m["callee"], m["reason"], f"{path.name}:{n}")
            )
    return out


@dataclass
class Result:
    case: Case
    caller: str
    callee: str
    status: str  # passed | failed | skipped | xfail | xpass
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Run:
    languages: list[str]
    results: list[Result] = field(default_factory=list)
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    unused_known: list[KnownFailure] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and self.count("xpass") == 0


def _classify(
    case: Case,
    caller: str,
    callee: str,
    v: Verdict,
    seconds: float,
    known: list[KnownFailure],
    used: set[int],
) -> Result:
    hit = next((i for i, k in enumerate(known) if k.matches(case.id, caller, callee)), None)
    if hit is None:
        return Result(case, caller, callee, "passed" if v.passed else "failed", v.detail, seconds)
    used.add(hit)
    k = known[hit]
    if v.passed:
        return Result(
            case,
            caller,
            callee,
            "xpass",
            f"listed as a known failure ({k.source}: {k.reason}) but it passed; remove the line",
            seconds,
        )
    return Result(case, caller, callee, "xfail", f"{v.detail} [known: {k.reason}]", seconds)


def _missing(caps: dict[str, Any], wanted: Sequence[str]) -> list[str]:
    return [w for w in wanted if not caps.get(w)]


def _outcome_of(ref: Any, timeout: float) -> dict[str, Any]:
    """The caller adapter's outcome; a failure of the adapter task itself is an outcome
    too (kind 'adapter'), so one broken case cannot stop the run."""
    try:
        out = plait.get(ref, timeout=timeout)
    except exc.GetTimeoutError:
        plait.cancel(ref, force=True)
        return {
            "ok": False,
            "error": {
                "kind": "adapter",
                "type": "timeout",
                "language": "",
                "message": f"no answer in {timeout:.0f}s",
            },
        }
    except Exception as e:  # noqa: BLE001
        return {
            "ok": False,
            "error": {
                "kind": "adapter",
                "type": type(e).__name__,
                "language": "",
                "message": str(e)[:2000],
            },
        }
    if not isinstance(out, dict):
        return {
            "ok": False,
            "error": {
                "kind": "adapter",
                "type": "",
                "language": "",
                "message": f"run returned {type(out).__name__}",
            },
        }
    return out


def run_suite(
    suite: Path,
    build_dir: Path,
    languages: Sequence[str] = tuple(ADAPTERS),
    name_filter: str | None = None,
    address: str | None = None,
    progress: Callable[[str], None] = lambda s: None,
) -> Run:
    start = time.monotonic()
    golden = Golden(suite / "golden" / "values.json")
    set_golden(golden)
    cases = golden_cases(golden) + load_cases(suite / "cases")
    if name_filter:
        cases = [c for c in cases if name_filter in c.id]
    known = load_known_failures(suite / "known_failures")
    langs = [lang for lang in ADAPTERS if lang in languages]
    build_dir.mkdir(parents=True, exist_ok=True)
    code_path: list[str] = []
    for lang in langs:
        progress(f"building the {lang} adapter")
        code_path += ADAPTERS[lang].build(suite, build_dir)
    run = Run(languages=langs)
    used: set[int] = set()
    owns_cluster = not plait.is_initialized()
    if owns_cluster:
        plait.init(
            address=address,
            num_cpus=None if address else 2,
            namespace="conformance",
            code_search_path=code_path,
        )
    try:
        for lang in langs:
            caps = plait.get(ADAPTERS[lang].function("capabilities").remote(), timeout=180)
            run.capabilities[lang] = dict(caps)
        progress("capabilities: " + ", ".join(f"{k}={v}" for k, v in run.capabilities.items()))
        _run_golden(run, [c for c in cases if c.group == "golden"], known, used, progress)
        _run_pairs(run, [c for c in cases if c.group != "golden"], known, used, progress)
    finally:
        if owns_cluster:
            plait.shutdown()
    if not name_filter:
        # A line about a language left out of this run is not stale.
        run.unused_known = [
            k
            for i, k in enumerate(known)
            if i not in used and k.caller in (*langs, CODEC, "*") and k.callee in (*langs, "*")
        ]
    run.seconds = time.monotonic() - start
    return run


def _run_golden(
    run: Run,
    cases: list[Case],
    known: list[KnownFailure],
    used: set[int],
    progress: Callable[[str], None],
) -> None:
    for lang in run.languages:
        fn = ADAPTERS[lang].function("codec_roundtrip")
        t0 = time.monotonic()
        refs = [fn.remote(bytes.fromhex((c.golden or {})["hex"])) for c in cases]
        for case, ref in zip(cases, refs, strict=False):
            try:
                outcome: dict[str, Any] = {"ok": True, "value": plait.get(ref, timeout=120)}
            except exc.RayTaskError as e:
                outcome = {
                    "ok": False,
                    "error": {
                        "kind": "task",
                        "type": e.type_name,
                        "language": e.language,
                        "message": str(e),
                    },
                }
            except Exception as e:  # noqa: BLE001
                outcome = {
                    "ok": False,
                    "error": {
                        "kind": "other",
                        "type": type(e).__name__,
                        "language": "",
                        "message": str(e),
                    },
                }
            v = golden_verdict(case, outcome, run.capabilities[lang])
            run.results.append(_classify(case, CODEC, lang, v, 0.0, known, used))
        progress(
            f"golden vectors through the {lang} codec: {len(cases)} cases in "
            f"{time.monotonic() - t0:.1f}s"
        )


def _run_pairs(
    run: Run,
    cases: list[Case],
    known: list[KnownFailure],
    used: set[int],
    progress: Callable[[str], None],
) -> None:
    for caller in run.languages:
        run_fn = ADAPTERS[caller].caller()
        for callee in run.languages:
            t_pair = time.monotonic()
            for case in cases:
                if caller not in case.callers or callee not in case.callees:
                    continue
                why = _missing(run.capabilities[caller], case.requires_caller)
                why_callee = _missing(run.capabilities[callee], case.requires_callee)
                if why or why_callee:
                    detail = "; ".join(
                        [f"caller {caller} lacks {', '.join(why)}"] * bool(why)
                        + [f"callee {callee} lacks {', '.join(why_callee)}"] * bool(why_callee)
                    )
                    run.results.append(Result(case, caller, callee, "skipped", detail))
                    continue
                try:
                    op = build_op(case.op, f"{caller}-{callee}")
                except Exception as e:  # noqa: BLE001 - a broken case fails alone
                    run.results.append(
                        Result(case, caller, callee, "failed", f"bad case: {type(e).__name__}: {e}")
                    )
                    continue
                t0 = time.monotonic()
                outcome = _outcome_of(
                    run_fn.remote(callee, op), float(op.get("timeout_s", 60)) + SLACK_S
                )
                v = verdict(case, outcome, callee, run.capabilities[callee])
                run.results.append(
                    _classify(case, caller, callee, v, time.monotonic() - t0, known, used)
                )
            progress(f"{caller} -> {callee}: {time.monotonic() - t_pair:.1f}s")
