"""plait's `ray microbenchmark`: the same workloads, run on plait and on Ray, side by side.

    python bench/microbenchmark.py [--filter SUBSTR] [--plait-only] [--json out.json]

The workloads live in bench/_workloads.py. This script runs that module twice, one
system after the other (never both at once: they would share the cores), each in its own
process under the interpreter that has the system installed:

  plait  this interpreter, with the checkout's python/ on PYTHONPATH
  Ray    --ray-python, else $PLAIT_BENCH_RAY_PYTHON, else .venv-ray/bin/python (made by
         bench/setup_ray.sh), else this interpreter if it can import ray

and prints one table: row, plait ops/s, Ray ops/s, plait/Ray. Without Ray it prints the
plait numbers alone and says so. Ray is only the yardstick, never a plait dependency.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ROOT / "bench" / "_workloads.py"
# A whole system's run is ~2 minutes; past this something hangs (each row also has its
# own timeout inside _workloads.py).
SYSTEM_TIMEOUT_S = 900


def ray_version(python: str) -> str | None:
    """The Ray version that interpreter imports, or None when it has no Ray."""
    if not python or not Path(python).exists():
        return None
    try:
        out = subprocess.run(
            [python, "-c", "import ray; print(ray.__version__)"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_ray_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def find_ray_python(explicit: str | None) -> tuple[str, str] | None:
    """(interpreter, ray version) of the first candidate that has Ray."""
    candidates = (
        [explicit]
        if explicit
        else [
            os.environ.get("PLAIT_BENCH_RAY_PYTHON", ""),
            str(ROOT / ".venv-ray" / "bin" / "python"),
            sys.executable,
        ]
    )
    for c in candidates:
        if c:
            v = ray_version(c)
            if v:
                return c, v
    return None


def _ray_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the Ray side must not see plait's sources
    env["RAY_USAGE_STATS_ENABLED"] = "0"  # no usage-report thread, no prompt
    return env


def _plait_env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    return env


# Put in front of every plait process (driver, GCS, raylet, workers) of a --plait-rev run:
# the editable install's import hook would otherwise send `import plait` to the checkout.
_SITECUSTOMIZE = """\
import sys
sys.meta_path[:] = [f for f in sys.meta_path
                    if not type(f).__module__.startswith("_editable_skbc_plait")]
"""


def export_rev(rev: str, dest: Path) -> tuple[Path, str]:
    """Export python/plait at a git revision into dest; (source dir, full commit)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit, "python/plait"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    (dest / "python" / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return dest / "python", commit


def run_system(
    system: str, python: str, env: dict[str, str], passthrough: list[str], workdir: Path
) -> dict[str, Any] | None:
    """Run the workloads on one system; its results, or None when the run failed."""
    out_json = workdir / f"{system}.json"
    log = workdir / f"{system}.log"
    cmd = [python, str(WORKLOADS), "--system", system, "--json-out", str(out_json), *passthrough]
    print(f"== {system}: {shlex.join(cmd)}", flush=True)
    start = time.perf_counter()
    with open(log, "w") as errf:
        # Rows stream to our stdout as they finish; the systems' own chatter (log lines
        # from raylets and workers) goes to the log file.
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=errf, text=True, env=env, cwd=ROOT
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                print("   " + line.rstrip(), flush=True)
            proc.wait(timeout=max(1.0, SYSTEM_TIMEOUT_S - (time.perf_counter() - start)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    took = time.perf_counter() - start
    if not out_json.exists():
        tail = log.read_text(errors="replace").splitlines()[-20:]
        print(
            f"== {system}: FAILED after {took:.0f} s (exit {proc.returncode}); "
            f"last lines of {log}:\n" + "\n".join("   " + t for t in tail),
            flush=True,
        )
        return None
    print(f"== {system}: done in {took:.0f} s", flush=True)
    data: dict[str, Any] = json.loads(out_json.read_text())
    data["wall_s"] = took
    return data


def source_state() -> dict[str, Any]:
    """Which plait was measured: the commit, and files under python/plait that differ."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    newest = max(
        (f.stat().st_mtime for f in (ROOT / "python" / "plait").rglob("*.py")), default=0.0
    )
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": git("status", "--porcelain", "--", "python/plait").splitlines(),
        "newest_source_mtime": newest,
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem_gib = 0.0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


NOISY_CORES = 0.2  # rows timed while other processes used more than this get a mark


def _fmt(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    if row.get("error"):
        return "error"
    mark = " †" if row.get("foreign_cores", 0.0) > NOISY_CORES else ""
    return f"{row['mean']:.1f} ± {row['std']:.1f}{mark}"


def table(plait: dict[str, Any] | None, ray: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One entry per row: name, both results and plait/Ray."""
    by_sys = {
        k: {r["name"]: r for r in (d or {}).get("rows", [])}
        for k, d in (("plait", plait), ("ray", ray))
    }
    names = list(by_sys["plait"]) + [n for n in by_sys["ray"] if n not in by_sys["plait"]]
    out = []
    for n in names:
        p, r = by_sys["plait"].get(n), by_sys["ray"].get(n)
        ratio = None
        if p and r and p.get("mean") and r.get("mean"):
            ratio = p["mean"] / r["mean"]
        out.append({"name": n, "plait": p, "ray": r, "ratio": ratio})
    return out


def print_table(rows: list[dict[str, Any]], with_ray: bool, markdown: bool) -> None:
    head = ["benchmark", "plait ops/s"] + (["Ray ops/s", "plait/Ray"] if with_ray else [])
    body = []
    for r in rows:
        cells = [r["name"], _fmt(r["plait"])]
        if with_ray:
            cells += [_fmt(r["ray"]), "-" if r["ratio"] is None else f"{r['ratio']:.2f}"]
        body.append(cells)
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for cells in body:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(head, widths, strict=False))
    )
    print(line)
    print("-" * len(line))
    for cells in body:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=False))
            )
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--filter", default="", help="run only rows whose name contains SUBSTR")
    p.add_argument("--plait-only", action="store_true", help="do not run Ray")
    p.add_argument("--json", default="", metavar="OUT", help="write all results to OUT")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument(
        "--ray-python",
        default=None,
        help="interpreter with Ray installed (default: see the module doc)",
    )
    p.add_argument("--num-cpus", type=int, default=2, help="cluster CPUs (default 2)")
    p.add_argument(
        "--plait-rev",
        default=None,
        metavar="REV",
        help="benchmark plait as committed at this git revision (e.g. HEAD) "
        "instead of the working tree, which others may be editing",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="shorter timing windows (a smoke test; numbers are noisier)",
    )
    ns = p.parse_args(argv)

    passthrough = ["--num-cpus", str(ns.num_cpus)]
    if ns.filter:
        passthrough += ["--filter", ns.filter]
    if ns.quick:
        passthrough += ["--warmup-s", "0.2", "--run-s", "0.3", "--runs", "2"]

    ray_py: tuple[str, str] | None = None
    ray_note = "not requested (--plait-only)"
    if not ns.plait_only:
        ray_py = find_ray_python(ns.ray_python)
        if ray_py is None:
            tried = (
                ns.ray_python
                if ns.ray_python
                else "$PLAIT_BENCH_RAY_PYTHON, .venv-ray/bin/python, this interpreter"
            )
            ray_note = (
                f"Ray was not found (tried {tried}); run bench/setup_ray.sh to "
                "install it. Benchmarking plait alone."
            )
            print(ray_note, flush=True)
        else:
            ray_note = f"ray {ray_py[1]} ({ray_py[0]})"

    started = datetime.datetime.now().astimezone()
    src = source_state()
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plait-bench-") as tmp:
        workdir = Path(tmp)
        plait_src = ROOT / "python"
        if ns.plait_rev:
            plait_src, src["commit"] = export_rev(ns.plait_rev, workdir / "plait-src")
            src.update(rev=ns.plait_rev, dirty=[])
            print(f"== plait: python/plait as of {ns.plait_rev} ({src['commit'][:12]})")
        plait = run_system("plait", sys.executable, _plait_env(plait_src), passthrough, workdir)
        ray = None
        if ray_py is not None:
            ray = run_system("ray", ray_py[0], _ray_env(), passthrough, workdir)
    wall_s = time.perf_counter() - wall0
    if not ns.plait_rev and source_state()["newest_source_mtime"] != src["newest_source_mtime"]:
        print(
            "WARNING: files under python/plait changed during the run; the plait numbers "
            "may mix two versions. Run it again.",
            flush=True,
        )
        src["changed_during_run"] = True

    rows = table(plait, ray)
    print()
    versus = (
        f"ray {ray['version']}"
        if ray is not None
        else "Ray: "
        + ("not requested" if ns.plait_only else "not found" if ray_py is None else "failed")
    )
    print(
        f"plait {plait['version'] if plait else '(failed)'} vs {versus}; "
        f"{ns.num_cpus}-CPU cluster; ops/s as mean ± std of "
        f"{(plait or ray or {}).get('timing', {}).get('runs', '?')} timed runs"
    )
    print_table(rows, ray is not None, ns.markdown)
    if any(_fmt(r[k]).endswith("†") for r in rows for k in ("plait", "ray")):
        print(
            f"† other processes on the machine used over {NOISY_CORES} cores while this "
            "row was timed (even after one re-run): the number is likely low."
        )
    if ray is None and not ns.plait_only:
        print(f"\n{ray_note}")
    print(f"\ntotal wall time {wall_s:.0f} s")

    if ns.json:
        result = {
            "date": started.isoformat(timespec="seconds"),
            "machine": machine(),
            "command": shlex.join([Path(sys.executable).name, *sys.argv]),
            "plait_source": src,
            "wall_s": wall_s,
            "ray": ray_note,
            "plait_run": plait,
            "ray_run": ray,
            "table": rows,
        }
        Path(ns.json).write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nwrote {ns.json}")
    return 0 if plait is not None else 1


if __name__ == "__main__":
    sys.exit(main())
