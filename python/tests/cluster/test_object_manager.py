"""The raylet's object manager behind real gRPC servers: pulls between two nodes,
shared pulls, waiting for seals, spilling and restoring, freeing."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest

from plait._protocol import raylet_pb2, raylet_pb2_grpc
from plait._services.object_store.local_store import LocalObjectStore
from plait._services.raylet.object_manager import ObjectManager
from plait._transport.channels import aio_channel, aio_server, bind
from plait._transport.store_client import map_object, write_object

T = TypeVar("T")
TEST_TIMEOUT_S = 20.0


class ObjectServicer(raylet_pb2_grpc.RayletServiceServicer):
    """Just the object RPCs of RayletService, delegating to an ObjectManager the way the
    raylet's servicer does. Counts pulls served, to check that pulls are shared."""

    def __init__(self, manager: ObjectManager) -> None:
        self.manager = manager
        self.pulls_served = 0

    async def CreateObject(
        self, request: raylet_pb2.CreateObjectRequest, context: Any
    ) -> raylet_pb2.CreateObjectReply:
        return await self.manager.create_object(request)

    async def SealObject(
        self, request: raylet_pb2.SealObjectRequest, context: Any
    ) -> raylet_pb2.SealObjectReply:
        return await self.manager.seal_object(request)

    async def GetObjects(
        self, request: raylet_pb2.GetObjectsRequest, context: Any
    ) -> raylet_pb2.GetObjectsReply:
        return await self.manager.get_objects(request)

    async def FreeObjects(
        self, request: raylet_pb2.FreeObjectsRequest, context: Any
    ) -> raylet_pb2.FreeObjectsReply:
        return await self.manager.free_objects(request)

    async def PullObject(
        self, request: raylet_pb2.PullObjectRequest, context: Any
    ) -> AsyncIterator[raylet_pb2.ObjectChunk]:
        self.pulls_served += 1
        async for chunk in self.manager.pull_object(request):
            yield chunk


@dataclass
class Node:
    node_id: str
    store: LocalObjectStore
    manager: ObjectManager
    servicer: ObjectServicer
    server: grpc.aio.Server
    address: str
    channel: grpc.aio.Channel
    stub: raylet_pb2_grpc.RayletServiceStub

    async def put(self, object_id: bytes, data: bytes) -> None:
        """Write an object the way a core worker does: create, fill the file, seal."""
        reply = await self.stub.CreateObject(
            raylet_pb2.CreateObjectRequest(object_id=object_id, size=len(data))
        )
        assert not reply.error, reply.error
        assert not reply.exists

        def fill(view: memoryview) -> None:
            view[:] = data

        await asyncio.to_thread(write_object, reply.path, len(data), fill)
        await self.stub.SealObject(raylet_pb2.SealObjectRequest(object_id=object_id))

    async def get(
        self, object_ids: list[bytes], sources: list[str], timeout_s: float = 5.0
    ) -> list[raylet_pb2.LocalObject]:
        reply = await self.stub.GetObjects(
            raylet_pb2.GetObjectsRequest(
                object_ids=object_ids, source_node_ids=sources, timeout_s=timeout_s
            )
        )
        return list(reply.objects)


@dataclass
class Cluster:
    root: str
    addresses: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)

    async def add_node(
        self,
        node_id: str,
        capacity: int = 64 << 20,
        chunk_bytes: int = 64 << 10,
        pull_stall_timeout_s: float = 5.0,
        servicer_class: type[ObjectServicer] = ObjectServicer,
    ) -> Node:
        store = LocalObjectStore(
            os.path.join(self.root, "shm", node_id),
            os.path.join(self.root, "spill", node_id),
            capacity,
        )
        manager = ObjectManager(
            node_id,
            store,
            self.addresses.get,
            chunk_bytes=chunk_bytes,
            pull_stall_timeout_s=pull_stall_timeout_s,
        )
        servicer = servicer_class(manager)
        server = aio_server()
        raylet_pb2_grpc.add_RayletServiceServicer_to_server(servicer, server)
        port = bind(server, "127.0.0.1", 0)
        await server.start()
        address = f"127.0.0.1:{port}"
        self.addresses[node_id] = address
        channel = aio_channel(address)
        node = Node(
            node_id,
            store,
            manager,
            servicer,
            server,
            address,
            channel,
            raylet_pb2_grpc.RayletServiceStub(channel),
        )
        self.nodes.append(node)
        return node

    async def close(self) -> None:
        for node in self.nodes:
            await node.channel.close(None)
            await node.server.stop(None)
            await node.manager.close()
            node.store.destroy()


@pytest.fixture
def root() -> Iterator[str]:
    shm_root = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    path = os.path.join(shm_root, f"plait-test-{uuid.uuid4().hex}")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run(root: str, body: Callable[[Cluster], Awaitable[T]]) -> T:
    async def main() -> T:
        cluster = Cluster(root)
        try:
            return await asyncio.wait_for(body(cluster), TEST_TIMEOUT_S)
        finally:
            await cluster.close()

    return asyncio.run(main())


def oid(n: int) -> bytes:
    return n.to_bytes(20, "big")


# ---------------------------------------------------------------------------------------
def test_node_b_pulls_object_created_on_node_a(root: str) -> None:
    data = os.urandom(300_000)  # five 64 KiB chunks

    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a")
        b = await cluster.add_node("node-b")
        await a.put(oid(1), data)
        [obj] = await b.get([oid(1)], ["node-a"])
        assert obj.found, obj.error
        assert obj.size == len(data)
        assert obj.path == b.store.path_of(oid(1))
        assert map_object(obj.path).to_pybytes() == data
        assert a.servicer.pulls_served == 1
        # Now local on B: a second read does not pull again; A keeps its copy.
        [again] = await b.get([oid(1)], ["node-a"])
        assert again.found and a.servicer.pulls_served == 1
        assert a.manager.stats()["num_objects"] == 1

    run(root, body)


def test_concurrent_gets_share_one_pull(root: str) -> None:
    data = os.urandom(1 << 20)

    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a")
        b = await cluster.add_node("node-b")
        await a.put(oid(1), data)
        replies = await asyncio.gather(*(b.get([oid(1)], ["node-a"]) for _ in range(5)))
        assert all(objs[0].found for objs in replies)
        assert a.servicer.pulls_served == 1
        assert b.manager.stats()["used_bytes"] == len(data)

    run(root, body)


def test_get_waits_for_an_object_being_created(root: str) -> None:
    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a")
        reply = await a.stub.CreateObject(raylet_pb2.CreateObjectRequest(object_id=oid(1), size=3))
        waiting = asyncio.ensure_future(a.get([oid(1)], ["node-a"], timeout_s=5.0))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        write_object(reply.path, 3, lambda view: view.__setitem__(slice(None), b"abc"))
        await a.stub.SealObject(raylet_pb2.SealObjectRequest(object_id=oid(1)))
        [obj] = await waiting
        assert obj.found and map_object(obj.path).to_pybytes() == b"abc"

    run(root, body)


def test_unknown_object_is_reported_after_timeout(root: str) -> None:
    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a")
        await a.put(oid(1), b"here")
        loop = asyncio.get_running_loop()
        start = loop.time()
        found, missing = await a.get([oid(1), oid(2)], ["", ""], timeout_s=0.3)
        assert loop.time() - start >= 0.25
        assert found.found
        assert not missing.found and "not in the store" in missing.error

    run(root, body)


def test_pull_errors_are_reported_per_object(root: str) -> None:
    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a")
        b = await cluster.add_node("node-b")
        # A node nobody knows (dead), a node that is gone (nothing listens), an object
        # the source does not have (freed).
        cluster.addresses["node-gone"] = "127.0.0.1:1"
        dead, gone, freed = await b.get(
            [oid(1), oid(2), oid(3)], ["node-ghost", "node-gone", "node-a"]
        )
        assert not dead.found and "dead or unknown" in dead.error
        assert not gone.found and "UNAVAILABLE" in gone.error
        assert not freed.found and "not on node node-a" in freed.error
        # The raylet is still serving, and failed pulls left nothing behind.
        assert b.manager.stats()["used_bytes"] == 0
        assert os.listdir(b.store.store_dir) == []
        await a.put(oid(4), b"fine")
        [ok] = await b.get([oid(4)], ["node-a"])
        assert ok.found

    run(root, body)


class HungServicer(ObjectServicer):
    """A source node that accepts pulls and then sends nothing."""

    async def PullObject(
        self, request: raylet_pb2.PullObjectRequest, context: Any
    ) -> AsyncIterator[raylet_pb2.ObjectChunk]:
        self.pulls_served += 1
        await asyncio.sleep(TEST_TIMEOUT_S)
        yield raylet_pb2.ObjectChunk(found=False)


def test_stalled_pull_is_abandoned_and_retried(root: str) -> None:
    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a", servicer_class=HungServicer)
        b = await cluster.add_node("node-b", pull_stall_timeout_s=0.3)
        [obj] = await b.get([oid(1)], ["node-a"], timeout_s=0)  # no deadline of its own
        assert not obj.found and "no data for 0.3s" in obj.error
        # The failed pull is not left behind: the next read starts a new one.
        [obj] = await b.get([oid(1)], ["node-a"], timeout_s=0)
        assert not obj.found and a.servicer.pulls_served == 2

    run(root, body)


def test_spill_and_restore_under_small_capacity(root: str) -> None:
    blobs = {i: os.urandom(40_000) for i in range(1, 4)}

    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a", capacity=100_000)
        b = await cluster.add_node("node-b")
        for i, data in blobs.items():
            await a.put(oid(i), data)
        # Three 40 kB objects in a 100 kB store: the least recently used went to disk.
        stats = a.manager.stats()
        assert (stats["num_objects"], stats["num_spilled"]) == (2, 1)
        assert not os.path.exists(a.store.path_of(oid(1)))
        # Another node pulls the spilled object straight from disk...
        [pulled] = await b.get([oid(1)], ["node-a"])
        assert pulled.found and map_object(pulled.path).to_pybytes() == blobs[1]
        # ...and a local read brings it back into memory, spilling object 2 instead.
        [restored] = await a.get([oid(1)], ["node-a"])
        assert restored.found and map_object(restored.path).to_pybytes() == blobs[1]
        assert a.manager.stats()["num_spilled"] == 1
        assert not os.path.exists(a.store.path_of(oid(2)))
        [two] = await a.get([oid(2)], ["node-a"])
        assert map_object(two.path).to_pybytes() == blobs[2]

    run(root, body)


def test_free_returns_the_space(root: str) -> None:
    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a", capacity=100_000)
        await a.put(oid(1), os.urandom(60_000))
        await a.put(oid(2), os.urandom(30_000))
        # Nothing can be spilled to fit an object larger than the whole store.
        too_big = await a.stub.CreateObject(
            raylet_pb2.CreateObjectRequest(object_id=oid(3), size=200_000)
        )
        assert "object store full" in too_big.error and "200000 bytes" in too_big.error
        assert a.manager.stats()["used_bytes"] == 90_000
        await a.stub.FreeObjects(raylet_pb2.FreeObjectsRequest(object_ids=[oid(1), oid(2)]))
        assert a.manager.stats()["used_bytes"] == 0
        assert os.listdir(a.store.store_dir) == []
        # The space is usable again without spilling anything.
        await a.put(oid(4), os.urandom(100_000))
        assert a.manager.stats()["num_spilled"] == 0
        [gone] = await a.get([oid(1)], ["node-a"], timeout_s=0.1)
        assert not gone.found and "freed" in gone.error

    run(root, body)


def test_create_existing_object_reports_exists(root: str) -> None:
    async def body(cluster: Cluster) -> None:
        a = await cluster.add_node("node-a")
        await a.put(oid(1), b"once")
        reply = await a.stub.CreateObject(raylet_pb2.CreateObjectRequest(object_id=oid(1), size=4))
        assert reply.exists and not reply.error
        assert Path(reply.path).read_bytes() == b"once"

    run(root, body)
