"""The raylet's object manager: the object RPCs of RayletService over the node's store.

The raylet's gRPC servicer delegates CreateObject, SealObject, GetObjects, FreeObjects and
PullObject here. Objects not on this node are pulled from the raylet of the node that
holds them (PullObject, a stream of ~4 MiB chunks) into a new local file; concurrent
GetObjects calls for the same missing object share one pull.

Failures concern single objects (not found before the timeout, source node dead, store
full) and are reported in that object's LocalObject (found=False, error=...): no handler
raises, so nothing here can take the raylet down.

GetObjects timeout: `timeout_s > 0` bounds how long one call waits (for objects being
created here, and for pulls); `timeout_s <= 0` waits for nothing that is not already
sealed here or pullable, but still completes pulls and restores from disk.
An object whose source node is this node but that is not here any more is reported at
once (freed or lost: it was sealed here before its owner handed out its location); one
with no source node ("") is waited for until the timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import grpc

from plait._protocol import raylet_pb2
from plait._services.object_store.local_store import (
    TRANSFER_CHUNK_BYTES,
    LocalObjectStore,
    ObjectStoreFullError,
)
from plait._services.object_store.policy import ObjectState
from plait._transport.channels import ChannelCache

logger = logging.getLogger(__name__)

# A pull whose source sends nothing for this long is abandoned, so a hung source node
# cannot leave the object stuck behind a pull that never ends.
PULL_STALL_TIMEOUT_S = 30.0


class PullError(Exception):
    """A pull from another node failed; the message says why, for the reader."""


class ObjectManager:
    """Serves the node's object store and fetches objects from other nodes.

    `resolve_node(node_id)` gives the "ip:port" of that node's raylet, or None when the
    node is unknown or dead. The store is owned by the caller: `close()` does not delete it.
    """

    def __init__(
        self,
        node_id: str,
        store: LocalObjectStore,
        resolve_node: Callable[[str], str | None],
        *,
        chunk_bytes: int = TRANSFER_CHUNK_BYTES,
        pull_stall_timeout_s: float = PULL_STALL_TIMEOUT_S,
    ) -> None:
        self.node_id = node_id
        self._store = store
        self._resolve_node = resolve_node
        self._chunk_bytes = chunk_bytes
        self._pull_stall_timeout_s = pull_stall_timeout_s
        self._channels = ChannelCache()
        # One pull per missing object, shared by every GetObjects waiting for it.
        self._pulls: dict[bytes, asyncio.Task[None]] = {}
        # Objects freed while a pull for them was running: dropped when it completes.
        self._freed_during_pull: set[bytes] = set()
        # Futures resolved when an object is sealed here (written or pulled).
        self._seal_waiters: dict[bytes, list[asyncio.Future[None]]] = {}

    # -- writing -------------------------------------------------------------------
    async def create_object(
        self, req: raylet_pb2.CreateObjectRequest
    ) -> raylet_pb2.CreateObjectReply:
        try:
            # In a thread: making room may spill objects to disk (file copies).
            result = await asyncio.to_thread(self._store.create, req.object_id, req.size)
        except ObjectStoreFullError as e:
            return raylet_pb2.CreateObjectReply(error=f"{e} (node {self.node_id})")
        except OSError as e:
            logger.exception("creating object %s failed", req.object_id.hex())
            return raylet_pb2.CreateObjectReply(
                error=f"object store of node {self.node_id} failed to make room: {e}"
            )
        return raylet_pb2.CreateObjectReply(path=result.path, exists=result.exists)

    async def seal_object(self, req: raylet_pb2.SealObjectRequest) -> raylet_pb2.SealObjectReply:
        try:
            if self._store.seal(req.object_id):
                self._notify_sealed(req.object_id)
            else:
                logger.warning(
                    "sealing object %s: it was freed or its file is missing", req.object_id.hex()
                )
        except OSError:
            logger.exception("sealing object %s failed", req.object_id.hex())
        return raylet_pb2.SealObjectReply()

    # -- reading -------------------------------------------------------------------
    async def get_objects(self, req: raylet_pb2.GetObjectsRequest) -> raylet_pb2.GetObjectsReply:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + req.timeout_s if req.timeout_s > 0 else None
        sources = list(req.source_node_ids)
        sources += [""] * (len(req.object_ids) - len(sources))
        objects = await asyncio.gather(
            *(
                self._get_one(oid, source, deadline)
                for oid, source in zip(req.object_ids, sources, strict=False)
            )
        )
        return raylet_pb2.GetObjectsReply(objects=objects)

    async def _get_one(
        self, object_id: bytes, source: str, deadline: float | None
    ) -> raylet_pb2.LocalObject:
        try:
            return await self._make_local(object_id, source, deadline)
        except ObjectStoreFullError as e:
            return _missing(object_id, f"{e} (node {self.node_id})")
        except PullError as e:
            return _missing(object_id, str(e))
        except Exception as e:  # one object's failure must not fail the others
            logger.exception("getting object %s failed", object_id.hex())
            return _missing(
                object_id, f"reading object {object_id.hex()} on node {self.node_id} failed: {e!r}"
            )

    async def _make_local(
        self, object_id: bytes, source: str, deadline: float | None
    ) -> raylet_pb2.LocalObject:
        pulled = False
        while True:
            state = self._store.state(object_id)
            if state is ObjectState.SEALED or state is ObjectState.SPILLED:
                got = (
                    await asyncio.to_thread(self._store.get, object_id)
                    if state is ObjectState.SPILLED
                    else self._store.get(object_id)
                )
                if got is not None:
                    path, size = got
                    return raylet_pb2.LocalObject(
                        object_id=object_id, path=path, size=size, found=True
                    )
                continue  # freed or changed meanwhile: look again
            if state is None and not pulled and source and source != self.node_id:
                await self._pull_shared(object_id, source, deadline)
                pulled = True
                continue
            if state is None and source == self.node_id:
                # The owner saw it sealed here, so it will not be created again.
                return _missing(
                    object_id,
                    f"object {object_id.hex()} is no longer in the "
                    f"store of node {self.node_id} (freed or lost)",
                )
            # Being created here, or unknown without a node to pull from: wait for a seal.
            if not await self._wait_sealed(object_id, deadline):
                what = (
                    "is still being created"
                    if state is ObjectState.CREATING
                    else "is not in the store"
                )
                return _missing(
                    object_id,
                    f"object {object_id.hex()} {what} on node {self.node_id}{_waited(deadline)}",
                )

    async def _wait_sealed(self, object_id: bytes, deadline: float | None) -> bool:
        """Wait until the object is sealed here; False when the deadline passes first."""
        loop = asyncio.get_running_loop()
        if deadline is None or deadline <= loop.time():
            return False
        fut: asyncio.Future[None] = loop.create_future()
        waiters = self._seal_waiters.setdefault(object_id, [])
        waiters.append(fut)
        try:
            await asyncio.wait_for(fut, deadline - loop.time())
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            if fut in waiters:
                waiters.remove(fut)
            if not waiters and self._seal_waiters.get(object_id) is waiters:
                del self._seal_waiters[object_id]

    def _notify_sealed(self, object_id: bytes) -> None:
        for fut in self._seal_waiters.pop(object_id, []):
            if not fut.done():
                fut.set_result(None)

    # -- pulling from other nodes ----------------------------------------------------
    async def _pull_shared(self, object_id: bytes, source: str, deadline: float | None) -> None:
        """Wait for the (shared) pull of the object; raises PullError or TimeoutError
        (reported as the object's error by the caller)."""
        task = self._pulls.get(object_id)
        if task is None:
            task = asyncio.ensure_future(self._pull(object_id, source))
            self._pulls[object_id] = task
            task.add_done_callback(lambda t: self._pull_done(object_id, t))
        loop = asyncio.get_running_loop()
        try:
            if deadline is None:
                await asyncio.shield(task)
            else:
                await asyncio.wait_for(asyncio.shield(task), max(deadline - loop.time(), 0))
        except asyncio.TimeoutError:
            raise PullError(
                f"timed out pulling object {object_id.hex()} from node {source}{_waited(deadline)}"
            ) from None

    def _pull_done(self, object_id: bytes, task: asyncio.Task[None]) -> None:
        if self._pulls.get(object_id) is task:
            del self._pulls[object_id]
        self._freed_during_pull.discard(object_id)
        if not task.cancelled():
            task.exception()  # retrieved here, so a pull nobody waits for is not logged

    async def _pull(self, object_id: bytes, source: str) -> None:
        address = self._resolve_node(source)
        if address is None:
            raise PullError(
                f"cannot fetch object {object_id.hex()}: the node holding it "
                f"({source}) is dead or unknown"
            )
        call = self._channels.raylet(address).PullObject(
            raylet_pb2.PullObjectRequest(object_id=object_id)
        )
        created = False
        total = -1
        received = 0
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(call.read(), self._pull_stall_timeout_s)
                except asyncio.TimeoutError:
                    call.cancel()
                    raise PullError(
                        f"pulling object {object_id.hex()} from node {source}: "
                        f"no data for {self._pull_stall_timeout_s:g}s"
                    ) from None
                if chunk is grpc.aio.EOF:  # type: ignore[attr-defined]  # not in grpc-stubs
                    break
                assert isinstance(chunk, raylet_pb2.ObjectChunk)
                if total < 0:
                    if not chunk.found:
                        raise PullError(
                            f"object {object_id.hex()} is not on node {source} (freed or lost)"
                        )
                    total = chunk.total_size
                    path = await asyncio.to_thread(self._store.begin_pull, object_id, total)
                    if path is None:
                        call.cancel()  # it appeared here meanwhile: nothing to fetch
                        return
                    created = True
                if chunk.data:
                    await asyncio.to_thread(
                        self._store.write_chunk, object_id, chunk.offset, chunk.data
                    )
                    received += len(chunk.data)
            if total < 0 or received != total:
                raise PullError(
                    f"pulling object {object_id.hex()} from node {source}: the "
                    f"stream ended after {received} of {max(total, 0)} bytes"
                )
        except grpc.aio.AioRpcError as e:
            call.cancel()
            if created:
                self._store.abort(object_id)
            if e.code() == grpc.StatusCode.UNAVAILABLE:
                self._channels.drop(address)
            raise PullError(
                f"could not pull object {object_id.hex()} from node {source} "
                f"at {address}: {e.code().name}: {e.details()}"
            ) from None
        except BaseException:
            call.cancel()  # e.g. no room here: stop the source from sending more
            if created:
                self._store.abort(object_id)
            raise
        if self._store.seal(object_id):
            if object_id in self._freed_during_pull:
                self._store.free(object_id)
            else:
                self._notify_sealed(object_id)

    async def pull_object(
        self, req: raylet_pb2.PullObjectRequest
    ) -> AsyncIterator[raylet_pb2.ObjectChunk]:
        """Stream a sealed object (from memory or from the spill dir) to another node.

        The servicer must itself be an async generator that re-yields these chunks
        (`async for chunk in manager.pull_object(req): yield chunk`): grpc.aio does not
        iterate an async generator returned from a plain `def` handler.
        """
        reader = self._store.open_reader(req.object_id)
        if reader is None:
            yield raylet_pb2.ObjectChunk(found=False)
            return
        with reader:
            if reader.size == 0:
                yield raylet_pb2.ObjectChunk(total_size=0, offset=0, found=True)
                return
            for offset in range(0, reader.size, self._chunk_bytes):
                length = min(self._chunk_bytes, reader.size - offset)
                data = await asyncio.to_thread(reader.read, offset, length)
                yield raylet_pb2.ObjectChunk(
                    total_size=reader.size, offset=offset, data=data, found=True
                )

    # -- freeing -------------------------------------------------------------------
    async def free_objects(self, req: raylet_pb2.FreeObjectsRequest) -> raylet_pb2.FreeObjectsReply:
        for object_id in req.object_ids:
            if object_id in self._pulls:
                self._freed_during_pull.add(object_id)
        # Off the event loop: giving a large file's pages back blocks for milliseconds.
        await asyncio.get_running_loop().run_in_executor(None, self._free_all, list(req.object_ids))
        return raylet_pb2.FreeObjectsReply()

    def _free_all(self, object_ids: list[bytes]) -> None:
        for object_id in object_ids:
            try:
                self._store.free(object_id)
            except OSError:
                logger.exception("freeing object %s failed", object_id.hex())

    def stats(self) -> dict[str, int]:
        """used_bytes, capacity_bytes, num_objects (in memory), num_spilled, spilled_bytes."""
        return self._store.stats()

    async def close(self) -> None:
        """Stop running pulls and close the channels to other raylets."""
        pulls = list(self._pulls.values())
        for task in pulls:
            task.cancel()
        await asyncio.gather(*pulls, return_exceptions=True)
        await self._channels.close()


def _missing(object_id: bytes, error: str) -> raylet_pb2.LocalObject:
    return raylet_pb2.LocalObject(object_id=object_id, found=False, error=error)


def _waited(deadline: float | None) -> str:
    return "" if deadline is None else " before the timeout"
