"""The raylet as a real process, next to a real GCS process (and real workers)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from plait_fixtures import ROOT

from plait._protocol import common_pb2, gcs_pb2, gcs_pb2_grpc, raylet_pb2, raylet_pb2_grpc
from plait._services.raylet.worker_pool import PoolConfig, WorkerPool, WorkerStartError

PYTHONPATH = str(ROOT / "python")
START_TIMEOUT_S = 15.0
T = TypeVar("T")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHONPATH
    return env


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path, log: Path, what: str) -> str:
    def check() -> str | None:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{log.read_text()}")
        return ready.read_text() if ready.exists() else None

    return wait_for(check, what, START_TIMEOUT_S)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


@dataclass
class Raylet:
    proc: subprocess.Popen[bytes]
    node_id: str
    port: int
    store_dir: str
    log: Path
    stub: Any  # RayletServiceStub (untyped generated code)
    channel: grpc.Channel

    def stats(self) -> raylet_pb2.GetNodeStatsReply:
        reply: raylet_pb2.GetNodeStatsReply = self.stub.GetNodeStats(
            raylet_pb2.GetNodeStatsRequest(), timeout=5
        )
        return reply


@dataclass
class Gcs:
    proc: subprocess.Popen[bytes]
    address: str
    stub: Any  # GcsServiceStub

    def nodes(self) -> dict[str, common_pb2.NodeInfo]:
        reply = self.stub.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=5)
        return {n.node_id: n for n in reply.nodes}


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gcs]:
    d = tmp_path_factory.mktemp("gcs")
    ready, log = d / "gcs.ready", d / "gcs.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "plait._services.gcs", "--host", "127.0.0.1", "--port", "0",
             "--storage", str(d / "gcs.sqlite"), "--ready-file", str(ready)],
            env=_env(), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        port = int(_wait_ready(proc, ready, log, "the GCS").strip())
        address = f"127.0.0.1:{port}"
        with grpc.insecure_channel(address) as channel:
            yield Gcs(proc, address, gcs_pb2_grpc.GcsServiceStub(channel))
    finally:
        _stop(proc)


StartRaylet = Callable[..., Raylet]


@pytest.fixture(scope="module")
def start_raylet(gcs: Gcs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartRaylet]:
    """Starts raylets on the module's GCS; every one is stopped at the end."""
    started: list[Raylet] = []

    def start(*args: str) -> Raylet:
        d = tmp_path_factory.mktemp("raylet")
        ready, log = d / "raylet.ready", d / "raylet.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "plait._services.raylet", "--gcs-address", gcs.address,
                 "--node-ip", "127.0.0.1", "--port", "0", "--session-dir", str(d / "session"),
                 "--object-store-memory", str(64 << 20), "--ready-file", str(ready), *args],
                env=_env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            info = json.loads(_wait_ready(proc, ready, log, "the raylet"))
        except BaseException:
            _stop(proc)
            raise
        channel = grpc.insecure_channel(f"127.0.0.1:{info['port']}")
        raylet = Raylet(
            proc, info["node_id"], info["port"], info["store_dir"], log,
            raylet_pb2_grpc.RayletServiceStub(channel), channel,
        )  # fmt: skip
        started.append(raylet)
        return raylet

    yield start
    codes = []
    for raylet in started:
        raylet.channel.close()
        codes.append(_stop(raylet.proc))
    # SIGTERM is a clean shutdown: exit status 0, store deleted.
    assert codes == [0] * len(started)
    assert not any(os.path.exists(r.store_dir) for r in started)


@pytest.fixture(scope="module")
def raylet1(start_raylet: StartRaylet) -> Raylet:
    """The head node: 1 CPU, no GPU."""
    return start_raylet("--num-cpus", "1", "--num-gpus", "0", "--head")


def lease_request(
    resources: dict[str, float], job_id: bytes = b"\0\0\0\x63", **kw: Any
) -> raylet_pb2.RequestWorkerLeaseRequest:
    return raylet_pb2.RequestWorkerLeaseRequest(
        request_id=os.urandom(16), job_id=job_id, language=common_pb2.PYTHON,
        resources=resources, **kw,
    )  # fmt: skip


def assert_pending(raylet: Raylet, future: Any, count: int = 1) -> None:
    wait_for(lambda: raylet.stats().num_pending_leases == count, "the lease to be pending", 5)
    time.sleep(0.3)
    assert not future.done()


def test_node_registers_with_the_gcs_and_reports_stats(gcs: Gcs, raylet1: Raylet) -> None:
    node = gcs.nodes()[raylet1.node_id]
    assert node.alive and node.is_head
    assert node.raylet_port == raylet1.port
    assert node.store_dir == raylet1.store_dir
    assert dict(node.total_resources) == {"CPU": 1.0, "node:127.0.0.1": 1.0}
    stats = raylet1.stats()
    assert stats.node_id == raylet1.node_id
    assert dict(stats.total_resources) == {"CPU": 1.0, "node:127.0.0.1": 1.0}
    assert dict(stats.available_resources) == dict(stats.total_resources)
    assert stats.store_capacity_bytes == 64 << 20
    assert stats.store_used_bytes == 0 and stats.num_objects == 0
    assert stats.num_pending_leases == 0
    assert os.path.isdir(raylet1.store_dir)


def test_request_too_big_for_the_cluster_waits_until_cancelled(raylet1: Raylet) -> None:
    req = lease_request({"CPU": 4})
    future = raylet1.stub.RequestWorkerLease.future(req, timeout=10)
    assert_pending(raylet1, future)
    cancel = raylet1.stub.CancelWorkerLease(
        raylet_pb2.CancelWorkerLeaseRequest(request_id=req.request_id), timeout=5
    )
    assert cancel.cancelled
    reply = future.result(timeout=5)
    assert reply.cancelled and not reply.granted
    assert raylet1.stats().num_pending_leases == 0
    # A second cancel finds nothing to cancel.
    again = raylet1.stub.CancelWorkerLease(
        raylet_pb2.CancelWorkerLeaseRequest(request_id=req.request_id), timeout=5
    )
    assert not again.cancelled


def test_gpu_request_on_a_cluster_without_gpus_is_queued_as_infeasible(raylet1: Raylet) -> None:
    req = lease_request({"GPU": 1})
    future = raylet1.stub.RequestWorkerLease.future(req, timeout=10)
    assert_pending(raylet1, future)
    wait_for(lambda: "{GPU: 1} is infeasible" in raylet1.log.read_text(), "the warning", 5)
    raylet1.stub.CancelWorkerLease(
        raylet_pb2.CancelWorkerLeaseRequest(request_id=req.request_id), timeout=5
    )
    assert future.result(timeout=5).cancelled


def test_second_raylet_joins_and_gets_the_requests_node_1_cannot_run(
    gcs: Gcs, raylet1: Raylet, start_raylet: StartRaylet
) -> None:
    # Asked before node 2 exists: infeasible on node 1, then spilled once node 2 joins.
    waiting = raylet1.stub.RequestWorkerLease.future(
        lease_request({"CPU": 1, "custom": 1}), timeout=15
    )
    assert_pending(raylet1, waiting)
    raylet2 = start_raylet("--num-cpus", "2", "--resources", '{"custom": 2}')
    assert gcs.nodes()[raylet2.node_id].alive
    reply = waiting.result(timeout=5)
    assert reply.spillback and not reply.granted
    assert reply.spillback_node_id == raylet2.node_id
    assert (reply.spillback_ip, reply.spillback_port) == ("127.0.0.1", raylet2.port)
    # Asked now that node 2 is known: spilled at once.
    reply = raylet1.stub.RequestWorkerLease(lease_request({"custom": 1}), timeout=5)
    assert reply.spillback and reply.spillback_node_id == raylet2.node_id


def test_cpu_lease_is_granted_once_a_worker_registers_and_returned(raylet1: Raylet) -> None:
    reply = raylet1.stub.RequestWorkerLease(lease_request({"CPU": 1}), timeout=START_TIMEOUT_S)
    assert reply.granted, reply.error
    assert reply.worker_address.node_id == raylet1.node_id
    assert reply.worker_address.port > 0 and len(reply.worker_address.worker_id) == 16
    stats = raylet1.stats()
    assert stats.available_resources["CPU"] == 0.0
    assert stats.num_workers >= 1
    raylet1.stub.ReturnWorkerLease(
        raylet_pb2.ReturnWorkerLeaseRequest(lease_id=reply.lease_id), timeout=5
    )
    stats = raylet1.stats()
    assert stats.available_resources["CPU"] == 1.0
    assert stats.num_idle_workers >= 1
    # The idle worker is reused by the next lease of the same job.
    again = raylet1.stub.RequestWorkerLease(lease_request({"CPU": 1}), timeout=5)
    assert again.granted and again.worker_address.worker_id == reply.worker_address.worker_id
    # Killing the leased worker ends the lease and gives its resources back.
    killed = raylet1.stub.KillWorker(
        raylet_pb2.KillWorkerRequest(worker_id=again.worker_address.worker_id, reason="test"),
        timeout=5,
    )
    assert killed.killed
    wait_for(lambda: raylet1.stats().available_resources["CPU"] == 1.0, "the CPU to come back", 5)
    # It is gone from the pool: killing it again finds nothing.
    again_killed = raylet1.stub.KillWorker(
        raylet_pb2.KillWorkerRequest(worker_id=again.worker_address.worker_id), timeout=5
    )
    assert not again_killed.killed


def test_driver_exit_stops_its_jobs_workers_and_finishes_the_job(gcs: Gcs, raylet1: Raylet) -> None:
    job_id = gcs.stub.RegisterJob(
        gcs_pb2.RegisterJobRequest(job=common_pb2.JobInfo(namespace="t")), timeout=5
    ).job_id
    before = raylet1.stats()
    driver = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        raylet1.stub.RegisterWorker(
            raylet_pb2.RegisterWorkerRequest(
                worker_id=os.urandom(16), pid=driver.pid, is_driver=True, job_id=job_id
            ),
            timeout=5,
        )
        # Registering a driver prestarts min(2, num_cpus) = 1 worker for its job.
        wait_for(
            lambda: raylet1.stats().num_idle_workers > before.num_idle_workers,
            "a prestarted worker",
            10,
        )
    finally:
        driver.kill()
        driver.wait(5)
    wait_for(
        lambda: gcs.stub.GetJob(gcs_pb2.GetJobRequest(job_id=job_id), timeout=5).job.finished,
        "the job to be marked finished",
        5,
    )
    wait_for(
        lambda: raylet1.stats().num_workers <= before.num_workers, "the job's workers to stop", 5
    )


def test_shutdown_rpc_stops_the_raylet_and_removes_its_store(
    gcs: Gcs, start_raylet: StartRaylet
) -> None:
    raylet = start_raylet("--num-cpus", "1")
    assert os.path.isdir(raylet.store_dir)
    raylet.stub.Shutdown(raylet_pb2.ShutdownRayletRequest(), timeout=5)
    assert raylet.proc.wait(10) == 0
    assert not os.path.exists(raylet.store_dir)
    assert not gcs.nodes()[raylet.node_id].alive


# ---- WorkerPool with processes that stand in for nothing users run: they only give the
# pool real children to watch (a worker main that never registers, dies, or idles). ----


def _sleeper(language: int, worker_id: bytes, job_id: bytes) -> list[str]:
    return [sys.executable, "-c", "import time; time.sleep(30)"]


def _pool(**config: Any) -> tuple[WorkerPool, list[tuple[bytes, str]]]:
    exits: list[tuple[bytes, str]] = []

    async def no_job(job_id: bytes) -> None:
        return None

    pool = WorkerPool(
        PoolConfig(
            node_id="n", node_ip="127.0.0.1", raylet_address="127.0.0.1:1",
            gcs_address="127.0.0.1:2", store_dir="/nonexistent", **config,
        ),
        get_job_info=no_job,
        on_worker_exit=lambda w, reason: exits.append((w.worker_id, reason)),
        on_driver_exit=lambda d: None,
        command=_sleeper,
    )  # fmt: skip
    return pool, exits


async def _until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_pool_kills_a_worker_that_does_not_register_and_fails_its_waiter() -> None:
    async def main() -> None:
        pool, exits = _pool(num_cpus=1, register_timeout_s=0.3)
        watcher = asyncio.create_task(pool.run())
        try:
            with pytest.raises(WorkerStartError, match="did not register within 0.3 s"):
                await asyncio.wait_for(pool.pop_worker(b"job", common_pb2.PYTHON), 5)
            assert pool.num_workers() == 0
            assert exits == []  # never registered: nobody else knew it
        finally:
            watcher.cancel()
            await pool.close(grace_s=0.1)

    asyncio.run(main())


def test_pool_reports_a_registered_workers_death_with_the_signal() -> None:
    async def main() -> None:
        pool, exits = _pool(num_cpus=1)
        watcher = asyncio.create_task(pool.run())
        try:
            popped = asyncio.create_task(pool.pop_worker(b"job", common_pb2.PYTHON))
            await _until(lambda: pool.num_workers() == 1, "the worker to start")
            (worker,) = pool.workers()
            assert pool.register_worker(worker.worker_id, 1234, worker.pid) is worker
            assert await asyncio.wait_for(popped, 5) is worker
            assert pool.register_worker(worker.worker_id, 1234, worker.pid) is None
            os.kill(worker.pid, signal.SIGKILL)
            await _until(lambda: bool(exits), "the death to be seen")
            assert exits == [(worker.worker_id, "worker process killed by signal SIGKILL (Killed)")]
            assert pool.num_workers() == 0
        finally:
            watcher.cancel()
            await pool.close(grace_s=0.1)

    asyncio.run(main())


def test_pool_stops_idle_workers_beyond_the_per_job_allowance() -> None:
    async def main() -> None:
        pool, exits = _pool(num_cpus=1, idle_timeout_s=0.2, kill_grace_s=0.2)
        watcher = asyncio.create_task(pool.run())
        try:
            await pool.prestart(b"job", common_pb2.PYTHON, 3)
            for worker in pool.workers():
                pool.register_worker(worker.worker_id, 1, worker.pid)
            assert pool.num_idle() == 3
            # max(2, num_cpus) = 2 idle workers stay; the third goes after 0.2 s idle.
            await _until(lambda: len(exits) == 1, "an idle worker to stop")
            assert exits[0][1] == "idle worker stopped"
            await asyncio.sleep(0.4)
            assert pool.num_idle() == 2 and pool.num_workers() == 2
        finally:
            watcher.cancel()
            await pool.close(grace_s=0.1)

    asyncio.run(main())
