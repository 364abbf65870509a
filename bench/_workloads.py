"""The workloads of `ray microbenchmark`, run against plait or Ray in this one process.

    python bench/_workloads.py --system plait|ray [--filter SUBSTR] [--json-out PATH]

bench/microbenchmark.py starts this script once per system, each under the interpreter
that has that system installed (plait's .venv, Ray's .venv-ray), so both sides run the
very same workload code: the module below binds the name `ray` to whichever system
--system selects, and every workload is written against the Ray API that plait copies.

The workloads and row names follow Ray's python/ray/_private/ray_perf.py (the script
behind `ray microbenchmark`); the sizes are scaled for a 2-core machine (see SIZES) and
the same sizes are used for both systems, so the ratio between them is meaningful even
where the absolute numbers are not comparable with Ray's published ones.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any

import numpy as np
from _proc import ForeignLoad, wait_quiet  # bench/ is on sys.path: the script's folder


def _system_from_argv(argv: list[str]) -> str:
    """--system must be known before the module body runs: the decorators below use it."""
    for i, a in enumerate(argv):
        if a == "--system" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--system="):
            return a.split("=", 1)[1]
    return "plait"


# Imported (by bench/profile_row.py) rather than run, the system comes from the env.
SYSTEM = (
    _system_from_argv(sys.argv)
    if __name__ == "__main__"
    else os.environ.get("PLAIT_BENCH_SYSTEM", "plait")
)
if SYSTEM not in ("plait", "ray"):
    raise SystemExit(f"--system must be 'plait' or 'ray', got {SYSTEM!r}")
ray: Any = importlib.import_module(SYSTEM)

# Ray sizes everything for a big machine (cpu_count()//2 actors, 10 000-call batches, an
# 800 MB array); these keep every single timed call well under a second on 2 cores.
N_CPU = 2  # Ray: multiprocessing.cpu_count() // 2 ("n" in the 1:n / n:n rows)


@dataclass(frozen=True)
class Sizes:
    put_large_elems: int = 10 * 1024 * 1024  # int64s per put: 80 MB (Ray: 800 MB)
    multi_put_tasks: int = 4  # Ray: 10 tasks ...
    multi_put_per_task: int = 5  # ... of 10 puts ...
    multi_put_elems: int = 10 * 1024 * 1024  # ... of 80 MB each (Ray: the same)
    batch: int = 1000  # tasks/calls per batch (Ray: 1000)
    multi_client_n: int = 1000  # calls per client (Ray: 10 000)
    multi_client_m: int = 2  # clients (Ray: 4)
    one_to_n_n: int = 1000  # calls per server actor (Ray: 5000)
    n_to_n_n: int = 1000  # calls per work task (Ray: 5000)
    n_to_n_m: int = 2  # work tasks (Ray: 4)
    n_to_n_arg_n: int = 500  # calls per client (Ray: 1000)
    refs_in_object: int = 10_000  # refs in one object (Ray: 10 000)
    wait_refs: int = 1000  # refs for the wait row (Ray: 1000)
    max_concurrency: int = 16  # the concurrent actor (Ray: 16)


SIZES = Sizes()


# ---------------------------------------------------------------------------------------
# Remote functions and actors: the same definitions as ray_perf.py. The classes are
# decorated by assignment (Actor = remote(...)(_Actor)) so that type checkers see the
# remote handles as what they are (Any), not as the plain classes.


def remote(*args: Any, **kwargs: Any) -> Any:
    return ray.remote(*args, **kwargs)


class _Actor:
    def small_value(self) -> bytes:
        return b"ok"

    def small_value_arg(self, x: Any) -> bytes:
        return b"ok"

    def small_value_batch(self, n: int) -> None:
        ray.get([small_value.remote() for _ in range(n)])


class _AsyncActor:
    async def small_value(self) -> bytes:
        return b"ok"

    async def small_value_with_arg(self, x: Any) -> bytes:
        return b"ok"


class _Client:
    def __init__(self, servers: Any) -> None:
        if not isinstance(servers, list):
            servers = [servers]
        self.servers = servers

    def small_value_batch(self, n: int) -> None:
        results = []
        for s in self.servers:
            results.extend([s.small_value.remote() for _ in range(n)])
        ray.get(results)

    def small_value_batch_arg(self, n: int) -> None:
        x = ray.put(0)
        results = []
        for s in self.servers:
            results.extend([s.small_value_arg.remote(x) for _ in range(n)])
        ray.get(results)


Actor = remote(num_cpus=0)(_Actor)
AsyncActor = remote(_AsyncActor)
Client = remote(num_cpus=0)(_Client)
# Without module-level names, the classes are pickled by value (as decorated classes are),
# so workers never need to import this file.
del _Actor, _AsyncActor, _Client


@remote
def small_value() -> bytes:
    return b"ok"


@remote
def create_object_containing_ref(n: int) -> list[Any]:
    return [ray.put(1) for _ in range(n)]


@remote
def do_put_small() -> None:
    for _ in range(100):
        ray.put(0)


@remote
def do_put(count: int, elems: int) -> None:
    for _ in range(count):
        ray.put(np.zeros(elems, dtype=np.int64))


@remote
def work(actors: list[Any], n: int) -> None:
    ray.get([actors[i % len(actors)].small_value.remote() for i in range(n)])


@remote
def async_actor_work(actors: list[Any], n: int) -> None:
    ray.get([actors[i % len(actors)].small_value.remote() for i in range(n)])


# ---------------------------------------------------------------------------------------
# Timing: Ray's timeit (warm up, then repeated timed runs, mean +- std of the per-run
# rates), with shorter windows so that a row costs a few seconds, not twenty.


@dataclass
class Timing:
    warmup_s: float = 0.5
    run_s: float = 0.75
    runs: int = 4
    row_timeout_s: float = 90.0
    settle_max_s: float = 5.0  # before timing, wait up to this for the machine to idle
    noisy_cores: float = 0.2  # a row timed while others used more than this is re-run


@dataclass
class RowResult:
    name: str
    mean: float | None = None
    std: float | None = None
    rates: list[float] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0
    settle_s: float = 0.0
    foreign_cores: float = 0.0  # CPU that processes outside the system under test used
    retried: bool = False  # re-run (once) because the first run was noisy
    error: str | None = None


class RowTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise RowTimeout()


def timeit(fn: Callable[[], Any], multiplier: float, t: Timing) -> tuple[list[float], int]:
    """Per-run rates (multiplier * calls / second) and the number of timed calls."""
    start = time.perf_counter()
    count = 0
    while count == 0 or time.perf_counter() - start < t.warmup_s:
        fn()
        count += 1
    warm = time.perf_counter() - start
    # Check the clock about ten times a run, as Ray's step = count // 10 + 1 does with its
    # 1 s warm-up and 2 s runs, so the clock itself costs nothing measurable.
    step = int(count * (t.run_s / 10) / warm) + 1
    rates: list[float] = []
    calls = 0
    for _ in range(t.runs):
        start = time.perf_counter()
        count = 0
        while time.perf_counter() - start < t.run_s:
            for _ in range(step):
                fn()
            count += step
        rates.append(multiplier * count / (time.perf_counter() - start))
        calls += count
    return rates, calls


# ---------------------------------------------------------------------------------------
# The rows. Each one is a setup (not timed) that returns the timed call and the actors to
# kill afterwards: Ray leaves its actors running, but on 2 cores a few dozen idle actor
# processes would tax every later row.

Setup = Callable[[], tuple[Callable[[], Any], list[Any]]]


@dataclass(frozen=True)
class Row:
    name: str
    setup: Setup
    multiplier: float = 1.0


def _rows(s: Sizes) -> list[Row]:
    rows: list[Row] = []

    def row(name: str, multiplier: float = 1.0) -> Callable[[Setup], Setup]:
        def deco(setup: Setup) -> Setup:
            rows.append(Row(name, setup, multiplier))
            return setup

        return deco

    @row("single client get calls (Plasma Store)")
    def _get_small() -> tuple[Callable[[], Any], list[Any]]:
        value = ray.put(0)
        return (lambda: ray.get(value)), []

    @row("single client put calls (Plasma Store)")
    def _put_small() -> tuple[Callable[[], Any], list[Any]]:
        return (lambda: ray.put(0)), []

    @row("multi client put calls (Plasma Store)", 1000)
    def _put_multi_small() -> tuple[Callable[[], Any], list[Any]]:
        return (lambda: ray.get([do_put_small.remote() for _ in range(10)])), []

    @row("single client put gigabytes", s.put_large_elems * 8 / 1e9)
    def _put_large() -> tuple[Callable[[], Any], list[Any]]:
        arr = np.zeros(s.put_large_elems, dtype=np.int64)
        return (lambda: ray.put(arr)), []

    @row("single client tasks and get batch")
    def _tasks_and_get_batch() -> tuple[Callable[[], Any], list[Any]]:
        def fn() -> int:
            submitted = [small_value.remote() for _ in range(s.batch)]
            ray.get(submitted)
            return 0

        return fn, []

    @row(
        "multi client put gigabytes",
        s.multi_put_tasks * s.multi_put_per_task * s.multi_put_elems * 8 / 1e9,
    )
    def _put_multi() -> tuple[Callable[[], Any], list[Any]]:
        return (
            lambda: ray.get(
                [
                    do_put.remote(s.multi_put_per_task, s.multi_put_elems)
                    for _ in range(s.multi_put_tasks)
                ]
            )
        ), []

    @row("single client get object containing 10k refs")
    def _get_containing() -> tuple[Callable[[], Any], list[Any]]:
        obj = create_object_containing_ref.remote(s.refs_in_object)
        return (lambda: ray.get(obj)), []

    @row("single client wait 1k refs")
    def _wait_refs() -> tuple[Callable[[], Any], list[Any]]:
        def fn() -> None:
            not_ready = [small_value.remote() for _ in range(s.wait_refs)]
            # As in Ray: ask for the fetch once; the raylet keeps it going.
            fetch_local = True
            for _ in range(s.wait_refs):
                _ready, not_ready = ray.wait(not_ready, fetch_local=fetch_local)
                fetch_local = False

        return fn, []

    @row("single client tasks sync")
    def _tasks_sync() -> tuple[Callable[[], Any], list[Any]]:
        return (lambda: ray.get(small_value.remote())), []

    @row("single client tasks async", s.batch)
    def _tasks_async() -> tuple[Callable[[], Any], list[Any]]:
        return (lambda: ray.get([small_value.remote() for _ in range(s.batch)])), []

    @row("multi client tasks async", s.multi_client_n * s.multi_client_m)
    def _multi_task() -> tuple[Callable[[], Any], list[Any]]:
        actors = [Actor.remote() for _ in range(s.multi_client_m)]
        return (
            lambda: ray.get([a.small_value_batch.remote(s.multi_client_n) for a in actors])
        ), actors

    @row("1:1 actor calls sync")
    def _actor_sync() -> tuple[Callable[[], Any], list[Any]]:
        a = Actor.remote()
        return (lambda: ray.get(a.small_value.remote())), [a]

    @row("1:1 actor calls async", s.batch)
    def _actor_async() -> tuple[Callable[[], Any], list[Any]]:
        a = Actor.remote()
        return (lambda: ray.get([a.small_value.remote() for _ in range(s.batch)])), [a]

    @row("1:1 actor calls concurrent", s.batch)
    def _actor_concurrent() -> tuple[Callable[[], Any], list[Any]]:
        a = Actor.options(max_concurrency=s.max_concurrency).remote()
        return (lambda: ray.get([a.small_value.remote() for _ in range(s.batch)])), [a]

    @row("1:n actor calls async", s.one_to_n_n * N_CPU)
    def _one_to_n() -> tuple[Callable[[], Any], list[Any]]:
        actors = [Actor.remote() for _ in range(N_CPU)]
        client = Client.remote(actors)
        return (lambda: ray.get(client.small_value_batch.remote(s.one_to_n_n))), [*actors, client]

    @row("n:n actor calls async", s.n_to_n_m * s.n_to_n_n)
    def _n_to_n() -> tuple[Callable[[], Any], list[Any]]:
        actors = [Actor.remote() for _ in range(N_CPU)]
        return (
            lambda: ray.get([work.remote(actors, s.n_to_n_n) for _ in range(s.n_to_n_m)])
        ), actors

    @row("n:n actor calls with arg async", s.n_to_n_arg_n * N_CPU)
    def _n_to_n_arg() -> tuple[Callable[[], Any], list[Any]]:
        actors = [Actor.remote() for _ in range(N_CPU)]
        clients = [Client.remote(a) for a in actors]
        return (
            lambda: ray.get([c.small_value_batch_arg.remote(s.n_to_n_arg_n) for c in clients])
        ), [*actors, *clients]

    @row("1:1 async-actor calls sync")
    def _async_actor_sync() -> tuple[Callable[[], Any], list[Any]]:
        a = AsyncActor.remote()
        return (lambda: ray.get(a.small_value.remote())), [a]

    @row("1:1 async-actor calls async", s.batch)
    def _async_actor_async() -> tuple[Callable[[], Any], list[Any]]:
        a = AsyncActor.remote()
        return (lambda: ray.get([a.small_value.remote() for _ in range(s.batch)])), [a]

    @row("1:1 async-actor calls with args async", s.batch)
    def _async_actor_args() -> tuple[Callable[[], Any], list[Any]]:
        a = AsyncActor.remote()
        return (lambda: ray.get([a.small_value_with_arg.remote(i) for i in range(s.batch)])), [a]

    @row("1:n async-actor calls async", s.one_to_n_n * N_CPU)
    def _async_one_to_n() -> tuple[Callable[[], Any], list[Any]]:
        actors = [AsyncActor.remote() for _ in range(N_CPU)]
        client = Client.remote(actors)
        return (lambda: ray.get(client.small_value_batch.remote(s.one_to_n_n))), [*actors, client]

    @row("n:n async-actor calls async", s.n_to_n_m * s.n_to_n_n)
    def _async_n_to_n() -> tuple[Callable[[], Any], list[Any]]:
        actors = [AsyncActor.remote() for _ in range(N_CPU)]
        return (
            lambda: ray.get(
                [async_actor_work.remote(actors, s.n_to_n_n) for _ in range(s.n_to_n_m)]
            )
        ), actors

    return rows


ROW_NAMES = [r.name for r in _rows(SIZES)]


def run_row(row: Row, t: Timing) -> RowResult:
    res = RowResult(row.name)
    start = time.perf_counter()
    actors: list[Any] = []
    signal.alarm(int(t.row_timeout_s))
    try:
        fn, actors = row.setup()
        fn()  # the first call waits for actors and workers to start
        res.settle_s = wait_quiet(max_s=t.settle_max_s)
        with ForeignLoad() as foreign:
            res.rates, res.calls = timeit(fn, row.multiplier, t)
        res.foreign_cores = foreign.cores
        res.mean = statistics.fmean(res.rates)
        res.std = statistics.pstdev(res.rates)  # np.std, as Ray's timeit
    except RowTimeout:
        res.error = f"timed out after {t.row_timeout_s:.0f} s"
    except Exception as e:  # one broken row must not hide the others
        res.error = f"{type(e).__name__}: {e}".splitlines()[0][:200]
    finally:
        signal.alarm(0)
    for a in actors:
        try:
            ray.kill(a)
        except Exception:
            pass
    res.seconds = time.perf_counter() - start
    return res


def _report(res: RowResult, what: str = "") -> None:
    tag = f"[{SYSTEM}{' ' + what if what else ''}]"
    if res.error is not None:
        print(f"{tag} {res.name} FAILED: {res.error}", flush=True)
        return
    noisy = (
        f", other processes used {res.foreign_cores:.2f} cores" if res.foreign_cores > 0.05 else ""
    )
    print(
        f"{tag} {res.name} per second {res.mean:.2f} +- {res.std:.2f}"
        f"  ({res.seconds:.1f} s{noisy})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--system", choices=["plait", "ray"], default="plait")
    p.add_argument(
        "--filter", default="", help="run only rows whose name contains this (or any of a,b,...)"
    )
    p.add_argument("--json-out", default="", help="write the results here as JSON")
    p.add_argument("--num-cpus", type=int, default=2)
    p.add_argument("--warmup-s", type=float, default=Timing.warmup_s)
    p.add_argument("--run-s", type=float, default=Timing.run_s)
    p.add_argument("--runs", type=int, default=Timing.runs)
    p.add_argument("--row-timeout-s", type=float, default=Timing.row_timeout_s)
    p.add_argument("--settle-max-s", type=float, default=Timing.settle_max_s)
    p.add_argument("--noisy-cores", type=float, default=Timing.noisy_cores)
    p.add_argument(
        "--time-budget-s",
        type=float,
        default=240.0,
        help="no re-runs of noisy rows after this much time",
    )
    p.add_argument("--list", action="store_true", help="print the row names and exit")
    ns = p.parse_args(argv)
    if ns.list:
        print("\n".join(ROW_NAMES))
        return 0
    t = Timing(ns.warmup_s, ns.run_s, ns.runs, ns.row_timeout_s, ns.settle_max_s, ns.noisy_cores)
    # Comma-separated alternatives (no row name has a comma): "put calls,tasks sync".
    wanted = [f for f in ns.filter.split(",") if f] or [""]
    rows = [r for r in _rows(SIZES) if any(f in r.name for f in wanted)]
    signal.signal(signal.SIGALRM, _on_alarm)

    t0 = time.perf_counter()
    init_kwargs: dict[str, Any] = {"num_cpus": ns.num_cpus}
    if SYSTEM == "ray":
        # The dashboard's processes would compete for the 2 cores; plait has none.
        init_kwargs["include_dashboard"] = False
    ray.init(**init_kwargs)
    init_s = time.perf_counter() - t0
    version = getattr(ray, "__version__", "?")
    print(f"[{SYSTEM} {version}] init took {init_s:.2f} s", flush=True)
    results: list[RowResult] = []
    try:
        for r in rows:
            results.append(run_row(r, t))
            _report(results[-1])
        # Rows that other processes disturbed get one more run, while time allows; the
        # less disturbed of the two runs stands.
        for i, r in enumerate(rows):
            first = results[i]
            if (
                first.error is None
                and first.foreign_cores > t.noisy_cores
                and time.perf_counter() - t0 < ns.time_budget_s
            ):
                again = run_row(r, t)
                again.retried = True
                _report(again, "re-run")
                if again.error is None and again.foreign_cores < first.foreign_cores:
                    results[i] = again
    finally:
        t1 = time.perf_counter()
        ray.shutdown()
        shutdown_s = time.perf_counter() - t1
    out = {
        "system": SYSTEM,
        "version": version,
        "python": sys.version.split()[0],
        "init_s": init_s,
        "shutdown_s": shutdown_s,
        "sizes": asdict(SIZES),
        "timing": asdict(t),
        "rows": [asdict(r) for r in results],
    }
    if ns.json_out:
        with open(ns.json_out, "w") as f:
            json.dump(out, f, indent=1)
    # Leave without waiting on anything the system may have left behind (non-daemon
    # threads): the numbers are out, and a hang here would only cost wall time.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
