"""The raylet's gRPC service and the node's lifecycle.

`NodeManager` is the RayletService servicer, a thin shell over `NodeScheduler` (which
lease goes where), `WorkerPool` (processes) and `ObjectManager` (the object store). It
registers the node with the GCS, heartbeats every `heartbeat_period_s` with the node's
available resources and applies the reply (cluster view, finished jobs) to the scheduler
and the pool.

A lease request lives here from RequestWorkerLease until its reply:
  submitted -> (queued | infeasible)* -> granted: resources taken, waiting for a worker
  -> leased (reply sent), or spilled back / cancelled / failed at any point before.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc

from plait._protocol import common_pb2, gcs_pb2, raylet_pb2, raylet_pb2_grpc
from plait._services.object_store.local_store import (
    LocalObjectStore,
    default_capacity_bytes,
    default_store_dirs,
)
from plait._services.raylet.object_manager import ObjectManager
from plait._services.raylet.scheduler import (
    Allocation,
    Decision,
    DecisionKind,
    LeaseRequest,
    NodeScheduler,
    NodeView,
    shape_str,
)
from plait._services.raylet.worker_pool import (
    DEFAULT_IDLE_TIMEOUT_S,
    DEFAULT_REGISTER_TIMEOUT_S,
    Driver,
    PoolConfig,
    Worker,
    WorkerPool,
    WorkerStartError,
)
from plait._transport import channels as _transport
from plait._transport.clients import GcsClient

logger = logging.getLogger(__name__)

Ctx = grpc.aio.ServicerContext[Any, Any]

# The deadline of the raylet's calls to the GCS: short, so a heartbeat to a GCS that went
# away fails before the next one is due.
GCS_RPC_TIMEOUT_S = 5.0
GCS_REGISTER_TIMEOUT_S = 30.0
# The longest GetWorkerFailure waits for a worker to die and be reaped.
MAX_FAILURE_WAIT_S = 10.0


class GcsUnavailableError(RuntimeError):
    """The GCS did not answer the node's registration in time."""


@dataclass
class RayletConfig:
    gcs_address: str
    node_ip: str = "127.0.0.1"
    port: int = 0
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    custom_resources: dict[str, float] = field(default_factory=dict)
    object_store_memory: int = 0  # 0: the store's default
    session_dir: str = ""
    store_dir: str = ""  # "": /dev/shm/plait-<session>/<node_id>
    is_head: bool = False
    heartbeat_period_s: float = 0.5
    worker_register_timeout_s: float = DEFAULT_REGISTER_TIMEOUT_S
    idle_worker_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S

    def total_resources(self) -> dict[str, float]:
        total: dict[str, float] = {"CPU": self.num_cpus}
        if self.num_gpus:
            total["GPU"] = self.num_gpus
        total.update(self.custom_resources)
        # Like Ray: lets a request pin itself to this node by asking for node:<ip>.
        total[f"node:{self.node_ip}"] = 1.0
        return total


@dataclass(eq=False)
class PendingLease:
    request: raylet_pb2.RequestWorkerLeaseRequest
    reply: asyncio.Future[raylet_pb2.RequestWorkerLeaseReply]
    allocation: Allocation | None = None
    # Waits for a worker once the resources are granted.
    start_task: asyncio.Task[None] | None = None


@dataclass(eq=False)
class Lease:
    lease_id: bytes
    worker: Worker
    allocation: Allocation
    owner_worker_id: bytes
    detached: bool
    blocked: bool = False


def node_view(info: common_pb2.NodeInfo) -> NodeView:
    return NodeView(
        node_id=info.node_id,
        ip=info.ip,
        port=info.raylet_port,
        alive=info.alive,
        total=dict(info.total_resources),
        available=dict(info.available_resources),
    )


# unused-ignore: whether the stubs count as typed depends on the mypy config.
class NodeManager(raylet_pb2_grpc.RayletServiceServicer):  # type: ignore[misc, unused-ignore]
    """One node: RayletService, the GCS registration and heartbeat, workers, store."""

    def __init__(self, config: RayletConfig) -> None:
        self.config = config
        self.node_id = os.urandom(16).hex()
        self.port = config.port
        self.scheduler = NodeScheduler(self.node_id, config.total_resources())
        self._gcs_channel = _transport.aio_channel(config.gcs_address)
        self.gcs = GcsClient(self._gcs_channel, timeout=GCS_RPC_TIMEOUT_S)
        session_name = os.path.basename(os.path.normpath(config.session_dir)) or "default"
        default_store, default_spill = default_store_dirs(session_name, self.node_id)
        self.store_dir = config.store_dir or default_store
        self.spill_dir = (
            os.path.join(config.session_dir, "spill", self.node_id)
            if config.session_dir
            else default_spill
        )
        self.store: LocalObjectStore | None = None
        self.objects: ObjectManager | None = None
        self.pool: WorkerPool | None = None
        self._server: grpc.aio.Server | None = None
        self._pending: dict[bytes, PendingLease] = {}
        self._leases: dict[bytes, Lease] = {}
        self._job_cache: dict[bytes, common_pb2.JobInfo] = {}
        self._finished_jobs: set[bytes] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._shutdown = asyncio.Event()
        self._stopped = False
        self._gcs_reachable = True

    @property
    def address(self) -> str:
        return f"{self.config.node_ip}:{self.port}"

    # ---- lifecycle ----

    async def start(self) -> None:
        """Open the store, listen, register with the GCS, start the loops."""
        c = self.config
        capacity = c.object_store_memory or default_capacity_bytes()
        self.store = LocalObjectStore(self.store_dir, self.spill_dir, capacity)
        self.objects = ObjectManager(self.node_id, self.store, self._resolve_node)
        server = _transport.aio_server()
        raylet_pb2_grpc.add_RayletServiceServicer_to_server(self, server)  # type: ignore[no-untyped-call, unused-ignore]
        self.port = _transport.bind(server, c.node_ip, c.port)
        await server.start()
        self._server = server
        self.pool = WorkerPool(
            PoolConfig(
                node_id=self.node_id,
                node_ip=c.node_ip,
                raylet_address=self.address,
                gcs_address=c.gcs_address,
                store_dir=self.store_dir,
                num_cpus=c.num_cpus,
                register_timeout_s=c.worker_register_timeout_s,
                idle_timeout_s=c.idle_worker_timeout_s,
            ),
            get_job_info=self._get_job_info,
            on_worker_exit=self._on_worker_exit,
            on_driver_exit=self._on_driver_exit,
        )
        await self._register_with_retry(GCS_REGISTER_TIMEOUT_S)
        self._tasks.append(asyncio.create_task(self.pool.run()))
        self._tasks.append(asyncio.create_task(self._heartbeat_forever()))
        logger.info(
            "raylet %s listening on %s, resources %s, store %s",
            self.node_id,
            self.address,
            shape_str(self.scheduler.total),
            self.store_dir,
        )

    def node_info(self) -> common_pb2.NodeInfo:
        return common_pb2.NodeInfo(
            node_id=self.node_id,
            ip=self.config.node_ip,
            raylet_port=self.port,
            total_resources=self.scheduler.total,
            available_resources=self.scheduler.available,
            alive=True,
            store_dir=self.store_dir,
            is_head=self.config.is_head,
        )

    async def _register_with_retry(self, timeout_s: float) -> None:
        """The GCS may still be starting: retry until it answers or timeout_s passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                await self.gcs.RegisterNode(gcs_pb2.RegisterNodeRequest(node=self.node_info()))
                return
            except grpc.aio.AioRpcError as e:
                if loop.time() > deadline:
                    raise GcsUnavailableError(
                        f"could not register with the GCS at {self.config.gcs_address}: "
                        f"{e.details()}"
                    ) from e
                await asyncio.sleep(0.2)

    def request_shutdown(self) -> None:
        self._shutdown.set()

    async def wait_for_shutdown(self) -> None:
        await self._shutdown.wait()

    async def stop(self) -> None:
        """Leave the cluster, stop every worker, delete the store; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._shutdown.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            # Short: on shutdown the GCS may already be gone, and leaving must not hang.
            await self.gcs.UnregisterNode(
                gcs_pb2.UnregisterNodeRequest(node_id=self.node_id), timeout=2.0
            )
        except grpc.aio.AioRpcError as e:
            logger.warning("could not unregister from the GCS: %s", e.details())
        for pending in list(self._pending.values()):
            if pending.start_task is not None:
                pending.start_task.cancel()
            _resolve(
                pending, raylet_pb2.RequestWorkerLeaseReply(error="the raylet is shutting down")
            )
        if self.pool is not None:
            await self.pool.close()
        if self.objects is not None:
            await self.objects.close()
        if self.store is not None:
            self.store.destroy()
        if self._server is not None:
            # A short grace lets the Shutdown RPC's own reply go out.
            await self._server.stop(grace=0.5)
        for task in list(self._background):
            task.cancel()
        await self._gcs_channel.close(None)
        logger.info("raylet %s stopped", self.node_id)

    def _spawn_bg(self, coro: Any) -> None:
        """Run a fire-and-forget coroutine, keeping a reference so it is not collected."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- GCS ----

    async def _heartbeat_forever(self) -> None:
        while True:
            await self._heartbeat_once()
            await asyncio.sleep(self.config.heartbeat_period_s)

    async def _heartbeat_once(self) -> None:
        req = gcs_pb2.HeartbeatRequest(
            node_id=self.node_id,
            available_resources=self.scheduler.available,
            infeasible=self.scheduler.infeasible_shapes(),
        )
        try:
            reply = await self.gcs.Heartbeat(req)
            if reply.unknown_node:
                logger.warning("the GCS does not know this node (restarted?): re-registering")
                await self.gcs.RegisterNode(gcs_pb2.RegisterNodeRequest(node=self.node_info()))
                return
        except grpc.aio.AioRpcError as e:
            if self._gcs_reachable:
                logger.warning(
                    "heartbeat to the GCS at %s failed: %s", self.config.gcs_address, e.details()
                )
            self._gcs_reachable = False
            return
        if not self._gcs_reachable:
            logger.info("the GCS at %s is reachable again", self.config.gcs_address)
            self._gcs_reachable = True
        self._apply(self.scheduler.update_cluster_view(node_view(n) for n in reply.nodes))
        for job_id in reply.finished_job_ids:
            if job_id not in self._finished_jobs:
                self._finished_jobs.add(job_id)
                self._job_cache.pop(job_id, None)
                if self.pool is not None:
                    self.pool.job_finished(job_id)

    async def _get_job_info(self, job_id: bytes) -> common_pb2.JobInfo | None:
        job = self._job_cache.get(job_id)
        if job is not None:
            return job
        try:
            reply = await self.gcs.GetJob(gcs_pb2.GetJobRequest(job_id=job_id))
        except grpc.aio.AioRpcError as e:
            logger.warning("GetJob %s failed: %s", job_id.hex(), e.details())
            return None
        if not reply.found:
            return None
        self._job_cache[job_id] = reply.job
        return reply.job

    def _resolve_node(self, node_id: str) -> str | None:
        if node_id == self.node_id:
            return self.address
        return self.scheduler.node_address(node_id)

    async def _report_death(self, worker_id: bytes, reason: str) -> None:
        try:
            await self.gcs.ReportWorkerDeath(
                gcs_pb2.ReportWorkerDeathRequest(
                    worker_id=worker_id, node_id=self.node_id, reason=reason
                )
            )
        except grpc.aio.AioRpcError as e:
            logger.warning("ReportWorkerDeath to the GCS failed: %s", e.details())

    async def _mark_job_finished(self, job_id: bytes) -> None:
        try:
            await self.gcs.MarkJobFinished(gcs_pb2.MarkJobFinishedRequest(job_id=job_id))
        except grpc.aio.AioRpcError as e:
            logger.warning("MarkJobFinished to the GCS failed: %s", e.details())

    # ---- pool events ----

    def _on_worker_exit(self, worker: Worker, reason: str) -> None:
        if worker.lease_id is not None:
            lease = self._leases.pop(worker.lease_id, None)
            if lease is not None:
                self._apply(self.scheduler.release(lease.allocation))
        # Workers leased by the dead one share its fate (its tasks and non-detached
        # actors have no owner left).
        self._kill_leases_owned_by(worker.worker_id, f"its owner {worker.worker_id.hex()} died")
        self._spawn_bg(self._report_death(worker.worker_id, reason))

    def _on_driver_exit(self, driver: Driver) -> None:
        self._finished_jobs.add(driver.job_id)
        self._kill_leases_owned_by(driver.worker_id, "its driver exited")
        assert self.pool is not None
        self.pool.job_finished(driver.job_id)
        self._spawn_bg(self._mark_job_finished(driver.job_id))

    def _kill_leases_owned_by(self, owner_id: bytes, reason: str) -> None:
        assert self.pool is not None
        for lease in list(self._leases.values()):
            if lease.owner_worker_id == owner_id and not lease.detached:
                self.pool.kill_worker(lease.worker, reason)

    # ---- leases ----

    def _apply(self, decisions: Iterable[Decision]) -> None:
        for d in decisions:
            pending = self._pending.get(d.request_id)
            if pending is None:
                # Nobody waits any more (cancelled in between): give back what was taken.
                if d.allocation is not None:
                    self._apply(self.scheduler.release(d.allocation))
                continue
            if d.kind is DecisionKind.GRANT:
                assert d.allocation is not None
                pending.allocation = d.allocation
                pending.start_task = asyncio.create_task(self._lease_worker(pending))
            elif d.kind is DecisionKind.SPILLBACK:
                assert d.target is not None
                logger.debug("spilling lease %s back to %s", d.request_id.hex(), d.target.node_id)
                _resolve(
                    pending,
                    raylet_pb2.RequestWorkerLeaseReply(
                        spillback=True,
                        spillback_node_id=d.target.node_id,
                        spillback_ip=d.target.ip,
                        spillback_port=d.target.port,
                    ),
                )

    async def _lease_worker(self, pending: PendingLease) -> None:
        """Resources are granted: get a worker, then answer the request."""
        req = pending.request
        assert self.pool is not None and pending.allocation is not None
        try:
            worker = await self.pool.pop_worker(req.job_id, req.language)
        except WorkerStartError as e:
            self._release_pending(pending)
            _resolve(pending, raylet_pb2.RequestWorkerLeaseReply(error=str(e)))
            return
        except Exception as e:  # a bug here must fail the request, not hang it
            logger.exception("leasing a worker failed")
            self._release_pending(pending)
            _resolve(pending, raylet_pb2.RequestWorkerLeaseReply(error=f"raylet error: {e!r}"))
            return
        if pending.reply.done():  # the requester left while the worker started
            self.pool.push_worker(worker)
            self._release_pending(pending)
            return
        lease_id = os.urandom(16)
        worker.lease_id = lease_id
        worker.detached = req.detached
        self._leases[lease_id] = Lease(
            lease_id, worker, pending.allocation, req.owner.worker_id, req.detached
        )
        pending.allocation = None
        _resolve(
            pending,
            raylet_pb2.RequestWorkerLeaseReply(
                granted=True,
                worker_address=common_pb2.Address(
                    node_id=self.node_id,
                    ip=self.config.node_ip,
                    port=worker.port,
                    worker_id=worker.worker_id,
                ),
                lease_id=lease_id,
                gpu_ids=list(self._leases[lease_id].allocation.gpu_ids),
            ),
        )

    def _release_pending(self, pending: PendingLease) -> None:
        if pending.allocation is not None:
            allocation, pending.allocation = pending.allocation, None
            self._apply(self.scheduler.release(allocation))

    def _cancel(self, request_id: bytes) -> bool:
        pending = self._pending.get(request_id)
        if pending is None or pending.reply.done():
            return False
        if self.scheduler.cancel(request_id):
            _resolve(pending, raylet_pb2.RequestWorkerLeaseReply(cancelled=True))
            return True
        if pending.start_task is not None and not pending.start_task.done():
            pending.start_task.cancel()
            self._release_pending(pending)
            _resolve(pending, raylet_pb2.RequestWorkerLeaseReply(cancelled=True))
            return True
        return False

    # ---- RayletService ----

    async def RegisterWorker(
        self, request: raylet_pb2.RegisterWorkerRequest, context: Ctx
    ) -> raylet_pb2.RegisterWorkerReply:
        assert self.pool is not None
        if request.is_driver:
            self.pool.register_driver(request.worker_id, request.pid, request.job_id)
            logger.info("driver pid %d of job %s registered", request.pid, request.job_id.hex())
            prestart = min(2, int(self.config.num_cpus))
            if prestart:
                self._spawn_bg(self.pool.prestart(request.job_id, request.language, prestart))
        elif self.pool.register_worker(request.worker_id, request.port, request.pid) is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"worker {request.worker_id.hex()} was not started by this raylet "
                "(or registered already)",
            )
        return raylet_pb2.RegisterWorkerReply(node_id=self.node_id, store_dir=self.store_dir)

    async def RequestWorkerLease(
        self, request: raylet_pb2.RequestWorkerLeaseRequest, context: Ctx
    ) -> raylet_pb2.RequestWorkerLeaseReply:
        rid = request.request_id or os.urandom(16)
        if rid in self._pending:
            await context.abort(
                grpc.StatusCode.ALREADY_EXISTS, f"lease request {rid.hex()} is already pending"
            )
        if self._stopped:
            return raylet_pb2.RequestWorkerLeaseReply(error="the raylet is shutting down")
        pending = PendingLease(request, asyncio.get_running_loop().create_future())
        self._pending[rid] = pending
        try:
            try:
                decision = self.scheduler.submit(
                    LeaseRequest(rid, dict(request.resources), request.grant_or_queue)
                )
            except ValueError as e:
                return raylet_pb2.RequestWorkerLeaseReply(error=str(e))
            if decision.kind is DecisionKind.INFEASIBLE:
                logger.info(
                    "lease request for %s (%s) queued as infeasible",
                    shape_str(request.resources),
                    request.task_name or "unnamed",
                )
            self._apply([decision])
            # shield: the requester leaving cancels this await, not the reply future,
            # so a grant that raced with the departure is seen and returned below.
            return await asyncio.shield(pending.reply)
        except asyncio.CancelledError:
            if not self._cancel(rid) and pending.reply.done() and not pending.reply.cancelled():
                granted = pending.reply.result()
                if granted.granted:
                    self._return_lease(granted.lease_id, disconnect=False)
            raise
        finally:
            del self._pending[rid]

    async def CancelWorkerLease(
        self, request: raylet_pb2.CancelWorkerLeaseRequest, context: Ctx
    ) -> raylet_pb2.CancelWorkerLeaseReply:
        return raylet_pb2.CancelWorkerLeaseReply(cancelled=self._cancel(request.request_id))

    def _return_lease(self, lease_id: bytes, disconnect: bool) -> None:
        lease = self._leases.pop(lease_id, None)
        if lease is None:
            return
        assert self.pool is not None
        worker = lease.worker
        worker.lease_id = None
        if lease.blocked:
            self.scheduler.worker_unblocked(lease.allocation)
        if disconnect:
            self.pool.kill_worker(worker, "its lease was returned as broken")
        else:
            self.pool.push_worker(worker)
        self._apply(self.scheduler.release(lease.allocation))

    async def ReturnWorkerLease(
        self, request: raylet_pb2.ReturnWorkerLeaseRequest, context: Ctx
    ) -> raylet_pb2.ReturnWorkerLeaseReply:
        self._return_lease(request.lease_id, request.disconnect)
        return raylet_pb2.ReturnWorkerLeaseReply()

    async def NotifyWorkerBlocked(
        self, request: raylet_pb2.NotifyWorkerBlockedRequest, context: Ctx
    ) -> raylet_pb2.NotifyWorkerBlockedReply:
        assert self.pool is not None
        worker = self.pool.get(request.worker_id)
        lease = self._leases.get(worker.lease_id) if worker and worker.lease_id else None
        if lease is not None and lease.blocked != request.blocked:
            lease.blocked = request.blocked
            if request.blocked:
                self._apply(self.scheduler.worker_blocked(lease.allocation))
            else:
                self.scheduler.worker_unblocked(lease.allocation)
        return raylet_pb2.NotifyWorkerBlockedReply()

    async def KillWorker(
        self, request: raylet_pb2.KillWorkerRequest, context: Ctx
    ) -> raylet_pb2.KillWorkerReply:
        assert self.pool is not None
        worker = self.pool.get(request.worker_id)
        if worker is None:
            return raylet_pb2.KillWorkerReply(killed=False)
        self.pool.kill_worker(worker, request.reason or "killed by request")
        return raylet_pb2.KillWorkerReply(killed=True)

    async def GetWorkerFailure(
        self, request: raylet_pb2.GetWorkerFailureRequest, context: Ctx
    ) -> raylet_pb2.GetWorkerFailureReply:
        assert self.pool is not None
        timeout_s = min(max(request.timeout_s, 0.0), MAX_FAILURE_WAIT_S)
        cause = await self.pool.failure(request.worker_id, timeout_s)
        return raylet_pb2.GetWorkerFailureReply(found=cause is not None, cause=cause or "")

    async def CreateObject(
        self, request: raylet_pb2.CreateObjectRequest, context: Ctx
    ) -> raylet_pb2.CreateObjectReply:
        assert self.objects is not None
        return await self.objects.create_object(request)

    async def SealObject(
        self, request: raylet_pb2.SealObjectRequest, context: Ctx
    ) -> raylet_pb2.SealObjectReply:
        assert self.objects is not None
        return await self.objects.seal_object(request)

    async def GetObjects(
        self, request: raylet_pb2.GetObjectsRequest, context: Ctx
    ) -> raylet_pb2.GetObjectsReply:
        assert self.objects is not None
        return await self.objects.get_objects(request)

    async def FreeObjects(
        self, request: raylet_pb2.FreeObjectsRequest, context: Ctx
    ) -> raylet_pb2.FreeObjectsReply:
        assert self.objects is not None
        return await self.objects.free_objects(request)

    async def PullObject(
        self, request: raylet_pb2.PullObjectRequest, context: Ctx
    ) -> AsyncIterator[raylet_pb2.ObjectChunk]:
        assert self.objects is not None
        async for chunk in self.objects.pull_object(request):
            yield chunk

    async def GetNodeStats(
        self, request: raylet_pb2.GetNodeStatsRequest, context: Ctx
    ) -> raylet_pb2.GetNodeStatsReply:
        assert self.pool is not None and self.objects is not None
        store = self.objects.stats()
        return raylet_pb2.GetNodeStatsReply(
            node_id=self.node_id,
            total_resources=self.scheduler.total,
            available_resources=self.scheduler.available,
            num_workers=self.pool.num_workers(),
            num_idle_workers=self.pool.num_idle(),
            store_used_bytes=store.get("used_bytes", 0),
            store_capacity_bytes=store.get("capacity_bytes", 0),
            num_objects=store.get("num_objects", 0),
            num_spilled_objects=store.get("num_spilled", 0),
            num_pending_leases=len(self._pending),
        )

    async def Shutdown(
        self, request: raylet_pb2.ShutdownRayletRequest, context: Ctx
    ) -> raylet_pb2.ShutdownRayletReply:
        logger.info("shutdown requested over RPC")
        # Stop after this reply is on its way; stop() gives the server a short grace.
        asyncio.get_running_loop().call_soon(self.request_shutdown)
        return raylet_pb2.ShutdownRayletReply()


def _resolve(pending: PendingLease, reply: raylet_pb2.RequestWorkerLeaseReply) -> None:
    if not pending.reply.done():
        pending.reply.set_result(reply)
