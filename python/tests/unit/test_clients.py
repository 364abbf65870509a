"""The typed gRPC clients (plait._transport.clients) against the services' descriptors.

No process and no connection: a recording channel stands in for grpc's, so each test sees
exactly which method path and deadline a client call produced.
"""

from __future__ import annotations

import asyncio
import functools
import typing
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf.descriptor import ServiceDescriptor

from plait._protocol import gcs_pb2, raylet_pb2, worker_pb2
from plait._transport import clients
from plait._transport.channels import ChannelCache
from plait._transport.clients import (
    GcsClient,
    GcsSyncClient,
    RayletClient,
    RayletSyncClient,
    WorkerClient,
)

GCS = gcs_pb2.DESCRIPTOR.services_by_name["GcsService"]
RAYLET = raylet_pb2.DESCRIPTOR.services_by_name["RayletService"]
WORKER = worker_pb2.DESCRIPTOR.services_by_name["WorkerService"]

# (client, its service, whether it is the aio variant, RPCs it leaves out on purpose)
CASES: list[tuple[type[clients._Client], ServiceDescriptor, bool, set[str]]] = [
    (GcsClient, GCS, True, set()),
    (GcsSyncClient, GCS, False, set()),
    (RayletClient, RAYLET, True, set()),
    # Pulling an object is raylet-to-raylet, on the I/O loop only.
    (RayletSyncClient, RAYLET, False, {"PullObject"}),
    (WorkerClient, WORKER, True, set()),
]
IDS = [c[0].__name__ for c in CASES]

# The RPCs that wait on the cluster by design and so must not get a default deadline.
WAITING = {
    "RequestWorkerLease",
    "GetObjects",
    "PullObject",
    "PushTask",
    "PushTaskStream",
    "GetObjectStatus",
}


def _protocol_for(aio: bool, client_streaming: bool, server_streaming: bool) -> Any:
    if not aio:
        assert not client_streaming and not server_streaming, "no sync streaming client"
        return clients.SyncUnary
    if client_streaming and server_streaming:
        return clients.AioStreamStream
    if server_streaming:
        return clients.AioUnaryStream
    assert not client_streaming, "no client-streaming RPC is expected"
    return clients.AioUnary


def _rpc_hints(cls: type) -> dict[str, Any]:
    """The client's typed RPC attributes: name -> Protocol[Request, Reply]."""
    protocols = {
        clients.AioUnary,
        clients.AioUnaryStream,
        clients.AioStreamStream,
        clients.SyncUnary,
    }
    hints = typing.get_type_hints(cls)
    return {n: h for n, h in hints.items() if typing.get_origin(h) in protocols}


@dataclass
class Call:
    method: str
    request: Any
    timeout: float | None


@dataclass
class RecordingChannel:
    """Stands in for grpc.Channel / grpc.aio.Channel: each multicallable records calls."""

    calls: list[Call] = field(default_factory=list)
    made: dict[str, Any] = field(default_factory=dict)

    def _callable(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def call(request: Any = None, timeout: float | None = None, **kw: Any) -> str:
            self.calls.append(Call(method, request, timeout))
            return method

        self.made[method] = call
        return call

    unary_unary = unary_stream = stream_unary = stream_stream = _callable


@pytest.mark.parametrize(("cls", "service", "aio", "left_out"), CASES, ids=IDS)
def test_each_client_types_every_rpc_of_its_service(
    cls: type[clients._Client], service: ServiceDescriptor, aio: bool, left_out: set[str]
) -> None:
    """A new RPC in the .proto without a typed method here fails this test."""
    want = {m.name for m in service.methods} - left_out
    assert set(cls.RPCS) == want
    hints = _rpc_hints(cls)
    assert set(hints) == want
    for method in service.methods:
        if method.name in left_out:
            continue
        hint = hints[method.name]
        assert typing.get_origin(hint) is _protocol_for(
            aio, method.client_streaming, method.server_streaming
        ), method.name
        req, rep = typing.get_args(hint)
        assert req.DESCRIPTOR.full_name == method.input_type.full_name, method.name
        assert rep.DESCRIPTOR.full_name == method.output_type.full_name, method.name


@pytest.mark.parametrize(("cls", "service", "aio", "left_out"), CASES, ids=IDS)
def test_bounded_rpcs_get_the_default_deadline_and_waiting_ones_none(
    cls: type[clients._Client], service: ServiceDescriptor, aio: bool, left_out: set[str]
) -> None:
    channel = RecordingChannel()
    client = cls(channel, timeout=7.5)
    for method in service.methods:
        if method.name in left_out:
            continue
        path = f"/{service.full_name}/{method.name}"
        assert getattr(client, method.name)(None) == path
        expected = None if method.name in WAITING else 7.5
        assert channel.calls[-1] == Call(path, None, expected), method.name


@pytest.mark.parametrize(("cls", "service", "aio", "left_out"), CASES, ids=IDS)
def test_a_callers_timeout_overrides_the_default(
    cls: type[clients._Client], service: ServiceDescriptor, aio: bool, left_out: set[str]
) -> None:
    channel = RecordingChannel()
    client = cls(channel, timeout=7.5)
    for name in cls.RPCS:
        getattr(client, name)(None, timeout=0.25)
        assert channel.calls[-1].timeout == 0.25, name


def test_the_default_deadline_is_the_module_default() -> None:
    channel = RecordingChannel()
    GcsSyncClient(channel).GetAllNodes(gcs_pb2.GetAllNodesRequest())
    assert channel.calls[-1].timeout == clients.DEFAULT_TIMEOUT_S


@pytest.mark.parametrize(("cls", "service", "aio", "left_out"), CASES, ids=IDS)
def test_each_rpc_is_the_stubs_multicallable_bound_once(
    cls: type[clients._Client], service: ServiceDescriptor, aio: bool, left_out: set[str]
) -> None:
    """The call path's cost: no Python-level wrapper, at most one C-level partial."""
    channel = RecordingChannel()
    client = cls(channel, timeout=7.5)
    for name in cls.RPCS:
        made = channel.made[f"/{service.full_name}/{name}"]
        bound = getattr(client, name)
        if name in WAITING:
            assert bound is made, name
        else:
            assert isinstance(bound, functools.partial), name
            assert bound.func is made and bound.args == () and bound.keywords == {"timeout": 7.5}
    no_default = cls(channel, timeout=None)
    for name in cls.RPCS:
        assert getattr(no_default, name) is channel.made[f"/{service.full_name}/{name}"], name


def test_channel_cache_reuses_clients_per_address_until_dropped() -> None:
    async def run() -> None:
        cache = ChannelCache()  # channels connect lazily: nothing is dialled here
        try:
            raylet = cache.raylet("127.0.0.1:1")
            worker = cache.worker("127.0.0.1:1")
            assert isinstance(raylet, RayletClient) and isinstance(worker, WorkerClient)
            assert cache.raylet("127.0.0.1:1") is raylet
            assert cache.worker("127.0.0.1:1") is worker
            assert cache.raylet("127.0.0.1:2") is not raylet
            cache.drop("127.0.0.1:1")
            await asyncio.sleep(0)  # drop closes the old channel in the background
            assert cache.raylet("127.0.0.1:1") is not raylet
            assert cache.worker("127.0.0.1:1") is not worker
        finally:
            await cache.close()

    asyncio.run(asyncio.wait_for(run(), timeout=10))
