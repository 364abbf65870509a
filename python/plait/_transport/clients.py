"""Typed clients of plait's gRPC services: what every caller holds instead of a raw stub.

One class per service and call style: `GcsClient` / `GcsSyncClient`, `RayletClient` /
`RayletSyncClient`, `WorkerClient` (owners push tasks from the I/O loop only). Each RPC
keeps its name and call shape (`client.RequestWorkerLease(req, timeout=...)`) and is
typed request -> reply (aio: an awaitable call, or a stream call).

What callers used to repeat lives here: a default deadline on every *bounded* RPC (one
that answers as soon as the service has looked at its tables), overridable per call.
RPCs that wait on the cluster by design (a lease queued for resources, a task running,
objects becoming ready, a stream) get no default: only their caller knows how long is
right. Channel options come with the channel (`channels.aio_channel`/`sync_channel`).

Performance: each RPC is the stub's multicallable bound once in `__init__` (wrapped in a
C-level `functools.partial` when it has a default deadline), so a call costs what a raw
stub call costs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from functools import partial
from typing import Any, ClassVar, Protocol, TypeVar

import grpc

from plait._protocol import (
    gcs_pb2,
    gcs_pb2_grpc,
    raylet_pb2,
    raylet_pb2_grpc,
    worker_pb2,
    worker_pb2_grpc,
)

# The deadline every synchronous caller gave a bounded RPC (GCS table reads and writes,
# lease returns, ...): long enough for a busy head node, short enough to surface a dead one.
DEFAULT_TIMEOUT_S = 30.0

Req = TypeVar("Req")
Rep = TypeVar("Rep")
Req_contra = TypeVar("Req_contra", contravariant=True)
Rep_co = TypeVar("Rep_co", covariant=True)

Metadata = Sequence[tuple[str, str | bytes]]


class AioUnary(Protocol[Req, Rep]):
    """A unary RPC on a grpc.aio channel: `await client.X(req, timeout=...)`."""

    def __call__(
        self,
        request: Req,
        *,
        timeout: float | None = ...,
        metadata: Metadata | None = ...,
        wait_for_ready: bool | None = ...,
    ) -> grpc.aio.UnaryUnaryCall[Req, Rep]: ...


class AioUnaryStream(Protocol[Req, Rep]):
    """A server-streaming RPC on a grpc.aio channel: read replies from the call."""

    def __call__(
        self,
        request: Req,
        *,
        timeout: float | None = ...,
        metadata: Metadata | None = ...,
        wait_for_ready: bool | None = ...,
    ) -> grpc.aio.UnaryStreamCall[Req, Rep]: ...


class AioStreamStream(Protocol[Req, Rep]):
    """A bidirectional stream on a grpc.aio channel: write requests, read replies."""

    def __call__(
        self,
        request_iterator: AsyncIterator[Req] | Iterator[Req] | None = ...,
        *,
        timeout: float | None = ...,
        metadata: Metadata | None = ...,
        wait_for_ready: bool | None = ...,
    ) -> grpc.aio.StreamStreamCall[Req, Rep]: ...


class SyncUnary(Protocol[Req_contra, Rep_co]):
    """A unary RPC on a blocking channel: `client.X(req, timeout=...)` returns the reply."""

    def __call__(
        self,
        request: Req_contra,
        *,
        timeout: float | None = ...,
        metadata: Metadata | None = ...,
        wait_for_ready: bool | None = ...,
    ) -> Rep_co: ...


class _Client:
    """Binds each RPC of `_stub_class` onto the instance, with the default deadline on
    every RPC not in `_WAITING`."""

    _stub_class: ClassVar[Any]
    # RPCs that wait on the cluster (resources, a task, objects, a stream): no default.
    _WAITING: ClassVar[frozenset[str]] = frozenset()
    RPCS: ClassVar[tuple[str, ...]]

    def __init__(self, channel: Any, timeout: float | None = DEFAULT_TIMEOUT_S) -> None:
        stub = self._stub_class(channel)
        self.timeout = timeout
        for name in self.RPCS:
            call = getattr(stub, name)
            if timeout is not None and name not in self._WAITING:
                call = partial(call, timeout=timeout)
            setattr(self, name, call)


class _GcsRpcs:
    """Every RPC of GcsService answers from the GCS's tables: all are bounded."""

    RPCS: ClassVar[tuple[str, ...]] = (
        "RegisterNode",
        "UnregisterNode",
        "Heartbeat",
        "GetAllNodes",
        "RegisterJob",
        "MarkJobFinished",
        "GetJob",
        "RegisterActor",
        "UpdateActor",
        "GetActor",
        "GetNamedActor",
        "ListActors",
        "ReportWorkerDeath",
        "KVPut",
        "KVGet",
        "KVDel",
        "KVKeys",
    )
    _stub_class: ClassVar[Any] = gcs_pb2_grpc.GcsServiceStub


class GcsClient(_GcsRpcs, _Client):
    """GcsService on a grpc.aio channel (the I/O loop of a core worker, the raylet)."""

    RegisterNode: AioUnary[gcs_pb2.RegisterNodeRequest, gcs_pb2.RegisterNodeReply]
    UnregisterNode: AioUnary[gcs_pb2.UnregisterNodeRequest, gcs_pb2.UnregisterNodeReply]
    Heartbeat: AioUnary[gcs_pb2.HeartbeatRequest, gcs_pb2.HeartbeatReply]
    GetAllNodes: AioUnary[gcs_pb2.GetAllNodesRequest, gcs_pb2.GetAllNodesReply]
    RegisterJob: AioUnary[gcs_pb2.RegisterJobRequest, gcs_pb2.RegisterJobReply]
    MarkJobFinished: AioUnary[gcs_pb2.MarkJobFinishedRequest, gcs_pb2.MarkJobFinishedReply]
    GetJob: AioUnary[gcs_pb2.GetJobRequest, gcs_pb2.GetJobReply]
    RegisterActor: AioUnary[gcs_pb2.RegisterActorRequest, gcs_pb2.RegisterActorReply]
    UpdateActor: AioUnary[gcs_pb2.UpdateActorRequest, gcs_pb2.UpdateActorReply]
    GetActor: AioUnary[gcs_pb2.GetActorRequest, gcs_pb2.GetActorReply]
    GetNamedActor: AioUnary[gcs_pb2.GetNamedActorRequest, gcs_pb2.GetNamedActorReply]
    ListActors: AioUnary[gcs_pb2.ListActorsRequest, gcs_pb2.ListActorsReply]
    ReportWorkerDeath: AioUnary[gcs_pb2.ReportWorkerDeathRequest, gcs_pb2.ReportWorkerDeathReply]
    KVPut: AioUnary[gcs_pb2.KVPutRequest, gcs_pb2.KVPutReply]
    KVGet: AioUnary[gcs_pb2.KVGetRequest, gcs_pb2.KVGetReply]
    KVDel: AioUnary[gcs_pb2.KVDelRequest, gcs_pb2.KVDelReply]
    KVKeys: AioUnary[gcs_pb2.KVKeysRequest, gcs_pb2.KVKeysReply]

    def __init__(self, channel: grpc.aio.Channel, timeout: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(channel, timeout)


class GcsSyncClient(_GcsRpcs, _Client):
    """GcsService on a blocking channel (user threads, the CLI, a driver connecting)."""

    RegisterNode: SyncUnary[gcs_pb2.RegisterNodeRequest, gcs_pb2.RegisterNodeReply]
    UnregisterNode: SyncUnary[gcs_pb2.UnregisterNodeRequest, gcs_pb2.UnregisterNodeReply]
    Heartbeat: SyncUnary[gcs_pb2.HeartbeatRequest, gcs_pb2.HeartbeatReply]
    GetAllNodes: SyncUnary[gcs_pb2.GetAllNodesRequest, gcs_pb2.GetAllNodesReply]
    RegisterJob: SyncUnary[gcs_pb2.RegisterJobRequest, gcs_pb2.RegisterJobReply]
    MarkJobFinished: SyncUnary[gcs_pb2.MarkJobFinishedRequest, gcs_pb2.MarkJobFinishedReply]
    GetJob: SyncUnary[gcs_pb2.GetJobRequest, gcs_pb2.GetJobReply]
    RegisterActor: SyncUnary[gcs_pb2.RegisterActorRequest, gcs_pb2.RegisterActorReply]
    UpdateActor: SyncUnary[gcs_pb2.UpdateActorRequest, gcs_pb2.UpdateActorReply]
    GetActor: SyncUnary[gcs_pb2.GetActorRequest, gcs_pb2.GetActorReply]
    GetNamedActor: SyncUnary[gcs_pb2.GetNamedActorRequest, gcs_pb2.GetNamedActorReply]
    ListActors: SyncUnary[gcs_pb2.ListActorsRequest, gcs_pb2.ListActorsReply]
    ReportWorkerDeath: SyncUnary[gcs_pb2.ReportWorkerDeathRequest, gcs_pb2.ReportWorkerDeathReply]
    KVPut: SyncUnary[gcs_pb2.KVPutRequest, gcs_pb2.KVPutReply]
    KVGet: SyncUnary[gcs_pb2.KVGetRequest, gcs_pb2.KVGetReply]
    KVDel: SyncUnary[gcs_pb2.KVDelRequest, gcs_pb2.KVDelReply]
    KVKeys: SyncUnary[gcs_pb2.KVKeysRequest, gcs_pb2.KVKeysReply]

    def __init__(self, channel: grpc.Channel, timeout: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(channel, timeout)


class _RayletRpcs:
    RPCS: ClassVar[tuple[str, ...]] = (
        "RegisterWorker",
        "RequestWorkerLease",
        "CancelWorkerLease",
        "ReturnWorkerLease",
        "KillWorker",
        "GetWorkerFailure",
        "CreateObject",
        "SealObject",
        "GetObjects",
        "FreeObjects",
        "PullObject",
        "GetNodeStats",
        "NotifyWorkerBlocked",
        "Shutdown",
    )
    # A lease waits in the raylet's queue until resources free up; GetObjects waits for
    # the objects (its request says how long); a pull streams as long as data flows.
    _WAITING: ClassVar[frozenset[str]] = frozenset(
        {"RequestWorkerLease", "GetObjects", "PullObject"}
    )
    _stub_class: ClassVar[Any] = raylet_pb2_grpc.RayletServiceStub


class RayletClient(_RayletRpcs, _Client):
    """RayletService on a grpc.aio channel (owners leasing workers, raylets pulling)."""

    RegisterWorker: AioUnary[raylet_pb2.RegisterWorkerRequest, raylet_pb2.RegisterWorkerReply]
    RequestWorkerLease: AioUnary[
        raylet_pb2.RequestWorkerLeaseRequest, raylet_pb2.RequestWorkerLeaseReply
    ]
    CancelWorkerLease: AioUnary[
        raylet_pb2.CancelWorkerLeaseRequest, raylet_pb2.CancelWorkerLeaseReply
    ]
    ReturnWorkerLease: AioUnary[
        raylet_pb2.ReturnWorkerLeaseRequest, raylet_pb2.ReturnWorkerLeaseReply
    ]
    KillWorker: AioUnary[raylet_pb2.KillWorkerRequest, raylet_pb2.KillWorkerReply]
    GetWorkerFailure: AioUnary[raylet_pb2.GetWorkerFailureRequest, raylet_pb2.GetWorkerFailureReply]
    CreateObject: AioUnary[raylet_pb2.CreateObjectRequest, raylet_pb2.CreateObjectReply]
    SealObject: AioUnary[raylet_pb2.SealObjectRequest, raylet_pb2.SealObjectReply]
    GetObjects: AioUnary[raylet_pb2.GetObjectsRequest, raylet_pb2.GetObjectsReply]
    FreeObjects: AioUnary[raylet_pb2.FreeObjectsRequest, raylet_pb2.FreeObjectsReply]
    PullObject: AioUnaryStream[raylet_pb2.PullObjectRequest, raylet_pb2.ObjectChunk]
    GetNodeStats: AioUnary[raylet_pb2.GetNodeStatsRequest, raylet_pb2.GetNodeStatsReply]
    NotifyWorkerBlocked: AioUnary[
        raylet_pb2.NotifyWorkerBlockedRequest, raylet_pb2.NotifyWorkerBlockedReply
    ]
    Shutdown: AioUnary[raylet_pb2.ShutdownRayletRequest, raylet_pb2.ShutdownRayletReply]

    def __init__(self, channel: grpc.aio.Channel, timeout: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(channel, timeout)


class RayletSyncClient(_RayletRpcs, _Client):
    """RayletService on a blocking channel (a core worker's user threads, tests). The
    server-streaming PullObject is raylet-to-raylet only, so it is not offered here."""

    RPCS: ClassVar[tuple[str, ...]] = tuple(n for n in _RayletRpcs.RPCS if n != "PullObject")

    RegisterWorker: SyncUnary[raylet_pb2.RegisterWorkerRequest, raylet_pb2.RegisterWorkerReply]
    RequestWorkerLease: SyncUnary[
        raylet_pb2.RequestWorkerLeaseRequest, raylet_pb2.RequestWorkerLeaseReply
    ]
    CancelWorkerLease: SyncUnary[
        raylet_pb2.CancelWorkerLeaseRequest, raylet_pb2.CancelWorkerLeaseReply
    ]
    ReturnWorkerLease: SyncUnary[
        raylet_pb2.ReturnWorkerLeaseRequest, raylet_pb2.ReturnWorkerLeaseReply
    ]
    KillWorker: SyncUnary[raylet_pb2.KillWorkerRequest, raylet_pb2.KillWorkerReply]
    GetWorkerFailure: SyncUnary[
        raylet_pb2.GetWorkerFailureRequest, raylet_pb2.GetWorkerFailureReply
    ]
    CreateObject: SyncUnary[raylet_pb2.CreateObjectRequest, raylet_pb2.CreateObjectReply]
    SealObject: SyncUnary[raylet_pb2.SealObjectRequest, raylet_pb2.SealObjectReply]
    GetObjects: SyncUnary[raylet_pb2.GetObjectsRequest, raylet_pb2.GetObjectsReply]
    FreeObjects: SyncUnary[raylet_pb2.FreeObjectsRequest, raylet_pb2.FreeObjectsReply]
    GetNodeStats: SyncUnary[raylet_pb2.GetNodeStatsRequest, raylet_pb2.GetNodeStatsReply]
    NotifyWorkerBlocked: SyncUnary[
        raylet_pb2.NotifyWorkerBlockedRequest, raylet_pb2.NotifyWorkerBlockedReply
    ]
    Shutdown: SyncUnary[raylet_pb2.ShutdownRayletRequest, raylet_pb2.ShutdownRayletReply]

    def __init__(self, channel: grpc.Channel, timeout: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(channel, timeout)


class WorkerClient(_Client):
    """WorkerService on a grpc.aio channel: an owner pushing tasks, a borrower asking
    an owner about an object, cancels and exits."""

    RPCS: ClassVar[tuple[str, ...]] = (
        "PushTask",
        "PushTaskStream",
        "GetObjectStatus",
        "UpdateBorrowers",
        "CancelTask",
        "Exit",
        "WorkerStats",
    )
    # A pushed task runs as long as it runs; GetObjectStatus is a long poll (its request
    # carries its own wait); the task stream lives as long as the worker.
    _WAITING: ClassVar[frozenset[str]] = frozenset(
        {"PushTask", "PushTaskStream", "GetObjectStatus"}
    )
    _stub_class: ClassVar[Any] = worker_pb2_grpc.WorkerServiceStub

    PushTask: AioUnary[worker_pb2.PushTaskRequest, worker_pb2.PushTaskReply]
    PushTaskStream: AioStreamStream[worker_pb2.PushTaskBatch, worker_pb2.PushTaskReplyBatch]
    GetObjectStatus: AioUnary[worker_pb2.GetObjectStatusRequest, worker_pb2.GetObjectStatusReply]
    UpdateBorrowers: AioUnary[worker_pb2.UpdateBorrowersRequest, worker_pb2.UpdateBorrowersReply]
    CancelTask: AioUnary[worker_pb2.CancelTaskRequest, worker_pb2.CancelTaskReply]
    Exit: AioUnary[worker_pb2.ExitRequest, worker_pb2.ExitReply]
    WorkerStats: AioUnary[worker_pb2.WorkerStatsRequest, worker_pb2.WorkerStatsReply]

    def __init__(self, channel: grpc.aio.Channel, timeout: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(channel, timeout)
