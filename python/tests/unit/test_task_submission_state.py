"""NormalTaskState (normal-task submission) driven by events, without sockets or a loop."""

from __future__ import annotations

import itertools

import pytest

from plait._core.errors import error_object
from plait._core.lease_state import (
    MAX_SPILLBACK_HOPS,
    DropBorrower,
    Lease,
    RequestLease,
    ReturnLease,
    WithdrawLeaseRequest,
)
from plait._core.memory_store import StoredObject
from plait._core.task_spec import PendingTask
from plait._core.task_state import (
    MAX_PENDING_LEASE_REQUESTS,
    MAX_TASKS_IN_FLIGHT_PER_LEASE,
    CancelOnWorker,
    CompleteTask,
    FailTask,
    KeyState,
    NormalTaskState,
    PushTask,
    ResolveDeps,
    StartIdleTimer,
    StopResolvingDeps,
    TaskInstruction,
)
from plait._format import exceptions as exc
from plait._protocol import common_pb2, raylet_pb2, worker_pb2

LOCAL = "127.0.0.1:7000"


def machine() -> NormalTaskState:
    n = itertools.count()
    return NormalTaskState(LOCAL, new_id=lambda: b"req%d" % next(n))


def make_task(
    max_retries: int = 3,
    retry_exceptions: bool | tuple[type[BaseException], ...] = False,
    owned_deps: tuple[int, ...] = (),
    name: str = "f",
) -> PendingTask:
    make_task.n += 1  # type: ignore[attr-defined]
    spec = common_pb2.TaskSpec(
        task_id=b"task%d" % make_task.n,  # type: ignore[attr-defined]
        name=name,
        max_retries=max_retries,
        resources={"CPU": 1.0},
    )
    return PendingTask(
        spec=spec, pinned=[], owned_deps=list(owned_deps), retry_exceptions=retry_exceptions
    )


make_task.n = 0  # type: ignore[attr-defined]


def granted(worker: bytes = b"w1", node: str = "n1") -> raylet_pb2.RequestWorkerLeaseReply:
    return raylet_pb2.RequestWorkerLeaseReply(
        granted=True,
        lease_id=b"lease-" + worker,
        worker_address=common_pb2.Address(node_id=node, ip="10.0.0.1", port=9, worker_id=worker),
    )


def spillback(port: int) -> raylet_pb2.RequestWorkerLeaseReply:
    return raylet_pb2.RequestWorkerLeaseReply(
        spillback=True, spillback_ip="10.0.0.2", spillback_port=port
    )


def only(out: list[TaskInstruction], kind: type) -> list:  # type: ignore[type-arg]
    return [i for i in out if isinstance(i, kind)]


def run_one(sm: NormalTaskState, task: PendingTask) -> tuple[KeyState, PushTask]:
    """Submit a task and grant its lease: the PushTask it leads to."""
    (req,) = only(sm.submit(task), RequestLease)
    out = sm.lease_replied(req.for_, req.request.request_id, granted())
    (push,) = only(out, PushTask)
    return req.for_, push


def test_submitted_task_requests_a_lease_from_the_local_raylet() -> None:
    sm = machine()
    out = sm.submit(make_task(name="square"))
    (req,) = out
    assert isinstance(req, RequestLease)
    assert req.request.raylet == LOCAL
    assert not req.request.grant_or_queue
    assert req.task_name == "square" and req.resources == {"CPU": 1.0}


def test_granted_lease_takes_the_task_and_goes_back_when_idle() -> None:
    sm = machine()
    task = make_task()
    key, push = run_one(sm, task)
    assert push.task is task and task.pushed_to is push.lease
    out = sm.push_replied(key, push.lease, task, worker_pb2.PushTaskReply())
    assert isinstance(out[0], CompleteTask) and out[0].task is task
    (timer,) = only(out, StartIdleTimer)
    assert task.spec.task_id not in sm.tasks
    assert sm.idle_timeout(key, push.lease, timer.epoch - 1) == []  # a stale timer
    (ret,) = sm.idle_timeout(key, push.lease, timer.epoch)
    assert isinstance(ret, ReturnLease) and not ret.disconnect and ret.raylet == LOCAL


def test_idle_lease_is_reused_by_the_next_task_without_a_new_request() -> None:
    sm = machine()
    first = make_task()
    key, push = run_one(sm, first)
    sm.push_replied(key, push.lease, first, worker_pb2.PushTaskReply())
    second = make_task()
    (push2,) = sm.submit(second)
    assert isinstance(push2, PushTask) and push2.lease is push.lease


def test_spillback_asks_the_named_raylet_which_must_grant_or_queue() -> None:
    sm = machine()
    (req,) = sm.submit(make_task())
    assert isinstance(req, RequestLease)
    (again,) = sm.lease_replied(req.for_, req.request.request_id, spillback(7001))
    assert isinstance(again, RequestLease)
    assert again.request.request_id == req.request.request_id
    assert again.request.raylet == "10.0.0.2:7001" and again.request.grant_or_queue
    (push,) = only(sm.lease_replied(req.for_, req.request.request_id, granted()), PushTask)
    assert push.lease.raylet == "10.0.0.2:7001"  # the lease goes back to the raylet that granted it


def test_too_many_spillbacks_end_the_request_and_a_new_one_starts_locally() -> None:
    sm = machine()
    (req,) = sm.submit(make_task())
    assert isinstance(req, RequestLease)
    rid = req.request.request_id
    for hop in range(MAX_SPILLBACK_HOPS - 1):
        (req,) = sm.lease_replied(req.for_, rid, spillback(7001 + hop))  # type: ignore[assignment]
    (fresh,) = sm.lease_replied(req.for_, rid, spillback(7100))
    assert isinstance(fresh, RequestLease)
    assert fresh.request.request_id != rid and fresh.request.raylet == LOCAL


def test_refused_lease_fails_the_queued_tasks() -> None:
    sm = machine()
    a, b = make_task(), make_task()
    (req,) = only(sm.submit(a), RequestLease)
    sm.submit(b)
    out = sm.lease_replied(
        req.for_, req.request.request_id, raylet_pb2.RequestWorkerLeaseReply(error="no worker")
    )
    failed = only(out, FailTask)
    assert [f.task for f in failed] == [a, b]
    assert all(isinstance(f.error, exc.RaySystemError) for f in failed)
    assert sm.tasks == {}


def test_unreachable_raylet_fails_the_queued_tasks_naming_it() -> None:
    sm = machine()
    task = make_task()
    (req,) = sm.submit(task)
    assert isinstance(req, RequestLease)
    (fail,) = sm.lease_request_failed(req.for_, req.request.request_id, "UNAVAILABLE")
    assert isinstance(fail, FailTask) and isinstance(fail.error, exc.RaySystemError)
    assert LOCAL in str(fail.error) and "UNAVAILABLE" in str(fail.error)


def test_infeasible_task_stays_queued_until_a_lease_comes() -> None:
    """The raylet queues a shape no node fits: nothing fails, the request stays."""
    sm = machine()
    task = make_task()
    (req,) = sm.submit(task)
    assert isinstance(req, RequestLease)
    assert sm.lease_request_pending(req.for_, req.request.request_id)
    assert task.spec.task_id in sm.tasks and list(req.for_.queue) == [task]
    (push,) = only(sm.lease_replied(req.for_, req.request.request_id, granted()), PushTask)
    assert push.task is task


def test_backlog_is_pipelined_onto_a_busy_lease_up_to_the_limit() -> None:
    sm = machine()
    tasks = [make_task() for _ in range(10)]
    reqs = [r for t in tasks for r in only(sm.submit(t), RequestLease)]
    assert len(reqs) == MAX_PENDING_LEASE_REQUESTS
    out = sm.lease_replied(reqs[0].for_, reqs[0].request.request_id, granted())
    pushes = only(out, PushTask)
    assert [p.task for p in pushes] == tasks[:MAX_TASKS_IN_FLIGHT_PER_LEASE]
    assert len(pushes[0].lease.in_flight) == MAX_TASKS_IN_FLIGHT_PER_LEASE
    key = reqs[0].for_
    assert len(key.lease_requests) == MAX_PENDING_LEASE_REQUESTS


def test_worker_death_retries_then_fails_with_worker_crashed_error() -> None:
    sm = machine()
    task = make_task(max_retries=2)
    key, push = run_one(sm, task)
    for attempt in (1, 2):
        out = sm.push_failed(key, push.lease, task, "UNAVAILABLE", "gone")
        (ret,) = only(out, ReturnLease)
        assert ret.disconnect  # the raylet kills what is left of the worker
        assert only(out, DropBorrower)[0].worker_id == push.lease.worker.worker_id
        assert task.spec.attempt == attempt and task.pushed_to is None
        assert not only(out, FailTask)
        (req,) = only(out, RequestLease)
        worker = b"w%d" % (attempt + 1)
        (push,) = only(sm.lease_replied(key, req.request.request_id, granted(worker)), PushTask)
    out = sm.push_failed(key, push.lease, task, "UNAVAILABLE", "gone")
    (fail,) = only(out, FailTask)
    assert isinstance(fail.error, exc.WorkerCrashedError)
    assert "retried 2 times (max_retries=2)" in str(fail.error)
    assert sm.tasks == {}


@pytest.mark.parametrize("forever", [-1, 2**31 - 1])
def test_max_retries_forever_keeps_retrying(forever: int) -> None:
    sm = machine()
    task = make_task(max_retries=forever)
    key, push = run_one(sm, task)
    for n in range(50):
        out = sm.push_failed(key, push.lease, task, "UNAVAILABLE", "gone")
        assert not only(out, FailTask)
        (req,) = only(out, RequestLease)
        reply = granted(b"w%d" % n)
        (push,) = only(sm.lease_replied(key, req.request.request_id, reply), PushTask)
    assert task.spec.attempt == 50


def test_no_retries_fails_at_once() -> None:
    sm = machine()
    task = make_task(max_retries=0)
    key, push = run_one(sm, task)
    (fail,) = only(sm.push_failed(key, push.lease, task, "UNAVAILABLE", "gone"), FailTask)
    assert isinstance(fail.error, exc.WorkerCrashedError)
    assert "retried" not in str(fail.error)


def app_error(err: BaseException) -> worker_pb2.PushTaskReply:
    data = error_object(err).data
    assert data is not None
    return worker_pb2.PushTaskReply(
        is_application_error=True, returns=[common_pb2.ReturnObject(object_id=b"r", data=data)]
    )


def test_application_error_is_not_retried_without_retry_exceptions() -> None:
    sm = machine()
    task = make_task()
    key, push = run_one(sm, task)
    out = sm.push_replied(key, push.lease, task, app_error(ValueError("x")))
    assert isinstance(out[0], CompleteTask) and task.spec.attempt == 0


def test_retry_exceptions_true_retries_up_to_max_retries() -> None:
    sm = machine()
    task = make_task(max_retries=1, retry_exceptions=True)
    key, push = run_one(sm, task)
    out = sm.push_replied(key, push.lease, task, app_error(ValueError("x")))
    assert not only(out, CompleteTask) and task.spec.attempt == 1
    (again,) = only(out, PushTask)  # the idle lease takes the retry at once
    out = sm.push_replied(key, again.lease, task, app_error(ValueError("x")))
    assert only(out, CompleteTask)[0].task is task  # the error is its result now


def test_retry_exceptions_classes_retry_only_those() -> None:
    sm = machine()
    task = make_task(retry_exceptions=(ValueError,))
    key, push = run_one(sm, task)
    out = sm.push_replied(key, push.lease, task, app_error(ValueError("x")))
    assert task.spec.attempt == 1
    (push,) = only(out, PushTask)
    out = sm.push_replied(key, push.lease, task, app_error(KeyError("k")))
    assert only(out, CompleteTask) and task.spec.attempt == 1


def test_cancel_before_push_fails_the_task_and_withdraws_lease_requests() -> None:
    sm = machine()
    task = make_task()
    (req,) = sm.submit(task)
    assert isinstance(req, RequestLease)
    out = sm.cancel(task.spec.task_id, force=False, recursive=True)
    assert isinstance(out[0], StopResolvingDeps)
    (fail,) = only(out, FailTask)
    assert isinstance(fail.error, exc.TaskCancelledError)
    (withdraw,) = only(out, WithdrawLeaseRequest)
    assert withdraw.request_id == req.request.request_id and withdraw.raylet == LOCAL
    # A grant that raced the withdrawal runs nothing and idles out.
    out = sm.lease_replied(req.for_, req.request.request_id, granted())
    assert not only(out, PushTask) and only(out, StartIdleTimer)


def test_cancel_after_push_is_sent_to_the_worker() -> None:
    sm = machine()
    task = make_task()
    key, push = run_one(sm, task)
    (cancel,) = sm.cancel(task.spec.task_id, force=True, recursive=False)
    assert isinstance(cancel, CancelOnWorker)
    assert cancel.worker == push.lease.worker and cancel.force and not cancel.recursive
    (fail,) = only(
        sm.push_replied(key, push.lease, task, worker_pb2.PushTaskReply(cancelled=True)), FailTask
    )
    assert isinstance(fail.error, exc.TaskCancelledError)


def test_cancelled_task_whose_worker_dies_is_not_retried() -> None:
    sm = machine()
    task = make_task()
    key, push = run_one(sm, task)
    sm.cancel(task.spec.task_id, force=True, recursive=True)
    out = sm.push_failed(key, push.lease, task, "UNAVAILABLE", "killed")
    (fail,) = only(out, FailTask)
    assert isinstance(fail.error, exc.TaskCancelledError) and task.spec.attempt == 0


def test_task_waits_for_its_arguments_and_fails_with_a_failed_one() -> None:
    sm = machine()
    task = make_task(owned_deps=(0,))
    assert [type(i) for i in sm.submit(task)] == [ResolveDeps]
    err = StoredObject(data=b"e", is_error=True)
    (fail,) = sm.deps_resolved(task, err)
    assert isinstance(fail, FailTask) and fail.error is err
    ok = make_task(owned_deps=(0,))
    sm.submit(ok)
    assert only(sm.deps_resolved(ok, None), RequestLease)


def test_cancel_while_resolving_arguments_stops_the_wait() -> None:
    sm = machine()
    task = make_task(owned_deps=(0,))
    sm.submit(task)
    out = sm.cancel(task.spec.task_id, force=False, recursive=True)
    assert isinstance(out[0], StopResolvingDeps) and only(out, FailTask)
    assert sm.deps_resolved(task, None) == []


def test_node_death_breaks_its_leases_and_asks_again_locally() -> None:
    sm = machine()
    a, b = make_task(), make_task()
    key, push = run_one(sm, a)
    out = sm.submit(b)
    (req,) = only(out, RequestLease)
    (req,) = sm.lease_replied(key, req.request.request_id, spillback(7001))  # type: ignore[assignment]
    out = sm.node_died("n1", "10.0.0.2:7001")
    assert push.lease.broken and not only(out, ReturnLease)  # its raylet is gone too
    assert only(out, DropBorrower)[0].worker_id == b"w1"
    (fresh,) = only(out, RequestLease)
    assert fresh.request.raylet == LOCAL
    # The late failure of the forgotten request changes nothing.
    assert sm.lease_request_failed(key, req.request.request_id, "UNAVAILABLE") == []


def test_shutdown_returns_leases_and_withdraws_requests() -> None:
    sm = machine()
    a, b = make_task(), make_task()
    key, push = run_one(sm, a)
    (req,) = only(sm.submit(b), RequestLease)
    out = sm.shutdown()
    (withdraw,) = only(out, WithdrawLeaseRequest)
    assert withdraw.request_id == req.request.request_id
    (ret,) = only(out, ReturnLease)
    assert ret.disconnect  # it still runs a task
    assert isinstance(push.lease, Lease) and key.leases == []


def test_children_of_names_pending_tasks_of_a_parent() -> None:
    sm = machine()
    child = make_task()
    child.parent_task_id = b"parent"
    sm.submit(child)
    sm.submit(make_task())
    assert sm.children_of(b"parent") == [child.spec.task_id]
