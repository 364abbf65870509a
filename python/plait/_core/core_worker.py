"""The core worker: one per driver or worker process.

It owns the objects its process creates (ReferenceCounter + MemoryStore), serves
WorkerService (tasks pushed to it, object status for borrowers, borrower updates), and
submits tasks (NormalTaskSubmitter, ActorTaskSubmitter). All network I/O runs on one
asyncio loop in a background thread; user threads reach it through `self.io`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import grpc

from plait._core.actor_handle import ActorHandle
from plait._core.actor_submitter import ActorTaskSubmitter
from plait._core.encoded import INLINE_THRESHOLD, Encodable, is_error_value
from plait._core.errors import error_object, exception_from
from plait._core.executor_protocol import Executor
from plait._core.function_manager import FunctionManager
from plait._core.host_api import HostApi
from plait._core.memory_store import MemoryStore, StoredObject
from plait._core.reference_counter import Decision, FreeOwned, ReferenceCounter, ReleaseBorrowed
from plait._core.returns import stored_from_return
from plait._core.servicer import WorkerServicer
from plait._core.task_stream import TaskStreams
from plait._core.task_submitter import NormalTaskSubmitter
from plait._format import ErrorInfo, deserialize_with_refs, serialize
from plait._format import exceptions as exc
from plait._format.ids import object_id_for, random_id
from plait._format.object_ref import ObjectRef, OwnerAddress, bind_runtime
from plait._protocol import (
    common_pb2,
    gcs_pb2,
    raylet_pb2,
    worker_pb2,
    worker_pb2_grpc,
)
from plait._transport.channels import (
    ChannelCache,
    EventLoopThread,
    aio_server,
    bind,
    resolve_future,
    sync_channel,
)
from plait._transport.clients import (
    GcsClient,
    GcsSyncClient,
    RayletClient,
    RayletSyncClient,
    WorkerClient,
)
from plait._transport.store_client import map_object, write_object_parts

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.0005


def address_proto(a: OwnerAddress) -> common_pb2.Address:
    return common_pb2.Address(node_id=a.node_id, ip=a.ip, port=a.port, worker_id=a.worker_id)


def owner_of(p: common_pb2.Address) -> OwnerAddress:
    return OwnerAddress(p.node_id, p.ip, p.port, p.worker_id)


def ref_proto(ref: ObjectRef) -> common_pb2.ObjectRefProto:
    return common_pb2.ObjectRefProto(object_id=ref.object_id, owner=address_proto(ref.owner))


def holds_error(obj: StoredObject) -> bool:
    """Whether the object is a failure (errors are always inline)."""
    return obj.is_error or (obj.data is not None and is_error_value(obj.data))


class CoreWorker:
    def __init__(
        self,
        *,
        is_driver: bool,
        gcs_address: str,
        raylet_address: str,
        node_id: str,
        node_ip: str,
        job_id: bytes,
        worker_id: bytes | None = None,
        namespace: str = "",
        store_dir: str = "",
    ) -> None:
        self.is_driver = is_driver
        self.gcs_address = gcs_address
        self.raylet_address = raylet_address
        self.node_id = node_id
        self.node_ip = node_ip
        self.job_id = job_id
        self.worker_id = worker_id or random_id()
        self.namespace = namespace
        self.store_dir = store_dir
        self.io = EventLoopThread("plait-core-worker")
        self.channels = ChannelCache()
        self.memory_store = MemoryStore()
        self.ref_counter = ReferenceCounter(self.worker_id)
        self._put_task_id = random_id()
        self._put_index = 0
        self._put_lock = threading.Lock()
        self._released: deque[bytes] = deque()
        self._drain_scheduled = False
        self._free_batch: list[bytes] = []
        self._borrow_batch: dict[OwnerAddress, list[tuple[bytes, int]]] = defaultdict(list)
        self._flush_scheduled = False
        self._shutdown = False
        self.address = OwnerAddress(node_id, node_ip, 0, self.worker_id)
        self._server: grpc.aio.Server | None = None
        self.on_exit: Callable[[], None] | None = None
        self.cluster_nodes: dict[str, str] = {}
        self.functions = FunctionManager(self)
        self.task_streams = TaskStreams(self.worker_stub)
        self.task_submitter = NormalTaskSubmitter(self)
        self.actor_submitter = ActorTaskSubmitter(self)
        self.executor: Executor | None = None
        self._host_api: HostApi | None = None
        self._address_pb: common_pb2.Address | None = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self, executor: Executor | None = None) -> None:
        self.executor = executor
        # The I/O thread must get the GIL back quickly when a reply arrives while a user
        # thread computes; the default 5 ms switch interval puts that on every call.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.io.run(self._start_server())
        self._sync_channels = [sync_channel(self.gcs_address), sync_channel(self.raylet_address)]
        self.gcs_sync = GcsSyncClient(self._sync_channels[0])
        self.raylet_sync = RayletSyncClient(self._sync_channels[1])
        bind_runtime(self)

    async def _start_server(self) -> None:
        server = aio_server()
        worker_pb2_grpc.add_WorkerServiceServicer_to_server(WorkerServicer(self), server)
        port = bind(server, self.node_ip, 0)
        await server.start()
        self._server = server
        self.address = OwnerAddress(self.node_id, self.node_ip, port, self.worker_id)
        self.gcs = GcsClient(self.channels.get(self.gcs_address))
        self.raylet: RayletClient = self.channels.raylet(self.raylet_address)

    def register_with_raylet(self) -> None:
        reply = self.raylet_sync.RegisterWorker(
            raylet_pb2.RegisterWorkerRequest(
                worker_id=self.worker_id,
                port=self.address.port,
                pid=os.getpid(),
                language=common_pb2.PYTHON,
                is_driver=self.is_driver,
                job_id=self.job_id,
            ),
            timeout=30,
        )
        if reply.store_dir:
            self.store_dir = reply.store_dir

    def address_pb(self) -> common_pb2.Address:
        """Our address as a message (cached: it is copied into every task spec; callers
        must not modify it)."""
        if self._address_pb is None or self._address_pb.port != self.address.port:
            self._address_pb = address_proto(self.address)
        return self._address_pb

    def shutdown(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        bind_runtime(None)
        try:
            self.io.run(self._shutdown_async(), timeout=10)
        except Exception:  # the loop may already be gone at interpreter exit
            pass
        self.io.stop()
        for ch in getattr(self, "_sync_channels", []):
            ch.close()

    async def _shutdown_async(self) -> None:
        await self.task_submitter.shutdown()
        await self.actor_submitter.shutdown()
        await self.task_streams.close()
        # Give back what we borrowed, so owners can free it.
        for rel in self.ref_counter.pending_borrow_releases():
            self._borrow_batch[rel.owner].append((rel.object_id, -rel.credits))
        await self._flush()
        if self._server is not None:
            await self._server.stop(grace=0.2)
        await self.channels.close()

    # -- reference counting ------------------------------------------------------
    # The RefRuntime that ObjectRefs of this process call (bound in start()).
    def ref_created(self, ref: ObjectRef) -> None:
        self.ref_counter.add_local(ref.object_id, ref.owner)

    def ref_collected(self, ref: ObjectRef) -> None:
        # Called from __del__, possibly in any thread and in the middle of anything:
        # only queue the release; the loop applies it.
        self._released.append(ref.object_id)
        if not self._drain_scheduled and not self._shutdown:
            self._drain_scheduled = True
            try:
                self.io.loop.call_soon_threadsafe(self._drain_released)
            except RuntimeError:
                pass

    def _drain_released(self) -> None:
        self._drain_scheduled = False
        decisions: list[Decision] = []
        while self._released:
            decisions.extend(self.ref_counter.remove_local(self._released.popleft()))
        self.apply(decisions)

    def apply(self, decisions: Sequence[Decision]) -> None:
        """Carry out reference-counting decisions (any thread)."""
        if not decisions:
            return
        for d in decisions:
            if isinstance(d, FreeOwned):
                obj = self.memory_store.delete(d.object_id)
                if obj is not None and obj.in_store:
                    self._free_batch.append(d.object_id)
            elif isinstance(d, ReleaseBorrowed):
                self._borrow_batch[d.owner].append((d.object_id, -d.credits))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if (self._free_batch or self._borrow_batch) and not self._flush_scheduled:
            self._flush_scheduled = True
            try:
                self.io.loop.call_soon_threadsafe(
                    lambda: asyncio.ensure_future(self._flush_later())
                )
            except RuntimeError:
                pass

    async def _flush_later(self) -> None:
        await asyncio.sleep(0.01)  # batch frees and releases that come together
        await self._flush()

    async def _flush(self) -> None:
        self._flush_scheduled = False
        frees, self._free_batch = self._free_batch, []
        borrows, self._borrow_batch = self._borrow_batch, defaultdict(list)
        if frees:
            req = raylet_pb2.FreeObjectsRequest(object_ids=frees)
            for addr in await self.raylet_addresses():
                try:
                    await self.channels.raylet(addr).FreeObjects(req, timeout=5)
                except grpc.RpcError:
                    pass
        for owner, deltas in borrows.items():
            await self._send_borrower_update(owner, deltas, self.address)

    async def _send_borrower_update(
        self, owner: OwnerAddress, deltas: list[tuple[bytes, int]], borrower: OwnerAddress
    ) -> None:
        if owner.worker_id == self.worker_id:
            for oid, delta in deltas:
                self.apply(self.ref_counter.update_borrower(oid, borrower.worker_id, delta))
            return
        req = worker_pb2.UpdateBorrowersRequest(
            borrower=address_proto(borrower),
            deltas=[worker_pb2.RefDelta(object_id=o, delta=d) for o, d in deltas],
        )
        try:
            await self.worker_stub(owner).UpdateBorrowers(req, timeout=10)
        except grpc.RpcError:
            pass  # the owner is gone: nothing left to release or register

    async def raylet_addresses(self) -> list[str]:
        try:
            reply = await self.gcs.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=5)
        except grpc.RpcError:
            return [self.raylet_address]
        self.cluster_nodes = {n.node_id: f"{n.ip}:{n.raylet_port}" for n in reply.nodes if n.alive}
        return list(self.cluster_nodes.values()) or [self.raylet_address]

    def worker_stub(self, addr: OwnerAddress | common_pb2.Address) -> WorkerClient:
        return self.channels.worker(f"{addr.ip}:{addr.port}")

    async def register_borrowed(
        self, refs: Sequence[ObjectRef], borrower: OwnerAddress | None = None
    ) -> None:
        """Register `borrower` (default: us) with the owners of refs we do not own."""
        who = borrower or self.address
        by_owner: dict[OwnerAddress, list[tuple[bytes, int]]] = defaultdict(list)
        for r in refs:
            if r.owner.worker_id == who.worker_id:
                continue
            if borrower is None and self.ref_counter.credits(r.object_id) > 0:
                continue  # already registered; our counts keep that registration
            by_owner[r.owner].append((r.object_id, 1))
        await asyncio.gather(*(self._send_borrower_update(o, d, who) for o, d in by_owner.items()))
        if borrower is None:
            for owner, deltas in by_owner.items():
                for oid, _ in deltas:
                    self.ref_counter.add_credits(oid, owner, 1)

    # -- objects: put ------------------------------------------------------------
    def next_put_id(self) -> bytes:
        with self._put_lock:
            self._put_index += 1
            return object_id_for(self._put_task_id, self._put_index)

    def put(self, value: Any) -> ObjectRef:
        if isinstance(value, ObjectRef):
            raise TypeError(
                "Calling 'put' on an ObjectRef is not allowed. If you really want "
                "to do this, you can wrap the ObjectRef in a list and call 'put' "
                "on it."
            )
        return self.put_serialized(serialize(value))

    def put_serialized(self, so: Encodable) -> ObjectRef:
        oid = self.next_put_id()
        inner = [(r.object_id, r.owner) for r in so.contained_refs]
        self.ref_counter.add_owned(oid, self.address, inner)
        ref = ObjectRef(oid, self.address)
        self.memory_store.put(oid, self.store_value(oid, so))
        return ref

    def store_value(self, object_id: bytes, so: Encodable) -> StoredObject:
        """Small values stay inline; large ones are written into the node's store."""
        size = so.total_size()
        if size <= INLINE_THRESHOLD:
            data = so.to_bytes()
            return StoredObject(data=data, size=len(data))
        self.io.run(self.write_to_store(object_id, so))
        return StoredObject(data=None, in_store=True, node_id=self.node_id, size=size)

    async def write_to_store(self, object_id: bytes, so: Encodable) -> None:
        size = so.total_size()
        reply = await self.raylet.CreateObject(
            raylet_pb2.CreateObjectRequest(object_id=object_id, size=size, owner=self.address_pb())
        )
        if reply.error:
            raise exc.ObjectStoreFullError(reply.error)
        if not reply.exists:
            await asyncio.get_running_loop().run_in_executor(
                None, write_object_parts, reply.path, size, so.parts()
            )
            await self.raylet.SealObject(raylet_pb2.SealObjectRequest(object_id=object_id))

    # -- objects: get / wait -----------------------------------------------------
    def resolve(self, ref: ObjectRef, cb: Callable[[StoredObject], None]) -> Callable[[], None]:
        """Call cb with the object's StoredObject once it is ready; returns a canceller."""
        if ref.owner.worker_id == self.worker_id:
            obj = self.memory_store.on_ready(ref.object_id, cb)
            if obj is not None:
                cb(obj)
                return lambda: None
            if not self.ref_counter.has(ref.object_id):
                self.memory_store.remove_waiter(ref.object_id, cb)
                cb(
                    error_object(
                        exc.ObjectLostError(ref.hex(), f"Object {ref.hex()} was already freed.")
                    )
                )
                return lambda: None
            return lambda: self.memory_store.remove_waiter(ref.object_id, cb)
        fut = self.io.submit(self._fetch_status(ref, cb))

        def cancel() -> None:
            fut.cancel()

        return cancel

    async def _fetch_status(self, ref: ObjectRef, cb: Callable[[StoredObject], None]) -> None:
        stub = self.worker_stub(ref.owner)
        while True:
            try:
                reply = await stub.GetObjectStatus(
                    worker_pb2.GetObjectStatusRequest(object_id=ref.object_id, timeout_s=10.0),
                    timeout=20,
                )
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                cb(
                    error_object(
                        exc.OwnerDiedError(
                            ref.hex(),
                            f"Object {ref.hex()} is lost: its owner at "
                            f"{ref.owner.ip}:{ref.owner.port} is unreachable ({e.code().name}).",
                        )
                    )
                )
                return
            if reply.status == worker_pb2.GetObjectStatusReply.READY:
                cb(stored_from_return(reply.object))
                return
            if reply.status == worker_pb2.GetObjectStatusReply.OUT_OF_SCOPE:
                cb(
                    error_object(
                        exc.ObjectLostError(
                            ref.hex(), f"Object {ref.hex()} is no longer held by its owner."
                        )
                    )
                )
                return

    def wait_stored(
        self,
        refs: Sequence[ObjectRef],
        num_returns: int,
        timeout: float | None,
        stop_on_error: bool = False,
    ) -> dict[int, StoredObject]:
        """Block until num_returns of refs are ready (or timeout); index -> object.

        With stop_on_error, return as soon as one of them holds an error (as Ray's get
        does: the caller raises it without waiting for the rest)."""
        ready: dict[int, StoredObject] = {}
        cond = threading.Condition()
        cancels: list[Callable[[], None]] = []
        failed = False

        def make_cb(i: int) -> Callable[[StoredObject], None]:
            def cb(obj: StoredObject) -> None:
                nonlocal failed
                with cond:
                    ready[i] = obj
                    if stop_on_error and holds_error(obj):
                        failed = True
                    cond.notify_all()

            return cb

        for i, r in enumerate(refs):
            cancels.append(self.resolve(r, make_cb(i)))
            if len(ready) >= num_returns or failed:
                break
        deadline = None if timeout is None else time.monotonic() + timeout
        blocked = False
        try:
            with cond:
                while len(ready) < num_returns and not failed:
                    if not blocked and self.executor is not None:
                        blocked = True
                        self.executor.notify_blocked(True)
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        break
                    cond.wait(left if left is not None else 1.0)
        finally:
            if blocked and self.executor is not None:
                self.executor.notify_blocked(False)
            for c in cancels:
                c()
        return ready

    def get(self, refs: Sequence[ObjectRef], timeout: float | None = None) -> list[Any]:
        if len(refs) == 1 and refs[0].owner.worker_id == self.worker_id:
            # Fast path: one object this worker owns that is already here (a put, a
            # finished task's result); values_of raises it if it is an error.
            obj = self.memory_store.get(refs[0].object_id)
            if obj is not None:
                return self.values_of([obj], refs)
        stored = self.wait_stored(refs, len(refs), timeout, stop_on_error=True)
        errors = [i for i in sorted(stored) if holds_error(stored[i])]
        if errors:
            self.values_of([stored[errors[0]]], [refs[errors[0]]])  # raises the error
        if len(stored) < len(refs):
            missing = [refs[i].hex() for i in range(len(refs)) if i not in stored][:3]
            raise exc.GetTimeoutError(
                f"Get timed out: {len(refs) - len(stored)} of {len(refs)} objects not ready "
                f"after {timeout}s (e.g. {', '.join(missing)})."
            )
        return self.values_of([stored[i] for i in range(len(refs))], refs)

    def get_encoded(
        self, refs: Sequence[ObjectRef], timeout: float | None = None, raise_errors: bool = True
    ) -> list[Any]:
        """The encoded objects (store views where stored), for a foreign-language
        executor or SDK; raises the error a failed object holds, as get() does, unless
        raise_errors is False (the SDK then raises it in its own language)."""
        stored = self.wait_stored(refs, len(refs), timeout)
        if len(stored) < len(refs):
            raise exc.GetTimeoutError(f"Get timed out after {timeout}s.")
        objs = [stored[i] for i in range(len(refs))]
        buffers = self._map_from_store(
            [(r, o) for r, o in zip(refs, objs, strict=False) if o.in_store]
        )
        out = [
            buffers[r.object_id] if o.in_store else o.data for r, o in zip(refs, objs, strict=False)
        ]
        for data in out if raise_errors else ():
            if is_error_value(data):
                value = deserialize_with_refs(data)[0]
                raise exception_from(value)
        return out

    def values_of(self, objs: Sequence[StoredObject], refs: Sequence[ObjectRef]) -> list[Any]:
        """Deserialize stored objects (mapping shared-memory ones); raise the first error."""
        buffers = self._map_from_store(
            [(r, o) for r, o in zip(refs, objs, strict=False) if o.in_store]
        )
        out: list[Any] = []
        new_refs: list[ObjectRef] = []
        for r, o in zip(refs, objs, strict=False):
            data: Any = buffers[r.object_id] if o.in_store else o.data
            value, contained = deserialize_with_refs(data)
            if contained:
                new_refs.extend(contained)
            if isinstance(value, ErrorInfo):
                raise exception_from(value)
            out.append(value)
        if new_refs:
            self.io.run(self.register_borrowed(new_refs))
        return out

    def _map_from_store(self, items: list[tuple[ObjectRef, StoredObject]]) -> dict[bytes, Any]:
        if not items:
            return {}
        reply = self.raylet_sync.GetObjects(
            raylet_pb2.GetObjectsRequest(
                object_ids=[r.object_id for r, _ in items],
                source_node_ids=[o.node_id for _, o in items],
                timeout_s=60.0,
            ),
            timeout=90,
        )
        out: dict[bytes, Any] = {}
        for lo in reply.objects:
            if not lo.found:
                raise exc.ObjectLostError(
                    lo.object_id.hex(),
                    f"Object {lo.object_id.hex()} could not be read from the store: {lo.error}",
                )
            out[lo.object_id] = map_object(lo.path)
        return out

    def wait(
        self, refs: Sequence[ObjectRef], num_returns: int, timeout: float | None
    ) -> tuple[list[ObjectRef], list[ObjectRef]]:
        stored = self.wait_stored(refs, num_returns, timeout)
        ready_idx = sorted(stored)[:num_returns]
        chosen = set(ready_idx)
        return ([refs[i] for i in ready_idx], [r for i, r in enumerate(refs) if i not in chosen])

    async def get_async(self, ref: ObjectRef) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[StoredObject] = loop.create_future()

        def cb(obj: StoredObject) -> None:
            loop.call_soon_threadsafe(resolve_future, fut, obj)

        cancel = self.resolve(ref, cb)
        try:
            obj = await fut
        finally:
            cancel()
        return (await loop.run_in_executor(None, self.values_of, [obj], [ref]))[0]

    def actor_handle(self, state: dict[Any, Any]) -> object:
        return ActorHandle._from_state(state)

    def get_future(self, ref: ObjectRef) -> Future[Any]:
        fut: Future[Any] = Future()

        def cb(obj: StoredObject) -> None:
            try:
                fut.set_result(self.values_of([obj], [ref])[0])
            except BaseException as e:
                fut.set_exception(e)

        self.resolve(ref, lambda o: threading.Thread(target=cb, args=(o,), daemon=True).start())
        return fut

    # -- serving owners' side ------------------------------------------------------
    async def object_status(
        self, object_id: bytes, timeout_s: float
    ) -> worker_pb2.GetObjectStatusReply:
        R = worker_pb2.GetObjectStatusReply
        obj = self.memory_store.get(object_id)
        if obj is None:
            if not self.ref_counter.owns(object_id):
                return R(status=R.OUT_OF_SCOPE)
            if timeout_s <= 0:
                return R(status=R.PENDING)
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[StoredObject] = loop.create_future()

            def cb(o: StoredObject) -> None:
                loop.call_soon_threadsafe(resolve_future, fut, o)

            got = self.memory_store.on_ready(object_id, cb)
            if got is not None:
                obj = got
            else:
                try:
                    obj = await asyncio.wait_for(fut, timeout_s)
                except asyncio.TimeoutError:
                    self.memory_store.remove_waiter(object_id, cb)
                    return R(status=R.PENDING)
        ro = common_pb2.ReturnObject(
            object_id=object_id, in_store=obj.in_store, node_id=obj.node_id, size=obj.size
        )
        if not obj.in_store and obj.data is not None:
            ro.data = obj.data
        return R(status=R.READY, object=ro)

    def record_return(self, ro: common_pb2.ReturnObject, is_error: bool) -> None:
        """A task we own finished: remember its return value and what it contains."""
        if not self.ref_counter.owns(ro.object_id):
            # Nobody holds the return ref any more: drop the value and what it holds.
            if ro.in_store:
                self._free_batch.append(ro.object_id)
            self.apply(
                [
                    ReleaseBorrowed(nr.object_id, owner_of(nr.owner), 1)
                    for nr in ro.nested_refs
                    if nr.owner.worker_id != self.worker_id
                ]
            )
            self._schedule_flush()
            return
        inner = []
        for nr in ro.nested_refs:
            owner = owner_of(nr.owner)
            if owner.worker_id != self.worker_id:
                self.ref_counter.add_credits(nr.object_id, owner, 1)
            inner.append((nr.object_id, owner))
        if inner:
            self.ref_counter.set_inner(ro.object_id, inner)
        self.memory_store.put(ro.object_id, stored_from_return(ro, is_error))

    def fail_object(self, object_id: bytes, err: BaseException) -> None:
        self.memory_store.put(object_id, error_object(err))

    async def cancel_children(self, parent_task_id: bytes, force: bool) -> None:
        """Ray's recursive cancel: cancel what the cancelled task submitted (force applies
        to its tasks, never to its actor calls)."""
        await asyncio.gather(
            *(
                self.task_submitter.cancel(t, force)
                for t in self.task_submitter.children_of(parent_task_id)
            ),
            *(
                self.actor_submitter.cancel(t, False)
                for t in self.actor_submitter.children_of(parent_task_id)
            ),
        )

    def host_api(self) -> HostApi:
        """The byte-level API for C++/Java SDKs in this process (created on first use)."""
        if self._host_api is None:
            self._host_api = HostApi(self)
        return self._host_api

    def notify_blocked(self, blocked: bool) -> None:
        """Tell our raylet we wait in get/wait, so our CPUs can run other tasks meanwhile."""
        try:
            self.raylet_sync.NotifyWorkerBlocked(
                raylet_pb2.NotifyWorkerBlockedRequest(worker_id=self.worker_id, blocked=blocked),
                timeout=10,
            )
        except grpc.RpcError:
            pass
