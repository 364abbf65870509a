"""gRPC plumbing shared by every plait process: channels, servers, addresses.

All services use grpc.aio on one event loop per process; sync callers reach that loop
through `EventLoopThread`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import grpc

from plait._transport.clients import RayletClient, WorkerClient

T = TypeVar("T")

MAX_MESSAGE_BYTES = 1 << 30

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.enable_http_proxy", 0),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
]

SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.so_reuseport", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
]


def parse_address(address: str) -> tuple[str, int]:
    """'host:port' -> (host, port), with a clear error for anything else."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected an address of the form HOST:PORT, got {address!r}")
    return host, int(port)


def aio_channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)


def sync_channel(address: str) -> grpc.Channel:
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


def aio_server() -> grpc.aio.Server:
    return grpc.aio.server(options=SERVER_OPTIONS)


def bind(server: grpc.aio.Server, host: str, port: int) -> int:
    """Bind to host:port (0 picks a free port) and return the port bound."""
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind a gRPC server to {host}:{port}")
    return bound


def resolve_future(fut: asyncio.Future[T], value: T) -> None:
    """Set fut's result unless it is already done (a timeout or cancel got there first)."""
    if not fut.done():
        fut.set_result(value)


class ChannelCache:
    """One aio channel per address, created lazily on the owning loop, and the typed
    clients over it (built once per address: a stub binds every RPC when it is made)."""

    def __init__(self) -> None:
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._raylets: dict[str, RayletClient] = {}
        self._workers: dict[str, WorkerClient] = {}

    def get(self, address: str) -> grpc.aio.Channel:
        ch = self._channels.get(address)
        if ch is None:
            ch = aio_channel(address)
            self._channels[address] = ch
        return ch

    def raylet(self, address: str) -> RayletClient:
        client = self._raylets.get(address)
        if client is None:
            client = self._raylets[address] = RayletClient(self.get(address))
        return client

    def worker(self, address: str) -> WorkerClient:
        client = self._workers.get(address)
        if client is None:
            client = self._workers[address] = WorkerClient(self.get(address))
        return client

    def drop(self, address: str) -> None:
        self._raylets.pop(address, None)
        self._workers.pop(address, None)
        ch = self._channels.pop(address, None)
        if ch is not None:
            asyncio.ensure_future(ch.close(None))

    async def close(self) -> None:
        chans = list(self._channels.values())
        self._channels.clear()
        self._raylets.clear()
        self._workers.clear()
        for ch in chans:
            await ch.close(None)


class EventLoopThread:
    """An asyncio loop running in a daemon thread, for sync code to submit coroutines to."""

    def __init__(self, name: str = "plait-io") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
