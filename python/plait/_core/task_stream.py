"""Pushing tasks to a worker over one long-lived gRPC stream (PushTaskStream).

The owner keeps one stream per worker address. Requests go out in the order they are
pushed (so an actor sees one caller's calls in order); replies come back as tasks finish
and are matched to their task by id. If the stream breaks (the worker died), every task
waiting on it fails with the stream's error, as a failed unary PushTask would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc

from plait._format.object_ref import OwnerAddress
from plait._protocol import common_pb2, worker_pb2
from plait._transport.clients import WorkerClient

Address = OwnerAddress | common_pb2.Address


class StreamBroken(grpc.RpcError):
    """The task stream ended before the task's reply came (mirrors AioRpcError)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class TaskStream:
    def __init__(self, client: WorkerClient) -> None:
        self._call = client.PushTaskStream()
        self._waiting: dict[bytes, asyncio.Future[worker_pb2.PushTaskReply]] = {}
        self._outbox: asyncio.Queue[worker_pb2.PushTaskRequest] = asyncio.Queue()
        self._broken: StreamBroken | None = None
        self._writer = asyncio.ensure_future(self._write_loop())
        self._reader = asyncio.ensure_future(self._read_loop())

    @property
    def broken(self) -> bool:
        return self._broken is not None

    def push(self, req: worker_pb2.PushTaskRequest) -> asyncio.Future[worker_pb2.PushTaskReply]:
        fut: asyncio.Future[worker_pb2.PushTaskReply] = asyncio.get_running_loop().create_future()
        if self._broken is not None:
            fut.set_exception(self._broken)
            return fut
        self._waiting[req.spec.task_id] = fut
        self._outbox.put_nowait(req)
        return fut

    async def _write_loop(self) -> None:
        try:
            while True:
                batch = worker_pb2.PushTaskBatch(tasks=[await self._outbox.get()])
                while not self._outbox.empty():  # what queued meanwhile: the same message
                    batch.tasks.append(self._outbox.get_nowait())
                await self._call.write(batch)
        except (grpc.RpcError, asyncio.InvalidStateError) as e:
            self._fail(e)
        except asyncio.CancelledError:
            pass

    async def _read_loop(self) -> None:
        try:
            while True:
                batch = await self._call.read()
                if not isinstance(batch, worker_pb2.PushTaskReplyBatch):  # grpc.aio.EOF
                    self._fail(None)
                    return
                for reply in batch.replies:
                    fut = self._waiting.pop(reply.task_id, None)
                    if fut is not None and not fut.done():
                        fut.set_result(reply)
        except grpc.RpcError as e:
            self._fail(e)
        except asyncio.CancelledError:
            pass

    def _fail(self, err: BaseException | None) -> None:
        if self._broken is None:
            if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
                self._broken = StreamBroken(err.code(), str(err.details()))
            else:
                self._broken = StreamBroken(
                    grpc.StatusCode.UNAVAILABLE, "the worker closed its task stream"
                )
        waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(self._broken)

    async def close(self) -> None:
        self._call.cancel()
        for t in (self._writer, self._reader):
            t.cancel()
        self._fail(None)


class TaskStreams:
    """One TaskStream per worker address, opened on first use."""

    def __init__(self, client_for: Callable[[Address], WorkerClient]) -> None:
        self._client_for = client_for
        self._streams: dict[str, TaskStream] = {}

    def push(
        self, address: Address, req: worker_pb2.PushTaskRequest
    ) -> asyncio.Future[worker_pb2.PushTaskReply]:
        key = f"{address.ip}:{address.port}"
        stream = self._streams.get(key)
        if stream is None or stream.broken:
            stream = self._streams[key] = TaskStream(self._client_for(address))
        return stream.push(req)

    async def close(self) -> None:
        streams, self._streams = list(self._streams.values()), {}
        for s in streams:
            await s.close()
