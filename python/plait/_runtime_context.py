"""plait.get_runtime_context(): who and where the calling code runs."""

from __future__ import annotations

from typing import Any

from plait._actor import _methods_of
from plait._core.actor_handle import ActorHandle
from plait._core.context import current_core_worker, task_context
from plait._init import connected_core_worker


class RuntimeContext:
    def get_job_id(self) -> str:
        return current_core_worker().job_id.hex()

    def get_node_id(self) -> str:
        return current_core_worker().node_id

    def get_worker_id(self) -> str:
        return current_core_worker().worker_id.hex()

    def get_task_id(self) -> str | None:
        ctx = task_context.get()
        return ctx.task_id.hex() if ctx and ctx.task_id else None

    def get_task_name(self) -> str | None:
        ctx = task_context.get()
        return ctx.name if ctx and ctx.task_id else None

    def is_canceled(self) -> bool:
        """Whether plait.cancel() was called on the running task (an actor call on a
        sync or threaded actor is not interrupted; it can poll this and stop early)."""
        cw = current_core_worker()
        ctx = task_context.get()
        if cw.executor is None or ctx is None:
            raise RuntimeError("is_canceled() is only available inside a task or actor call")
        if getattr(cw.executor, "_actor_loop", None) is not None:
            raise RuntimeError("is_canceled() is not supported in an async actor")
        return bool(cw.executor.is_cancelled(ctx.task_id))

    def get_actor_id(self) -> str | None:
        ctx = task_context.get()
        if ctx and ctx.actor_id:
            return ctx.actor_id.hex()
        cw = current_core_worker()
        ex = cw.executor
        actor_id: bytes = getattr(ex, "_actor_id", b"") if ex is not None else b""
        return actor_id.hex() if actor_id else None

    def get_actor_name(self) -> str | None:
        cw = current_core_worker()
        name: str = getattr(cw.executor, "_actor_name", "") if cw.executor else ""
        return name or None

    @property
    def namespace(self) -> str:
        return current_core_worker().namespace

    def get_namespace(self) -> str:
        return self.namespace

    @property
    def job_id(self) -> str:
        return self.get_job_id()

    @property
    def node_id(self) -> str:
        return self.get_node_id()

    @property
    def current_actor(self) -> Any:
        cw = current_core_worker()
        actor_id = self.get_actor_id()
        if actor_id is None:
            raise RuntimeError("current_actor is only available inside an actor")
        actor = getattr(cw.executor, "_actor", None)
        cls = type(actor)
        return ActorHandle(bytes.fromhex(actor_id), cls.__qualname__, _methods_of(cls))

    def get_assigned_resources(self) -> dict[str, float]:
        ctx = task_context.get()
        return dict(ctx.resources) if ctx else {}

    def was_current_actor_reconstructed(self) -> bool:
        return False

    def get(self) -> dict[str, Any]:
        return {
            "job_id": self.get_job_id(),
            "node_id": self.get_node_id(),
            "task_id": self.get_task_id(),
            "actor_id": self.get_actor_id(),
            "namespace": self.namespace,
        }


def get_runtime_context() -> RuntimeContext:
    connected_core_worker()
    return RuntimeContext()
