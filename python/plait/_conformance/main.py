"""`plait conformance`: run the suite, print the matrix, write report.html and report.xml."""

from __future__ import annotations

import sys
from pathlib import Path

from plait._conformance import report
from plait._conformance.adapters import ADAPTERS
from plait._conformance.cases import CaseError
from plait._conformance.runner import run_suite


def default_suite() -> Path | None:
    # An editable install runs from the checkout: python/plait/ -> the repository root.
    root = Path(__file__).resolve().parents[3]
    suite = root / "conformance-tests"
    return suite if (suite / "cases").is_dir() else None


def run_and_report(
    suite: str | None,
    name_filter: str | None,
    languages: list[str],
    report_dir: str | None,
    address: str | None,
) -> int:
    suite_dir = Path(suite) if suite else default_suite()
    if suite_dir is None or not (suite_dir / "cases").is_dir():
        print(
            "plait conformance: no conformance-tests directory found; pass --suite DIR",
            file=sys.stderr,
        )
        return 2
    unknown = [x for x in languages if x not in ADAPTERS]
    if unknown:
        print(f"plait conformance: unknown languages {unknown}", file=sys.stderr)
        return 2
    build_dir = suite_dir.parent / "build" / "conformance"

    def progress(text: str) -> None:
        print(f"conformance: {text}", flush=True)

    try:
        run = run_suite(suite_dir, build_dir, languages, name_filter, address, progress)
    except CaseError as e:
        print(f"plait conformance: bad case file: {e}", file=sys.stderr)
        return 2
    out_dir = Path(report_dir) if report_dir else suite_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    report.write_html(run, out_dir / "report.html")
    report.write_junit(run, out_dir / "report.xml")
    print(f"conformance: report in {out_dir / 'report.html'} (JUnit XML: {out_dir / 'report.xml'})")
    print(report.terminal(run))  # ends with the summary line
    return 0 if run.ok and not run.unused_known else 1
