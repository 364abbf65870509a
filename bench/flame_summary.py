"""Summarise a py-spy raw profile of a plait run: samples per process, hottest functions.

    python bench/flame_summary.py out.txt [--top 25] [--process SUBSTR]

Reads py-spy's collapsed-stack output (`py-spy record -f raw --subprocesses`), names each
process by its role (driver, gcs, raylet, worker PID) and prints, per process, the share
of samples and the functions with the most self and total (inclusive) samples.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict

_PROC = re.compile(r'^process (\d+):"(.*)"$')


def role(desc: str, pid: str) -> str:
    if "plait._services.raylet" in desc:
        return f"raylet {pid}"
    if "plait._services.gcs" in desc:
        return f"gcs {pid}"
    if "plait._worker_main" in desc:
        return f"worker {pid}"
    return f"driver {pid}"


def short(frame: str) -> str:
    """'fn (path/to/module.py:123)' -> 'fn (module.py:123)'."""
    m = re.match(r"^(.*) \((.*):(\d+)\)$", frame)
    if not m:
        return frame
    fn, path, line = m.groups()
    p = path.split("/site-packages/")[-1].split("/python/plait/")[-1]
    p = p.split("/lib/python3.11/")[-1]
    return f"{fn} ({p}:{line})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--process", default="", help="only processes whose role has this")
    ap.add_argument("--lines", action="store_true", help="keep line numbers in names")
    ns = ap.parse_args(argv)

    per_proc: Counter[str] = Counter()
    self_s: dict[str, Counter[str]] = defaultdict(Counter)
    total_s: dict[str, Counter[str]] = defaultdict(Counter)
    for line in open(ns.raw, errors="replace"):
        stack, _, num = line.rstrip("\n").rpartition(" ")
        if not num.isdigit():
            continue
        count = int(num)
        frames = stack.split(";")
        proc = "?"
        rest = frames
        m = _PROC.match(frames[0]) if frames else None
        if m:
            # Nested processes come first: the innermost "process" frame is ours.
            i = 0
            while i < len(frames) and _PROC.match(frames[i]):
                pm = _PROC.match(frames[i])
                assert pm is not None
                proc = role(pm.group(2), pm.group(1))
                i += 1
            rest = frames[i:]
        # Thread frames ("thread (0x...)") are kept out of function names.
        rest = [f for f in rest if not f.startswith("thread (")]
        if not ns.lines:
            rest = [re.sub(r":\d+\)$", ")", short(f)) for f in rest]
        else:
            rest = [short(f) for f in rest]
        per_proc[proc] += count
        if rest:
            self_s[proc][rest[-1]] += count
        for f in set(rest):
            total_s[proc][f] += count

    grand = sum(per_proc.values()) or 1
    print(f"{grand} samples")
    for proc, samples in per_proc.most_common():
        if ns.process and ns.process not in proc:
            continue
        print(f"\n=== {proc}: {samples} samples ({100 * samples / grand:.1f}%)")
        print("  self:")
        for f, c in self_s[proc].most_common(ns.top):
            print(f"    {100 * c / samples:5.1f}%  {f}")
        print("  total:")
        for f, c in total_s[proc].most_common(ns.top):
            print(f"    {100 * c / samples:5.1f}%  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
