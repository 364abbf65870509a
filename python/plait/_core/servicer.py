"""WorkerService: the gRPC face of a core worker (a thin shell over CoreWorker)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any

import grpc

from plait._protocol import worker_pb2, worker_pb2_grpc

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

# The request and reply types vary by method; each method's signature names its own.
Ctx = grpc.aio.ServicerContext[Any, Any]
NO_TASKS = "this process (a driver) runs no tasks"


class WorkerServicer(worker_pb2_grpc.WorkerServiceServicer):
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw

    async def PushTask(
        self, request: worker_pb2.PushTaskRequest, context: Ctx
    ) -> worker_pb2.PushTaskReply:
        executor = self.cw.executor
        if executor is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, NO_TASKS)
        return await executor.push_task(request)

    async def PushTaskStream(
        self, request_iterator: AsyncIterator[worker_pb2.PushTaskBatch], context: Ctx
    ) -> AsyncIterator[worker_pb2.PushTaskReplyBatch]:
        """Run each pushed task as it arrives; answer each as it finishes (replies that
        are ready together go out in one message)."""
        executor = self.cw.executor
        if executor is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, NO_TASKS)
        done: asyncio.Queue[worker_pb2.PushTaskReply | None] = asyncio.Queue()
        running = 0
        reading = True

        def finished(
            req: worker_pb2.PushTaskRequest, fut: asyncio.Future[worker_pb2.PushTaskReply]
        ) -> None:
            if fut.cancelled():
                reply = worker_pb2.PushTaskReply(cancelled=True)
            elif (err := fut.exception()) is not None:  # a bug in plait, not in the task
                reply = executor.error_reply(req.spec, err)
            else:
                reply = fut.result()
            reply.task_id = req.spec.task_id
            done.put_nowait(reply)

        async def consume() -> None:
            nonlocal running, reading
            async for batch in request_iterator:
                for req in batch.tasks:
                    running += 1
                    fut = asyncio.ensure_future(executor.push_task(req))
                    fut.add_done_callback(partial(finished, req))
            reading = False
            done.put_nowait(None)

        reader = asyncio.ensure_future(consume())
        try:
            while reading or running:
                out = worker_pb2.PushTaskReplyBatch()
                item = await done.get()
                while True:
                    if item is not None:
                        running -= 1
                        out.replies.append(item)
                    if done.empty():
                        break
                    item = done.get_nowait()
                if out.replies:
                    yield out
        finally:
            reader.cancel()

    async def GetObjectStatus(
        self, request: worker_pb2.GetObjectStatusRequest, context: Ctx
    ) -> worker_pb2.GetObjectStatusReply:
        return await self.cw.object_status(request.object_id, request.timeout_s)

    async def UpdateBorrowers(
        self, request: worker_pb2.UpdateBorrowersRequest, context: Ctx
    ) -> worker_pb2.UpdateBorrowersReply:
        borrower = request.borrower.worker_id
        for d in request.deltas:
            self.cw.apply(self.cw.ref_counter.update_borrower(d.object_id, borrower, d.delta))
        return worker_pb2.UpdateBorrowersReply()

    async def CancelTask(
        self, request: worker_pb2.CancelTaskRequest, context: Ctx
    ) -> worker_pb2.CancelTaskReply:
        if self.cw.executor is None:
            return worker_pb2.CancelTaskReply(attempted=False)
        if request.recursive and request.force:  # before this process exits
            await self.cw.cancel_children(request.task_id, True)
        attempted = self.cw.executor.cancel(request.task_id, request.force)
        if request.recursive and not request.force:
            await self.cw.cancel_children(request.task_id, False)
        return worker_pb2.CancelTaskReply(attempted=attempted)

    async def Exit(self, request: worker_pb2.ExitRequest, context: Ctx) -> worker_pb2.ExitReply:
        if self.cw.executor is not None:
            # Reply first, then go: the caller learns the exit was taken.
            asyncio.get_running_loop().call_later(0.05, os._exit, 0)
        return worker_pb2.ExitReply()

    async def WorkerStats(
        self, request: worker_pb2.WorkerStatsRequest, context: Ctx
    ) -> worker_pb2.WorkerStatsReply:
        return worker_pb2.WorkerStatsReply(
            num_owned_objects=self.cw.ref_counter.num_owned(),
            num_pending_tasks=len(self.cw.task_submitter.tasks),
            num_borrowed_objects=self.cw.ref_counter.num_borrowed(),
        )
