"""Normal tasks: lease workers from raylets and push tasks straight to them.

Tasks with the same resource shape share a queue and the leases granted for it. A lease is
reused while work remains and handed back shortly after its queue runs dry. All methods run
on the core worker's I/O loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc

from plait._core.errors import error_object, exception_from
from plait._core.task_spec import (
    DepsCancelled,
    PendingTask,
    fail_task,
    finish_task,
    stop_waiting_for_deps,
    wait_for_deps,
)
from plait._format import ErrorInfo, deserialize
from plait._format import exceptions as exc
from plait._format.ids import random_id
from plait._protocol import common_pb2, raylet_pb2, raylet_pb2_grpc, worker_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

log = logging.getLogger(__name__)

MAX_TASKS_IN_FLIGHT_PER_LEASE = 4
MAX_PENDING_LEASE_REQUESTS = 4
LEASE_IDLE_SECONDS = 0.2


@dataclass
class Lease:
    lease_id: bytes
    worker: common_pb2.Address
    raylet_address: str
    gpu_ids: list[int]
    in_flight: set[bytes] = field(default_factory=set)
    idle_handle: asyncio.TimerHandle | None = None
    broken: bool = False


@dataclass
class KeyState:
    resources: dict[str, float]
    language: int = common_pb2.PYTHON
    queue: deque[PendingTask] = field(default_factory=deque)
    leases: list[Lease] = field(default_factory=list)
    lease_requests: dict[bytes, str] = field(default_factory=dict)  # request id -> raylet


SchedulingKey = tuple[int, tuple[tuple[str, float], ...]]


def scheduling_key(language: int, resources: dict[str, float]) -> SchedulingKey:
    """Tasks share leases when they need the same kind of worker and resource shape."""
    return language, tuple(sorted(resources.items()))


INFEASIBLE_WARNING_S = 5.0


async def fits_no_node(cw: CoreWorker, resources: dict[str, float]) -> bool:
    """Whether no live node of the cluster has these resources in total (False when the
    GCS cannot tell)."""
    from plait._protocol import gcs_pb2

    try:
        nodes = (await cw.gcs.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=5)).nodes
    except grpc.RpcError:
        return False
    return not any(
        all(n.total_resources.get(k, 0.0) >= v for k, v in resources.items())
        for n in nodes
        if n.alive
    )


class NormalTaskSubmitter:
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self.keys: dict[SchedulingKey, KeyState] = {}
        self.tasks: dict[bytes, PendingTask] = {}
        self._warned_infeasible: set[SchedulingKey] = set()

    # -- submission ---------------------------------------------------------------
    def submit(self, task: PendingTask) -> None:
        """Thread-safe entry: hand the task to the loop."""
        self.cw.io.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._submit(task)))

    async def _submit(self, task: PendingTask) -> None:
        self.tasks[task.spec.task_id] = task
        if task.owned_deps:
            try:
                failed = await wait_for_deps(self.cw, task)
            except DepsCancelled:
                return
            if failed is not None:
                self._complete_failed(task, failed)
                return
        if task.cancelled:
            return
        language = task.spec.function.language
        key = scheduling_key(language, dict(task.spec.resources))
        state = self.keys.get(key)
        if state is None:
            state = self.keys[key] = KeyState(dict(task.spec.resources), language)
        state.queue.append(task)
        self._dispatch(state)

    def _dispatch(self, state: KeyState) -> None:
        # 1. Idle leases take a task each.
        for lease in state.leases:
            if not state.queue:
                break
            if not lease.broken and not lease.in_flight:
                self._push_next(state, lease)
        # 2. Ask for more workers for what is left.
        want = min(len(state.queue), MAX_PENDING_LEASE_REQUESTS)
        while len(state.lease_requests) < want:
            req_id = random_id()
            state.lease_requests[req_id] = self.cw.raylet_address
            asyncio.ensure_future(self._request_lease(state, req_id))
        # 3. Pipeline onto busy leases only the tasks that the pending lease requests will
        #    not take: a backlog, not work that a fresh worker could start right away.
        while len(state.queue) > len(state.lease_requests):
            usable = [
                lease
                for lease in state.leases
                if not lease.broken and len(lease.in_flight) < MAX_TASKS_IN_FLIGHT_PER_LEASE
            ]
            if not usable:
                break
            self._push_next(state, min(usable, key=lambda lease: len(lease.in_flight)))

    def _push_next(self, state: KeyState, lease: Lease) -> None:
        while state.queue:
            task = state.queue.popleft()
            if not task.cancelled:
                self._push(state, lease, task)
                return

    # -- leases -----------------------------------------------------------------
    async def _request_lease(self, state: KeyState, req_id: bytes) -> None:
        raylet_addr = self.cw.raylet_address
        grant_or_queue = False
        head = state.queue[0] if state.queue else None
        name = head.spec.name if head else ""
        infeasible_timer = asyncio.get_running_loop().call_later(
            INFEASIBLE_WARNING_S, self._warn_if_infeasible, state
        )
        try:
            for _hop in range(8):
                state.lease_requests[req_id] = raylet_addr
                stub = raylet_pb2_grpc.RayletServiceStub(self.cw.channels.get(raylet_addr))
                try:
                    reply = await stub.RequestWorkerLease(
                        raylet_pb2.RequestWorkerLeaseRequest(
                            request_id=req_id,
                            job_id=self.cw.job_id,
                            language=state.language,  # type: ignore[arg-type]
                            resources=state.resources,
                            owner=self.cw.address_pb(),
                            grant_or_queue=grant_or_queue,
                            task_name=name,
                        )
                    )
                except grpc.RpcError as e:
                    self._fail_queue(
                        state,
                        exc.RaySystemError(
                            f"could not lease a worker from raylet {raylet_addr}: {e.code().name}"
                        ),
                    )
                    return
                if reply.granted:
                    lease = Lease(
                        reply.lease_id, reply.worker_address, raylet_addr, list(reply.gpu_ids)
                    )
                    state.leases.append(lease)
                    self._dispatch(state)
                    if not lease.in_flight:
                        self._schedule_idle_return(state, lease)
                    return
                if reply.spillback:
                    raylet_addr = f"{reply.spillback_ip}:{reply.spillback_port}"
                    grant_or_queue = True
                    continue
                if reply.error:
                    self._fail_queue(state, exc.RaySystemError(reply.error))
                return  # cancelled
        finally:
            infeasible_timer.cancel()
            state.lease_requests.pop(req_id, None)
            if state.queue:
                self._dispatch(state)

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

    def _schedule_idle_return(self, state: KeyState, lease: Lease) -> None:
        if lease.idle_handle is not None:
            lease.idle_handle.cancel()
        lease.idle_handle = asyncio.get_running_loop().call_later(
            LEASE_IDLE_SECONDS, lambda: asyncio.ensure_future(self._return_if_idle(state, lease))
        )

    async def _return_if_idle(self, state: KeyState, lease: Lease) -> None:
        if lease.in_flight or state.queue or lease not in state.leases:
            return
        state.leases.remove(lease)
        await self._return_lease(lease, disconnect=False)

    async def _return_lease(self, lease: Lease, disconnect: bool) -> None:
        stub = raylet_pb2_grpc.RayletServiceStub(self.cw.channels.get(lease.raylet_address))
        try:
            await stub.ReturnWorkerLease(
                raylet_pb2.ReturnWorkerLeaseRequest(lease_id=lease.lease_id, disconnect=disconnect),
                timeout=10,
            )
        except grpc.RpcError:
            pass

    # -- pushing ------------------------------------------------------------------
    def _push(self, state: KeyState, lease: Lease, task: PendingTask) -> None:
        if lease.idle_handle is not None:
            lease.idle_handle.cancel()
            lease.idle_handle = None
        lease.in_flight.add(task.spec.task_id)
        task.pushed_to = lease
        asyncio.ensure_future(self._push_and_wait(state, lease, task))

    async def _push_and_wait(self, state: KeyState, lease: Lease, task: PendingTask) -> None:
        try:
            reply = await self.cw.task_streams.push(
                lease.worker, worker_pb2.PushTaskRequest(spec=task.spec, gpu_ids=lease.gpu_ids)
            )
        except grpc.RpcError as e:
            lease.in_flight.discard(task.spec.task_id)
            await self._on_worker_failure(state, lease, task, e)
            return
        lease.in_flight.discard(task.spec.task_id)
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
            self._complete(task, reply)
        self._dispatch(state)
        if not lease.in_flight and not state.queue:
            self._schedule_idle_return(state, lease)

    async def _on_worker_failure(
        self, state: KeyState, lease: Lease, task: PendingTask, err: grpc.RpcError
    ) -> None:
        if not lease.broken:
            lease.broken = True
            if lease in state.leases:
                state.leases.remove(lease)
            await self._return_lease(lease, disconnect=True)
        if task.cancelled:
            fail_task(self.cw, task, error_object(exc.TaskCancelledError(task.spec.task_id.hex())))
            self.tasks.pop(task.spec.task_id, None)
        elif task.spec.attempt < task.spec.max_retries:
            task.spec.attempt += 1
            task.pushed_to = None
            log.info(
                "worker running task %s died (%s); retrying (%d/%d)",
                task.spec.name,
                err.code().name,
                task.spec.attempt,
                task.spec.max_retries,
            )
            state.queue.appendleft(task)
        else:
            msg = (
                f"The worker running task {task.spec.name!r} died unexpectedly "
                f"({err.code().name}: {err.details()})"
            )
            if task.spec.max_retries > 0:
                msg += f"; it was retried {task.spec.max_retries} time(s)"
            fail_task(self.cw, task, error_object(exc.WorkerCrashedError(msg + ".")))
            self.tasks.pop(task.spec.task_id, None)
        self._dispatch(state)

    @staticmethod
    def _should_retry_error(task: PendingTask, reply: worker_pb2.PushTaskReply) -> bool:
        """retry_exceptions: the task raised, it may be retried, and the error is one to
        retry on."""
        if (
            not reply.is_application_error
            or not task.retry_exceptions
            or task.cancelled
            or task.spec.attempt >= task.spec.max_retries
            or not reply.returns
        ):
            return False
        classes = task.retry_exceptions
        if not isinstance(classes, tuple):
            return True
        info = deserialize(reply.returns[0].data)
        return isinstance(info, ErrorInfo) and isinstance(exception_from(info), classes)

    def _complete(self, task: PendingTask, reply: worker_pb2.PushTaskReply) -> None:
        self.tasks.pop(task.spec.task_id, None)
        if reply.cancelled:
            fail_task(self.cw, task, error_object(exc.TaskCancelledError(task.spec.task_id.hex())))
            return
        for ro in reply.returns:
            self.cw.record_return(ro, reply.is_application_error)
        finish_task(self.cw, task)

    def _complete_failed(self, task: PendingTask, obj: Any) -> None:
        self.tasks.pop(task.spec.task_id, None)
        fail_task(self.cw, task, obj)

    def _fail_queue(self, state: KeyState, err: BaseException) -> None:
        while state.queue:
            task = state.queue.popleft()
            self.tasks.pop(task.spec.task_id, None)
            fail_task(self.cw, task, error_object(err))

    # -- cancellation ---------------------------------------------------------------
    def children_of(self, parent_task_id: bytes) -> list[bytes]:
        return [
            t.spec.task_id
            for t in self.tasks.values()
            if t.parent_task_id == parent_task_id and not t.done
        ]

    async def cancel(self, task_id: bytes, force: bool, recursive: bool = True) -> None:
        task = self.tasks.get(task_id)
        if task is None or task.done:
            return
        task.cancelled = True
        lease = task.pushed_to
        if lease is None:
            stop_waiting_for_deps(task)
            emptied = []
            for state in self.keys.values():
                if task in state.queue:
                    state.queue.remove(task)
                    if not state.queue:
                        emptied.append(state)
            self.tasks.pop(task_id, None)
            fail_task(self.cw, task, error_object(exc.TaskCancelledError(task_id.hex())))
            for state in emptied:  # nothing left to run on the workers being asked for
                await self._cancel_lease_requests(state)
            return
        try:
            await self.cw.worker_stub(lease.worker).CancelTask(
                worker_pb2.CancelTaskRequest(task_id=task_id, force=force, recursive=recursive),
                timeout=10,
            )
        except grpc.RpcError:
            pass

    async def _cancel_lease_requests(self, state: KeyState) -> None:
        for req_id, addr in list(state.lease_requests.items()):
            stub = raylet_pb2_grpc.RayletServiceStub(self.cw.channels.get(addr))
            try:
                await stub.CancelWorkerLease(
                    raylet_pb2.CancelWorkerLeaseRequest(request_id=req_id), timeout=2
                )
            except grpc.RpcError:
                pass

    async def shutdown(self) -> None:
        for state in self.keys.values():
            await self._cancel_lease_requests(state)
            for lease in list(state.leases):
                if lease.idle_handle is not None:
                    lease.idle_handle.cancel()
                await self._return_lease(lease, disconnect=bool(lease.in_flight))
            state.leases.clear()
