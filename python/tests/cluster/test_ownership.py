"""Owners free what nobody can reach; borrowers keep what they hold alive."""

from __future__ import annotations

import gc
import os
from typing import Any

import numpy as np
import pytest
from plait_fixtures import local_cluster, wait_for

import plait
from plait._core.context import current_core_worker
from plait._protocol import raylet_pb2

cluster = local_cluster(num_cpus=2)
pytestmark = pytest.mark.usefixtures("cluster")


def store_stats() -> raylet_pb2.GetNodeStatsReply:
    cw = current_core_worker()
    reply: raylet_pb2.GetNodeStatsReply = cw.raylet_sync.GetNodeStats(
        raylet_pb2.GetNodeStatsRequest(), timeout=10
    )
    return reply


def test_dropping_the_last_ref_frees_store_memory() -> None:
    gc.collect()
    base = store_stats().store_used_bytes
    ref = plait.put(np.zeros(10_000_000, dtype=np.uint8))
    assert store_stats().store_used_bytes >= base + 10_000_000
    del ref
    gc.collect()
    wait_for(
        lambda: store_stats().store_used_bytes <= base,
        timeout=10,
        what="the store to give the memory back",
    )


def test_dropping_a_task_return_frees_store_memory() -> None:
    @plait.remote
    def make(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.uint8)  # written into the store by the worker

    gc.collect()
    base = store_stats().store_used_bytes
    ref = make.remote(10_000_000)
    assert int(plait.get(ref, timeout=30)[-1]) == 1
    assert store_stats().store_used_bytes >= base + 10_000_000
    del ref
    gc.collect()
    wait_for(
        lambda: store_stats().store_used_bytes <= base,
        timeout=10,
        what="the store to give the task's return back",
    )


def test_dropping_small_refs_frees_owner_memory() -> None:
    cw = current_core_worker()
    gc.collect()
    before = cw.ref_counter.num_owned()
    refs = [plait.put(i) for i in range(100)]
    assert cw.ref_counter.num_owned() >= before + 100
    del refs
    gc.collect()
    wait_for(
        lambda: cw.ref_counter.num_owned() <= before, timeout=10, what="owned objects to be freed"
    )


def test_borrower_keeps_object_alive_after_owner_drops_ref() -> None:
    @plait.remote
    class Holder:
        def hold(self, refs: list[Any]) -> None:
            self.refs = refs

        def read(self) -> float:
            return float(plait.get(self.refs[0]).sum())

    h = Holder.remote()
    ref = plait.put(np.ones(200_000))
    plait.get(h.hold.remote([ref]))
    del ref
    gc.collect()
    assert plait.get(h.read.remote(), timeout=30) == 200_000.0


def test_ref_returned_inside_a_value_stays_readable() -> None:
    @plait.remote
    def make() -> list[Any]:
        return [plait.put(np.full(50_000, 3.0))]

    inner = plait.get(make.remote(), timeout=30)[0]
    gc.collect()
    assert float(plait.get(inner, timeout=30).sum()) == 150_000.0


def test_object_containing_many_refs() -> None:
    refs = [plait.put(i) for i in range(2000)]
    outer = plait.put(refs)
    del refs
    got = plait.get(outer)
    assert plait.get(got[1999]) == 1999


def test_object_whose_owner_died_is_lost() -> None:
    from plait import exceptions as exc

    @plait.remote
    class Maker:
        def make(self) -> list[Any]:
            self.keep = plait.put(np.zeros(10))
            return [self.keep]

        def pid(self) -> int:
            return os.getpid()

    m = Maker.remote()
    inner = plait.get(m.make.remote(), timeout=30)[0]
    pid = plait.get(m.pid.remote())
    plait.kill(m)
    wait_for(
        lambda: (
            not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
        ),
        what="the owner to exit",
    )
    with pytest.raises(exc.ObjectLostError):
        plait.get(inner, timeout=30)
