"""The real GCS process over gRPC: RPCs, a waiting GetActor, and restart recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from plait_fixtures import ROOT

from plait._protocol import common_pb2, gcs_pb2, gcs_pb2_grpc

PYTHON_DIR = ROOT / "python"
START_TIMEOUT_S = 20.0


class GcsProcess:
    """`python -m plait._services.gcs` on a free port, with its output in files under `workdir`."""

    def __init__(self, workdir: Path, storage: Path, run: int) -> None:
        self.ready_file = workdir / f"ready-{run}"
        self.stdout_path = workdir / f"stdout-{run}.txt"
        self.stderr_path = workdir / f"stderr-{run}.txt"
        env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "plait._services.gcs",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--storage",
                    str(storage),
                    "--ready-file",
                    str(self.ready_file),
                ],
                stdout=out,
                stderr=err,
                env=env,
            )
        self._channel: grpc.Channel | None = None
        self.port = self._wait_ready()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = gcs_pb2_grpc.GcsServiceStub(  # type: ignore[no-untyped-call, unused-ignore]
            self._channel
        )

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                return int(self.ready_file.read_text())
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise AssertionError(f"GCS did not start:\n{self.stderr_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


@pytest.fixture
def gcs_runs(tmp_path: Path) -> Iterator[list[GcsProcess]]:
    """Collects every GCS started by a test and stops whatever is left at the end."""
    runs: list[GcsProcess] = []
    try:
        yield runs
    finally:
        for run in runs:
            run.stop(signal.SIGKILL)


def start(tmp_path: Path, runs: list[GcsProcess]) -> GcsProcess:
    gcs = GcsProcess(tmp_path, tmp_path / "gcs.sqlite", len(runs))
    runs.append(gcs)
    return gcs


def test_rpcs_waiting_get_actor_and_restart_recovery(
    tmp_path: Path, gcs_runs: list[GcsProcess]
) -> None:
    gcs = start(tmp_path, gcs_runs)
    stub = gcs.stub

    # Nodes and heartbeats.
    stub.RegisterNode(
        gcs_pb2.RegisterNodeRequest(
            node=common_pb2.NodeInfo(
                node_id="n1", ip="127.0.0.1", raylet_port=5000, total_resources={"CPU": 2}
            )
        ),
        timeout=5,
    )
    hb = stub.Heartbeat(
        gcs_pb2.HeartbeatRequest(node_id="n1", available_resources={"CPU": 1.5}), timeout=5
    )
    assert not hb.unknown_node
    assert [(n.node_id, n.alive, n.available_resources["CPU"]) for n in hb.nodes] == [
        ("n1", True, 1.5)
    ]
    assert stub.Heartbeat(gcs_pb2.HeartbeatRequest(node_id="ghost"), timeout=5).unknown_node

    # Jobs.
    job_id = stub.RegisterJob(
        gcs_pb2.RegisterJobRequest(job=common_pb2.JobInfo(namespace="app", driver_pid=7)),
        timeout=5,
    ).job_id
    assert job_id == b"\x00\x00\x00\x01"

    # Named actors.
    info = common_pb2.ActorInfo(
        actor_id=b"actor-1",
        job_id=job_id,
        name="counter",
        namespace="app",
        detached=True,
        state=common_pb2.PENDING_CREATION,
        class_name="Counter",
    )
    assert stub.RegisterActor(gcs_pb2.RegisterActorRequest(actor=info), timeout=5).error == ""
    clash = common_pb2.ActorInfo(actor_id=b"actor-2", name="counter", namespace="app")
    err = stub.RegisterActor(gcs_pb2.RegisterActorRequest(actor=clash), timeout=5).error
    assert "already taken" in err
    named = stub.GetNamedActor(
        gcs_pb2.GetNamedActorRequest(name="counter", namespace="app"), timeout=5
    )
    assert named.found and named.actor.actor_id == b"actor-1"

    # A short wait on a pending actor times out with its current state.
    t0 = time.monotonic()
    pending = stub.GetActor(
        gcs_pb2.GetActorRequest(actor_id=b"actor-1", wait_timeout_s=0.3), timeout=5
    )
    assert time.monotonic() - t0 >= 0.25
    assert pending.found and pending.actor.state == common_pb2.PENDING_CREATION

    # GetActor waits until another caller marks the actor ALIVE.
    replies: list[gcs_pb2.GetActorReply] = []

    def wait_alive() -> None:
        replies.append(
            stub.GetActor(
                gcs_pb2.GetActorRequest(actor_id=b"actor-1", wait_timeout_s=10), timeout=15
            )
        )

    waiter = threading.Thread(target=wait_alive)
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()  # still waiting: the actor is not ALIVE yet
    address = common_pb2.Address(node_id="n1", ip="127.0.0.1", port=6000, worker_id=b"w1")
    stub.UpdateActor(
        gcs_pb2.UpdateActorRequest(
            actor=common_pb2.ActorInfo(actor_id=b"actor-1", state=common_pb2.ALIVE, address=address)
        ),
        timeout=5,
    )
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    assert replies[0].found and replies[0].actor.state == common_pb2.ALIVE
    assert replies[0].actor.address.port == 6000

    # KV.
    put = gcs_pb2.KVPutRequest(ns="fn", key="f1", value=b"pickled", overwrite=False)
    assert stub.KVPut(put, timeout=5).added
    assert not stub.KVPut(put, timeout=5).added
    assert stub.KVGet(gcs_pb2.KVGetRequest(ns="fn", key="f1"), timeout=5).value == b"pickled"
    assert list(stub.KVKeys(gcs_pb2.KVKeysRequest(ns="fn", prefix="f"), timeout=5).keys) == ["f1"]

    # Crash (SIGKILL), restart on the same file: job, actor and KV are back.
    gcs.stop(signal.SIGKILL)
    again = start(tmp_path, gcs_runs)
    stub = again.stub
    job = stub.GetJob(gcs_pb2.GetJobRequest(job_id=job_id), timeout=5)
    assert job.found and job.job.driver_pid == 7 and job.job.namespace == "app"
    named = stub.GetNamedActor(
        gcs_pb2.GetNamedActorRequest(name="counter", namespace="app"), timeout=5
    )
    assert named.found and named.actor.state == common_pb2.ALIVE
    assert stub.KVGet(gcs_pb2.KVGetRequest(ns="fn", key="f1"), timeout=5).value == b"pickled"
    nodes = stub.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=5).nodes
    assert [(n.node_id, n.alive) for n in nodes] == [("n1", False)]
    hb = stub.Heartbeat(gcs_pb2.HeartbeatRequest(node_id="n1"), timeout=5)
    assert not hb.unknown_node and hb.nodes[0].alive
    assert stub.RegisterJob(gcs_pb2.RegisterJobRequest(), timeout=5).job_id == b"\x00\x00\x00\x02"

    # SIGTERM shuts it down cleanly, after it announced where it listened.
    assert again.stop(signal.SIGTERM) == 0
    assert f"GCS listening on 127.0.0.1:{again.port}" in again.stdout_path.read_text()
