"""ActorSubmissionState (actor creation and calls) driven by events, without sockets."""

from __future__ import annotations

import itertools

import pytest

from plait._core.actor_state import (
    ActorInstruction,
    ActorSubmissionState,
    FindDeathCause,
    FinishTask,
    LookUpActor,
    PushActorTask,
    PushCreation,
    ReportAlive,
    ReportDead,
)
from plait._core.errors import error_object
from plait._core.lease_state import DropBorrower, RequestLease, ReturnLease, WithdrawLeaseRequest
from plait._core.task_spec import PendingTask
from plait._core.task_state import (
    CancelOnWorker,
    CompleteTask,
    FailTask,
    ResolveDeps,
    StopResolvingDeps,
)
from plait._format import exceptions as exc
from plait._protocol import common_pb2, raylet_pb2, worker_pb2

LOCAL = "127.0.0.1:7000"
ACTOR = b"actor-1"
WORKER = common_pb2.Address(node_id="n1", ip="10.0.0.1", port=9, worker_id=b"aw")
_ids = itertools.count()


def machine() -> ActorSubmissionState:
    n = itertools.count()
    return ActorSubmissionState(LOCAL, new_id=lambda: b"req%d" % next(n))


def creation_task() -> PendingTask:
    spec = common_pb2.TaskSpec(
        task_id=b"create", type=common_pb2.ACTOR_CREATION_TASK, name="A.__init__"
    )
    spec.actor_creation.actor_id = ACTOR
    spec.resources["CPU"] = 1.0
    return PendingTask(spec=spec, pinned=[])


def call(method: str = "m", owned_deps: tuple[int, ...] = ()) -> PendingTask:
    spec = common_pb2.TaskSpec(task_id=b"call%d" % next(_ids), type=common_pb2.ACTOR_TASK)
    spec.actor_task.actor_id = ACTOR
    spec.actor_task.method_name = method
    return PendingTask(spec=spec, pinned=[], owned_deps=list(owned_deps))


def only(out: list[ActorInstruction], kind: type) -> list:  # type: ignore[type-arg]
    return [i for i in out if isinstance(i, kind)]


def granted() -> raylet_pb2.RequestWorkerLeaseReply:
    return raylet_pb2.RequestWorkerLeaseReply(granted=True, lease_id=b"L", worker_address=WORKER)


def create_alive(sm: ActorSubmissionState) -> list[ActorInstruction]:
    (req,) = sm.create(creation_task(), detached=False)
    assert isinstance(req, RequestLease)
    (push,) = sm.lease_replied(ACTOR, req.request.request_id, granted())
    assert isinstance(push, PushCreation)
    (alive,) = sm.creation_replied(ACTOR, worker_pb2.PushTaskReply())
    assert isinstance(alive, ReportAlive) and alive.address == WORKER
    return sm.alive_reported(ACTOR, None)


def test_creation_leases_an_actor_worker_pushes_and_reports_alive() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=True)
    assert isinstance(req, RequestLease)
    assert req.is_actor and req.detached and req.request.raylet == LOCAL
    (push,) = sm.lease_replied(ACTOR, req.request.request_id, granted())
    assert isinstance(push, PushCreation) and push.lease.worker == WORKER
    sm.creation_replied(ACTOR, worker_pb2.PushTaskReply())
    (finish,) = sm.alive_reported(ACTOR, None)
    assert isinstance(finish, FinishTask)
    assert sm.state(ACTOR).address == WORKER


def test_calls_queued_behind_creation_go_out_in_order_once_alive() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    calls = [call() for _ in range(3)]
    for c in calls:
        assert sm.submit_call(c) == []  # no GCS lookup: we are creating it
    (push,) = sm.lease_replied(ACTOR, req.request.request_id, granted())  # type: ignore[union-attr]
    sm.creation_replied(ACTOR, worker_pb2.PushTaskReply())
    pushes = only(sm.alive_reported(ACTOR, None), PushActorTask)
    assert [p.task for p in pushes] == calls
    assert [c.spec.actor_task.sequence_number for c in calls] == [0, 1, 2]


def test_creation_spillback_uses_the_shared_lease_logic() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    assert isinstance(req, RequestLease)
    spill = raylet_pb2.RequestWorkerLeaseReply(
        spillback=True, spillback_ip="10.0.0.2", spillback_port=7001
    )
    (again,) = sm.lease_replied(ACTOR, req.request.request_id, spill)
    assert isinstance(again, RequestLease)
    assert again.request.raylet == "10.0.0.2:7001" and again.request.grant_or_queue
    (push,) = sm.lease_replied(ACTOR, req.request.request_id, granted())
    assert isinstance(push, PushCreation) and push.lease.raylet == "10.0.0.2:7001"


def test_constructor_error_marks_the_actor_dead_and_fails_its_calls() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    pending = call()
    sm.submit_call(pending)
    sm.lease_replied(ACTOR, req.request.request_id, granted())  # type: ignore[union-attr]
    data = error_object(ValueError("bad arg")).data
    reply = worker_pb2.PushTaskReply(
        actor_creation_failed=True, returns=[common_pb2.ReturnObject(object_id=b"r", data=data)]
    )
    (dead,) = sm.creation_replied(ACTOR, reply)
    assert isinstance(dead, ReportDead)
    assert "constructor raised" in dead.cause and "bad arg" in dead.cause
    out = sm.dead_reported(ACTOR, dead.cause)
    (ret,) = only(out, ReturnLease)
    assert ret.disconnect
    assert only(out, FinishTask) and only(out, DropBorrower)[0].worker_id == b"aw"
    (fail,) = only(out, FailTask)
    assert fail.task is pending and isinstance(fail.error, exc.ActorDiedError)
    later = call()
    (fail,) = sm.submit_call(later)  # type: ignore[assignment]
    assert isinstance(fail.error, exc.ActorDiedError)


def test_worker_dying_during_creation_reports_the_actor_dead() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    sm.lease_replied(ACTOR, req.request.request_id, granted())  # type: ignore[union-attr]
    (dead,) = sm.creation_push_failed(ACTOR, "UNAVAILABLE")
    assert isinstance(dead, ReportDead) and "died while creating it" in dead.cause


def test_killed_while_waiting_for_a_worker_withdraws_the_request() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    assert isinstance(req, RequestLease)
    pending = call()
    sm.submit_call(pending)
    out = sm.killed(ACTOR, "killed")
    (withdraw,) = only(out, WithdrawLeaseRequest)
    assert withdraw.request_id == req.request.request_id
    assert only(out, FailTask)[0].task is pending
    # The raylet answers "cancelled": creation is abandoned, no GCS report.
    out = sm.lease_replied(
        ACTOR, req.request.request_id, raylet_pb2.RequestWorkerLeaseReply(cancelled=True)
    )
    assert [type(i) for i in out] == [FinishTask]


def test_killed_before_the_grant_arrives_gives_the_worker_back() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    sm.killed(ACTOR, "killed")
    out = sm.lease_replied(ACTOR, req.request.request_id, granted())  # type: ignore[union-attr]
    (ret,) = only(out, ReturnLease)
    assert ret.disconnect and not only(out, PushCreation) and only(out, FinishTask)


def test_killed_elsewhere_during_creation_abandons_it() -> None:
    sm = machine()
    (req,) = sm.create(creation_task(), detached=False)
    sm.lease_replied(ACTOR, req.request.request_id, granted())  # type: ignore[union-attr]
    sm.creation_replied(ACTOR, worker_pb2.PushTaskReply())
    out = sm.alive_reported(ACTOR, "killed by plait.kill()")
    assert only(out, ReturnLease) and only(out, FinishTask)
    assert sm.state(ACTOR).dead_cause == "killed by plait.kill()"


def test_calls_to_an_actor_made_elsewhere_look_it_up_once() -> None:
    sm = machine()
    first, second = call(), call()
    (look,) = sm.submit_call(first)
    assert isinstance(look, LookUpActor) and look.actor_id == ACTOR
    assert sm.submit_call(second) == []
    pushes = sm.actor_alive(ACTOR, WORKER)
    assert [p.task for p in pushes] == [first, second]  # type: ignore[union-attr]
    (reply,) = sm.call_replied(ACTOR, first, worker_pb2.PushTaskReply())
    assert isinstance(reply, CompleteTask)


def test_actor_death_fails_calls_in_flight_and_queued() -> None:
    sm = machine()
    create_alive(sm)
    sent = call()
    (push,) = sm.submit_call(sent)
    assert isinstance(push, PushActorTask)
    (probe,) = sm.call_push_failed(ACTOR, sent, "UNAVAILABLE", "gone")
    assert isinstance(probe, FindDeathCause)
    held = call()
    assert sm.submit_call(held) == []  # held while the cause is asked for
    out = sm.actor_dead(ACTOR, "the worker process exited")
    failed = only(out, FailTask)
    assert {f.task.spec.task_id for f in failed} == {sent.spec.task_id, held.spec.task_id}
    assert all(
        isinstance(f.error, exc.ActorDiedError) and "the worker process exited" in str(f.error)
        for f in failed
    )
    assert only(out, DropBorrower)[0].worker_id == b"aw"


def test_calls_keep_per_caller_order_around_one_waiting_for_arguments() -> None:
    sm = machine()
    create_alive(sm)
    a = call(owned_deps=(0,))
    b, c = call(), call()
    (resolve,) = sm.submit_call(a)
    assert isinstance(resolve, ResolveDeps) and resolve.task is a
    assert sm.submit_call(b) == [] and sm.submit_call(c) == []
    pushes = sm.call_deps_resolved(a, None)
    assert [p.task for p in pushes] == [a, b, c]  # type: ignore[union-attr]
    assert [t.spec.actor_task.sequence_number for t in (a, b, c)] == [0, 1, 2]


def test_cancel_a_call_not_sent_never_pushes_it() -> None:
    sm = machine()
    create_alive(sm)
    a = call(owned_deps=(0,))
    b = call()
    sm.submit_call(a)
    sm.submit_call(b)
    found, out = sm.cancel(a.spec.task_id, force=False, recursive=True)
    assert found
    assert isinstance(out[0], StopResolvingDeps)
    assert isinstance(only(out, FailTask)[0].error, exc.TaskCancelledError)
    (push,) = only(out, PushActorTask)  # the call behind it goes on
    assert push.task is b and b.spec.actor_task.sequence_number == 0
    assert sm.call_deps_resolved(a, None) == []


def test_cancel_a_sent_call_asks_the_actor() -> None:
    sm = machine()
    create_alive(sm)
    sent = call()
    sm.submit_call(sent)
    found, out = sm.cancel(sent.spec.task_id, force=False, recursive=False)
    (cancel,) = out
    assert found and isinstance(cancel, CancelOnWorker) and cancel.worker == WORKER
    (fail,) = sm.call_replied(ACTOR, sent, worker_pb2.PushTaskReply(cancelled=True))
    assert isinstance(fail, FailTask) and isinstance(fail.error, exc.TaskCancelledError)


def test_cancel_with_force_or_of_an_unknown_call() -> None:
    sm = machine()
    create_alive(sm)
    sent = call()
    sm.submit_call(sent)
    with pytest.raises(ValueError, match="force=True"):
        sm.cancel(sent.spec.task_id, force=True, recursive=True)
    assert sm.cancel(b"nope", force=False, recursive=True) == (False, [])
