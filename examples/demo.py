"""plait demo: a Ray-core program running unchanged on plait.

Starts a local cluster (a GCS and a raylet as separate processes, Python workers started by
the raylet), then runs tasks, an actor, a zero-copy Arrow table through the shared-memory
object store, and shows a remote error caught as its own type.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import plait
import plait as ray


@ray.remote
def square(x: int) -> int:
    return x * x


@ray.remote
def column_sum(table: pa.Table, column: str) -> float:
    # The table arrives from the node's shared-memory store without being copied.
    return float(pc.sum(table.column(column)).as_py())


@ray.remote
class Counter:
    def __init__(self) -> None:
        self.total = 0

    def add(self, x: int) -> int:
        self.total += x
        return self.total


@ray.remote
def fails() -> None:
    raise ValueError("something went wrong remotely")


def java_service_drives_python_actor(gcs_address: str) -> None:
    """A Java program joins this cluster as a driver and calls a Python actor."""
    here = Path(__file__).resolve().parent
    jar = here.parent / "build" / "java-examples" / "plait-examples.jar"
    print("\n-- a Java service (plait java) drives a Python actor on this cluster --")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "plait._cli",
            "java",
            "--address",
            gcs_address,
            "-cp",
            str(jar),
            "io.plait.examples.ModelService",
        ],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(out.stdout.rstrip())
    if out.returncode != 0:
        raise SystemExit(f"the Java service failed:\n{out.stderr[-3000:]}")

    # And the other way: Python calls the JDK and keeps a Java object as an actor.
    print(
        "java.lang.Math.max(3, 7) from Python:",
        ray.get(plait.java_function("java.lang.Math", "max").remote(3, 7)),
    )
    names = plait.java_actor_class("java.util.ArrayList").remote()
    ray.get([names.add.remote(n) for n in ("ada", "grace")])
    print("a java.util.ArrayList actor holds", ray.get(names.size.remote()), "names")


def python_drives_cpp_kernel() -> None:
    """Python calls a C++ kernel (examples/cpp, built with plait's CMake helper) on an
    Arrow table that the kernel reads in place from shared memory."""
    here = Path(__file__).resolve().parent
    library = here.parent / "build" / "cpp-examples" / "libplait_example.so"
    print("\n-- Python drives a C++ kernel on an Arrow table --")
    ray.init(num_cpus=2, code_search_path=[str(library)])
    n = 1_000_000
    table = pa.table({"x": np.arange(n, dtype=np.float64), "y": np.ones(n)})
    ref = ray.put(table)  # 16 MB into the store once
    saxpy = plait.cpp_function("saxpy")
    out = ray.get(saxpy.remote(2.0, ref))
    print(
        f"saxpy(2.0, table) in C++: {out.num_rows:,} rows, y[:4] = "
        f"{out.column('y').to_numpy()[:4].tolist()}"
    )
    counter = plait.cpp_actor_class("Counter").remote(10)
    print("C++ Counter actor:", ray.get([counter.add.remote(1), counter.add.remote(5)]))
    try:
        ray.get(plait.cpp_function("divide").remote(1.0, 0.0))
    except plait.exceptions.CrossLanguageError as e:
        print("C++ exception reached Python:", " ".join(str(e).splitlines()[:2]))
    ray.shutdown()


def main() -> None:
    t0 = time.monotonic()
    info = ray.init(num_cpus=2)
    print(
        f"cluster up in {time.monotonic() - t0:.2f}s: GCS at {info['gcs_address']}, "
        f"resources {ray.cluster_resources()}"
    )

    print("squares:", ray.get([square.remote(i) for i in range(10)]))

    counter = Counter.remote()
    for i in range(5):
        counter.add.remote(i)
    print("actor total after 0+1+2+3+4:", ray.get(counter.add.remote(0)))

    table = pa.table({"x": np.arange(5_000_000, dtype=np.int64)})
    ref = ray.put(table)  # ~40 MB, written once into shared memory
    print("sum over a 40 MB Arrow table in a task:", ray.get(column_sum.remote(ref, "x")))
    before = pa.total_allocated_bytes()
    local = ray.get(ref)
    copied = pa.total_allocated_bytes() - before
    print(f"driver read {local.num_rows:,} rows back; bytes copied: {copied}")

    try:
        ray.get(fails.remote())
    except ValueError as e:
        print("caught remote ValueError:", str(e).splitlines()[-1])

    ready, pending = ray.wait([square.remote(3), square.remote(4)], num_returns=2, timeout=10)
    print("wait:", len(ready), "ready,", len(pending), "pending")

    java_service_drives_python_actor(info["gcs_address"])
    ray.shutdown()

    python_drives_cpp_kernel()
    print("done")


if __name__ == "__main__":
    main()
