"""Two raylets (two nodes) on one machine: spillback, cross-node objects, node join."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from plait_fixtures import wait_for

import plait
from plait._services.node import NodeProcesses, start_head, start_worker_node


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[tuple[NodeProcesses, NodeProcesses]]:
    if plait.is_initialized():
        plait.shutdown()
    head = start_head(num_cpus=1, resources={"head_only": 1})
    try:
        worker = start_worker_node(head.gcs_address, num_cpus=1, resources={"special": 2})
        try:
            plait.init(address=head.gcs_address)
            try:
                yield head, worker
            finally:
                plait.shutdown()
        finally:
            worker.stop()
    finally:
        head.stop()


@plait.remote
def where() -> str:
    return plait.get_runtime_context().get_node_id()


def test_second_node_joins(two_nodes: tuple[NodeProcesses, NodeProcesses]) -> None:
    head, worker = two_nodes
    nodes = wait_for(
        lambda: (
            [n for n in plait.nodes() if n["Alive"]]
            if len([n for n in plait.nodes() if n["Alive"]]) == 2
            else None
        ),
        what="two live nodes",
    )
    assert {n["NodeID"] for n in nodes} == {head.node_id, worker.node_id}
    res = plait.cluster_resources()
    assert res["CPU"] == 2 and res["special"] == 2 and res["head_only"] == 1


def test_task_that_needs_other_node_runs_there(
    two_nodes: tuple[NodeProcesses, NodeProcesses],
) -> None:
    head, worker = two_nodes
    assert plait.get(where.options(resources={"special": 1}).remote(), timeout=60) == worker.node_id
    assert plait.get(where.options(resources={"head_only": 1}).remote(), timeout=60) == head.node_id


def test_tasks_spill_over_when_local_node_is_full(
    two_nodes: tuple[NodeProcesses, NodeProcesses],
) -> None:
    import time

    @plait.remote
    def busy() -> str:
        time.sleep(1.0)
        return plait.get_runtime_context().get_node_id()

    nodes = set(plait.get([busy.remote() for _ in range(4)], timeout=60))
    assert nodes == {two_nodes[0].node_id, two_nodes[1].node_id}


def test_object_made_on_one_node_is_read_on_the_other(
    two_nodes: tuple[NodeProcesses, NodeProcesses],
) -> None:
    head, worker = two_nodes

    @plait.remote(resources={"special": 1})
    def produce() -> Any:
        return np.arange(1_000_000, dtype=np.int64)  # 8 MB: in node 2's store

    @plait.remote(resources={"head_only": 1})
    def consume(arr: Any) -> tuple[int, str]:
        return int(arr.sum()), plait.get_runtime_context().get_node_id()

    ref = produce.remote()
    total, node = plait.get(consume.remote(ref), timeout=60)
    assert node == head.node_id
    assert total == int(np.arange(1_000_000, dtype=np.int64).sum())
    assert int(plait.get(ref, timeout=60)[-1]) == 999_999

    big = plait.put(np.ones(300_000))  # made by the driver on the head node

    @plait.remote(resources={"special": 1})
    def remote_sum(a: Any) -> float:
        return float(a.sum())

    assert plait.get(remote_sum.remote(big), timeout=60) == 300_000.0


def test_actor_on_other_node(two_nodes: tuple[NodeProcesses, NodeProcesses]) -> None:
    @plait.remote(resources={"special": 1})
    class Where:
        def node(self) -> str:
            return plait.get_runtime_context().get_node_id()

    a = Where.remote()
    assert plait.get(a.node.remote(), timeout=60) == two_nodes[1].node_id
