"""The GCS gRPC service: a thin shell over `GcsState`, plus the process's serve loop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Any

import grpc

from plait._protocol import common_pb2, gcs_pb2, gcs_pb2_grpc
from plait._services.gcs.node_table import DEFAULT_NODE_TIMEOUT_S
from plait._services.gcs.state import GcsState
from plait._services.gcs.storage import MEMORY
from plait._transport import channels as _transport

logger = logging.getLogger(__name__)

Ctx = grpc.aio.ServicerContext[Any, Any]


# unused-ignore: whether the stubs count as typed depends on the mypy config.
class GcsServicer(gcs_pb2_grpc.GcsServiceServicer):  # type: ignore[misc, unused-ignore]
    """Translates RPCs to `GcsState` calls; owns only the GetActor waiters."""

    def __init__(self, state: GcsState) -> None:
        self.state = state
        # actor id -> futures of GetActor calls waiting for that actor to change.
        self._waiters: dict[bytes, set[asyncio.Future[None]]] = {}
        state.actors.listener = self._on_actor_change

    def _on_actor_change(self, info: common_pb2.ActorInfo) -> None:
        for fut in self._waiters.pop(info.actor_id, set()):
            if not fut.done():
                fut.set_result(None)

    # ---- nodes ----

    async def RegisterNode(
        self, request: gcs_pb2.RegisterNodeRequest, context: Ctx
    ) -> gcs_pb2.RegisterNodeReply:
        self.state.register_node(request.node)
        return gcs_pb2.RegisterNodeReply()

    async def UnregisterNode(
        self, request: gcs_pb2.UnregisterNodeRequest, context: Ctx
    ) -> gcs_pb2.UnregisterNodeReply:
        self.state.unregister_node(request.node_id)
        return gcs_pb2.UnregisterNodeReply()

    async def Heartbeat(
        self, request: gcs_pb2.HeartbeatRequest, context: Ctx
    ) -> gcs_pb2.HeartbeatReply:
        known, nodes, finished = self.state.heartbeat(request.node_id, request.available_resources)
        return gcs_pb2.HeartbeatReply(
            nodes=nodes, finished_job_ids=finished, unknown_node=not known
        )

    async def GetAllNodes(
        self, request: gcs_pb2.GetAllNodesRequest, context: Ctx
    ) -> gcs_pb2.GetAllNodesReply:
        return gcs_pb2.GetAllNodesReply(nodes=self.state.nodes.all())

    # ---- jobs ----

    async def RegisterJob(
        self, request: gcs_pb2.RegisterJobRequest, context: Ctx
    ) -> gcs_pb2.RegisterJobReply:
        return gcs_pb2.RegisterJobReply(job_id=self.state.register_job(request.job))

    async def MarkJobFinished(
        self, request: gcs_pb2.MarkJobFinishedRequest, context: Ctx
    ) -> gcs_pb2.MarkJobFinishedReply:
        self.state.mark_job_finished(request.job_id)
        return gcs_pb2.MarkJobFinishedReply()

    async def GetJob(self, request: gcs_pb2.GetJobRequest, context: Ctx) -> gcs_pb2.GetJobReply:
        job = self.state.jobs.get(request.job_id)
        if job is None:
            return gcs_pb2.GetJobReply(found=False)
        return gcs_pb2.GetJobReply(job=job, found=True)

    # ---- actors ----

    async def RegisterActor(
        self, request: gcs_pb2.RegisterActorRequest, context: Ctx
    ) -> gcs_pb2.RegisterActorReply:
        return gcs_pb2.RegisterActorReply(error=self.state.register_actor(request.actor))

    async def UpdateActor(
        self, request: gcs_pb2.UpdateActorRequest, context: Ctx
    ) -> gcs_pb2.UpdateActorReply:
        if self.state.update_actor(request.actor) is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"actor {request.actor.actor_id.hex()} is not registered",
            )
        return gcs_pb2.UpdateActorReply()

    async def GetActor(
        self, request: gcs_pb2.GetActorRequest, context: Ctx
    ) -> gcs_pb2.GetActorReply:
        info = await self._wait_actor(request.actor_id, request.wait_timeout_s)
        if info is None:
            return gcs_pb2.GetActorReply(found=False)
        return gcs_pb2.GetActorReply(actor=info, found=True)

    async def _wait_actor(self, actor_id: bytes, timeout_s: float) -> common_pb2.ActorInfo | None:
        """The actor's record once it is ALIVE or DEAD, or as it is after timeout_s.

        An actor not registered yet is waited for too: a handle can reach a caller
        before its creator's registration reaches the GCS.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout_s, 0.0)
        while True:
            info = self.state.actors.get(actor_id)
            if info is not None and info.state in (common_pb2.ALIVE, common_pb2.DEAD):
                return info
            remaining = deadline - loop.time()
            if remaining <= 0:
                return info
            fut: asyncio.Future[None] = loop.create_future()
            waiters = self._waiters.setdefault(actor_id, set())
            waiters.add(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass
            finally:
                waiters.discard(fut)
                if not waiters and self._waiters.get(actor_id) is waiters:
                    del self._waiters[actor_id]

    async def GetNamedActor(
        self, request: gcs_pb2.GetNamedActorRequest, context: Ctx
    ) -> gcs_pb2.GetNamedActorReply:
        info = self.state.actors.get_named(request.namespace, request.name)
        if info is None:
            return gcs_pb2.GetNamedActorReply(found=False)
        return gcs_pb2.GetNamedActorReply(actor=info, found=True)

    async def ListActors(
        self, request: gcs_pb2.ListActorsRequest, context: Ctx
    ) -> gcs_pb2.ListActorsReply:
        actors = self.state.actors.list(
            request.only_named, request.namespace, request.all_namespaces
        )
        return gcs_pb2.ListActorsReply(actors=actors)

    async def ReportWorkerDeath(
        self, request: gcs_pb2.ReportWorkerDeathRequest, context: Ctx
    ) -> gcs_pb2.ReportWorkerDeathReply:
        self.state.report_worker_death(request.worker_id, request.node_id, request.reason)
        return gcs_pb2.ReportWorkerDeathReply()

    # ---- KV ----

    async def KVPut(self, request: gcs_pb2.KVPutRequest, context: Ctx) -> gcs_pb2.KVPutReply:
        added = self.state.kv.put(request.ns, request.key, request.value, request.overwrite)
        return gcs_pb2.KVPutReply(added=added)

    async def KVGet(self, request: gcs_pb2.KVGetRequest, context: Ctx) -> gcs_pb2.KVGetReply:
        value = self.state.kv.get(request.ns, request.key)
        if value is None:
            return gcs_pb2.KVGetReply(found=False)
        return gcs_pb2.KVGetReply(value=value, found=True)

    async def KVDel(self, request: gcs_pb2.KVDelRequest, context: Ctx) -> gcs_pb2.KVDelReply:
        return gcs_pb2.KVDelReply(deleted=self.state.kv.delete(request.ns, request.key))

    async def KVKeys(self, request: gcs_pb2.KVKeysRequest, context: Ctx) -> gcs_pb2.KVKeysReply:
        return gcs_pb2.KVKeysReply(keys=self.state.kv.keys(request.ns, request.prefix))


class GcsServer:
    """The GCS in the current event loop: gRPC server, state, and the health checker.

    Usable in-process (tests, a local cluster started from one process) as well as by
    `serve` for the standalone process.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        storage_path: str = MEMORY,
        node_timeout_s: float = DEFAULT_NODE_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.state = GcsState(storage_path, node_timeout_s)
        self.servicer = GcsServicer(self.state)
        self._server: grpc.aio.Server | None = None
        self._health_task: asyncio.Task[None] | None = None
        # Check often enough that a node is declared dead soon after its timeout.
        self._health_period_s = min(1.0, max(node_timeout_s / 4, 0.05))

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> int:
        """Listen and start the health checker; return the bound port."""
        server = _transport.aio_server()
        gcs_pb2_grpc.add_GcsServiceServicer_to_server(  # type: ignore[no-untyped-call, unused-ignore]
            self.servicer, server
        )
        self.port = _transport.bind(server, self.host, self.port)
        await server.start()
        self._server = server
        self._health_task = asyncio.create_task(self._check_health_forever())
        logger.info(
            "GCS serving on %s (storage %s, node timeout %gs)",
            self.address,
            self.state.store.path,
            self.state.nodes.timeout_s,
        )
        return self.port

    async def _check_health_forever(self) -> None:
        while True:
            await asyncio.sleep(self._health_period_s)
            try:
                self.state.check_node_health()
            except Exception:
                # One bad check must not end health checking for the cluster's life.
                logger.exception("node health check failed")

    async def stop(self, grace_s: float = 1.0) -> None:
        if self._health_task is not None:
            self._health_task.cancel()
            try:
                await self._health_task
            except asyncio.CancelledError:
                pass
            self._health_task = None
        if self._server is not None:
            await self._server.stop(grace_s)
            self._server = None
        self.state.close()
        logger.info("GCS stopped")


def write_ready_file(path: str, port: int) -> None:
    """Write the port so readers never see a partial file (temp name, then rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, target)


async def serve(
    host: str,
    port: int,
    storage_path: str,
    node_timeout_s: float = DEFAULT_NODE_TIMEOUT_S,
    ready_file: str | None = None,
) -> None:
    """Run the GCS until SIGTERM or SIGINT."""
    gcs = GcsServer(host, port, storage_path, node_timeout_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = await gcs.start()
    try:
        if ready_file:
            write_ready_file(ready_file, bound)
        print(f"GCS listening on {host}:{bound}", flush=True)
        await stop.wait()
        logger.info("shutting down on signal")
    finally:
        await gcs.stop()
