"""Run one benchmark row for a while and say where the CPU time went, process by process.

    python bench/profile_row.py "1:1 actor calls async" [--seconds 5] [--system ray]

Prints the row's rate and, for the driver and every process it started (GCS, raylet,
workers), the CPU time (user + system, from /proc) spent per operation over the timed
window: on a 2-core machine the process whose CPU per op is highest bounds the rate.
Every plait process descends from this one, so a profiler can watch them all too:

    .venv-ray/bin/py-spy record --subprocesses --gil -r 100 -f raw -o out.txt -- \\
        .venv/bin/python bench/profile_row.py "1:1 actor calls async"
    .venv/bin/python bench/flame_summary.py out.txt

Run it under the interpreter that has the system (.venv for plait, .venv-ray for Ray).
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def role(pid: int, cmd: str) -> str:
    """A short name for a process of either system."""
    if pid == os.getpid():
        return "driver"
    for needle, name in (
        ("plait._services.raylet", "raylet"),
        ("plait._services.gcs", "gcs"),
        ("plait._worker_main", "worker"),
        ("gcs_server", "gcs"),
        ("/raylet", "raylet"),
        ("ray::", "worker"),
        ("default_worker.py", "worker"),
    ):
        if needle in cmd:
            return name
    first = cmd.split()[0:2]
    return "other: " + " ".join(os.path.basename(x) for x in first)[:40]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("row", help="a substring of the row's name")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--system", choices=["plait", "ray"], default="plait")
    ns = ap.parse_args()
    os.environ["PLAIT_BENCH_SYSTEM"] = ns.system
    sys.path[:0] = [HERE, os.path.join(HERE, "..", "python")]
    import _workloads as w  # after the path and system are set
    from _proc import cmdline, tree_times

    rows = [r for r in w._rows(w.SIZES) if ns.row in r.name]
    if not rows:
        print(f"no row matches {ns.row!r}", file=sys.stderr)
        return 2
    row = rows[0]
    # Never hang a profiling session: a stuck call ends the run with a traceback.
    import faulthandler

    faulthandler.dump_traceback_later(ns.seconds + 120, exit=True)
    kwargs = {"include_dashboard": False} if ns.system == "ray" else {}
    w.ray.init(num_cpus=2, **kwargs)
    try:
        fn, actors = row.setup()
        warm = time.perf_counter()
        while time.perf_counter() - warm < 1.0:
            fn()  # workers started, functions loaded, caches warm
        w.wait_quiet(max_s=5.0)
        before = tree_times()
        start = time.perf_counter()
        calls = 0
        while time.perf_counter() - start < ns.seconds:
            fn()
            calls += 1
        took = time.perf_counter() - start
        after = tree_times()
        ops = row.multiplier * calls
        print(f"{ns.system}: {row.name}: {ops / took:.1f} per second over {took:.1f} s")
        by_role: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for pid, (u, sy) in after.items():
            u0, s0 = before.get(pid, (0.0, 0.0))
            acc = by_role[role(pid, cmdline(pid))]
            acc[0] += u - u0
            acc[1] += sy - s0
        total = sum(u + sy for u, sy in by_role.values())
        print(
            f"  CPU: {total / took:.2f} cores busy on average; CPU per op (user + system = total):"
        )
        for r, (u, sy) in sorted(by_role.items(), key=lambda kv: -sum(kv[1])):
            if u + sy > 0:
                print(
                    f"    {r:24s} {1e6 * u / ops:9.1f} + {1e6 * sy / ops:9.1f} = "
                    f"{1e6 * (u + sy) / ops:9.1f} us/op  ({(u + sy) / took:.2f} cores)"
                )
        print(f"    {'all processes':24s} {'':25s} {1e6 * total / ops:9.1f} us/op")
        for a in actors:
            w.ray.kill(a)
    finally:
        w.ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
