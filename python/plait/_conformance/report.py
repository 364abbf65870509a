"""The conformance report: a caller x callee matrix per group on the terminal, an HTML
page and JUnit XML."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from plait._conformance.runner import CODEC, Result, Run

STATUSES = ("passed", "failed", "xpass", "xfail", "skipped")
CORNER = "caller \\ callee"


def _groups(run: Run) -> dict[str, list[Result]]:
    by: dict[str, list[Result]] = defaultdict(list)
    for r in run.results:
        by[r.case.group].append(r)
    return dict(by)


def _cell(results: list[Result]) -> str:
    if not results:
        return "-"
    counted = [r for r in results if r.status != "skipped"]
    good = sum(1 for r in counted if r.status in ("passed", "xfail"))
    text = f"{sum(1 for r in counted if r.status == 'passed')}/{len(counted)}"
    extra = []
    xfail = sum(1 for r in results if r.status == "xfail")
    skipped = len(results) - len(counted)
    if xfail:
        extra.append(f"{xfail}k")
    if skipped:
        extra.append(f"{skipped}s")
    if good < len(counted):
        text = "!" + text
    return text + (f" ({','.join(extra)})" if extra else "")


def _callers(run: Run, results: list[Result]) -> list[str]:
    return [CODEC] if results and results[0].caller == CODEC else run.languages


def summary_line(run: Run) -> str:
    failed = run.count("failed") + run.count("xpass")
    return f"{run.count('passed')} passed, {failed} failed, {run.count('skipped')} skipped"


def tier_lines(run: Run) -> list[str]:
    """Per tier: how many cases, and how many ran on every pair without a failure."""
    lines = []
    for tier in ("required", "recommended"):
        results = [r for r in run.results if r.case.tier == tier]
        if not results:
            continue
        ids = {r.case.id for r in results}
        bad = {r.case.id for r in results if r.status in ("failed", "xpass", "xfail")}
        lines.append(
            f"{tier}: {len(ids) - len(bad)} of {len(ids)} cases pass on every pair"
            + (f" ({len(bad)} with failures or known failures)" if bad else "")
        )
    lines.append(f"known failures: {run.count('xfail')} (conformance-tests/known_failures/)")
    return lines


def terminal(run: Run) -> str:
    lines = []
    n_cases = len({r.case.id for r in run.results})
    lines.append(
        f"plait conformance: {n_cases} cases, languages {', '.join(run.languages)}, "
        f"{run.seconds:.0f}s"
    )
    lines.append(
        "cells: passed/run for caller (row) x callee (column); "
        "!: failures, k: known failures, s: skipped"
    )
    for group, results in _groups(run).items():
        n = len({r.case.id for r in results})
        lines.append("")
        lines.append(f"{group} ({n} cases)")
        header = f"  {CORNER:<16}" + "".join(f"{c:>18}" for c in run.languages)
        lines.append(header)
        for caller in _callers(run, results):
            row = f"  {caller:<16}"
            for callee in run.languages:
                row += f"{_cell([r for r in results if r.caller == caller and r.callee == callee]):>18}"
            lines.append(row)
    bad = [r for r in run.results if r.status in ("failed", "xpass")]
    if bad:
        lines.append("")
        lines.append("failures:")
        for r in bad:
            lines.append(f"  {r.case.id} [{r.caller}->{r.callee}] ({r.case.tier}): {r.detail}")
    for k in run.unused_known:
        lines.append(
            f"stale known failure ({k.source}): {k.pattern} {k.caller}->{k.callee} "
            "matched no case: remove the line"
        )
    lines.append("")
    lines.extend(tier_lines(run))
    lines.append(summary_line(run))
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:center}
td.l,th.l{text-align:left}
.passed{background:#d9f2d9}.failed,.xpass{background:#f6c6c6}.xfail{background:#fbe7b8}
.skipped{background:#eee;color:#666}.mixed{background:#fbe7b8}
details{margin:.3em 0}summary{cursor:pointer}code{font-size:.9em}
"""


def _cell_class(results: list[Result]) -> str:
    statuses = {r.status for r in results}
    if not results:
        return ""
    if statuses & {"failed", "xpass"}:
        return "failed"
    if statuses <= {"skipped"}:
        return "skipped"
    if statuses <= {"passed", "skipped"}:
        return "passed"
    return "mixed"


def write_html(run: Run, path: Path) -> None:
    e = html.escape
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>plait conformance"
        f"</title><style>{_CSS}</style></head><body>",
        "<h1>plait cross-language conformance</h1>",
        f"<p><b>{e(summary_line(run))}</b> &mdash; languages {e(', '.join(run.languages))}, "
        f"{run.seconds:.0f}s. Cells: passed/run for the caller (row) calling the callee "
        "(column); known failures and skips in brackets.</p>",
        "<ul>" + "".join(f"<li>{e(line)}</li>" for line in tier_lines(run)) + "</ul>",
    ]
    out.append(
        "<h2>Capabilities</h2><table><tr><th class=l>language</th><th class=l>"
        "capabilities</th></tr>"
    )
    for lang, caps in run.capabilities.items():
        out.append(
            f"<tr><td class=l>{e(lang)}</td><td class=l><code>{e(str(caps))}</code></td></tr>"
        )
    out.append("</table>")
    for group, results in _groups(run).items():
        n = len({r.case.id for r in results})
        out.append(f"<h2>{e(group)} ({n} cases)</h2><table><tr><th>caller \\ callee</th>")
        out += [f"<th>{e(c)}</th>" for c in run.languages] + ["</tr>"]
        for caller in _callers(run, results):
            out.append(f"<tr><th>{e(caller)}</th>")
            for callee in run.languages:
                cell = [r for r in results if r.caller == caller and r.callee == callee]
                out.append(f"<td class='{_cell_class(cell)}'>{e(_cell(cell))}</td>")
            out.append("</tr>")
        out.append("</table>")
        by_case: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            by_case[r.case.name].append(r)
        out.append(
            "<details><summary>cases</summary><table><tr><th class=l>case</th>"
            "<th>tier</th><th class=l>results</th></tr>"
        )
        for name, rs in by_case.items():
            case = rs[0].case
            cells = " ".join(
                f"<span class='{r.status}' title='{e(r.detail)}'>{e(r.caller)}&rarr;"
                f"{e(r.callee)}: {r.status}</span>"
                for r in rs
            )
            out.append(
                f"<tr><td class=l><b>{e(name)}</b><br><small>{e(case.description)}"
                f"</small></td><td>{e(case.tier)}</td><td class=l>{cells}</td></tr>"
            )
        out.append("</table></details>")
    notable = [r for r in run.results if r.status != "passed"]
    if notable:
        out.append(
            "<h2>Not passed</h2><table><tr><th class=l>case</th><th>pair</th>"
            "<th>status</th><th class=l>detail</th></tr>"
        )
        for r in notable:
            out.append(
                f"<tr class='{r.status}'><td class=l>{e(r.case.id)}</td><td>"
                f"{e(r.caller)}&rarr;{e(r.callee)}</td><td>{r.status}</td>"
                f"<td class=l><code>{e(r.detail)}</code></td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    path.write_text("\n".join(out))


def write_junit(run: Run, path: Path) -> None:
    suites = ET.Element(
        "testsuites",
        name="plait-conformance",
        tests=str(len(run.results)),
        failures=str(run.count("failed") + run.count("xpass")),
        skipped=str(run.count("skipped") + run.count("xfail")),
        time=f"{run.seconds:.1f}",
    )
    for group, results in _groups(run).items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=group,
            tests=str(len(results)),
            failures=str(sum(r.status in ("failed", "xpass") for r in results)),
            skipped=str(sum(r.status in ("skipped", "xfail") for r in results)),
        )
        for r in results:
            tc = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{group}",
                name=f"{r.case.name}[{r.caller}->{r.callee}]",
                time=f"{r.seconds:.3f}",
            )
            if r.status in ("failed", "xpass"):
                ET.SubElement(tc, "failure", message=r.detail[:500]).text = r.detail
            elif r.status in ("skipped", "xfail"):
                ET.SubElement(tc, "skipped", message=f"{r.status}: {r.detail[:500]}")
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
