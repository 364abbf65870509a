"""Actors: creating them (owner side) and sending their method calls in per-caller order.

The creator leases a worker for the actor's lifetime and pushes the creation task; the GCS
records where the actor lives, so any holder of a handle finds it. Calls from this process
to one actor carry consecutive sequence numbers; the actor's worker runs them in order.
All coroutines run on the core worker's I/O loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc

from plait._core.errors import error_object, exception_from
from plait._core.memory_store import StoredObject
from plait._core.task_spec import (
    DepsCancelled,
    PendingTask,
    fail_task,
    finish_task,
    resolve_owned_deps,
    stop_waiting_for_deps,
    wait_for_deps,
)
from plait._core.task_submitter import INFEASIBLE_WARNING_S, fits_no_node
from plait._format import ErrorInfo, deserialize
from plait._format import exceptions as exc
from plait._format.ids import random_id
from plait._protocol import common_pb2, gcs_pb2, raylet_pb2, raylet_pb2_grpc, worker_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

log = logging.getLogger(__name__)


@dataclass
class ActorState:
    actor_id: bytes
    address: common_pb2.Address | None = None
    dead_cause: str | None = None
    queue: deque[PendingTask] = field(default_factory=deque)
    next_seq: int = 0
    in_flight: dict[bytes, PendingTask] = field(default_factory=dict)
    resolving: bool = False
    sending: bool = False
    wake: asyncio.Event | None = None
    lease: tuple[bytes, str] | None = None  # (lease id, raylet) when we created it
    # Taken off the queue, waiting for its arguments before it gets a sequence number.
    resolving_task: PendingTask | None = None
    # (request id, raylet) of the worker lease the creator waits for.
    lease_request: tuple[bytes, str] | None = None


class ActorTaskSubmitter:
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self.actors: dict[bytes, ActorState] = {}

    def _state(self, actor_id: bytes) -> ActorState:
        st = self.actors.get(actor_id)
        if st is None:
            st = self.actors[actor_id] = ActorState(actor_id)
        return st

    # -- creation (we are the owner) -------------------------------------------------
    def create(self, task: PendingTask, detached: bool) -> None:
        self.cw.io.loop.call_soon_threadsafe(self._start_create, task, detached)

    def _start_create(self, task: PendingTask, detached: bool) -> None:
        # Mark it now, so calls queued right behind the creation wait for it.
        self._state(task.spec.actor_creation.actor_id).resolving = True
        asyncio.ensure_future(self._create(task, detached))

    async def _create(self, task: PendingTask, detached: bool) -> None:
        spec = task.spec
        actor_id = spec.actor_creation.actor_id
        st = self._state(actor_id)
        st.resolving = True
        try:
            failed = await resolve_owned_deps(self.cw, task)
            if failed is not None:
                await self._creation_failed(
                    st, task, "an argument of the actor's constructor failed", failed
                )
                return
            lease = await self._lease(spec, detached, st) if st.dead_cause is None else ""
            if st.dead_cause is not None:  # killed before it got a worker
                if not isinstance(lease, str):
                    st.lease = (lease[0].lease_id, lease[1])
                await self._abandon_creation(st, task, st.dead_cause)
                return
            if isinstance(lease, str):
                await self._creation_failed(st, task, lease, None)
                return
            reply_lease, raylet_addr = lease
            st.lease = (reply_lease.lease_id, raylet_addr)
            try:
                reply = await self.cw.worker_stub(reply_lease.worker_address).PushTask(
                    worker_pb2.PushTaskRequest(spec=spec, gpu_ids=reply_lease.gpu_ids)
                )
            except grpc.RpcError as e:
                await self._creation_failed(
                    st, task, f"the actor's worker died while creating it ({e.code().name})", None
                )
                return
            if reply.actor_creation_failed:
                err = None
                if reply.returns:
                    from plait._core.core_worker import stored_from_return

                    err = stored_from_return(reply.returns[0], True)
                await self._creation_failed(st, task, "the actor's constructor raised", err)
                return
            killed = st.dead_cause or await self._update_gcs(
                actor_id, common_pb2.ALIVE, reply_lease.worker_address, ""
            )
            if killed:  # killed (by plait.kill here or elsewhere) while being created
                await self._abandon_creation(st, task, killed)
                return
            finish_task(self.cw, task)
            st.address = reply_lease.worker_address
            st.resolving = False
            self._kick(st)
        finally:
            st.resolving = False

    async def _abandon_creation(self, st: ActorState, task: PendingTask, cause: str) -> None:
        """The actor was killed while being created: its worker (if any) goes too."""
        await self._give_back_lease(st)
        finish_task(self.cw, task)
        self._mark_dead(st, cause)

    async def _give_back_lease(self, st: ActorState) -> None:
        """Return the actor's lease as broken: the raylet kills its worker."""
        if st.lease is None:
            return
        lease_id, raylet = st.lease
        st.lease = None
        try:
            await raylet_pb2_grpc.RayletServiceStub(self.cw.channels.get(raylet)).ReturnWorkerLease(
                raylet_pb2.ReturnWorkerLeaseRequest(lease_id=lease_id, disconnect=True), timeout=5
            )
        except grpc.RpcError:
            pass

    async def _lease(
        self, spec: common_pb2.TaskSpec, detached: bool, st: ActorState
    ) -> tuple[raylet_pb2.RequestWorkerLeaseReply, str] | str:
        timer = asyncio.get_running_loop().call_later(
            INFEASIBLE_WARNING_S, lambda: asyncio.ensure_future(self._warn_if_infeasible(spec))
        )
        try:
            return await self._lease_hops(spec, detached, st)
        finally:
            timer.cancel()
            st.lease_request = None

    async def _warn_if_infeasible(self, spec: common_pb2.TaskSpec) -> None:
        resources = dict(spec.resources)
        if await fits_no_node(self.cw, resources):
            log.warning(
                "Actor %r asks for %s, which no node in the cluster has; it stays "
                "pending until a node that fits joins.",
                spec.name.removesuffix(".__init__"),
                resources,
            )

    async def _lease_hops(
        self, spec: common_pb2.TaskSpec, detached: bool, st: ActorState
    ) -> tuple[raylet_pb2.RequestWorkerLeaseReply, str] | str:
        raylet_addr = self.cw.raylet_address
        grant_or_queue = False
        for _hop in range(8):
            stub = raylet_pb2_grpc.RayletServiceStub(self.cw.channels.get(raylet_addr))
            request_id = random_id()
            st.lease_request = (request_id, raylet_addr)
            try:
                reply = await stub.RequestWorkerLease(
                    raylet_pb2.RequestWorkerLeaseRequest(
                        request_id=request_id,
                        job_id=self.cw.job_id,
                        language=spec.function.language,
                        resources=dict(spec.resources),
                        owner=self.cw.address_pb(),
                        is_actor=True,
                        detached=detached,
                        grant_or_queue=grant_or_queue,
                        task_name=spec.name,
                    )
                )
            except grpc.RpcError as e:
                return f"could not lease a worker for the actor ({e.code().name})"
            if reply.granted:
                return reply, raylet_addr
            if reply.spillback:
                raylet_addr = f"{reply.spillback_ip}:{reply.spillback_port}"
                grant_or_queue = True
                continue
            return reply.error or "the actor's worker lease was cancelled"
        return "the actor's lease was spilled back too many times"

    async def _creation_failed(
        self, st: ActorState, task: PendingTask, why: str, err: StoredObject | None
    ) -> None:
        cause = why
        if isinstance(err, StoredObject) and err.data is not None:
            info = deserialize(err.data)
            if isinstance(info, ErrorInfo):
                cause = f"{why}: {exception_from(info)}"
        cause = await self._update_gcs(st.actor_id, common_pb2.DEAD, None, cause) or cause
        await self._give_back_lease(st)
        finish_task(self.cw, task)
        self._mark_dead(st, cause)

    async def _update_gcs(
        self, actor_id: bytes, state: int, address: common_pb2.Address | None, cause: str
    ) -> str | None:
        """Record the actor's new state; if it is DEAD already (killed meanwhile), change
        nothing and return its death cause."""
        reply = await self.cw.gcs.GetActor(gcs_pb2.GetActorRequest(actor_id=actor_id), timeout=10)
        info = reply.actor
        if info.state == common_pb2.DEAD:
            return info.death_cause or "the actor died"
        info.state = state
        if address is not None:
            info.address.CopyFrom(address)
        if cause:
            info.death_cause = cause
        await self.cw.gcs.UpdateActor(gcs_pb2.UpdateActorRequest(actor=info), timeout=10)
        return None

    # -- calls ------------------------------------------------------------------------
    def submit(self, task: PendingTask) -> None:
        self.cw.io.loop.call_soon_threadsafe(self._enqueue, task)

    def _enqueue(self, task: PendingTask) -> None:
        st = self._state(task.spec.actor_task.actor_id)
        if st.dead_cause is not None:
            self._fail_dead(st, task)
            return
        st.queue.append(task)
        if st.address is None and not st.resolving:
            st.resolving = True
            asyncio.ensure_future(self._resolve_address(st))
        self._kick(st)

    async def _resolve_address(self, st: ActorState) -> None:
        """Wait for the GCS to report the actor ALIVE (made by another process) or DEAD."""
        try:
            while st.address is None and st.dead_cause is None:
                try:
                    reply = await self.cw.gcs.GetActor(
                        gcs_pb2.GetActorRequest(actor_id=st.actor_id, wait_timeout_s=10.0),
                        timeout=20,
                    )
                except grpc.RpcError as e:
                    if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                        continue
                    self._mark_dead(st, f"the GCS is unreachable ({e.code().name})")
                    return
                if not reply.found:
                    self._mark_dead(st, "the actor is not known to the GCS")
                    return
                if reply.actor.state == common_pb2.ALIVE:
                    st.address = reply.actor.address
                elif reply.actor.state == common_pb2.DEAD:
                    self._mark_dead(st, reply.actor.death_cause or "the actor died")
        finally:
            st.resolving = False
        self._kick(st)

    def _kick(self, st: ActorState) -> None:
        if not st.sending and st.address is not None and st.queue:
            st.sending = True
            asyncio.ensure_future(self._send_loop(st))

    async def _send_loop(self, st: ActorState) -> None:
        try:
            while st.queue and st.address is not None and st.dead_cause is None:
                task = st.queue.popleft()
                if task.owned_deps:
                    st.resolving_task = task
                    try:
                        failed = await wait_for_deps(self.cw, task)
                    except DepsCancelled:
                        continue
                    finally:
                        st.resolving_task = None
                    if failed is not None:
                        fail_task(self.cw, task, failed)
                        continue
                if task.cancelled:
                    continue
                task.spec.actor_task.sequence_number = st.next_seq
                st.next_seq += 1
                st.in_flight[task.spec.task_id] = task
                asyncio.ensure_future(self._push(st, st.address, task))
        finally:
            st.sending = False

    async def _push(self, st: ActorState, address: common_pb2.Address, task: PendingTask) -> None:
        try:
            reply = await self.cw.task_streams.push(
                address, worker_pb2.PushTaskRequest(spec=task.spec)
            )
        except grpc.RpcError as e:
            st.in_flight.pop(task.spec.task_id, None)
            cause = await self._death_cause(st, e)
            self._mark_dead(st, cause)
            self._fail_dead(st, task)
            return
        st.in_flight.pop(task.spec.task_id, None)
        if reply.cancelled:
            fail_task(self.cw, task, error_object(exc.TaskCancelledError(task.spec.task_id.hex())))
            return
        for ro in reply.returns:
            self.cw.record_return(ro, reply.is_application_error)
        finish_task(self.cw, task)

    async def _death_cause(self, st: ActorState, err: grpc.RpcError) -> str:
        # The GCS learns of the death from the raylet (or from plait.kill); give it a moment.
        for _ in range(20):
            try:
                reply = await self.cw.gcs.GetActor(
                    gcs_pb2.GetActorRequest(actor_id=st.actor_id), timeout=5
                )
                if reply.found and reply.actor.state == common_pb2.DEAD:
                    return reply.actor.death_cause or "the actor died"
            except grpc.RpcError:
                break
            await asyncio.sleep(0.1)
        return f"the actor's worker is unreachable ({err.code().name}: {err.details()})"

    def _mark_dead(self, st: ActorState, cause: str) -> None:
        if st.dead_cause is None:
            st.dead_cause = cause
        while st.queue:
            self._fail_dead(st, st.queue.popleft())
        for task in list(st.in_flight.values()):
            st.in_flight.pop(task.spec.task_id, None)
            self._fail_dead(st, task)

    def _fail_dead(self, st: ActorState, task: PendingTask) -> None:
        err = exc.ActorDiedError(
            f"The actor {st.actor_id.hex()} died before or while running "
            f"{task.spec.actor_task.method_name!r}: {st.dead_cause}",
            st.actor_id.hex(),
        )
        fail_task(self.cw, task, error_object(err))

    # -- cancel -------------------------------------------------------------------------
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

    def children_of(self, parent_task_id: bytes) -> list[bytes]:
        out = []
        for st in self.actors.values():
            for task in (*st.queue, *st.in_flight.values(), st.resolving_task):
                if task is not None and task.parent_task_id == parent_task_id and not task.done:
                    out.append(task.spec.task_id)
        return out

    async def cancel(self, task_id: bytes, force: bool, recursive: bool = True) -> bool:
        """Cancel an actor call as Ray does: one not yet started never runs; a running one
        is not interrupted (actors have state) but reports TaskCancelledError, except in an
        async actor, where its coroutine is cancelled. False if no such call is pending."""
        found = self._find(task_id)
        if found is None:
            return False
        if force:
            raise ValueError("force=True is not supported for actor tasks.")
        st, task, sent = found
        task.cancelled = True
        if not sent:
            if task in st.queue:
                st.queue.remove(task)
            stop_waiting_for_deps(task)
            fail_task(self.cw, task, error_object(exc.TaskCancelledError(task_id.hex())))
            return True
        if st.address is not None:
            try:
                await self.cw.worker_stub(st.address).CancelTask(
                    worker_pb2.CancelTaskRequest(task_id=task_id, force=False, recursive=recursive),
                    timeout=10,
                )
            except grpc.RpcError:
                pass  # the actor is gone: the call fails with ActorDiedError anyway
        return True

    # -- kill ---------------------------------------------------------------------------
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
        st = self._state(actor_id)
        self._mark_dead(st, cause)
        if st.lease_request is not None:  # we create it and it waits for a worker
            request_id, raylet = st.lease_request
            try:
                await raylet_pb2_grpc.RayletServiceStub(
                    self.cw.channels.get(raylet)
                ).CancelWorkerLease(
                    raylet_pb2.CancelWorkerLeaseRequest(request_id=request_id), timeout=5
                )
            except grpc.RpcError:
                pass

    async def shutdown(self) -> None:
        for st in self.actors.values():
            if st.lease is not None and st.dead_cause is None:
                pass  # actor workers live on until the job finishes (detached ones beyond)
