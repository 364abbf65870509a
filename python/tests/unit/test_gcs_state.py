"""GcsState without sockets: names, recovery from SQLite, node timeouts, jobs, KV."""

from __future__ import annotations

from pathlib import Path

from plait._protocol import common_pb2
from plait._services.gcs.state import OWNER_JOB_FINISHED, GcsState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_state(path: Path, clock: FakeClock | None = None, timeout_s: float = 5.0) -> GcsState:
    clock = clock or FakeClock()
    return GcsState(str(path), node_timeout_s=timeout_s, clock=clock, wall_clock=clock)


def node(node_id: str, cpus: float = 4.0) -> common_pb2.NodeInfo:
    return common_pb2.NodeInfo(
        node_id=node_id, ip="127.0.0.1", raylet_port=1234, total_resources={"CPU": cpus}
    )


def actor(
    actor_id: bytes,
    *,
    name: str = "",
    namespace: str = "ns",
    job_id: bytes = b"\x00\x00\x00\x01",
    node_id: str = "",
    worker_id: bytes = b"",
    detached: bool = False,
    state: int = common_pb2.PENDING_CREATION,
) -> common_pb2.ActorInfo:
    return common_pb2.ActorInfo(
        actor_id=actor_id,
        job_id=job_id,
        name=name,
        namespace=namespace,
        detached=detached,
        state=state,  # type: ignore[arg-type]
        class_name="Counter",
        address=common_pb2.Address(node_id=node_id, worker_id=worker_id),
    )


def state_of(s: GcsState, actor_id: bytes) -> int:
    info = s.actors.get(actor_id)
    assert info is not None
    return info.state


def test_named_actor_conflict_in_same_namespace(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    assert s.register_actor(actor(b"a1", name="x", namespace="y")) == ""
    err = s.register_actor(actor(b"a2", name="x", namespace="y"))
    assert err == "actor name 'x' already taken in namespace 'y'"
    assert s.actors.get(b"a2") is None
    # Same name in another namespace is fine.
    assert s.register_actor(actor(b"a3", name="x", namespace="z")) == ""
    found = s.actors.get_named("y", "x")
    assert found is not None and found.actor_id == b"a1"


def test_name_is_released_when_actor_dies(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    s.register_actor(actor(b"a1", name="x"))
    s.update_actor(common_pb2.ActorInfo(actor_id=b"a1", state=common_pb2.DEAD, death_cause="bye"))
    assert s.actors.get_named("ns", "x") is None
    assert s.register_actor(actor(b"a2", name="x")) == ""
    found = s.actors.get_named("ns", "x")
    assert found is not None and found.actor_id == b"a2"


def test_update_merges_and_dead_is_final(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    s.register_actor(actor(b"a1", name="x"))
    s.update_actor(
        common_pb2.ActorInfo(
            actor_id=b"a1",
            state=common_pb2.ALIVE,
            address=common_pb2.Address(node_id="n1", ip="10.0.0.1", port=7, worker_id=b"w"),
        )
    )
    info = s.actors.get(b"a1")
    assert info is not None
    assert info.state == common_pb2.ALIVE and info.class_name == "Counter"
    assert info.address.port == 7 and info.name == "x"
    s.update_actor(common_pb2.ActorInfo(actor_id=b"a1", state=common_pb2.DEAD))
    s.update_actor(common_pb2.ActorInfo(actor_id=b"a1", state=common_pb2.ALIVE))
    assert state_of(s, b"a1") == common_pb2.DEAD
    assert s.update_actor(common_pb2.ActorInfo(actor_id=b"nope")) is None


def test_recovery_from_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "gcs.sqlite"
    s = make_state(path)
    s.register_node(node("n1"))
    job1 = s.register_job(common_pb2.JobInfo(namespace="ns", driver_pid=42))
    job2 = s.register_job(common_pb2.JobInfo(namespace="ns"))
    assert job1 == b"\x00\x00\x00\x01" and job2 == b"\x00\x00\x00\x02"
    s.register_actor(actor(b"det", name="keeper", detached=True, job_id=job1))
    s.register_actor(actor(b"tmp", job_id=job2))
    s.mark_job_finished(job2)
    s.kv.put("fn", "key1", b"v1", overwrite=False)
    s.close()

    r = make_state(path)
    job = r.jobs.get(job1)
    assert job is not None and job.driver_pid == 42 and not job.finished
    assert r.jobs.finished_ids() == [job2]
    named = r.actors.get_named("ns", "keeper")
    assert named is not None and named.detached
    assert state_of(r, b"tmp") == common_pb2.DEAD
    assert r.kv.get("fn", "key1") == b"v1"
    # The job counter survives: no id is handed out twice.
    assert r.register_job(common_pb2.JobInfo()) == b"\x00\x00\x00\x03"
    # Nodes come back, but not alive until they heartbeat.
    nodes = r.nodes.all()
    assert [n.node_id for n in nodes] == ["n1"] and not nodes[0].alive
    known, view, _ = r.heartbeat("n1", {"CPU": 3.0})
    assert known and view[0].alive and view[0].available_resources["CPU"] == 3.0
    r.close()


def test_recovered_node_that_never_heartbeats_is_declared_dead(tmp_path: Path) -> None:
    path = tmp_path / "gcs.sqlite"
    s = make_state(path)
    s.register_node(node("n1"))
    s.register_actor(actor(b"a1", node_id="n1", state=common_pb2.ALIVE, detached=True))
    s.close()
    clock = FakeClock()
    r = make_state(path, clock)
    clock.now += 6.0
    assert r.check_node_health() == ["n1"]
    assert state_of(r, b"a1") == common_pb2.DEAD
    r.close()


def test_node_timeout_marks_its_actors_dead(tmp_path: Path) -> None:
    clock = FakeClock()
    s = make_state(tmp_path / "gcs.sqlite", clock, timeout_s=5.0)
    s.register_node(node("n1"))
    s.register_node(node("n2"))
    s.register_actor(actor(b"on1", name="x", node_id="n1", state=common_pb2.ALIVE))
    s.register_actor(actor(b"on2", node_id="n2", state=common_pb2.ALIVE))

    clock.now += 3.0
    assert s.heartbeat("n2", {"CPU": 4.0})[0]
    assert s.check_node_health() == []
    clock.now += 3.0  # n1 silent for 6 s, n2 for 3 s
    assert s.check_node_health() == ["n1"]

    dead = s.actors.get(b"on1")
    assert dead is not None and dead.state == common_pb2.DEAD
    assert "n1" in dead.death_cause
    assert s.actors.get_named("ns", "x") is None
    assert state_of(s, b"on2") == common_pb2.ALIVE
    n1 = s.nodes.get("n1")
    assert n1 is not None and not n1.alive
    # The dead node is told to re-register, and it is alive again once it does.
    assert s.heartbeat("n1", {})[0] is False
    s.register_node(node("n1"))
    assert s.heartbeat("n1", {})[0] is True
    # A node never seen is told to register.
    assert s.heartbeat("stranger", {})[0] is False


def test_unregister_node_kills_its_actors(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    s.register_node(node("n1"))
    s.register_actor(actor(b"a1", node_id="n1", state=common_pb2.ALIVE))
    killed = s.unregister_node("n1")
    assert [a.actor_id for a in killed] == [b"a1"]
    assert state_of(s, b"a1") == common_pb2.DEAD


def test_heartbeat_reports_nodes_resources_and_finished_jobs(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    s.register_node(node("n1", cpus=4))
    s.register_node(node("n2", cpus=2))
    s.heartbeat("n2", {"CPU": 0.5})
    job = s.register_job(common_pb2.JobInfo())
    s.mark_job_finished(job)
    known, nodes, finished = s.heartbeat("n1", {"CPU": 1.0})
    assert known
    avail = {n.node_id: n.available_resources["CPU"] for n in nodes}
    assert avail == {"n1": 1.0, "n2": 0.5}
    assert finished == [job]


def test_job_finish_kills_non_detached_actors(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    job = s.register_job(common_pb2.JobInfo(namespace="ns"))
    other = s.register_job(common_pb2.JobInfo(namespace="ns"))
    s.register_actor(actor(b"plain", job_id=job, state=common_pb2.ALIVE))
    s.register_actor(actor(b"detached", job_id=job, detached=True, state=common_pb2.ALIVE))
    s.register_actor(actor(b"other", job_id=other, state=common_pb2.ALIVE))
    s.mark_job_finished(job)
    finished = s.jobs.get(job)
    assert finished is not None and finished.finished
    plain = s.actors.get(b"plain")
    assert plain is not None and plain.state == common_pb2.DEAD
    assert plain.death_cause == OWNER_JOB_FINISHED
    assert state_of(s, b"detached") == common_pb2.ALIVE
    assert state_of(s, b"other") == common_pb2.ALIVE


def test_worker_death_kills_hosted_actors(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    s.register_actor(actor(b"a1", node_id="n1", worker_id=b"w1", state=common_pb2.ALIVE))
    s.register_actor(actor(b"a2", node_id="n1", worker_id=b"w2", state=common_pb2.ALIVE))
    s.report_worker_death(b"w1", "n1", "worker crashed: SIGSEGV")
    a1 = s.actors.get(b"a1")
    assert a1 is not None and a1.state == common_pb2.DEAD
    assert a1.death_cause == "worker crashed: SIGSEGV"
    assert state_of(s, b"a2") == common_pb2.ALIVE


def test_list_actors_filters(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    s.register_actor(actor(b"a1", name="x", namespace="y"))
    s.register_actor(actor(b"a2", namespace="y"))
    s.register_actor(actor(b"a3", name="z", namespace="other"))
    s.register_actor(actor(b"a4", name="gone", namespace="y", state=common_pb2.DEAD))

    def ids(only_named: bool, ns: str, all_ns: bool) -> set[bytes]:
        return {a.actor_id for a in s.actors.list(only_named, ns, all_ns)}

    assert ids(True, "y", False) == {b"a1"}
    assert ids(False, "y", False) == {b"a1", b"a2", b"a4"}
    assert ids(True, "", True) == {b"a1", b"a3"}


def test_kv_semantics(tmp_path: Path) -> None:
    s = make_state(tmp_path / "gcs.sqlite")
    kv = s.kv
    assert kv.put("ns", "a/1", b"one", overwrite=False) is True
    assert kv.put("ns", "a/1", b"uno", overwrite=False) is False
    assert kv.get("ns", "a/1") == b"one"
    assert kv.put("ns", "a/1", b"uno", overwrite=True) is False
    assert kv.get("ns", "a/1") == b"uno"
    kv.put("ns", "a/2", b"two", overwrite=False)
    kv.put("ns", "b/1", b"bee", overwrite=False)
    kv.put("other", "a/3", b"x", overwrite=False)
    assert kv.keys("ns", "a/") == ["a/1", "a/2"]
    assert kv.keys("ns", "") == ["a/1", "a/2", "b/1"]
    assert kv.get("other", "a/1") is None
    assert kv.delete("ns", "a/1") is True
    assert kv.delete("ns", "a/1") is False
    assert kv.get("ns", "a/1") is None
