"""One node's shared-memory object store: the files, driven by `StorePolicy`.

Layout: one file per object, named by the object id in hex, in `store_dir` (a directory
under /dev/shm, so the pages are shared memory). Spilled objects are moved to `spill_dir`
on disk under the same name and copied back on demand. Files are written to a temporary
name and renamed into place whenever this process writes them (spill, restore), so no
reader ever maps a half-copied file.

Writers (workers, drivers) create and fill their object's file themselves
(`plait._transport.store_client.write_object`) between `create` and `seal`; objects pulled
from another node are written here, chunk by chunk (`begin_pull` / `write_chunk`).

Freeing or spilling an object unlinks its file. A process that still maps it keeps
reading valid data: the pages stay alive until its last mapping is gone, so that memory
is only returned to the system when the readers drop their buffers (and is, meanwhile,
not counted in `used_bytes`).

All methods are thread-safe (one lock), so the raylet may run the slow ones (spilling,
restoring: file copies) in a thread pool.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

from plait._services.object_store.policy import ObjectState, ObjectStoreFullError, StorePolicy

SHM_ROOT = "/dev/shm"
DEFAULT_CAPACITY_FRACTION = 0.3
TRANSFER_CHUNK_BYTES = 4 << 20


@dataclass(frozen=True)
class CreateResult:
    path: str
    # True when the object is already sealed (in memory or spilled): nothing to write.
    exists: bool


def default_capacity_bytes(
    shm_dir: str = SHM_ROOT, fraction: float = DEFAULT_CAPACITY_FRACTION
) -> int:
    """`fraction` of the system memory, capped by the free space of `shm_dir`.

    The cap matters in containers, where /dev/shm is often far smaller than the memory:
    reserving more than it holds would make writers fail with SIGBUS instead of a clear
    'object store full' error.
    """
    total_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    capacity = int(total_mem * fraction)
    if os.path.isdir(shm_dir):
        st = os.statvfs(shm_dir)
        capacity = min(capacity, st.f_bavail * st.f_frsize)
    return max(capacity, 1)


def default_store_dirs(session_name: str, node_id: str) -> tuple[str, str]:
    """(store_dir, spill_dir) for a node: shared memory when the system has /dev/shm."""
    shm_root = SHM_ROOT if os.path.isdir(SHM_ROOT) else tempfile.gettempdir()
    store_dir = os.path.join(shm_root, f"plait-{session_name}", node_id)
    spill_dir = os.path.join(tempfile.gettempdir(), f"plait-{session_name}", "spill", node_id)
    return store_dir, spill_dir


class ObjectReader:
    """An open object file, read in chunks for a transfer to another node.

    Holding the descriptor keeps the data readable even if the object is spilled or freed
    meanwhile (the unlinked file lives until it is closed).
    """

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self.size = size

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self._fd, length, offset)
        if len(data) != min(length, max(self.size - offset, 0)):
            raise OSError(f"short read at offset {offset}: got {len(data)} bytes")
        return data

    def chunks(self, chunk_size: int = TRANSFER_CHUNK_BYTES) -> Iterator[tuple[int, bytes]]:
        """(offset, data) pieces covering the object in order."""
        for offset in range(0, self.size, chunk_size):
            yield offset, self.read(offset, min(chunk_size, self.size - offset))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LocalObjectStore:
    def __init__(
        self,
        store_dir: str,
        spill_dir: str,
        capacity_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store_dir = store_dir
        self.spill_dir = spill_dir
        os.makedirs(store_dir, exist_ok=True)
        os.makedirs(spill_dir, exist_ok=True)
        self._policy = StorePolicy(capacity_bytes, clock)
        self._lock = threading.RLock()

    @property
    def capacity_bytes(self) -> int:
        return self._policy.capacity_bytes

    def path_of(self, object_id: bytes) -> str:
        """Where the object's file lives in shared memory (whether or not it exists)."""
        return os.path.join(self.store_dir, object_id.hex())

    def _spill_path(self, object_id: bytes) -> str:
        return os.path.join(self.spill_dir, object_id.hex())

    def state(self, object_id: bytes) -> ObjectState | None:
        with self._lock:
            return self._policy.state(object_id)

    # -- writing -------------------------------------------------------------------
    def create(self, object_id: bytes, size: int) -> CreateResult:
        """Reserve room for an object a writer will fill; spills LRU objects if needed.

        Raises ObjectStoreFullError when no room can be made. An object still being
        created is handed out again (a retried writer rewrites the same bytes).
        """
        with self._lock:
            state = self._policy.state(object_id)
            if state is ObjectState.SEALED or state is ObjectState.SPILLED:
                return CreateResult(self.path_of(object_id), exists=True)
            if state is ObjectState.CREATING:
                return CreateResult(self.path_of(object_id), exists=False)
            self._make_room(size)
            self._policy.add_creating(object_id, size)
            return CreateResult(self.path_of(object_id), exists=False)

    def begin_pull(self, object_id: bytes, size: int) -> str | None:
        """Reserve room for an object pulled from another node and create its file.

        Returns None when the object is already here in any state (someone else created
        it meanwhile): the pull has nothing to write. Raises ObjectStoreFullError.
        """
        with self._lock:
            if object_id in self._policy:
                return None
            self._make_room(size)
            path = self.path_of(object_id)
            with open(path, "wb") as f:
                f.truncate(size)
            self._policy.add_creating(object_id, size)
            return path

    def write_chunk(self, object_id: bytes, offset: int, data: bytes) -> None:
        """Write a piece of a pulled object (outside the lock: the file is ours alone)."""
        fd = os.open(self.path_of(object_id), os.O_WRONLY)
        try:
            view = memoryview(data)
            while view:
                n = os.pwrite(fd, view, offset)
                view = view[n:]
                offset += n
        finally:
            os.close(fd)

    def seal(self, object_id: bytes) -> bool:
        """Make a created object immutable and readable. False when it cannot be sealed:
        it was freed while being created (its file is removed) or its file is missing."""
        with self._lock:
            state = self._policy.state(object_id)
            path = self.path_of(object_id)
            if state is None:
                _unlink(path)  # freed during creation: the writer's file is an orphan
                return False
            if state is not ObjectState.CREATING:
                return True  # sealing twice is harmless
            try:
                size = os.stat(path).st_size
            except FileNotFoundError:
                self._policy.remove(object_id)
                return False
            self._policy.seal(object_id, size)
            return True

    def abort(self, object_id: bytes) -> None:
        """Drop an object still being created (a failed pull)."""
        with self._lock:
            if self._policy.state(object_id) is ObjectState.CREATING:
                self._policy.remove(object_id)
                _unlink(self.path_of(object_id))

    # -- reading -------------------------------------------------------------------
    def get(self, object_id: bytes) -> tuple[str, int] | None:
        """(path, size) of a sealed object, restoring it from disk if spilled.

        None when the object is absent or not sealed yet. Raises ObjectStoreFullError when
        a spilled object cannot be brought back.
        """
        with self._lock:
            entry = self._policy.get(object_id)
            if entry is None or entry.state is ObjectState.CREATING:
                return None
            if entry.state is ObjectState.SPILLED:
                self._restore(object_id, entry.size)
            self._policy.touch(object_id)
            return self.path_of(object_id), entry.size

    def open_reader(self, object_id: bytes) -> ObjectReader | None:
        """An open reader of a sealed object, wherever it is (memory or spill dir), for a
        transfer; None when the object is absent or not sealed."""
        with self._lock:
            entry = self._policy.get(object_id)
            if entry is None or entry.state is ObjectState.CREATING:
                return None
            path = (
                self._spill_path(object_id)
                if entry.state is ObjectState.SPILLED
                else self.path_of(object_id)
            )
            fd = os.open(path, os.O_RDONLY)
            self._policy.touch(object_id)
            return ObjectReader(fd, entry.size)

    # -- spilling ------------------------------------------------------------------
    def spill(self, object_id: bytes) -> bool:
        """Move a sealed object to disk now; False when it is not sealed in memory."""
        with self._lock:
            if self._policy.state(object_id) is not ObjectState.SEALED:
                return False
            self._spill(object_id)
            return True

    def _make_room(self, size: int, exclude: bytes | None = None) -> None:
        for victim in self._policy.plan_room(size, exclude=exclude):
            self._spill(victim)

    def _spill(self, object_id: bytes) -> None:
        src = self.path_of(object_id)
        dst = self._spill_path(object_id)
        _copy_atomically(src, dst)
        _unlink(src)
        self._policy.mark_spilled(object_id)

    def _restore(self, object_id: bytes, size: int) -> None:
        self._make_room(size, exclude=object_id)
        src = self._spill_path(object_id)
        _copy_atomically(src, self.path_of(object_id))
        _unlink(src)
        self._policy.mark_restored(object_id)

    # -- freeing -------------------------------------------------------------------
    def free(self, object_id: bytes) -> bool:
        """Delete an object in any state; False when it was not here.

        Processes that still map the file keep their pages until they unmap them.
        """
        with self._lock:
            entry = self._policy.remove(object_id)
            if entry is None:
                return False
            path = (
                self._spill_path(object_id)
                if entry.state is ObjectState.SPILLED
                else self.path_of(object_id)
            )
            # Releasing a large tmpfs file's pages takes milliseconds: rename it aside
            # under the lock (the id may be created again at once), unlink it outside.
            doomed = f"{path}.freed-{os.urandom(4).hex()}"
            try:
                os.rename(path, doomed)
            except FileNotFoundError:
                return True
        _unlink(doomed)
        return True

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "used_bytes": self._policy.used_bytes,
                "capacity_bytes": self._policy.capacity_bytes,
                "num_objects": self._policy.num_in_memory(),
                "num_spilled": self._policy.num_spilled(),
                "spilled_bytes": self._policy.spilled_bytes,
            }

    def destroy(self) -> None:
        """Delete every object and both directories (the raylet is shutting down)."""
        with self._lock:
            for object_id in self._policy.object_ids():
                self._policy.remove(object_id)
            for d in (self.store_dir, self.spill_dir):
                shutil.rmtree(d, ignore_errors=True)
                # The session directory is shared by the nodes of one machine: remove it
                # only once the last of them is gone.
                try:
                    os.rmdir(os.path.dirname(d))
                except OSError:
                    pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _copy_atomically(src: str, dst: str) -> None:
    tmp = dst + ".part"
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        _unlink(tmp)
        raise


__all__ = [
    "CreateResult",
    "LocalObjectStore",
    "ObjectReader",
    "ObjectStoreFullError",
    "TRANSFER_CHUNK_BYTES",
    "default_capacity_bytes",
    "default_store_dirs",
]
