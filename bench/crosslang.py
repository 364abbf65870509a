"""Cross-language calls: calls/s and round-trip latency between Python, C++ and Java.

    python bench/crosslang.py [--quick] [--json OUT] [--markdown] [--no-ray] [--plait-rev REV]

Rows, each for a task (`f.remote(x)`) and an actor method (`a.echo.remote(x)`) that
return a small int:

  Python→Python   plait, and Ray in the same run (the yardstick)
  Python→C++      plait.cpp_function("bench_echo"), cpp_actor_class("EchoActor")
  Python→Java     plait.java_function("io.plait.bench.Echo", "echo"), and Ray's
                  ray.cross_language.java_function on the same class where it works
  Java→Python     a Java driver (`plait java ... io.plait.bench.CrossLangBench`) calling
                  bench/pyfns/crosslang_pyfns.py

"async" submits a batch of N calls, then gets them all, for at least a set time (calls/s,
mean ± std over runs); "sync" submits one call, gets it, repeats (round-trip p50/p99 and
calls/s). Then an Arrow table of 100 MB (two float64 columns) is put (anew for each callee)
and passed by reference to a Python, a C++ and a Java function that sum it: time per call, and whether its bytes were copied,
measured in the callee (the mapping that holds the column's buffer, from
/proc/self/maps, and the callee's RssAnon/RssShmem growth from /proc/self/status).

Every part runs in its own process, one after the other (never two at once: they would
share the cores): plait (this interpreter, python/ on PYTHONPATH), the Java driver, and
Ray (--ray-python, else $PLAIT_BENCH_RAY_PYTHON, else .venv-ray/bin/python). The C++
library (bench/cpp/) and the Java classes (bench/java/) are built first into build/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _crosslang_report import (  # bench/ is on sys.path
    NOISY_CORES,
    arrow_line,
    arrow_table,
    calls_table,
    compact_json,
    line_for,
    summarize,
)
from _proc import system_busy, tree_cpu, wait_quiet

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CPP_SRC = BENCH / "cpp"
CPP_OUT = ROOT / "build" / "bench-cpp"
# The library gets a folder of its own, put on the code search path as a folder: a job
# that lists a .so file and a .jar file side by side cannot start C++ workers (the C++
# worker tries to dlopen every listed file, the jar too: "invalid ELF header").
CPP_LIBDIR = CPP_OUT / "lib"
CPP_LIB = CPP_LIBDIR / "libplait_crosslang_bench.so"
JAVA_SRC = BENCH / "java"
JAVA_OUT = ROOT / "build" / "bench-java"
JAVA_JAR = JAVA_OUT / "crosslang-bench.jar"
PYFNS = BENCH / "pyfns"
PART_TIMEOUT_S = 300
# Before each row, wait up to this long for the machine to go quiet (our own processes
# settling, mostly; on a machine shared with others it may never be quiet).
SETTLE_MAX_S = 1.0


# ---------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------


def sizes(quick: bool, arrow_mb: int) -> dict[str, int]:
    if quick:
        return {
            "batch": 200,
            "runs": 2,
            "run_ms": 100,
            "sync": 200,
            "arrow_mb": arrow_mb,
            "arrow_calls": 2,
        }
    return {
        "batch": 1000,
        "runs": 3,
        "run_ms": 500,
        "sync": 1000,
        "arrow_mb": arrow_mb,
        "arrow_calls": 5,
    }


class Foreign:
    """Cores that processes outside this process tree used while a block ran.

    Like bench/_proc.py's ForeignLoad (the whole machine's busy time from /proc/stat, less
    this tree's), but the tree's share is summed per process and only over growth, so a
    worker of ours that exits during the block (its CPU time leaves the tree's sum) is not
    counted as negative work of ours. CPU of our processes that exit during the block is
    charged to others: an overestimate, never an underestimate."""

    def __enter__(self) -> Foreign:
        self._t = time.perf_counter()
        self._sys = system_busy()
        self._tree = tree_cpu()
        self.cores = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        took = time.perf_counter() - self._t
        sys_d = system_busy() - self._sys
        tree_d = sum(max(0.0, c - self._tree.get(pid, 0.0)) for pid, c in tree_cpu().items())
        self.cores = max(0.0, sys_d - tree_d) / took if took > 0 else 0.0


class Sampler(threading.Thread):
    """Samples (wall time, machine busy s, per-process CPU of this tree) every `every` s, so
    that the foreign load of a stretch timed elsewhere (the Java driver's rows) can be
    computed afterwards with foreign_between."""

    def __init__(self, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[tuple[float, float, dict[int, float]]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), system_busy(), tree_cpu()))
            self._stop_event.wait(self.every)
        self.samples.append((time.time(), system_busy(), tree_cpu()))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def foreign_between(self, t0: float, t1: float) -> float | None:
        """Cores others used between wall times t0 and t1 (the samples around them)."""
        first = max((i for i, s in enumerate(self.samples) if s[0] <= t0), default=None)
        last = min((i for i, s in enumerate(self.samples) if s[0] >= t1), default=None)
        if first is None or last is None or last <= first:
            return None
        sys_d = tree_d = 0.0
        for (_, b0, c0), (_, b1, c1) in zip(
            self.samples[first:last], self.samples[first + 1 : last + 1], strict=False
        ):
            sys_d += b1 - b0
            tree_d += sum(max(0.0, c - c0.get(pid, 0.0)) for pid, c in c1.items())
        took = self.samples[last][0] - self.samples[first][0]
        return max(0.0, sys_d - tree_d) / took


# ---------------------------------------------------------------------------------------
# Measuring (shared by the plait and Ray parts: `get` is plait.get or ray.get)
# ---------------------------------------------------------------------------------------


def time_async(
    submit: Callable[[int], Any], get: Callable[..., Any], batch: int, runs: int, run_s: float
) -> list[float]:
    """Calls/s of `runs` runs, each of whole batches (submit `batch` calls, then get them
    all) until at least run_s seconds have passed."""
    rates = []
    for _ in range(runs):
        calls = 0
        t0 = time.perf_counter()
        while True:
            out = get([submit(i) for i in range(batch)], timeout=120)
            if out[-1] != batch - 1:
                raise RuntimeError(f"echo returned {out[-1]!r}, wanted {batch - 1}")
            calls += batch
            took = time.perf_counter() - t0
            if took >= run_s:
                break
        rates.append(calls / took)
    return rates


def time_sync(submit: Callable[[int], Any], get: Callable[..., Any], calls: int) -> list[float]:
    """Round-trip times (us) of `calls` calls made one at a time."""
    us = []
    for i in range(calls):
        t0 = time.perf_counter()
        got = get(submit(i), timeout=120)
        us.append((time.perf_counter() - t0) * 1e6)
        if got != i:
            raise RuntimeError(f"echo returned {got!r}, wanted {i}")
    return us


def measure_actor(
    direction: str,
    cls: Any,
    get: Callable[..., Any],
    kill: Callable[[Any], None],
    sz: dict[str, int],
) -> list[dict[str, Any]]:
    """measure_pair for the echo method of a new actor of cls, killed afterwards."""
    a = cls.remote()
    try:
        return measure_pair(direction, "actor", lambda x: a.echo.remote(x), get, sz)
    finally:
        kill(a)


def measure_pair(
    direction: str,
    call: str,
    submit: Callable[[int], Any],
    get: Callable[..., Any],
    sz: dict[str, int],
) -> list[dict[str, Any]]:
    """The async and the sync row of one (direction, call), with warm-up and noise."""
    rows = []
    t0 = time.perf_counter()
    try:
        time_async(submit, get, sz["batch"], 1, 0.0)  # workers/actors up, code warm
        warm_error = None
    except Exception as e:  # a failed row is reported, the others still run
        warm_error = f"{type(e).__name__}: {str(e).strip()[:2000]}"
    warm_s = time.perf_counter() - t0
    for mode in ("async", "sync"):
        row: dict[str, Any] = {"direction": direction, "call": call, "mode": mode}
        if warm_error:
            row["error"] = warm_error
            rows.append(row)
            print("   " + line_for(row), flush=True)
            continue
        row["settle_s"] = wait_quiet(max_s=SETTLE_MAX_S)
        try:
            with Foreign() as foreign:
                if mode == "async":
                    row["rates"] = time_async(
                        submit, get, sz["batch"], sz["runs"], sz["run_ms"] / 1e3
                    )
                else:
                    row["us"] = time_sync(submit, get, sz["sync"])
            row["foreign_cores"] = foreign.cores
        except Exception as e:  # a failed row is reported, the others still run
            row["error"] = f"{type(e).__name__}: {str(e).strip()[:2000]}"
        row["warmup_s"] = warm_s
        rows.append(row)
        print("   " + line_for(summarize(row)), flush=True)
    return rows


# ---------------------------------------------------------------------------------------
# The Arrow probe, Python side (the C++ and Java ones are in bench/cpp and bench/java)
# ---------------------------------------------------------------------------------------


def rss_kb() -> tuple[int, int]:
    """(RssAnon, RssShmem) of this process in kB."""
    anon = shmem = -1
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                anon = int(line.split()[1])
            elif line.startswith("RssShmem:"):
                shmem = int(line.split()[1])
    return anon, shmem


def mapping_of(addr: int) -> str:
    """The path of the mapping that holds addr ("" anonymous, "?" none)."""
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if lo <= addr < hi:
                return parts[5].strip() if len(parts) > 5 else ""
    return "?"


def py_table_probe(table: Any) -> tuple[float, str, int, int, int, int]:
    """Like C++ table_probe: sum every column, then where column 0 lives and the RSS."""
    import pyarrow.compute as pc

    t0 = time.perf_counter_ns()
    total = 0.0
    for col in table.columns:
        total += pc.sum(col).as_py()
    took = time.perf_counter_ns() - t0
    addr = table.column(0).chunk(0).buffers()[1].address
    anon, shmem = rss_kb()
    return total, mapping_of(addr), anon, shmem, os.getpid(), took


def py_mem_stats() -> tuple[int, int, int]:
    anon, shmem = rss_kb()
    return anon, shmem, os.getpid()


class PyProbe:
    def mem(self) -> tuple[int, int, int]:
        return py_mem_stats()

    def check(self, table: Any) -> tuple[float, str, int, int, int, int]:
        return py_table_probe(table)


def make_table(mb: int) -> Any:
    """Two float64 columns, x and y, of mb MB together."""
    import numpy as np
    import pyarrow as pa

    n = mb * 1_000_000 // 16
    x = np.arange(n, dtype=np.float64)
    return pa.table({"x": x, "y": x * 0.5})


def measure_arrow(
    callee: str,
    api: Any,
    probe_fn: Any,
    probe_actor: Any,
    mem: str,
    check: str,
    table: Any,
    expected: float,
    sz: dict[str, int],
) -> dict[str, Any]:
    """Put the table, pass its ref to probe_fn (timed) and to an actor (copy check)."""
    row: dict[str, Any] = {"callee": callee, "table_bytes": table.nbytes}
    row["settle_s"] = wait_quiet(max_s=SETTLE_MAX_S)
    try:
        with Foreign() as foreign:
            t0 = time.perf_counter()
            ref = api.put(table)
            row["put_ms"] = (time.perf_counter() - t0) * 1e3
            # Copy check: baseline and probe in one process (an actor), on a fresh object.
            actor = probe_actor.remote()
            base = api.get(getattr(actor, mem).remote(), timeout=120)
            res = api.get(getattr(actor, check).remote(ref), timeout=120)
            row["actor_pid"] = [base[2], res[4]]
            row["anon_delta_kb"] = res[2] - base[0]
            row["shmem_delta_kb"] = res[3] - base[1]
            row["mapping"] = res[1]
            row["object_id"] = ref.hex()
            api.kill(actor)
            # Timing: the function as a task, called one at a time, after one call with a
            # small table (so that the task's worker is up and the callee's code warm).
            api.get(probe_fn.remote(table.slice(0, 1000)), timeout=120)
            calls = []
            for _ in range(1 + sz["arrow_calls"]):
                t0 = time.perf_counter()
                out = api.get(probe_fn.remote(ref), timeout=120)
                calls.append(
                    {
                        "ms": (time.perf_counter() - t0) * 1e3,
                        "kernel_ms": out[5] / 1e6,
                        "mapping": out[1],
                        "pid": out[4],
                    }
                )
                if abs(out[0] - expected) > 1e-6 * abs(expected):
                    raise RuntimeError(f"{callee} summed {out[0]}, wanted {expected}")
            row["calls"] = calls
            del ref
        row["foreign_cores"] = foreign.cores
    except Exception as e:
        row["error"] = f"{type(e).__name__}: {str(e).strip()[:2000]}"
    print("   " + arrow_line(row), flush=True)
    return row


# ---------------------------------------------------------------------------------------
# Part: plait (Python→Python, Python→C++, Python→Java, Arrow)
# ---------------------------------------------------------------------------------------


def part_plait(sz: dict[str, int], num_cpus: int) -> dict[str, Any]:
    import plait

    @plait.remote
    def echo(x: int) -> int:
        return x

    @plait.remote
    class Echo:
        def echo(self, x: int) -> int:
            return x

    probe = plait.remote(py_table_probe)
    py_probe_actor = plait.remote(PyProbe)

    t0 = time.perf_counter()
    plait.init(num_cpus=num_cpus, code_search_path=[str(CPP_LIBDIR), str(JAVA_JAR)])
    init_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    arrow: list[dict[str, Any]] = []
    try:
        get = plait.get

        def with_actor(direction: str, cls: Any) -> None:
            rows.extend(measure_actor(direction, cls, get, plait.kill, sz))

        rows.extend(measure_pair("Python→Python", "task", echo.remote, get, sz))
        with_actor("Python→Python", Echo)
        cpp_echo = plait.cpp_function("bench_echo")
        rows.extend(measure_pair("Python→C++", "task", cpp_echo.remote, get, sz))
        with_actor("Python→C++", plait.cpp_actor_class("EchoActor"))
        java_echo = plait.java_function("io.plait.bench.Echo", "echo")
        rows.extend(measure_pair("Python→Java", "task", java_echo.remote, get, sz))
        with_actor("Python→Java", plait.java_actor_class("io.plait.bench.EchoActor"))

        table = make_table(sz["arrow_mb"])
        expected = sum(float(c.to_numpy().sum()) for c in table.columns)
        arrow.append(
            measure_arrow(
                "Python", plait, probe, py_probe_actor, "mem", "check", table, expected, sz
            )
        )
        arrow.append(
            measure_arrow(
                "C++",
                plait,
                plait.cpp_function("table_probe"),
                plait.cpp_actor_class("Probe"),
                "mem",
                "probe",
                table,
                expected,
                sz,
            )
        )
        arrow.append(
            measure_arrow(
                "Java",
                plait,
                plait.java_function("io.plait.bench.Probe", "probe"),
                plait.java_actor_class("io.plait.bench.Probe"),
                "mem",
                "check",
                table,
                expected,
                sz,
            )
        )
    finally:
        plait.shutdown()
    return {
        "version": getattr(plait, "__version__", "?"),
        "init_s": init_s,
        "rows": rows,
        "arrow": arrow,
    }


# ---------------------------------------------------------------------------------------
# Part: Ray (Python→Python, Python→Java, Arrow Python→Python)
# ---------------------------------------------------------------------------------------


def part_ray(sz: dict[str, int], num_cpus: int) -> dict[str, Any]:
    import ray
    from ray.job_config import JobConfig

    @ray.remote
    def echo(x: int) -> int:
        return x

    @ray.remote
    class Echo:
        def echo(self, x: int) -> int:
            return x

    jar = Path(ray.__file__).parent / "jars" / "ray_dist.jar"
    java_info: dict[str, Any] = {
        "ray_dist_jar": str(jar) if jar.exists() else None,
        "java": shutil.which("java"),
    }
    t0 = time.perf_counter()
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        log_to_driver=False,
        job_config=JobConfig(code_search_path=[str(JAVA_JAR)]),
    )
    init_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    arrow: list[dict[str, Any]] = []
    try:
        get = ray.get

        def with_actor(direction: str, cls: Any) -> None:
            rows.extend(measure_actor(direction, cls, get, ray.kill, sz))

        rows.extend(measure_pair("Python→Python", "task", echo.remote, get, sz))
        with_actor("Python→Python", Echo)
        if java_info["ray_dist_jar"] and java_info["java"]:
            # One call first: a failure here (no Java worker, a class Ray cannot load) is
            # what the doc reports, with Ray's own error text.
            java_echo = ray.cross_language.java_function("io.plait.bench.Echo", "echo")
            try:
                t0 = time.perf_counter()
                ok = ray.get(java_echo.remote(7), timeout=120)
                java_info["first_call_s"] = time.perf_counter() - t0
                if ok != 7:
                    raise RuntimeError(f"Java echo(7) returned {ok!r}")
                java_info["works"] = True
            except Exception as e:
                java_info["works"] = False
                java_info["error"] = f"{type(e).__name__}: {str(e).strip()[:3000]}"
                print(f"   ray Python→Java: {java_info['error'][:500]}", flush=True)
            if java_info["works"]:
                rows.extend(measure_pair("Python→Java", "task", java_echo.remote, get, sz))
                with_actor(
                    "Python→Java", ray.cross_language.java_actor_class("io.plait.bench.EchoActor")
                )
        else:
            java_info["works"] = False
            java_info["error"] = (
                "ray/jars/ray_dist.jar is not in Ray's wheel"
                if not java_info["ray_dist_jar"]
                else "no `java` on PATH"
            )
        table = make_table(sz["arrow_mb"])
        expected = sum(float(c.to_numpy().sum()) for c in table.columns)
        arrow.append(
            measure_arrow(
                "Python",
                ray,
                ray.remote(py_table_probe),
                ray.remote(PyProbe),
                "mem",
                "check",
                table,
                expected,
                sz,
            )
        )
    finally:
        ray.shutdown()
    return {
        "version": ray.__version__,
        "init_s": init_s,
        "rows": rows,
        "arrow": arrow,
        "java": java_info,
    }


# ---------------------------------------------------------------------------------------
# Building the C++ library and the Java classes
# ---------------------------------------------------------------------------------------


def _newest(paths: list[Path]) -> float:
    return max(
        (
            p.stat().st_mtime
            for d in paths
            for p in ([d] if d.is_file() else d.rglob("*"))
            if p.is_file()
        ),
        default=0.0,
    )


def build(python: str) -> None:
    """bench/cpp -> build/bench-cpp/*.so, bench/java -> build/bench-java/*.jar (when stale)."""

    def run(cmd: list[str]) -> None:
        subprocess.run(cmd, cwd=ROOT, check=True)

    jars = sorted((ROOT / "java" / "target").glob("plait-java-*.jar"))
    if not jars or not any((ROOT / "java" / "target" / "lib").glob("*.jar")):
        print("== building plait's Java side (scripts/setup_java.sh)", flush=True)
        run(["bash", "scripts/setup_java.sh"])
        jars = sorted((ROOT / "java" / "target").glob("plait-java-*.jar"))
    if not JAVA_JAR.exists() or _newest([JAVA_SRC, *jars]) > JAVA_JAR.stat().st_mtime:
        print(f"== building {JAVA_JAR.relative_to(ROOT)}", flush=True)
        classes = JAVA_OUT / "classes"
        shutil.rmtree(classes, ignore_errors=True)
        classes.mkdir(parents=True)
        cp = os.pathsep.join([str(jars[0]), str(ROOT / "java" / "target" / "lib" / "*")])
        run(
            [
                "javac",
                "-Xlint:all",
                "-Werror",
                "-d",
                str(classes),
                "-cp",
                cp,
                *map(str, sorted(JAVA_SRC.rglob("*.java"))),
            ]
        )
        run(["jar", "cf", str(JAVA_JAR), "-C", str(classes), "."])
    before = CPP_LIB.stat().st_mtime if CPP_LIB.exists() else 0.0
    env = {
        **_plait_env(),
        "PYTHON": python,
        "CMAKE_BUILD_TYPE": "Release",
        "BUILD_DIR": str(CPP_OUT / "build"),
    }
    subprocess.run(
        ["bash", "scripts/build_cpp_library.sh", str(CPP_SRC), str(CPP_LIBDIR)],
        cwd=ROOT,
        check=True,
        env=env,
        stdout=subprocess.DEVNULL if CPP_LIB.exists() else None,
    )
    if CPP_LIB.stat().st_mtime != before:
        print(f"== built {CPP_LIB.relative_to(ROOT)}", flush=True)


# ---------------------------------------------------------------------------------------
# The orchestrator
# ---------------------------------------------------------------------------------------


def _plait_env(src: Path = ROOT / "python") -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    return env


def export_rev(rev: str, dest: Path) -> tuple[Path, str]:
    """python/plait and java/ as of a git revision, java/ built (Maven, offline) into
    dest/java/target, where the exported plait's JVM looks for its runtime jar; (the
    Python source dir, the full commit)."""
    from microbenchmark import export_rev as export_python  # python/plait + sitecustomize

    src, commit = export_python(rev, dest)
    # The compiled parts (plait._native, the C++ SDK that plait._cpp.cmake_dir() names)
    # live only in the installed package: take them from there, as built.
    installed = Path(sysconfig.get_paths()["platlib"]) / "plait"
    for f in installed.rglob("*"):
        target = src / "plait" / f.relative_to(installed)
        if f.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
    archive = subprocess.run(
        ["git", "archive", commit, "java"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    print(f"== building java/ as of {rev} ({commit[:10]}) in {dest / 'java'}", flush=True)
    out = subprocess.run(
        ["mvn", "-q", "-B", "-o", "-f", str(dest / "java" / "pom.xml"), "package", "-DskipTests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(
            f"mvn package of java/ at {rev} failed:\n{out.stdout[-3000:]}{out.stderr[-3000:]}"
        )
    return src, commit


def _ray_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the Ray side must not see plait's sources
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


def find_ray_python(explicit: str | None) -> tuple[str, str] | None:
    candidates = (
        [explicit]
        if explicit
        else [
            os.environ.get("PLAIT_BENCH_RAY_PYTHON", ""),
            str(ROOT / ".venv-ray" / "bin" / "python"),
        ]
    )
    for c in candidates:
        if c and Path(c).exists():
            try:
                out = subprocess.run(
                    [c, "-c", "import ray; print(ray.__version__)"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    env=_ray_env(),
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if out.returncode == 0:
                return c, out.stdout.strip()
            print(f"Ray at {c} does not import: {out.stderr.strip().splitlines()[-1:]}", flush=True)
    return None


def run_part(
    name: str, cmd: list[str], env: dict[str, str], workdir: Path, sampler: Sampler | None = None
) -> tuple[int, str, float]:
    """Run one part; (exit code, its stdout, wall s)."""
    log = workdir / f"{name.replace(' ', '-')}.log"
    print(f"== {name}: {shlex.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    out_lines: list[str] = []
    if sampler is not None:
        sampler.start()
    with open(log, "w") as errf:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=errf,
            text=True,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                out_lines.append(line)
                if not line.startswith("CROSSLANG_JSON "):
                    print(
                        "   " + line.rstrip() if not line.startswith("   ") else line.rstrip(),
                        flush=True,
                    )
            proc.wait(timeout=max(1.0, PART_TIMEOUT_S - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    if sampler is not None:
        sampler.stop()
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        print(
            f"== {name}: FAILED (exit {proc.returncode}) after {took:.0f} s; last lines of "
            f"its stderr:\n" + "\n".join("   " + t for t in tail),
            flush=True,
        )
    else:
        print(f"== {name}: done in {took:.0f} s", flush=True)
    return proc.returncode, "".join(out_lines), took


def java_rows(stdout: str, sampler: Sampler) -> list[dict[str, Any]]:
    for line in stdout.splitlines():
        if line.startswith("CROSSLANG_JSON "):
            data = json.loads(line.split(" ", 1)[1])
            break
    else:
        return []
    rows = []
    for call in ("task", "actor"):
        for mode, values in (("async", "rates"), ("sync", "us")):
            key = f"{call}_{mode}"
            t0, t1 = (t / 1e3 for t in data[f"{key}_t"])
            rows.append(
                {
                    "direction": "Java→Python",
                    "call": call,
                    "mode": mode,
                    values: data[key if mode == "async" else f"{key}_us"],
                    "foreign_cores": sampler.foreign_between(t0, t1) or 0.0,
                    "timed_s": t1 - t0,
                    "warmup_s": data["warmup_s"],
                }
            )
    for r in rows:
        print("   " + line_for(summarize(r)), flush=True)
    return rows


def _machine() -> dict[str, Any]:
    from microbenchmark import machine  # the same description in both benchmarks

    return machine()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller batches (a smoke test)")
    p.add_argument("--json", default="", metavar="OUT", help="write all results to OUT")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    p.add_argument("--no-ray", action="store_true", help="do not run Ray")
    p.add_argument("--ray-python", default=None, help="interpreter with Ray installed")
    p.add_argument("--num-cpus", type=int, default=2, help="cluster CPUs (default 2)")
    p.add_argument("--arrow-mb", type=int, default=100, help="Arrow table size (default 100)")
    p.add_argument(
        "--plait-rev",
        default=None,
        metavar="REV",
        help="benchmark plait (python/plait and java/) as committed at this git "
        "revision (e.g. HEAD) instead of the working tree, which others "
        "may be editing",
    )
    p.add_argument("--part", choices=["plait", "ray"], help=argparse.SUPPRESS)
    p.add_argument("--part-out", help=argparse.SUPPRESS)
    ns = p.parse_args(argv)
    sz = sizes(ns.quick, ns.arrow_mb)

    if ns.part:  # a child process: run one system, write its JSON
        fn = part_plait if ns.part == "plait" else part_ray
        result = fn(sz, ns.num_cpus)
        for r in result["rows"]:
            r["system"] = ns.part
        for r in result["arrow"]:
            r["system"] = ns.part
        Path(ns.part_out).write_text(json.dumps(result))
        return 0

    started = datetime.datetime.now().astimezone()
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    # The working tree is measured: name what differs from the commit (others may be
    # editing it while this runs), and see afterwards whether it changed during the run.
    src_dirs = ["python/plait", "java/src/main", "cpp"]
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *src_dirs], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()

    def newest() -> float:
        return max(
            (
                f.stat().st_mtime
                for d in src_dirs
                for f in (ROOT / d).rglob("*")
                if f.suffix in (".py", ".java", ".cc", ".h") and f.is_file()
            ),
            default=0.0,
        )

    newest_before = newest()
    build(sys.executable)
    ray_py = None if ns.no_ray else find_ray_python(ns.ray_python)
    if not ns.no_ray and ray_py is None:
        print(
            "Ray was not found ($PLAIT_BENCH_RAY_PYTHON, .venv-ray/bin/python; "
            "bench/setup_ray.sh installs it): plait alone.",
            flush=True,
        )
    common = ["--num-cpus", str(ns.num_cpus), "--arrow-mb", str(ns.arrow_mb)] + (
        ["--quick"] if ns.quick else []
    )
    wall0 = time.perf_counter()
    parts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="plait-crosslang-") as tmp:
        work = Path(tmp)
        plait_src = ROOT / "python"
        if ns.plait_rev:
            plait_src, commit = export_rev(ns.plait_rev, work / "plait-src")
            dirty = []
            print(
                f"== plait: python/plait and java/ as of {ns.plait_rev} ({commit[:10]})", flush=True
            )
        rc, _, took = run_part(
            "plait",
            [
                sys.executable,
                __file__,
                "--part",
                "plait",
                "--part-out",
                str(work / "plait.json"),
                *common,
            ],
            _plait_env(plait_src),
            work,
        )
        if (work / "plait.json").exists():
            parts["plait"] = json.loads((work / "plait.json").read_text())
            parts["plait"]["wall_s"] = took
        wait_quiet(max_s=5.0)
        cp = os.pathsep.join([str(JAVA_JAR), str(PYFNS)])
        sampler = Sampler()
        rc, out, took = run_part(
            "java driver",
            [
                sys.executable,
                "-m",
                "plait._cli",
                "java",
                "-cp",
                cp,
                "io.plait.bench.CrossLangBench",
                str(sz["batch"]),
                str(sz["runs"]),
                str(sz["sync"]),
                str(sz["run_ms"]),
            ],
            _plait_env(plait_src),
            work,
            sampler,
        )
        jrows = java_rows(out, sampler)
        for r in jrows:
            r["system"] = "plait"
        parts["java"] = {"rows": jrows, "wall_s": took, "exit": rc}
        if ray_py is not None:
            wait_quiet(max_s=5.0)
            rc, _, took = run_part(
                "ray",
                [
                    ray_py[0],
                    __file__,
                    "--part",
                    "ray",
                    "--part-out",
                    str(work / "ray.json"),
                    *common,
                ],
                _ray_env(),
                work,
            )
            if (work / "ray.json").exists():
                parts["ray"] = json.loads((work / "ray.json").read_text())
                parts["ray"]["wall_s"] = took
    wall_s = time.perf_counter() - wall0
    changed = not ns.plait_rev and newest() != newest_before

    plait_rows = parts.get("plait", {}).get("rows", []) + parts["java"]["rows"]
    ray_rows = parts.get("ray", {}).get("rows", [])
    print()
    print(
        f"plait {commit[:10]} vs "
        + (f"ray {parts['ray']['version']}" if "ray" in parts else "no Ray")
        + f"; {ns.num_cpus}-CPU cluster; async: batches of {sz['batch']}, mean ± std of "
        f"{sz['runs']} runs of ≥ {sz['run_ms']} ms; sync: {sz['sync']} calls one at a time"
    )
    table = calls_table(plait_rows, ray_rows, ns.markdown)
    print()
    arrow_rows = parts.get("plait", {}).get("arrow", []) + parts.get("ray", {}).get("arrow", [])
    arrow_table(arrow_rows, ns.markdown)
    every = [*plait_rows, *ray_rows, *arrow_rows]
    noisy = [r for r in every if r.get("foreign_cores", 0.0) > NOISY_CORES]
    if noisy:
        print(
            f"† other processes used over {NOISY_CORES} cores while this row ran "
            f"(max {max(r['foreign_cores'] for r in noisy):.2f}): likely low."
        )
    if "ray" in parts:
        j = parts["ray"]["java"]
        print(
            "\nRay Python→Java: "
            + (
                f"works (ray_dist.jar {j.get('ray_dist_jar')}; first call "
                f"{j.get('first_call_s', 0):.1f} s, a Java worker starting)"
                if j.get("works")
                else f"does not work here: {j.get('error', '?')[:1500]}"
            )
        )
    if dirty:
        print(
            f"\nmeasured the working tree, which differs from {commit[:10]} in: "
            + ", ".join(d[3:] for d in dirty)
        )
    if changed:
        print(
            "WARNING: files under " + ", ".join(src_dirs) + " changed during the run; "
            "the numbers may mix two versions. Run it again."
        )
    print(f"\ntotal wall time {wall_s:.0f} s")
    if ns.json:
        result = {
            "date": started.isoformat(timespec="seconds"),
            "machine": _machine(),
            "command": shlex.join([Path(sys.executable).name, *sys.argv]),
            "commit": commit,
            "dirty": dirty,
            "changed_during_run": changed,
            "sizes": sz,
            "wall_s": wall_s,
            "parts": parts,
            "ray_python": ray_py,
            "table": table,
            "max_foreign_cores": max((r.get("foreign_cores", 0.0) for r in every), default=0.0),
        }
        Path(ns.json).write_text(compact_json(result))
        print(f"wrote {ns.json}")
    return 0 if "plait" in parts else 1


if __name__ == "__main__":
    sys.exit(main())
