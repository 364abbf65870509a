"""The node's object store: spill decisions, object files, and zero-copy reads."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from plait._services.object_store.local_store import (
    LocalObjectStore,
    default_capacity_bytes,
    default_store_dirs,
)
from plait._services.object_store.policy import ObjectState, ObjectStoreFullError, StorePolicy
from plait._transport.store_client import map_object, write_object


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0  # every event happens strictly after the previous one
        return self.now


def oid(n: int) -> bytes:
    return n.to_bytes(20, "big")


# -- StorePolicy ---------------------------------------------------------------------
def sealed_policy(capacity: int, sizes: list[int]) -> StorePolicy:
    policy = StorePolicy(capacity, FakeClock())
    for i, size in enumerate(sizes):
        policy.add_creating(oid(i), size)
        policy.seal(oid(i))
    return policy


def test_policy_no_spill_when_room_left() -> None:
    policy = sealed_policy(100, [30, 30])
    assert policy.plan_room(40) == []
    assert policy.used_bytes == 60


def test_policy_spills_least_recently_used_first() -> None:
    policy = sealed_policy(100, [30, 30, 30])
    policy.touch(oid(0))  # now 1 is the least recently used, then 2, then 0
    assert policy.plan_room(20) == [oid(1)]
    assert policy.plan_room(50) == [oid(1), oid(2)]
    assert policy.plan_room(100) == [oid(1), oid(2), oid(0)]


def test_policy_never_spills_objects_being_created() -> None:
    policy = StorePolicy(100, FakeClock())
    policy.add_creating(oid(0), 60)  # not sealed
    policy.add_creating(oid(1), 30)
    policy.seal(oid(1))
    assert policy.plan_room(40) == [oid(1)]
    with pytest.raises(ObjectStoreFullError, match="still being created"):
        policy.plan_room(50)


def test_policy_rejects_object_larger_than_capacity_naming_sizes() -> None:
    policy = StorePolicy(1 << 20, FakeClock())
    with pytest.raises(ObjectStoreFullError) as info:
        policy.plan_room(3 << 20)
    message = str(info.value)
    assert "object store full" in message
    assert "3.0 MiB" in message and "1.0 MiB" in message


def test_policy_accounting_through_spill_restore_and_remove() -> None:
    policy = sealed_policy(100, [30, 50])
    policy.mark_spilled(oid(0))
    assert (policy.used_bytes, policy.spilled_bytes) == (50, 30)
    assert policy.state(oid(0)) is ObjectState.SPILLED
    assert (policy.num_in_memory(), policy.num_spilled()) == (1, 1)
    # Restoring excludes the object itself from the spill candidates.
    assert policy.plan_room(30, exclude=oid(0)) == []
    policy.mark_restored(oid(0))
    assert (policy.used_bytes, policy.spilled_bytes) == (80, 0)
    policy.remove(oid(1))
    assert policy.used_bytes == 30
    assert policy.remove(oid(1)) is None


def test_policy_seal_corrects_reserved_size() -> None:
    policy = StorePolicy(100, FakeClock())
    policy.add_creating(oid(0), 40)
    policy.seal(oid(0), size=25)
    assert policy.used_bytes == 25


# -- LocalObjectStore ------------------------------------------------------------------
@pytest.fixture
def store_dirs(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A store directory in shared memory (tmp where there is none) and a spill dir."""
    shm_root = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    store_dir = os.path.join(shm_root, f"plait-test-{uuid.uuid4().hex}", "node")
    yield store_dir, str(tmp_path / "spill")
    shutil.rmtree(os.path.dirname(store_dir), ignore_errors=True)


def put(store: LocalObjectStore, object_id: bytes, data: bytes) -> str:
    result = store.create(object_id, len(data))
    assert not result.exists

    def fill(view: memoryview) -> None:
        view[:] = data

    write_object(result.path, len(data), fill)
    assert store.seal(object_id)
    return result.path


def test_store_create_seal_get(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=1 << 20)
    path = put(store, oid(1), b"hello")
    assert path == os.path.join(store.store_dir, oid(1).hex())
    assert store.get(oid(1)) == (path, 5)
    assert Path(path).read_bytes() == b"hello"
    # Immutable once sealed: creating it again reports that it exists.
    assert store.create(oid(1), 5).exists
    assert store.stats() == {
        "used_bytes": 5,
        "capacity_bytes": 1 << 20,
        "num_objects": 1,
        "num_spilled": 0,
        "spilled_bytes": 0,
    }


def test_store_object_being_created_is_not_readable(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=1 << 20)
    store.create(oid(1), 10)
    assert store.state(oid(1)) is ObjectState.CREATING
    assert store.get(oid(1)) is None
    assert store.open_reader(oid(1)) is None


def test_store_spills_lru_to_disk_and_restores_on_get(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=100)
    a, b = os.urandom(40), os.urandom(40)
    path_a = put(store, oid(1), a)
    put(store, oid(2), b)
    store.get(oid(1))  # a read: now object 2 is the least recently used
    put(store, oid(3), os.urandom(40))
    assert store.state(oid(2)) is ObjectState.SPILLED
    assert store.state(oid(1)) is ObjectState.SEALED
    assert os.path.exists(os.path.join(store.spill_dir, oid(2).hex()))
    assert not os.path.exists(store.path_of(oid(2)))
    assert store.stats()["used_bytes"] == 80 and store.stats()["spilled_bytes"] == 40

    # Reading object 2 brings it back, spilling the least recently used (object 1).
    got = store.get(oid(2))
    assert got is not None and Path(got[0]).read_bytes() == b
    assert store.state(oid(1)) is ObjectState.SPILLED and not os.path.exists(path_a)
    assert not os.path.exists(os.path.join(store.spill_dir, oid(2).hex()))


def test_store_full_error_names_sizes(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=1000)
    with pytest.raises(ObjectStoreFullError, match=r"2000 bytes.*1000 B"):
        store.create(oid(1), 2000)


def test_store_free_deletes_memory_and_spilled_files(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=100)
    path = put(store, oid(1), b"x" * 60)
    put(store, oid(2), b"y" * 60)  # spills object 1
    assert store.free(oid(1)) and store.free(oid(2))
    assert not os.listdir(store.store_dir) and not os.listdir(store.spill_dir)
    assert not os.path.exists(path)
    assert store.stats()["used_bytes"] == 0 and store.stats()["spilled_bytes"] == 0
    assert not store.free(oid(1))


def test_store_seal_after_free_removes_orphan_file(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=100)
    result = store.create(oid(1), 4)
    store.free(oid(1))
    write_object(result.path, 4, lambda v: None)  # a writer that did not know
    assert not store.seal(oid(1))
    assert not os.path.exists(result.path)


def test_store_transfer_reader_and_pulled_chunks(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=1 << 20)
    data = os.urandom(10_000)
    put(store, oid(1), data)
    store.spill(oid(1))  # a spilled object is served from disk
    reader = store.open_reader(oid(1))
    assert reader is not None
    with reader:
        chunks = list(reader.chunks(4096))
    assert [off for off, _ in chunks] == [0, 4096, 8192]
    assert store.state(oid(1)) is ObjectState.SPILLED

    path = store.begin_pull(oid(2), len(data))
    assert path is not None
    assert store.begin_pull(oid(2), len(data)) is None  # already here (being created)
    for offset, piece in reversed(chunks):
        store.write_chunk(oid(2), offset, piece)
    assert store.seal(oid(2))
    assert Path(path).read_bytes() == data


def test_store_destroy_removes_directories(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=100)
    put(store, oid(1), b"abc")
    store.destroy()
    assert not os.path.exists(store.store_dir) and not os.path.exists(store.spill_dir)


def test_default_capacity_and_dirs() -> None:
    capacity = default_capacity_bytes()
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < capacity <= total * 0.3 + 1
    store_dir, spill_dir = default_store_dirs("sess", "n1")
    assert store_dir.endswith(os.path.join("plait-sess", "n1"))
    if os.path.isdir("/dev/shm"):
        assert store_dir.startswith("/dev/shm/")
    assert spill_dir != store_dir


# -- client: write_object / map_object -------------------------------------------------
def test_zero_copy_numpy_roundtrip(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=64 << 20)
    array = np.arange(1 << 20, dtype=np.float64)
    result = store.create(oid(1), array.nbytes)

    def fill(view: memoryview) -> None:
        np.frombuffer(view, dtype=np.uint8)[:] = array.view(np.uint8)

    write_object(result.path, array.nbytes, fill)
    store.seal(oid(1))
    got = store.get(oid(1))
    assert got is not None
    buf = map_object(got[0])
    out = np.frombuffer(buf, dtype=np.float64)
    np.testing.assert_array_equal(out, array)
    # The array's data lies inside the shared mapping of the file: no copy was made.
    assert buf.address <= out.ctypes.data < buf.address + buf.size
    assert out.ctypes.data != array.ctypes.data
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out[0] = 1.0
    maps = Path("/proc/self/maps").read_text() if os.path.exists("/proc/self/maps") else None
    if maps is not None:
        assert got[0] in maps


def test_mapped_object_survives_free(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=1 << 20)
    data = os.urandom(100_000)
    path = put(store, oid(1), data)
    buf = map_object(path)
    store.free(oid(1))
    assert not os.path.exists(path)
    assert buf.to_pybytes() == data


def test_write_object_tolerates_a_writer_keeping_a_view(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=1 << 20)
    result = store.create(oid(1), 8)
    kept: list[np.ndarray] = []

    def fill(view: memoryview) -> None:
        arr = np.frombuffer(view, dtype=np.uint8)
        arr[:] = 7
        kept.append(arr)  # an export of the mapping that outlives the call

    write_object(result.path, 8, fill)
    assert Path(result.path).read_bytes() == bytes([7] * 8)
    kept.clear()


def test_empty_object(store_dirs: tuple[str, str]) -> None:
    store = LocalObjectStore(*store_dirs, capacity_bytes=100)
    path = put(store, oid(1), b"")
    assert store.get(oid(1)) == (path, 0)
    assert map_object(path).size == 0


def test_write_object_parts_writes_chunks_in_order(tmp_path: Path) -> None:
    from plait._transport.store_client import map_object, write_object_parts

    parts = [b"head", memoryview(bytearray(b"\x00" * 60)), np.arange(1000, dtype=np.int64)]
    size = 4 + 60 + 8000
    path = str(tmp_path / "obj")
    write_object_parts(path, size, parts)
    buf = map_object(path)
    assert buf.size == size
    assert bytes(buf[:4]) == b"head"
    assert np.array_equal(np.frombuffer(buf[64:], dtype=np.int64), np.arange(1000))
    with pytest.raises(ValueError, match="add up to"):
        write_object_parts(path, size + 1, parts)
