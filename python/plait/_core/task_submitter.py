"""Normal tasks: the driver that runs NormalTaskState (task_state.py) over gRPC.

It turns gRPC replies (lease replies, task replies, failed pushes) and timers into the
state machine's events and carries out its instructions with gRPC calls. The decisions
(which lease takes which task, retries, spillback, failures) are all in the state machine.
All methods run on the core worker's I/O loop, except `submit`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from plait._core.errors import error_object
from plait._core.lease_state import (
    DropBorrower,
    Lease,
    RequestLease,
    ReturnLease,
    WithdrawLeaseRequest,
)
from plait._core.task_spec import (
    DepsCancelled,
    PendingTask,
    fail_task,
    finish_task,
    stop_waiting_for_deps,
    wait_for_deps,
)
from plait._core.task_state import (
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
    scheduling_key,
)
from plait._protocol import gcs_pb2, raylet_pb2, worker_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

log = logging.getLogger(__name__)

LEASE_IDLE_SECONDS = 0.2
INFEASIBLE_WARNING_S = 5.0
# How long the raylet may wait for a worker whose push failed to be reaped, to say why it
# died (it is killed when its lease comes back broken, so this is rarely reached).
WORKER_FAILURE_WAIT_S = 3.0


async def fits_no_node(cw: CoreWorker, resources: dict[str, float]) -> bool:
    """Whether no live node of the cluster has these resources in total (False when the
    GCS cannot tell)."""
    try:
        nodes = (await cw.gcs.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=5)).nodes
    except grpc.RpcError:
        return False
    return not any(
        all(n.total_resources.get(k, 0.0) >= v for k, v in resources.items())
        for n in nodes
        if n.alive
    )


async def run_shared_instruction(
    cw: CoreWorker, i: ReturnLease | WithdrawLeaseRequest | CancelOnWorker | DropBorrower
) -> None:
    """The instructions both submitters carry out the same way: lease bookkeeping with a
    raylet, a cancel sent to a worker, a dead borrower dropped."""
    if isinstance(i, DropBorrower):
        cw.apply(cw.ref_counter.drop_borrower(i.worker_id))
        return
    if isinstance(i, CancelOnWorker):
        try:
            await cw.worker_stub(i.worker).CancelTask(
                worker_pb2.CancelTaskRequest(
                    task_id=i.task_id, force=i.force, recursive=i.recursive
                ),
                timeout=10,
            )
        except grpc.RpcError:
            pass  # the worker is gone: the task fails (or an actor call with ActorDiedError)
        return
    stub = cw.channels.raylet(i.raylet)
    try:
        if isinstance(i, ReturnLease):
            await stub.ReturnWorkerLease(
                raylet_pb2.ReturnWorkerLeaseRequest(lease_id=i.lease_id, disconnect=i.disconnect),
                timeout=10,
            )
        else:
            await stub.CancelWorkerLease(
                raylet_pb2.CancelWorkerLeaseRequest(request_id=i.request_id), timeout=2
            )
    except grpc.RpcError:
        pass


def lease_request_message(cw: CoreWorker, i: RequestLease) -> raylet_pb2.RequestWorkerLeaseRequest:
    return raylet_pb2.RequestWorkerLeaseRequest(
        request_id=i.request.request_id,
        job_id=cw.job_id,
        language=i.language,  # type: ignore[arg-type]
        resources=i.resources,
        owner=cw.address_pb(),
        is_actor=i.is_actor,
        detached=i.detached,
        grant_or_queue=i.request.grant_or_queue,
        task_name=i.task_name,
    )


class NormalTaskSubmitter:
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self.state = NormalTaskState(cw.raylet_address)
        self._infeasible_timers: dict[bytes, asyncio.TimerHandle] = {}
        self._warned_infeasible: set[tuple[int, tuple[tuple[str, float], ...]]] = set()

    @property
    def tasks(self) -> dict[bytes, PendingTask]:
        return self.state.tasks

    def submit(self, task: PendingTask) -> None:
        """Thread-safe entry: hand the task to the loop."""
        self.cw.io.loop.call_soon_threadsafe(self._submit, task)

    def _submit(self, task: PendingTask) -> None:
        self._run(self.state.submit(task))

    # -- running instructions ---------------------------------------------------------
    def _run(self, instructions: Sequence[TaskInstruction]) -> None:
        """Carry out instructions; gRPC calls go out without waiting for each other."""
        for i in instructions:
            if isinstance(i, PushTask):
                self._push(i)
            elif isinstance(i, CompleteTask):
                reply = i.reply
                for ro in reply.returns:
                    self.cw.record_return(ro, reply.is_application_error)
                finish_task(self.cw, i.task)
            elif isinstance(i, StartIdleTimer):
                asyncio.get_running_loop().call_later(
                    LEASE_IDLE_SECONDS, self._idle_timeout, i.key, i.lease, i.epoch
                )
            elif isinstance(i, FailTask):
                err = i.error
                fail_task(
                    self.cw,
                    i.task,
                    err if not isinstance(err, BaseException) else error_object(err),
                )
            elif isinstance(i, RequestLease):
                asyncio.ensure_future(self._request_lease(i))
            elif isinstance(i, ResolveDeps):
                asyncio.ensure_future(self._resolve_deps(i.task))
            elif isinstance(i, StopResolvingDeps):
                stop_waiting_for_deps(i.task)
            else:
                asyncio.ensure_future(self._call(i))

    async def _run_in_order(self, instructions: Sequence[TaskInstruction]) -> None:
        """Carry out instructions one after the other, waiting for each gRPC call (a
        broken lease goes back before new leases are asked for; a cancel is sent before
        `cancel` returns)."""
        for i in instructions:
            if isinstance(i, ReturnLease | WithdrawLeaseRequest | CancelOnWorker):
                await self._call(i)
            else:
                self._run((i,))

    async def _call(
        self, i: ReturnLease | WithdrawLeaseRequest | CancelOnWorker | DropBorrower
    ) -> None:
        await run_shared_instruction(self.cw, i)

    # -- events from the outside world ------------------------------------------------
    async def _resolve_deps(self, task: PendingTask) -> None:
        try:
            failed = await wait_for_deps(self.cw, task)
        except DepsCancelled:
            return
        self._run(self.state.deps_resolved(task, failed))

    def _push(self, i: PushTask) -> None:
        lease, task = i.lease, i.task
        fut = self.cw.task_streams.push(
            lease.worker, worker_pb2.PushTaskRequest(spec=task.spec, gpu_ids=lease.gpu_ids)
        )
        # A callback, not a coroutine per task: this is the hot path.
        fut.add_done_callback(lambda f: self._pushed(i, f))

    def _pushed(self, i: PushTask, fut: asyncio.Future[worker_pb2.PushTaskReply]) -> None:
        err = fut.exception() if not fut.cancelled() else grpc.RpcError()
        if err is None:
            self._run(self.state.push_replied(i.key, i.lease, i.task, fut.result()))
            return
        code, details = "UNKNOWN", str(err)
        if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
            code, details = err.code().name, str(err.details())
        # The lease breaks now, so no other task is pushed to the dead worker while its
        # raylet is asked why it died.
        lost = self.state.worker_lost(i.key, i.lease)
        asyncio.ensure_future(self._push_failed(i, code, details, lost))

    async def _push_failed(
        self, i: PushTask, code: str, details: str, lost: Sequence[TaskInstruction]
    ) -> None:
        await self._run_in_order(lost)
        cause = await self._worker_failure(i.lease)
        await self._run_in_order(
            self.state.push_failed(i.key, i.lease, i.task, code, details, cause)
        )

    async def _worker_failure(self, lease: Lease) -> str:
        """Why the lease's worker died, as its raylet saw it (exit, signal, crash report);
        "" when the raylet cannot tell."""
        try:
            reply = await self.cw.channels.raylet(lease.raylet).GetWorkerFailure(
                raylet_pb2.GetWorkerFailureRequest(
                    worker_id=lease.worker.worker_id, timeout_s=WORKER_FAILURE_WAIT_S
                ),
                timeout=WORKER_FAILURE_WAIT_S + 2,
            )
        except grpc.RpcError:
            return ""
        return reply.cause if reply.found else ""

    async def _request_lease(self, i: RequestLease) -> None:
        state = i.for_
        assert isinstance(state, KeyState)
        req_id = i.request.request_id
        if req_id not in self._infeasible_timers:
            self._infeasible_timers[req_id] = asyncio.get_running_loop().call_later(
                INFEASIBLE_WARNING_S, self._warn_if_infeasible, state
            )
        stub = self.cw.channels.raylet(i.request.raylet)
        try:
            reply = await stub.RequestWorkerLease(lease_request_message(self.cw, i))
        except grpc.RpcError as e:
            out = self.state.lease_request_failed(state, req_id, e.code().name)
        else:
            out = self.state.lease_replied(state, req_id, reply)
        if not self.state.lease_request_pending(state, req_id):
            timer = self._infeasible_timers.pop(req_id, None)
            if timer is not None:
                timer.cancel()
        self._run(out)

    def _idle_timeout(self, state: KeyState, lease: Lease, epoch: int) -> None:
        self._run(self.state.idle_timeout(state, lease, epoch))

    def _warn_if_infeasible(self, state: KeyState) -> None:
        asyncio.ensure_future(self._check_infeasible(state))

    async def _check_infeasible(self, state: KeyState) -> None:
        key = scheduling_key(state.language, state.resources)
        if key in self._warned_infeasible or not state.queue:
            return
        if await fits_no_node(self.cw, state.resources) and state.queue:
            self._warned_infeasible.add(key)
            log.warning(
                "Task %r asks for %s, which no node in the cluster has; it stays "
                "pending until a node that fits joins.",
                state.queue[0].spec.name,
                state.resources,
            )

    # -- cancellation and shutdown ------------------------------------------------------
    def children_of(self, parent_task_id: bytes) -> list[bytes]:
        return self.state.children_of(parent_task_id)

    async def cancel(self, task_id: bytes, force: bool, recursive: bool = True) -> None:
        await self._run_in_order(self.state.cancel(task_id, force, recursive))

    async def shutdown(self) -> None:
        for timer in self._infeasible_timers.values():
            timer.cancel()
        self._infeasible_timers.clear()
        await self._run_in_order(self.state.shutdown())
