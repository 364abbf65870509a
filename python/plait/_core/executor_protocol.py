"""What a core worker asks of the executor that runs its tasks (plait._core.executor's
TaskExecutor in workers; none in drivers). A Protocol, so the core worker can hold one
without importing the executor, which imports the core worker."""

from __future__ import annotations

from typing import Protocol

from plait._core.context import GpuId
from plait._protocol import common_pb2, worker_pb2


class Executor(Protocol):
    # The GPUs of the task running now (plait.get_gpu_ids() outside a task context).
    gpu_ids: list[GpuId]

    async def push_task(self, req: worker_pb2.PushTaskRequest) -> worker_pb2.PushTaskReply:
        """Run one pushed task; its reply (an error reply if the task failed)."""
        ...

    def error_reply(
        self, spec: common_pb2.TaskSpec, err: BaseException
    ) -> worker_pb2.PushTaskReply:
        """The reply of a task that failed with err before or outside its own code."""
        ...

    def cancel(self, task_id: bytes, force: bool) -> bool:
        """Cancel a queued or running task; whether a cancel was attempted."""
        ...

    def is_cancelled(self, task_id: bytes) -> bool: ...

    def notify_blocked(self, blocked: bool) -> None:
        """The running task waits in get/wait (True) or runs again (False)."""
        ...
