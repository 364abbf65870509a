"""The process's current core worker and the task running in this thread/coroutine."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

_current: CoreWorker | None = None


def set_core_worker(cw: CoreWorker | None) -> None:
    global _current
    _current = cw


def current_core_worker() -> CoreWorker:
    if _current is None:
        raise RuntimeError("plait is not initialized: call plait.init() first")
    return _current


def maybe_core_worker() -> CoreWorker | None:
    return _current


# A GPU as get_gpu_ids() reports it: its CUDA device number (or, where the node's
# CUDA_VISIBLE_DEVICES names devices by UUID, that name).
GpuId = int | str


@dataclass
class TaskContext:
    task_id: bytes = b""
    actor_id: bytes = b""
    gpu_ids: list[GpuId] = field(default_factory=list)
    resources: dict[str, float] = field(default_factory=dict)
    name: str = ""


task_context: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar(
    "plait_task_context", default=None
)
