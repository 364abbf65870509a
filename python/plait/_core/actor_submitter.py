"""Actors: the driver that runs ActorSubmissionState (actor_state.py) over gRPC.

It turns gRPC replies (lease replies, the creation's reply, call replies, the GCS's answers)
into the state machine's events and carries out its instructions with gRPC calls; the
decisions (ordering, failing calls of a dead actor, abandoning a killed creation) are in
the state machine. All methods run on the core worker's I/O loop, except `create`/`submit`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

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
    ResolveDeps,
    StopResolvingDeps,
)
from plait._core.task_submitter import (
    fits_no_node,
    lease_request_message,
    run_shared_instruction,
)
from plait._protocol import common_pb2, gcs_pb2, worker_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

log = logging.getLogger(__name__)

INFEASIBLE_WARNING_S = 5.0


class ActorTaskSubmitter:
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self.state = ActorSubmissionState(cw.raylet_address)
        self._infeasible_timers: dict[bytes, asyncio.TimerHandle] = {}

    # -- thread-safe entries ----------------------------------------------------------
    def create(self, task: PendingTask, detached: bool) -> None:
        self.cw.io.loop.call_soon_threadsafe(lambda: self._run(self.state.create(task, detached)))

    def submit(self, task: PendingTask) -> None:
        self.cw.io.loop.call_soon_threadsafe(lambda: self._run(self.state.submit_call(task)))

    # -- running instructions ---------------------------------------------------------
    def _run(self, instructions: Sequence[ActorInstruction]) -> None:
        for i in instructions:
            if isinstance(i, PushActorTask):
                self._push_call(i)  # in order: the stream keeps it
            elif isinstance(i, CompleteTask):
                for ro in i.reply.returns:
                    self.cw.record_return(ro, i.reply.is_application_error)
                finish_task(self.cw, i.task)
            elif isinstance(i, FailTask):
                err = i.error
                fail_task(
                    self.cw, i.task, error_object(err) if isinstance(err, BaseException) else err
                )
            elif isinstance(i, FinishTask):
                finish_task(self.cw, i.task)
            elif isinstance(i, ResolveDeps):
                asyncio.ensure_future(self._resolve_deps(i.task))
            elif isinstance(i, StopResolvingDeps):
                stop_waiting_for_deps(i.task)
            elif isinstance(i, LookUpActor):
                asyncio.ensure_future(self._look_up(i.actor_id))
            elif isinstance(i, FindDeathCause):
                asyncio.ensure_future(self._find_death_cause(i))
            elif isinstance(i, RequestLease):
                asyncio.ensure_future(self._request_lease(i))
            elif isinstance(i, PushCreation):
                asyncio.ensure_future(self._push_creation(i))
            elif isinstance(i, ReportAlive | ReportDead):
                asyncio.ensure_future(self._report(i))
            else:
                asyncio.ensure_future(self._call(i))

    async def _run_in_order(self, instructions: Sequence[ActorInstruction]) -> None:
        for i in instructions:
            if isinstance(i, ReturnLease | WithdrawLeaseRequest | CancelOnWorker):
                await self._call(i)
            else:
                self._run((i,))

    async def _call(
        self, i: ReturnLease | WithdrawLeaseRequest | CancelOnWorker | DropBorrower
    ) -> None:
        await run_shared_instruction(self.cw, i)

    # -- creation -----------------------------------------------------------------------
    async def _resolve_deps(self, task: PendingTask) -> None:
        try:
            failed = await wait_for_deps(self.cw, task)
        except DepsCancelled:
            failed = None  # the cancel failed the call; the machine moves on
        if task.spec.type == common_pb2.ACTOR_CREATION_TASK:
            out = self.state.creation_deps_resolved(task.spec.actor_creation.actor_id, failed)
        else:
            out = self.state.call_deps_resolved(task, failed)
        await self._run_in_order(out)

    async def _request_lease(self, i: RequestLease) -> None:
        actor_id = i.for_
        assert isinstance(actor_id, bytes)
        if actor_id not in self._infeasible_timers:
            self._infeasible_timers[actor_id] = asyncio.get_running_loop().call_later(
                INFEASIBLE_WARNING_S,
                lambda: asyncio.ensure_future(self._warn_if_infeasible(i)),
            )
        stub = self.cw.channels.raylet(i.request.raylet)
        try:
            reply = await stub.RequestWorkerLease(lease_request_message(self.cw, i))
        except grpc.RpcError as e:
            out = self.state.lease_request_failed(actor_id, e.code().name)
        else:
            out = self.state.lease_replied(actor_id, i.request.request_id, reply)
        if self.state.state(actor_id).lease_request is None:
            timer = self._infeasible_timers.pop(actor_id, None)
            if timer is not None:
                timer.cancel()
        await self._run_in_order(out)

    async def _warn_if_infeasible(self, i: RequestLease) -> None:
        if await fits_no_node(self.cw, i.resources):
            log.warning(
                "Actor %r asks for %s, which no node in the cluster has; it stays "
                "pending until a node that fits joins.",
                i.task_name.removesuffix(".__init__"),
                i.resources,
            )

    async def _push_creation(self, i: PushCreation) -> None:
        try:
            reply = await self.cw.worker_stub(i.lease.worker).PushTask(
                worker_pb2.PushTaskRequest(spec=i.task.spec, gpu_ids=i.lease.gpu_ids)
            )
        except grpc.RpcError as e:
            out = self.state.creation_push_failed(i.actor_id, e.code().name)
        else:
            out = self.state.creation_replied(i.actor_id, reply)
        await self._run_in_order(out)

    async def _report(self, i: ReportAlive | ReportDead) -> None:
        if isinstance(i, ReportAlive):
            try:
                killed = await self._update_gcs(i.actor_id, common_pb2.ALIVE, i.address, "")
            except grpc.RpcError as e:
                killed = f"the actor could not be recorded with the GCS ({e.code().name})"
            out = self.state.alive_reported(i.actor_id, killed)
        else:
            try:
                cause = await self._update_gcs(i.actor_id, common_pb2.DEAD, None, i.cause)
            except grpc.RpcError:
                cause = None
            out = self.state.dead_reported(i.actor_id, cause or i.cause)
        await self._run_in_order(out)

    async def _update_gcs(
        self, actor_id: bytes, state: int, address: common_pb2.Address | None, cause: str
    ) -> str | None:
        """Record the actor's new state; if it is DEAD already (killed meanwhile), change
        nothing and return its death cause."""
        reply = await self.cw.gcs.GetActor(gcs_pb2.GetActorRequest(actor_id=actor_id), timeout=10)
        info = reply.actor
        if info.state == common_pb2.DEAD:
            return info.death_cause or "the actor died"
        info.state = state  # type: ignore[assignment]
        if address is not None:
            info.address.CopyFrom(address)
        if cause:
            info.death_cause = cause
        await self.cw.gcs.UpdateActor(gcs_pb2.UpdateActorRequest(actor=info), timeout=10)
        return None

    # -- calls ----------------------------------------------------------------------------
    async def _look_up(self, actor_id: bytes) -> None:
        """Wait for the GCS to report the actor ALIVE (made by another process) or DEAD."""
        while True:
            try:
                reply = await self.cw.gcs.GetActor(
                    gcs_pb2.GetActorRequest(actor_id=actor_id, wait_timeout_s=10.0), timeout=20
                )
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                out = self.state.actor_dead(actor_id, f"the GCS is unreachable ({e.code().name})")
                break
            if self.state.state(actor_id).dead_cause is not None:
                out = self.state.actor_dead(actor_id, "")  # killed meanwhile
                break
            if not reply.found:
                out = self.state.actor_dead(actor_id, "the actor is not known to the GCS")
                break
            if reply.actor.state == common_pb2.ALIVE:
                out = self.state.actor_alive(actor_id, reply.actor.address)
                break
            if reply.actor.state == common_pb2.DEAD:
                out = self.state.actor_dead(actor_id, reply.actor.death_cause or "the actor died")
                break
        self._run(out)

    def _push_call(self, i: PushActorTask) -> None:
        fut = self.cw.task_streams.push(i.address, worker_pb2.PushTaskRequest(spec=i.task.spec))
        fut.add_done_callback(lambda f: self._call_pushed(i, f))

    def _call_pushed(self, i: PushActorTask, fut: asyncio.Future[worker_pb2.PushTaskReply]) -> None:
        err = fut.exception() if not fut.cancelled() else grpc.RpcError()
        if err is None:
            self._run(self.state.call_replied(i.actor_id, i.task, fut.result()))
            return
        code, details = "UNKNOWN", str(err)
        if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
            code, details = err.code().name, str(err.details())
        self._run(self.state.call_push_failed(i.actor_id, i.task, code, details))

    async def _find_death_cause(self, i: FindDeathCause) -> None:
        # The GCS learns of the death from the raylet (or from plait.kill); give it a moment.
        cause = f"the actor's worker is unreachable ({i.code}: {i.details})"
        for _ in range(20):
            try:
                reply = await self.cw.gcs.GetActor(
                    gcs_pb2.GetActorRequest(actor_id=i.actor_id), timeout=5
                )
                if reply.found and reply.actor.state == common_pb2.DEAD:
                    cause = reply.actor.death_cause or "the actor died"
                    break
            except grpc.RpcError:
                break
            await asyncio.sleep(0.1)
        self._run(self.state.actor_dead(i.actor_id, cause))

    # -- cancel and kill ------------------------------------------------------------------
    def children_of(self, parent_task_id: bytes) -> list[bytes]:
        return self.state.children_of(parent_task_id)

    async def cancel(self, task_id: bytes, force: bool, recursive: bool = True) -> bool:
        """Cancel an actor call as Ray does: one not yet started never runs; a running one
        is not interrupted (actors have state) but reports TaskCancelledError, except in an
        async actor, where its coroutine is cancelled. False if no such call is pending."""
        found, out = self.state.cancel(task_id, force, recursive)
        await self._run_in_order(out)
        return found

    async def kill(self, actor_id: bytes, no_restart: bool = True) -> None:
        reply = await self.cw.gcs.GetActor(gcs_pb2.GetActorRequest(actor_id=actor_id), timeout=10)
        if not reply.found:
            raise ValueError(f"actor {actor_id.hex()} is not known to the cluster")
        info = reply.actor
        cause = "the actor was killed by plait.kill()"
        if info.state != common_pb2.DEAD:
            info.state = common_pb2.DEAD
            info.death_cause = cause
            await self.cw.gcs.UpdateActor(gcs_pb2.UpdateActorRequest(actor=info), timeout=10)
        if info.address.port:
            try:
                await self.cw.worker_stub(info.address).Exit(
                    worker_pb2.ExitRequest(force=True, reason=cause), timeout=5
                )
            except grpc.RpcError:
                pass
        await self._run_in_order(self.state.killed(actor_id, cause))

    async def shutdown(self) -> None:
        for timer in self._infeasible_timers.values():
            timer.cancel()
        self._infeasible_timers.clear()
        # Actor workers live on until the job finishes (detached ones beyond).
