"""CPU accounting from /proc (Linux only): our process tree, and the whole machine.

Both systems under test start their processes (GCS, raylet, workers) below the driver,
so the driver's process tree is the whole system under test: bench/profile_row.py splits
its CPU time by process role, and bench/_workloads.py measures how much CPU everything
else on the machine took while a row was timed (a shared 2-core machine is noisy).
"""

from __future__ import annotations

import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, user CPU s, system CPU s) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def tree_times(root: int | None = None) -> dict[int, tuple[float, float]]:
    """pid -> (user, system) CPU seconds, for root (default: this process) and all its
    descendants."""
    root = os.getpid() if root is None else root
    parent: dict[int, int] = {}
    times: dict[int, tuple[float, float]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for d in entries:
        if d.isdigit():
            st = _stat(int(d))
            if st is not None:
                parent[int(d)] = st[0]
                times[int(d)] = (st[1], st[2])
    out: dict[int, tuple[float, float]] = {}
    for pid in times:
        p = pid
        while p not in (0, 1, root) and p in parent:
            p = parent[p]
        if p == root:
            out[pid] = times[pid]
    return out


def tree_cpu(root: int | None = None) -> dict[int, float]:
    """pid -> CPU seconds (user + system), for root and all its descendants."""
    return {pid: u + s for pid, (u, s) in tree_times(root).items()}


def busy_cores(window_s: float, machine: bool = False) -> float:
    """Average cores used over the next window_s seconds: by this process tree, or (with
    machine=True) by every process on the machine."""
    if machine:
        b0 = system_busy()
        time.sleep(window_s)
        return max(0.0, system_busy() - b0) / window_s
    before = tree_cpu()
    time.sleep(window_s)
    after = tree_cpu()
    used = sum(c - before.get(pid, 0.0) for pid, c in after.items())
    return max(0.0, used) / window_s


def wait_quiet(max_s: float = 10.0, threshold: float = 0.15, window_s: float = 0.25) -> float:
    """Wait (at most max_s) until the whole machine uses under `threshold` cores; the
    time waited.

    Our own system settles (killed actors exit, objects are freed) and other users of
    the machine may be busy: on 2 cores either would be charged to the next row. Ray's
    own timeit sleeps 10 s for the same reason; this waits only as long as needed."""
    start = time.perf_counter()
    if not os.path.isfile("/proc/stat"):
        return 0.0
    while time.perf_counter() - start < max_s:
        if busy_cores(window_s, machine=True) < threshold:
            break
    return time.perf_counter() - start


def system_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores, all processes)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK  # user..steal; guest is inside user


class ForeignLoad:
    """How many cores processes outside our tree used while a block ran: other users of
    the machine, whose load makes a row's numbers lower than the system deserves."""

    def __enter__(self) -> ForeignLoad:
        self._t = time.perf_counter()
        self._sys = system_busy()
        self._tree = sum(tree_cpu().values())
        self.cores = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        took = time.perf_counter() - self._t
        sys_d = system_busy() - self._sys
        tree_d = sum(tree_cpu().values()) - self._tree
        self.cores = max(0.0, sys_d - tree_d) / took if took > 0 else 0.0
