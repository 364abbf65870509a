"""What it costs to put one large object into /dev/shm, by way of writing it.

    python bench/shm_write_cost.py [--mb 80] [--repeat 10]

plait's store writes each large object into a new file (until 292201a: ftruncate +
posix_fallocate + mmap + copy, python/plait/_transport/store_client.py:write_object; since:
write(2), write_object_parts) and the raylet unlinks the file when the object is freed;
Ray's plasma store copies into one region mapped once. This times those steps apart, so the "put gigabytes" rows of
bench/microbenchmark.py can be read: copying is cheap, fresh pages are not.
"""

from __future__ import annotations

import argparse
import mmap
import os
import resource
import sys
import time
from collections.abc import Callable

import numpy as np

SHM = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"


def measure(name: str, fn: Callable[[], None], repeat: int, mb: int) -> None:
    fn()  # warm
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    took = (time.perf_counter() - t0) / repeat
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    user = (r1.ru_utime - r0.ru_utime) / repeat
    system = (r1.ru_stime - r0.ru_stime) / repeat
    faults = (r1.ru_minflt - r0.ru_minflt) / repeat
    print(
        f"  {name:46s} {1e3 * took:7.1f} ms  (user {1e3 * user:6.1f}, system "
        f"{1e3 * system:6.1f}; {faults:7.0f} page faults)  = {mb / 1024 / took:5.2f} GB/s"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=80, help="object size (the benchmark: 80)")
    ap.add_argument("--repeat", type=int, default=10)
    ns = ap.parse_args()
    size = ns.mb * 1024 * 1024
    src = np.ones(size // 8, dtype=np.int64)
    data = src.data.cast("B")
    path = os.path.join(SHM, f"plait-bench-{os.getpid()}")
    try:
        run(size, data, path, ns.repeat, ns.mb)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return 0


def run(size: int, data: memoryview, path: str, repeat: int, mb: int) -> None:
    print(f"one {mb} MiB object into {SHM}, mean of {repeat}:")

    def new_file(flags: int = mmap.MAP_SHARED, fallocate: bool = True) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, size)
        if fallocate:
            os.posix_fallocate(fd, 0, size)
        mm = mmap.mmap(fd, size, flags, mmap.PROT_READ | mmap.PROT_WRITE)
        os.close(fd)
        view = memoryview(mm)
        view[:] = data
        view.release()
        mm.close()
        os.unlink(path)

    measure("new file, mmap + copy (incl. unlink)", new_file, repeat, mb)

    def new_file_write() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        view = data
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)
        os.unlink(path)

    measure("new file, write(2) (incl. unlink)", new_file_write, repeat, mb)

    def unlink_only() -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, size)
        os.posix_fallocate(fd, 0, size)
        os.close(fd)

    unlink_times = []
    for _ in range(repeat):
        unlink_only()
        t = time.perf_counter()
        os.unlink(path)
        unlink_times.append(time.perf_counter() - t)
    print(
        f"  {'  of which unlink (the raylet, on free)':46s} "
        f"{1e3 * sum(unlink_times) / repeat:7.1f} ms"
    )

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    os.posix_fallocate(fd, 0, size)

    def recycled(flags: int = mmap.MAP_SHARED) -> None:
        mm = mmap.mmap(fd, size, flags, mmap.PROT_READ | mmap.PROT_WRITE)
        view = memoryview(mm)
        view[:] = data
        view.release()
        mm.close()

    measure("recycled file, new mapping", recycled, repeat, mb)
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if populate:
        measure(
            "recycled file, new mapping + MAP_POPULATE",
            lambda: recycled(mmap.MAP_SHARED | populate),
            repeat,
            mb,
        )
    arena = mmap.mmap(fd, size, mmap.MAP_SHARED | populate, mmap.PROT_READ | mmap.PROT_WRITE)
    arena_view = memoryview(arena)

    def premapped() -> None:
        arena_view[:] = data

    measure("region mapped once (plasma-like): copy only", premapped, repeat, mb)
    arena_view.release()
    arena.close()
    os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
