"""Actor submission as a state machine: creating actors we own, and sending method calls
in per-caller order. Events in, instructions out; no I/O, no asyncio, no clock here:
ActorTaskSubmitter (actor_submitter.py) runs it over gRPC.

Creation: resolve the constructor's arguments -> lease a worker (the same spillback logic
as normal tasks, lease_state.py) -> push the creation task -> report ALIVE to the GCS. A
kill at any step abandons it. Calls: queued per actor until its address is known (we
created it, or the GCS reports it ALIVE), then given consecutive sequence numbers and
pushed in order; a call whose owned arguments are pending holds back the calls behind it.
"""

from __future__ import annotations

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
from plait._core.returns import stored_from_return
from plait._core.task_spec import PendingTask
from plait._core.task_state import (
    CancelOnWorker,
    CompleteTask,
    FailTask,
    ResolveDeps,
    StopResolvingDeps,
)
from plait._format import ErrorInfo, deserialize
from plait._format import exceptions as exc
from plait._format.ids import random_id
from plait._protocol import common_pb2, raylet_pb2, worker_pb2


@dataclass(slots=True, eq=False)
class ActorState:
    actor_id: bytes
    address: common_pb2.Address | None = None
    dead_cause: str | None = None
    queue: deque[PendingTask] = field(default_factory=deque)
    next_seq: int = 0
    in_flight: dict[bytes, PendingTask] = field(default_factory=dict)
    # Waiting for the address: we create the actor, or the GCS is asked where it lives.
    resolving: bool = False
    # Taken off the queue, waiting for its arguments before it gets a sequence number.
    resolving_task: PendingTask | None = None
    # A push failed: the calls wait while the GCS is asked why the actor died.
    probing_death: bool = False
    # When we create it: the creation task, its lease request and then its lease.
    creation: PendingTask | None = None
    detached: bool = False
    lease_request: LeaseRequest | None = None
    lease: Lease | None = None


# -- instructions (besides the shared ones of task_state and lease_state) ---------------
@dataclass(slots=True, eq=False)
class PushActorTask:
    """Push the call (sequence number set) to the actor's worker, in the order given;
    feed back call_replied or call_push_failed."""

    actor_id: bytes
    address: common_pb2.Address
    task: PendingTask


@dataclass(slots=True, eq=False)
class PushCreation:
    """Push the creation task to the leased worker (unary PushTask); feed back
    creation_replied or creation_push_failed."""

    actor_id: bytes
    lease: Lease
    task: PendingTask


@dataclass(slots=True, eq=False)
class ReportAlive:
    """Record the actor ALIVE at `address` with the GCS, unless it is DEAD there already;
    feed back alive_reported (with the death cause the GCS holds, if any)."""

    actor_id: bytes
    address: common_pb2.Address


@dataclass(slots=True, eq=False)
class ReportDead:
    """Record the actor DEAD with the GCS (keeping an earlier death cause); feed back
    dead_reported with the cause the GCS holds."""

    actor_id: bytes
    cause: str


@dataclass(slots=True, eq=False)
class LookUpActor:
    """Ask the GCS where the actor lives (long-poll until ALIVE or DEAD); feed back
    actor_alive or actor_dead."""

    actor_id: bytes


@dataclass(slots=True, eq=False)
class FindDeathCause:
    """A push to the actor failed: ask the GCS (for a moment) why it died; feed back
    actor_dead with that cause, or with the push's error."""

    actor_id: bytes
    code: str
    details: str


@dataclass(slots=True, eq=False)
class FinishTask:
    """The creation task is over (its outcome is the actor's state): unpin its arguments."""

    task: PendingTask


ActorInstruction = (
    PushActorTask
    | CompleteTask
    | FailTask
    | ResolveDeps
    | StopResolvingDeps
    | CancelOnWorker
    | RequestLease
    | ReturnLease
    | WithdrawLeaseRequest
    | DropBorrower
    | PushCreation
    | ReportAlive
    | ReportDead
    | LookUpActor
    | FindDeathCause
    | FinishTask
)


def actor_died_error(st: ActorState, task: PendingTask) -> exc.ActorDiedError:
    return exc.ActorDiedError(
        f"The actor {st.actor_id.hex()} died before or while running "
        f"{task.spec.actor_task.method_name!r}: {st.dead_cause}",
        st.actor_id.hex(),
    )


class ActorSubmissionState:
    def __init__(self, local_raylet: str, new_id: Callable[[], bytes] = random_id) -> None:
        self.local_raylet = local_raylet
        self._new_id = new_id
        self.actors: dict[bytes, ActorState] = {}

    def state(self, actor_id: bytes) -> ActorState:
        st = self.actors.get(actor_id)
        if st is None:
            st = self.actors[actor_id] = ActorState(actor_id)
        return st

    # -- events: creation (we own the actor) -------------------------------------------
    def create(self, task: PendingTask, detached: bool) -> list[ActorInstruction]:
        st = self.state(task.spec.actor_creation.actor_id)
        st.resolving = True  # calls queued right behind the creation wait for it
        st.creation = task
        st.detached = detached
        if task.owned_deps:
            return [ResolveDeps(task)]
        return self.creation_deps_resolved(st.actor_id, None)

    def creation_deps_resolved(
        self, actor_id: bytes, failed: StoredObject | None
    ) -> list[ActorInstruction]:
        st = self.state(actor_id)
        if failed is not None:
            return self._creation_failed(
                st, "an argument of the actor's constructor failed", failed
            )
        if st.dead_cause is not None:  # killed before it got a worker
            return self._abandon(st, st.dead_cause)
        st.lease_request = LeaseRequest(self._new_id(), self.local_raylet)
        return [self._request(st, st.lease_request)]

    def _request(self, st: ActorState, req: LeaseRequest) -> RequestLease:
        assert st.creation is not None
        spec = st.creation.spec
        return RequestLease(
            st.actor_id,
            req,
            spec.function.language,
            dict(spec.resources),
            spec.name,
            is_actor=True,
            detached=st.detached,
        )

    def lease_replied(
        self, actor_id: bytes, request_id: bytes, reply: raylet_pb2.RequestWorkerLeaseReply
    ) -> list[ActorInstruction]:
        st = self.state(actor_id)
        req = st.lease_request
        if req is None or req.request_id != request_id or st.creation is None:
            if reply.granted:  # nobody waits for it any more
                return [ReturnLease(reply.lease_id, self.local_raylet, True)]
            return []
        raylet = req.raylet
        step = lease_step(req, reply)
        if step is LeaseStep.SPILLED:
            return [self._request(st, req)]
        st.lease_request = None
        if step is LeaseStep.GRANTED:
            st.lease = Lease(reply.lease_id, reply.worker_address, raylet, list(reply.gpu_ids))
            if st.dead_cause is not None:  # killed while it waited for a worker
                return self._abandon(st, st.dead_cause)
            return [PushCreation(actor_id, st.lease, st.creation)]
        if st.dead_cause is not None:
            return self._abandon(st, st.dead_cause)
        if step is LeaseStep.REFUSED:
            why = reply.error
        elif step is LeaseStep.TOO_MANY_HOPS:
            why = "the actor's lease was spilled back too many times"
        else:
            why = "the actor's worker lease was cancelled"
        return self._creation_failed(st, why, None)

    def lease_request_failed(self, actor_id: bytes, code: str) -> list[ActorInstruction]:
        st = self.state(actor_id)
        st.lease_request = None
        if st.creation is None:
            return []
        if st.dead_cause is not None:
            return self._abandon(st, st.dead_cause)
        return self._creation_failed(st, f"could not lease a worker for the actor ({code})", None)

    def creation_replied(
        self, actor_id: bytes, reply: worker_pb2.PushTaskReply
    ) -> list[ActorInstruction]:
        st = self.state(actor_id)
        if reply.actor_creation_failed:
            err = stored_from_return(reply.returns[0], True) if reply.returns else None
            return self._creation_failed(st, "the actor's constructor raised", err)
        if st.dead_cause is not None:  # killed here while being created
            return self._abandon(st, st.dead_cause)
        assert st.lease is not None
        return [ReportAlive(actor_id, st.lease.worker)]

    def creation_push_failed(self, actor_id: bytes, code: str) -> list[ActorInstruction]:
        st = self.state(actor_id)
        return self._creation_failed(
            st, f"the actor's worker died while creating it ({code})", None
        )

    def alive_reported(self, actor_id: bytes, killed: str | None) -> list[ActorInstruction]:
        """The GCS has the actor ALIVE, or (killed) it was DEAD there already."""
        st = self.state(actor_id)
        cause = killed or st.dead_cause
        if cause is not None:  # killed (here or elsewhere) while being created
            return self._abandon(st, cause)
        assert st.lease is not None and st.creation is not None
        out: list[ActorInstruction] = [FinishTask(st.creation)]
        st.creation = None
        st.address = st.lease.worker
        st.resolving = False
        self._send(st, out)
        return out

    def dead_reported(self, actor_id: bytes, cause: str) -> list[ActorInstruction]:
        """The GCS has the creation's failure recorded (cause: the one it holds)."""
        return self._abandon(self.state(actor_id), cause)

    def _creation_failed(
        self, st: ActorState, why: str, err: StoredObject | None
    ) -> list[ActorInstruction]:
        cause = why
        if err is not None and err.data is not None:
            info = deserialize(err.data)
            if isinstance(info, ErrorInfo):
                cause = f"{why}: {exception_from(info)}"
        return [ReportDead(st.actor_id, cause)]

    def _abandon(self, st: ActorState, cause: str) -> list[ActorInstruction]:
        """Creation is over without a live actor: its worker (if any) goes too."""
        out: list[ActorInstruction] = []
        if st.lease is not None:
            out.append(ReturnLease(st.lease.lease_id, st.lease.raylet, True))
            out.append(DropBorrower(st.lease.worker.worker_id))
            st.lease = None
        if st.creation is not None:
            out.append(FinishTask(st.creation))
            st.creation = None
        self._mark_dead(st, cause, out)
        return out

    # -- events: calls --------------------------------------------------------------------
    def submit_call(self, task: PendingTask) -> list[ActorInstruction]:
        st = self.state(task.spec.actor_task.actor_id)
        if st.dead_cause is not None:
            return [FailTask(task, actor_died_error(st, task))]
        st.queue.append(task)
        out: list[ActorInstruction] = []
        if st.address is None and not st.resolving:
            st.resolving = True
            out.append(LookUpActor(st.actor_id))
        self._send(st, out)
        return out

    def actor_alive(self, actor_id: bytes, address: common_pb2.Address) -> list[ActorInstruction]:
        """The GCS reports the actor (made by another process) ALIVE at `address`."""
        st = self.state(actor_id)
        st.resolving = False
        out: list[ActorInstruction] = []
        if st.dead_cause is None:
            st.address = address
            self._send(st, out)
        return out

    def actor_dead(self, actor_id: bytes, cause: str) -> list[ActorInstruction]:
        """The actor is dead (the GCS says so, or its worker is unreachable)."""
        st = self.state(actor_id)
        st.resolving = False
        st.probing_death = False
        out: list[ActorInstruction] = []
        self._mark_dead(st, cause, out)
        return out

    def killed(self, actor_id: bytes, cause: str) -> list[ActorInstruction]:
        """plait.kill recorded the actor DEAD: fail its calls; stop waiting for a worker."""
        st = self.state(actor_id)
        out: list[ActorInstruction] = []
        self._mark_dead(st, cause, out)
        if st.lease_request is not None:  # we create it and it waits for a worker
            out.append(WithdrawLeaseRequest(st.lease_request.request_id, st.lease_request.raylet))
        return out

    def call_deps_resolved(
        self, task: PendingTask, failed: StoredObject | None
    ) -> list[ActorInstruction]:
        """The arguments of the call at the head of its actor's line are ready (or one
        failed, or the call was cancelled meanwhile)."""
        st = self.state(task.spec.actor_task.actor_id)
        if st.resolving_task is task:
            st.resolving_task = None
        out: list[ActorInstruction] = []
        if task.cancelled:
            pass  # the cancel failed it already
        elif failed is not None:
            out.append(FailTask(task, failed))
        elif st.dead_cause is not None:
            out.append(FailTask(task, actor_died_error(st, task)))
        else:
            self._send_one(st, task, out)
        self._send(st, out)
        return out

    def _send(self, st: ActorState, out: list[ActorInstruction]) -> None:
        while (
            st.queue
            and st.address is not None
            and st.dead_cause is None
            and st.resolving_task is None
            and not st.probing_death
        ):
            task = st.queue.popleft()
            if task.cancelled:
                continue
            if task.owned_deps:
                st.resolving_task = task  # the calls behind it wait: order holds
                out.append(ResolveDeps(task))
                return
            self._send_one(st, task, out)

    def _send_one(self, st: ActorState, task: PendingTask, out: list[ActorInstruction]) -> None:
        assert st.address is not None
        task.spec.actor_task.sequence_number = st.next_seq
        st.next_seq += 1
        st.in_flight[task.spec.task_id] = task
        out.append(PushActorTask(st.actor_id, st.address, task))

    def call_replied(
        self, actor_id: bytes, task: PendingTask, reply: worker_pb2.PushTaskReply
    ) -> list[ActorInstruction]:
        st = self.state(actor_id)
        if st.in_flight.pop(task.spec.task_id, None) is None:
            return []  # failed already (the actor was marked dead)
        if reply.cancelled:
            return [FailTask(task, exc.TaskCancelledError(task.spec.task_id.hex()))]
        return [CompleteTask(task, reply)]

    def call_push_failed(
        self, actor_id: bytes, task: PendingTask, code: str, details: str
    ) -> list[ActorInstruction]:
        """The actor's worker is unreachable: hold further calls and find out why; the
        call fails with the death cause (it stays in flight until then)."""
        st = self.state(actor_id)
        if st.dead_cause is not None:
            if st.in_flight.pop(task.spec.task_id, None) is not None:
                return [FailTask(task, actor_died_error(st, task))]
            return []
        if st.probing_death:
            return []
        st.probing_death = True
        return [FindDeathCause(actor_id, code, details)]

    def _mark_dead(self, st: ActorState, cause: str, out: list[ActorInstruction]) -> None:
        first = st.dead_cause is None
        if first:
            st.dead_cause = cause
        while st.queue:
            task = st.queue.popleft()
            out.append(FailTask(task, actor_died_error(st, task)))
        for task in st.in_flight.values():
            out.append(FailTask(task, actor_died_error(st, task)))
        st.in_flight.clear()
        if first and st.address is not None:
            out.append(DropBorrower(st.address.worker_id))

    # -- events: cancel -------------------------------------------------------------------
    def _find(self, task_id: bytes) -> tuple[ActorState, PendingTask, bool] | None:
        """The actor call with this id that has not finished, and whether it was sent."""
        for st in self.actors.values():
            task = st.in_flight.get(task_id)
            if task is not None:
                return st, task, True
            for task in (*st.queue, st.resolving_task):
                if task is not None and task.spec.task_id == task_id:
                    return st, task, False
        return None

    def cancel(
        self, task_id: bytes, force: bool, recursive: bool
    ) -> tuple[bool, list[ActorInstruction]]:
        """Ray's actor-call cancel: one not sent never runs; a sent one is asked to stop
        (it reports TaskCancelledError). (False, []) when no such call is pending."""
        found = self._find(task_id)
        if found is None:
            return False, []
        if force:
            raise ValueError("force=True is not supported for actor tasks.")
        st, task, sent = found
        task.cancelled = True
        if not sent:
            if task in st.queue:
                st.queue.remove(task)
            out: list[ActorInstruction] = [
                StopResolvingDeps(task),
                FailTask(task, exc.TaskCancelledError(task_id.hex())),
            ]
            if st.resolving_task is task:  # the calls behind it go on
                st.resolving_task = None
                self._send(st, out)
            return True, out
        if st.address is None:
            return True, []  # the actor is gone: the call fails with ActorDiedError
        return True, [CancelOnWorker(st.address, task_id, False, recursive)]

    def children_of(self, parent_task_id: bytes) -> list[bytes]:
        out = []
        for st in self.actors.values():
            for task in (*st.queue, *st.in_flight.values(), st.resolving_task):
                if task is not None and task.parent_task_id == parent_task_id and not task.done:
                    out.append(task.spec.task_id)
        return out
