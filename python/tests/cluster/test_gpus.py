"""GPUs: tasks and actors that ask for them get their own devices, named as the node's
CUDA_VISIBLE_DEVICES names them; tasks that ask for none see the node's environment."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

import plait
from plait._core.executor import device_ids

NODE_DEVICES = "5,7"  # the node may use these two devices only


@pytest.fixture(scope="module")
def gpu_cluster() -> Iterator[None]:
    if plait.is_initialized():
        plait.shutdown()
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = NODE_DEVICES  # the raylet inherits it
    try:
        plait.init(num_cpus=2)
    finally:
        if before is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES")
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = before
    try:
        yield
    finally:
        plait.shutdown()


pytestmark = pytest.mark.usefixtures("gpu_cluster")


@plait.remote(num_gpus=1)
def hold_gpu(seconds: float) -> tuple[list[Any], str | None]:
    time.sleep(seconds)
    return plait.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")


def test_node_detects_its_visible_gpus() -> None:
    assert plait.cluster_resources()["GPU"] == 2


def test_concurrent_gpu_tasks_get_distinct_devices() -> None:
    a, b = plait.get([hold_gpu.remote(0.5), hold_gpu.remote(0.5)], timeout=60)
    assert sorted(a[0] + b[0]) == [5, 7]  # one device each, from the node's list
    assert {a[1], b[1]} == {"5", "7"}
    assert a[1] == str(a[0][0]) and b[1] == str(b[0][0])


def test_task_without_gpus_sees_the_node_environment() -> None:
    @plait.remote
    def no_gpu() -> tuple[list[Any], str | None]:
        return plait.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    plait.get([hold_gpu.remote(0), hold_gpu.remote(0)], timeout=60)  # workers used a GPU
    for ids, env in plait.get([no_gpu.remote() for _ in range(4)], timeout=60):
        assert ids == [] and env == NODE_DEVICES  # as in Ray: not overridden


def test_actor_gets_its_gpu_for_its_lifetime() -> None:
    @plait.remote(num_gpus=1)
    class OnGpu:
        def devices(self) -> tuple[list[Any], str | None]:
            return plait.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    actor = OnGpu.remote()
    ids, env = plait.get(actor.devices.remote(), timeout=60)
    assert len(ids) == 1 and ids[0] in (5, 7) and env == str(ids[0])
    # The actor holds its GPU: one is left, and a task gets the other device.
    other, _ = plait.get(hold_gpu.remote(0), timeout=60)
    assert other != ids
    assert plait.get(actor.devices.remote(), timeout=60) == (ids, env)
    plait.kill(actor)


def test_fractional_gpus_share_a_device() -> None:
    @plait.remote(num_gpus=0.5)
    class HalfGpu:
        def devices(self) -> tuple[list[Any], str | None]:
            return plait.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    a, b = HalfGpu.remote(), HalfGpu.remote()
    (ids_a, env_a), (ids_b, env_b) = plait.get([a.devices.remote(), b.devices.remote()], timeout=60)
    assert ids_a == ids_b and len(ids_a) == 1 and env_a == env_b == str(ids_a[0])
    whole, _ = plait.get(hold_gpu.remote(0), timeout=60)  # the other device is whole
    assert whole != ids_a and whole[0] in (5, 7)
    plait.kill(a)
    plait.kill(b)


def test_device_ids_follow_the_visible_list() -> None:
    assert device_ids([0, 1], None) == [0, 1]
    assert device_ids([1], "5,7") == [7]
    assert device_ids([0], "GPU-1a2b,GPU-3c4d") == ["GPU-1a2b"]
    assert device_ids([2], "5,7") == [2]  # more GPUs configured than listed: the index
