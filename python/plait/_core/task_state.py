"""Normal-task submission as a state machine: events in, instructions out.

Tasks with the same resource shape share a queue (a KeyState) and the leases granted for
it. Each method of NormalTaskState is an event (a task was submitted, its arguments are
ready, a raylet answered a lease request, a worker replied or died, a cancel, an idle
timer fired); it updates the state and returns what the driver must do (request a lease,
push a task, return a lease, complete or fail a task, ...). No I/O, no asyncio and no
clock here: NormalTaskSubmitter (task_submitter.py) runs it over gRPC.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from plait._core.errors import exception_from
from plait._core.lease_state import (
    DropBorrower,
    Lease,
    LeaseRequest,
    LeaseStep,
    RequestLease,
    ReturnLease,
    WithdrawLeaseRequest,
    lease_step,
)
from plait._core.memory_store import StoredObject
from plait._core.task_spec import PendingTask
from plait._format import ErrorInfo, deserialize
from plait._format import exceptions as exc
from plait._format.ids import random_id
from plait._protocol import common_pb2, raylet_pb2, worker_pb2

log = logging.getLogger(__name__)

MAX_TASKS_IN_FLIGHT_PER_LEASE = 4
MAX_PENDING_LEASE_REQUESTS = 4

SchedulingKey = tuple[int, tuple[tuple[str, float], ...]]


def scheduling_key(language: int, resources: dict[str, float]) -> SchedulingKey:
    """Tasks share leases when they need the same kind of worker and resource shape."""
    return language, tuple(sorted(resources.items()))


@dataclass(slots=True, eq=False)
class KeyState:
    key: SchedulingKey
    resources: dict[str, float]
    language: int = common_pb2.PYTHON
    queue: deque[PendingTask] = field(default_factory=deque)
    leases: list[Lease] = field(default_factory=list)
    lease_requests: dict[bytes, LeaseRequest] = field(default_factory=dict)


def may_retry(spec: common_pb2.TaskSpec) -> bool:
    """Whether the task has retries left (max_retries -1, or any negative: forever)."""
    return spec.max_retries < 0 or spec.attempt < spec.max_retries


def death_summary(code: str, details: str, cause: str) -> str:
    """One line on why a task's worker died: the raylet's word (e.g. "worker process
    killed by signal SIGSEGV (Segmentation fault) (pid 12)") or, without it, how the
    push failed."""
    first = cause.strip().splitlines()[0] if cause.strip() else ""
    return first or f"its worker died ({code}: {details})"


def crash_message(spec: common_pb2.TaskSpec, code: str, details: str, cause: str) -> str:
    """WorkerCrashedError's message once no retry is left: the task, why its (last)
    worker died, how many retries were made, and the last worker's crash report (its
    native stack) when it wrote one."""
    msg = f"The worker running task {spec.name!r} died unexpectedly: "
    msg += death_summary(code, details, cause) + "."
    if spec.attempt > 0:
        times = "time" if spec.attempt == 1 else "times"
        msg += (
            f" It was retried {spec.attempt} {times} (max_retries={spec.max_retries}), "
            "each time because its worker died; this was the last attempt."
        )
    elif spec.max_retries == 0:
        msg += " No retry was allowed (max_retries=0)."
    report = "\n".join(cause.strip().splitlines()[1:])
    if report:
        msg += f"\nNative stack of the last attempt (the worker's crash report):\n{report}"
    return msg


# -- instructions (shared with actor submission) ------------------------------------------
@dataclass(slots=True, eq=False)
class ResolveDeps:
    """Wait for the task's owned top-level arguments (inlining small values); feed the
    outcome back with deps_resolved."""

    task: PendingTask


@dataclass(slots=True, eq=False)
class StopResolvingDeps:
    """The task was cancelled while its arguments may still be awaited: stop waiting."""

    task: PendingTask


@dataclass(slots=True, eq=False)
class PushTask:
    """Push the task to the lease's worker (over the task stream); feed back the reply
    (push_replied) or the failure (push_failed)."""

    key: KeyState
    lease: Lease
    task: PendingTask


@dataclass(slots=True, eq=False)
class CompleteTask:
    """The worker answered: record the task's return values and unpin its arguments."""

    task: PendingTask
    reply: worker_pb2.PushTaskReply


@dataclass(slots=True, eq=False)
class FailTask:
    """The task failed (or was cancelled): its returns become this error."""

    task: PendingTask
    error: BaseException | StoredObject


@dataclass(slots=True, eq=False)
class CancelOnWorker:
    """CancelTask on the worker that runs the task."""

    worker: common_pb2.Address
    task_id: bytes
    force: bool
    recursive: bool


@dataclass(slots=True, eq=False)
class StartIdleTimer:
    """Call idle_timeout(key, lease, epoch) after LEASE_IDLE_SECONDS."""

    key: KeyState
    lease: Lease
    epoch: int


TaskInstruction = (
    PushTask
    | CompleteTask
    | StartIdleTimer
    | RequestLease
    | ResolveDeps
    | FailTask
    | ReturnLease
    | DropBorrower
    | WithdrawLeaseRequest
    | StopResolvingDeps
    | CancelOnWorker
)


class NormalTaskState:
    def __init__(self, local_raylet: str, new_id: Callable[[], bytes] = random_id) -> None:
        self.local_raylet = local_raylet
        self._new_id = new_id
        self.keys: dict[SchedulingKey, KeyState] = {}
        self.tasks: dict[bytes, PendingTask] = {}

    # -- events: submission ---------------------------------------------------------
    def submit(self, task: PendingTask) -> list[TaskInstruction]:
        self.tasks[task.spec.task_id] = task
        if task.owned_deps:
            return [ResolveDeps(task)]
        return self._enqueue(task)

    def deps_resolved(
        self, task: PendingTask, failed: StoredObject | None
    ) -> list[TaskInstruction]:
        """The task's owned arguments are ready, or one of them failed (`failed`)."""
        if task.cancelled:
            return []  # the cancel failed it already
        if failed is not None:
            self.tasks.pop(task.spec.task_id, None)
            return [FailTask(task, failed)]
        return self._enqueue(task)

    def _enqueue(self, task: PendingTask) -> list[TaskInstruction]:
        resources = task.spec.resources
        key = scheduling_key(task.spec.function.language, dict(resources))
        state = self.keys.get(key)
        if state is None:
            state = self.keys[key] = KeyState(key, dict(resources), task.spec.function.language)
        state.queue.append(task)
        out: list[TaskInstruction] = []
        self._dispatch(state, out)
        return out

    def _dispatch(self, state: KeyState, out: list[TaskInstruction]) -> None:
        queue = state.queue
        # 1. Idle leases take a task each.
        for lease in state.leases:
            if not queue:
                break
            if not lease.broken and not lease.in_flight:
                self._push_next(state, lease, out)
        # 2. Ask for more workers for what is left.
        want = min(len(queue), MAX_PENDING_LEASE_REQUESTS)
        while len(state.lease_requests) < want:
            req = LeaseRequest(self._new_id(), self.local_raylet)
            state.lease_requests[req.request_id] = req
            out.append(self._request(state, req))
        # 3. Pipeline onto busy leases only the tasks that the pending lease requests will
        #    not take: a backlog, not work that a fresh worker could start right away.
        while len(queue) > len(state.lease_requests):
            best: Lease | None = None
            for lease in state.leases:
                n = len(lease.in_flight)
                if not lease.broken and n < MAX_TASKS_IN_FLIGHT_PER_LEASE:
                    if best is None or n < len(best.in_flight):
                        best = lease
            if best is None:
                break
            self._push_next(state, best, out)

    def _push_next(self, state: KeyState, lease: Lease, out: list[TaskInstruction]) -> None:
        while state.queue:
            task = state.queue.popleft()
            if not task.cancelled:
                lease.in_flight.add(task.spec.task_id)
                task.pushed_to = lease
                out.append(PushTask(state, lease, task))
                return

    def _request(self, state: KeyState, req: LeaseRequest) -> RequestLease:
        name = state.queue[0].spec.name if state.queue else ""
        return RequestLease(state, req, state.language, state.resources, name)

    # -- events: leases ---------------------------------------------------------------
    def lease_replied(
        self, state: KeyState, request_id: bytes, reply: raylet_pb2.RequestWorkerLeaseReply
    ) -> list[TaskInstruction]:
        """A raylet answered a lease request: granted, spillback, refused or cancelled."""
        req = state.lease_requests.get(request_id)
        if req is None:  # forgotten (its node died): hand back what it got
            if reply.granted:
                return [ReturnLease(reply.lease_id, self.local_raylet, False)]
            return []
        raylet = req.raylet
        step = lease_step(req, reply)
        if step is LeaseStep.SPILLED:
            return [self._request(state, req)]
        del state.lease_requests[request_id]
        out: list[TaskInstruction] = []
        if step is LeaseStep.GRANTED:
            lease = Lease(reply.lease_id, reply.worker_address, raylet, list(reply.gpu_ids))
            state.leases.append(lease)
            self._dispatch(state, out)
            if not lease.in_flight:
                self._arm_idle(state, lease, out)
            return out
        if step is LeaseStep.REFUSED:
            self._fail_queue(state, exc.RaySystemError(reply.error), out)
        if state.queue:  # cancelled or spilled too often: ask again for what is left
            self._dispatch(state, out)
        return out

    def lease_request_failed(
        self, state: KeyState, request_id: bytes, why: str
    ) -> list[TaskInstruction]:
        """The RequestWorkerLease call itself failed (the raylet is unreachable)."""
        req = state.lease_requests.pop(request_id, None)
        if req is None:
            return []
        out: list[TaskInstruction] = []
        self._fail_queue(
            state,
            exc.RaySystemError(f"could not lease a worker from raylet {req.raylet}: {why}"),
            out,
        )
        return out

    def idle_timeout(self, state: KeyState, lease: Lease, epoch: int) -> list[TaskInstruction]:
        """The lease's idle timer fired: give the lease back if it is still idle."""
        if (
            epoch != lease.idle_epoch
            or lease.in_flight
            or state.queue
            or lease.broken
            or lease not in state.leases
        ):
            return []
        state.leases.remove(lease)
        return [ReturnLease(lease.lease_id, lease.raylet, False)]

    def _arm_idle(self, state: KeyState, lease: Lease, out: list[TaskInstruction]) -> None:
        lease.idle_epoch += 1
        out.append(StartIdleTimer(state, lease, lease.idle_epoch))

    # -- events: replies ----------------------------------------------------------------
    def push_replied(
        self, state: KeyState, lease: Lease, task: PendingTask, reply: worker_pb2.PushTaskReply
    ) -> list[TaskInstruction]:
        """The worker answered: the task ran (ok or raised) or was cancelled."""
        lease.in_flight.discard(task.spec.task_id)
        out: list[TaskInstruction] = []
        if self._should_retry_error(task, reply):
            task.spec.attempt += 1
            task.pushed_to = None
            log.info(
                "task %s raised; retrying (%d/%d)",
                task.spec.name,
                task.spec.attempt,
                task.spec.max_retries,
            )
            state.queue.appendleft(task)
        else:
            self.tasks.pop(task.spec.task_id, None)
            if reply.cancelled:
                out.append(FailTask(task, exc.TaskCancelledError(task.spec.task_id.hex())))
            else:
                out.append(CompleteTask(task, reply))
        self._dispatch(state, out)
        if not lease.in_flight and not state.queue:
            self._arm_idle(state, lease, out)
        return out

    def worker_lost(self, state: KeyState, lease: Lease) -> list[TaskInstruction]:
        """A push to the lease's worker failed: no task goes to it any more (the lease is
        returned broken, which kills what is left of the worker). Its tasks fail over
        with push_failed once the driver has asked its raylet why it died."""
        out: list[TaskInstruction] = []
        self._break_lease(state, lease, out, return_it=True)
        return out

    def push_failed(
        self,
        state: KeyState,
        lease: Lease,
        task: PendingTask,
        code: str,
        details: str,
        cause: str = "",
    ) -> list[TaskInstruction]:
        """The push failed: the lease's worker died (or is unreachable). The worker is
        killed (lease returned with disconnect) and the task retried while it may be.
        `cause`: why the worker died, from its raylet (the exit or signal, then the crash
        report's native stack), "" when unknown; each retry is logged with it, and the
        final WorkerCrashedError carries it."""
        lease.in_flight.discard(task.spec.task_id)
        out: list[TaskInstruction] = []
        self._break_lease(state, lease, out, return_it=True)
        spec = task.spec
        if task.cancelled:
            self.tasks.pop(spec.task_id, None)
            out.append(FailTask(task, exc.TaskCancelledError(spec.task_id.hex())))
        elif may_retry(spec):
            spec.attempt += 1
            task.pushed_to = None
            limit = str(spec.max_retries) if spec.max_retries >= 0 else "unlimited"
            log.warning(
                "task %s: %s; retrying (%d of %s)",
                spec.name,
                death_summary(code, details, cause),
                spec.attempt,
                limit,
            )
            state.queue.appendleft(task)
        else:
            self.tasks.pop(spec.task_id, None)
            out.append(
                FailTask(task, exc.WorkerCrashedError(crash_message(spec, code, details, cause)))
            )
        self._dispatch(state, out)
        return out

    def node_died(self, node_id: str, raylet: str) -> list[TaskInstruction]:
        """A node left the cluster: its leases are dead (their in-flight tasks fail over
        as their pushes fail) and lease requests waiting on its raylet are asked again
        of ours."""
        out: list[TaskInstruction] = []
        for state in self.keys.values():
            for lease in list(state.leases):
                if lease.worker.node_id == node_id or lease.raylet == raylet:
                    self._break_lease(state, lease, out, return_it=False)
            for req_id, req in list(state.lease_requests.items()):
                if req.raylet == raylet:
                    del state.lease_requests[req_id]
            if state.queue:
                self._dispatch(state, out)
        return out

    def _break_lease(
        self, state: KeyState, lease: Lease, out: list[TaskInstruction], return_it: bool
    ) -> None:
        if lease.broken:
            return
        lease.broken = True
        if lease in state.leases:
            state.leases.remove(lease)
        if return_it:
            out.append(ReturnLease(lease.lease_id, lease.raylet, True))
        # The worker is gone (or is being killed): what it borrowed from us is released.
        out.append(DropBorrower(lease.worker.worker_id))

    @staticmethod
    def _should_retry_error(task: PendingTask, reply: worker_pb2.PushTaskReply) -> bool:
        """retry_exceptions: the task raised, it may be retried, and the error is one to
        retry on."""
        if (
            not reply.is_application_error
            or not task.retry_exceptions
            or task.cancelled
            or not may_retry(task.spec)
            or not reply.returns
        ):
            return False
        classes = task.retry_exceptions
        if not isinstance(classes, tuple):
            return True
        info = deserialize(reply.returns[0].data)
        return isinstance(info, ErrorInfo) and isinstance(exception_from(info), classes)

    def _fail_queue(self, state: KeyState, err: BaseException, out: list[TaskInstruction]) -> None:
        while state.queue:
            task = state.queue.popleft()
            self.tasks.pop(task.spec.task_id, None)
            out.append(FailTask(task, err))

    # -- events: cancel and shutdown ----------------------------------------------------
    def cancel(self, task_id: bytes, force: bool, recursive: bool) -> list[TaskInstruction]:
        """A task not pushed yet fails at once (and lease requests no longer needed are
        withdrawn); a pushed one is cancelled on its worker."""
        task = self.tasks.get(task_id)
        if task is None or task.done:
            return []
        task.cancelled = True
        lease = task.pushed_to
        if isinstance(lease, Lease):
            return [CancelOnWorker(lease.worker, task_id, force, recursive)]
        out: list[TaskInstruction] = [StopResolvingDeps(task)]
        emptied = []
        for state in self.keys.values():
            if task in state.queue:
                state.queue.remove(task)
                if not state.queue:
                    emptied.append(state)
        self.tasks.pop(task_id, None)
        out.append(FailTask(task, exc.TaskCancelledError(task_id.hex())))
        for state in emptied:  # nothing left to run on the workers being asked for
            for req in state.lease_requests.values():
                out.append(WithdrawLeaseRequest(req.request_id, req.raylet))
        return out

    def shutdown(self) -> list[TaskInstruction]:
        """Withdraw every lease request and give every lease back (a busy one killed)."""
        out: list[TaskInstruction] = []
        for state in self.keys.values():
            for req in state.lease_requests.values():
                out.append(WithdrawLeaseRequest(req.request_id, req.raylet))
            for lease in state.leases:
                lease.idle_epoch += 1  # its idle timer, if any, is stale now
                out.append(ReturnLease(lease.lease_id, lease.raylet, bool(lease.in_flight)))
            state.leases.clear()
        return out

    # -- queries ------------------------------------------------------------------------
    def lease_request_pending(self, state: KeyState, request_id: bytes) -> bool:
        return request_id in state.lease_requests

    def children_of(self, parent_task_id: bytes) -> list[bytes]:
        return [
            t.spec.task_id
            for t in self.tasks.values()
            if t.parent_task_id == parent_task_id and not t.done
        ]
