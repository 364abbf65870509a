"""Formatting for bench/crosslang.py: summaries of the raw rows, the progress lines, the
terminal/Markdown tables and the JSON it writes."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from typing import Any

NOISY_CORES = 0.2  # rows timed while other processes used more than this get a †


def summarize(row: dict[str, Any]) -> dict[str, Any]:
    """Adds mean/std (async) or p50/p99/rate (sync) to a row."""
    out = dict(row)
    if row.get("rates"):
        rs = row["rates"]
        out["mean"] = statistics.fmean(rs)
        out["std"] = statistics.pstdev(rs) if len(rs) > 1 else 0.0
    if row.get("us"):
        us = sorted(row["us"])
        out["p50_us"] = us[len(us) // 2]
        out["p99_us"] = us[max(0, math.ceil(0.99 * len(us)) - 1)]
        out["mean"] = len(us) / (sum(us) / 1e6)  # calls/s made one at a time
    return out


def line_for(r: dict[str, Any]) -> str:
    name = f"{r.get('system', '')} {r['direction']} {r['call']} {r['mode']}".strip()
    if r.get("error"):
        return f"{name}: ERROR {r['error'][:300]}"
    noise = f" (other processes: {r.get('foreign_cores', 0):.2f} cores)"
    if r["mode"] == "async":
        return f"{name}: {r['mean']:.0f} ± {r['std']:.0f} calls/s{noise}"
    return (
        f"{name}: p50 {r['p50_us']:.0f} us, p99 {r['p99_us']:.0f} us, "
        f"{r['mean']:.0f} calls/s{noise}"
    )


def where(row: dict[str, Any]) -> str:
    """The mapping that held the column, with this run's session and ids left out."""
    path = str(row.get("mapping", "?"))
    if path in ("", "[heap]"):
        return f"anonymous memory ({path or 'mmap'})"
    if path.startswith("/dev/shm/plait-"):
        own = (
            " (the object's own file)"
            if row.get("object_id") and path.endswith(row["object_id"])
            else ""
        )
        return "/dev/shm/plait-SESSION/NODE/OBJECT" + own
    if path.startswith("/dev/shm/plasma"):
        return "/dev/shm/plasmaXXXX (deleted): Ray's plasma arena"
    return path


def arrow_verdict(row: dict[str, Any]) -> str:
    """'no' when the callee read the store's pages in place, 'yes' when it made a copy."""
    if row.get("error") or "mapping" not in row:
        return "?"
    size_kb = row["table_bytes"] / 1024
    in_file = row["mapping"] not in ("", "?", "[heap]")
    anon_grew = row["anon_delta_kb"] > 0.5 * size_kb
    if in_file and not anon_grew:
        return "no"
    if anon_grew or not in_file:
        return "yes"
    return "?"


def arrow_line(r: dict[str, Any]) -> str:
    name = f"{r.get('system', '')} Arrow {r['table_bytes'] / 1e6:.0f} MB → {r['callee']}"
    if r.get("error"):
        return f"{name.strip()}: ERROR {r['error'][:300]}"
    first, rest = r["calls"][0], r["calls"][1:]
    mean = statistics.median(c["ms"] for c in rest) if rest else first["ms"]
    kern = statistics.median(c["kernel_ms"] for c in rest) if rest else first["kernel_ms"]
    return (
        f"{name.strip()}: put {r['put_ms']:.0f} ms, first call {first['ms']:.0f} ms, "
        f"next calls {mean:.1f} ms (sum in callee {kern:.1f} ms); column in "
        f"{where(r)}; callee RssAnon {r['anon_delta_kb'] / 1024:+.1f}"
        f" MiB, RssShmem {r['shmem_delta_kb'] / 1024:+.1f} MiB; copied: {arrow_verdict(r)}"
    )


def _cell(r: dict[str, Any] | None, text: Callable[[dict[str, Any]], str]) -> str:
    """A table cell: '-' without a row, 'error', or the text with † for a noisy row."""
    if r is None:
        return "-"
    if r.get("error"):
        return "error"
    mark = " †" if r.get("foreign_cores", 0.0) > NOISY_CORES else ""
    return text(r) + mark


def _fmt_rate(r: dict[str, Any] | None) -> str:
    return _cell(r, lambda r: f"{r['mean']:.0f} ± {r['std']:.0f}")


def _fmt_lat(r: dict[str, Any] | None) -> str:
    return _cell(r, lambda r: f"{r['p50_us']:.0f} / {r['p99_us']:.0f}")


def _print(
    head: list[str], body: list[list[str]], markdown: bool, left: tuple[int, ...] = (0, 1)
) -> None:
    """A table; the columns in `left` are text (left-aligned), the others numbers."""
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if i in left else "---:" for i in range(len(head))) + "|")
        for cells in body:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    for cells in [head, *body]:
        print(
            "  ".join(
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=False))
            )
        )


def brief(r: dict[str, Any] | None) -> dict[str, Any] | None:
    """A summarized row without its raw per-call numbers (those stay in "parts")."""
    return None if r is None else {k: v for k, v in r.items() if k not in ("us", "rates")}


def calls_table(
    plait_rows: list[dict[str, Any]], ray_rows: list[dict[str, Any]], markdown: bool
) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        return (r["direction"], r["call"], r["mode"])

    p = {key(r): summarize(r) for r in plait_rows}
    y = {key(r): summarize(r) for r in ray_rows}
    order = ["Python→Python", "Python→C++", "Python→Java", "Java→Python"]
    head = [
        "direction",
        "call",
        "plait async calls/s",
        "plait sync p50 / p99 µs",
        "plait sync calls/s",
        "vs Python→Python (async)",
        "Ray async calls/s",
        "Ray sync p50 / p99 µs",
        "plait/Ray (async)",
    ]
    body, out = [], []
    for d in order:
        for call in ("task", "actor"):
            pa, ps = p.get((d, call, "async")), p.get((d, call, "sync"))
            ya, ys = y.get((d, call, "async")), y.get((d, call, "sync"))
            if pa is None and ya is None:
                continue
            base = p.get(("Python→Python", call, "async"))
            vs = (
                pa["mean"] / base["mean"]
                if pa and base and pa.get("mean") and base.get("mean")
                else None
            )
            ratio = (
                pa["mean"] / ya["mean"] if pa and ya and pa.get("mean") and ya.get("mean") else None
            )
            body.append(
                [
                    d,
                    call,
                    _fmt_rate(pa),
                    _fmt_lat(ps),
                    "-" if not ps or ps.get("error") else f"{ps['mean']:.0f}",
                    "-" if vs is None else f"{vs:.2f}",
                    _fmt_rate(ya),
                    _fmt_lat(ys),
                    "-" if ratio is None else f"{ratio:.2f}",
                ]
            )
            out.append(
                {
                    "direction": d,
                    "call": call,
                    "plait_async": brief(pa),
                    "plait_sync": brief(ps),
                    "ray_async": brief(ya),
                    "ray_sync": brief(ys),
                    "vs_python": vs,
                    "plait_over_ray": ratio,
                }
            )
    _print(head, body, markdown)
    return out


def arrow_table(rows: list[dict[str, Any]], markdown: bool) -> None:
    head = [
        "system",
        "table → callee",
        "put ms",
        "first call ms",
        "next calls ms",
        "sum in callee ms",
        "column buffer lies in",
        "callee RssAnon Δ MiB",
        "callee RssShmem Δ MiB",
        "copied",
    ]
    body = []
    for r in rows:
        name = f"{r['table_bytes'] / 1e6:.0f} MB → {r['callee']}"
        if r.get("error"):
            body.append([r["system"], name, "error"] + ["-"] * (len(head) - 3))
            continue
        first, rest = r["calls"][0], r["calls"][1:] or r["calls"][:1]
        mark = " †" if r.get("foreign_cores", 0.0) > NOISY_CORES else ""
        body.append(
            [
                r["system"],
                name,
                f"{r['put_ms']:.0f}",
                f"{first['ms']:.0f}",
                f"{statistics.median(c['ms'] for c in rest):.1f}{mark}",
                f"{statistics.median(c['kernel_ms'] for c in rest):.1f}",
                where(r),
                f"{r['anon_delta_kb'] / 1024:+.1f}",
                f"{r['shmem_delta_kb'] / 1024:+.1f}",
                arrow_verdict(r),
            ]
        )
    _print(head, body, markdown, left=(0, 1, 6, 9))


def compact_json(result: dict[str, Any]) -> str:
    """The results as JSON, one top-level key a line, per-call times rounded to 0.1 µs."""

    def rounded(x: Any) -> Any:
        if isinstance(x, float):
            return round(x, 1)
        if isinstance(x, list):
            return [rounded(v) for v in x]
        if isinstance(x, dict):
            return {k: rounded(v) if k in ("us", "rates") else v for k, v in x.items()}
        return x

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: rounded(v) if k in ("us", "rates") else walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    lines = [
        f" {json.dumps(k)}: {json.dumps(walk(v), ensure_ascii=False)}" for k, v in result.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"
