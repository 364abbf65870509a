"""Process-side helpers for the node's object store: write an object file, map one.

The raylet decides where an object lives (CreateObject / GetObjects return a path); the
process that writes or reads the object does the memory work itself, so the bytes never
pass through the raylet.
"""

from __future__ import annotations

import errno
import mmap
import os
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa


def write_object(path: str, size: int, writer: Callable[[memoryview], None]) -> None:
    """Create the object file at `path` with `size` bytes and let `writer` fill it.

    `writer` gets a writable memoryview of a shared mapping of the file and must not keep
    views of it after returning. The bytes are visible to every process of the node as
    soon as they are written (the mapping is the page cache of the file); the raylet makes
    the object readable when the caller seals it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _allocate(fd, size)
        if size == 0:
            writer(memoryview(bytearray()))  # mmap cannot map an empty file
            return
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)  # the mapping holds its own reference to the file
    view = memoryview(mm)
    try:
        writer(view)
    finally:
        # If the writer kept a view of the mapping (an export), neither can be released
        # now; the mapping is then closed when the last view dies. msync (mm.flush) is not
        # needed either way: other processes map the same pages of the file.
        try:
            view.release()
            mm.close()
        except BufferError:
            pass


def write_object_parts(path: str, size: int, parts: Sequence[Any]) -> None:
    """Create the object file at `path` from consecutive chunks with write(2).

    On tmpfs this is about twice as fast as writing through a mapping: the kernel fills
    each new page with the data once, where a mapping first zeroes it (allocation) and
    then takes the copy. A full store fails here with OSError (ENOSPC), not SIGBUS.
    """
    views = [memoryview(p).cast("B") for p in parts]
    total = sum(len(v) for v in views)
    if total != size:
        raise ValueError(f"object parts add up to {total} bytes, expected {size}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        pending = [v for v in views if len(v)]
        while pending:
            written = os.writev(fd, pending[:_IOV_MAX])
            while written and pending:  # drop what went out; keep a partial chunk's rest
                if written >= len(pending[0]):
                    written -= len(pending[0])
                    pending.pop(0)
                else:
                    pending[0] = pending[0][written:]
                    written = 0
    finally:
        os.close(fd)


_IOV_MAX = 1024


def _allocate(fd: int, size: int) -> None:
    """Give the file its size, allocating its pages now when the file system can.

    On tmpfs, writing through a mapping into pages that cannot be allocated kills the
    process with SIGBUS; allocating up front turns that into an OSError (ENOSPC) here.
    """
    os.ftruncate(fd, size)
    if size == 0:
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


def map_object(path: str) -> pa.Buffer:
    """Map a sealed object read-only; the buffer points into shared memory (no copy).

    Arrow keeps the mapping alive as long as the buffer (or anything sliced from it, e.g.
    a numpy array or Arrow table read from it) lives, even after the file is closed here
    and even if the store unlinks the file (freed or spilled) meanwhile.
    """
    with pa.memory_map(path, "r") as f:
        return f.read_buffer()
