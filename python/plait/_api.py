"""The driver-facing functions of the public API: remote, get/put/wait, actors, the
cluster's nodes and resources (init/shutdown are in _init.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plait._actor import ActorClass, ActorHandle
from plait._core.actor_handle import get_named_actor, kill_actor
from plait._core.context import (
    current_core_worker,
    maybe_core_worker,
    task_context,
)
from plait._format.object_ref import ObjectRef
from plait._init import connected_core_worker
from plait._protocol import common_pb2, gcs_pb2
from plait._remote_function import RemoteFunction


def remote(*args: Any, **options: Any) -> Any:
    """@plait.remote or @plait.remote(num_cpus=..., ...) on a function or class."""

    def make(target: Any) -> Any:
        if isinstance(target, type):
            return ActorClass(target, options)
        return RemoteFunction(target, options)

    if len(args) == 1 and not options and callable(args[0]):
        return make(args[0])
    if args:
        raise TypeError("@plait.remote takes either a function/class or keyword options")
    return make


def _as_ref_list(object_refs: Any, what: str) -> tuple[list[ObjectRef], bool]:
    if isinstance(object_refs, ObjectRef):
        return [object_refs], True
    if isinstance(object_refs, (list, tuple)):
        for r in object_refs:
            if not isinstance(r, ObjectRef):
                raise TypeError(
                    f"plait.{what}() expects ObjectRefs, but the list holds a "
                    f"{type(r).__name__}: {r!r}"
                )
        return list(object_refs), False
    # ValueError, as Ray's get raises for a value that is neither (a list holding a
    # non-ref is a TypeError there, as here).
    raise ValueError(
        f"plait.{what}() expects an ObjectRef or a list of ObjectRefs, got "
        f"{type(object_refs).__name__}"
    )


def get(object_refs: Any, *, timeout: float | None = None) -> Any:
    refs, single = _as_ref_list(object_refs, "get")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout}")
    values = connected_core_worker().get(refs, timeout)
    return values[0] if single else values


def put(value: Any) -> ObjectRef:
    return connected_core_worker().put(value)


def wait(
    object_refs: Sequence[ObjectRef],
    *,
    num_returns: int = 1,
    timeout: float | None = None,
    fetch_local: bool = True,
) -> tuple[list[ObjectRef], list[ObjectRef]]:
    if isinstance(object_refs, ObjectRef) or not isinstance(object_refs, (list, tuple)):
        raise TypeError(f"wait() expected a list of ObjectRef, got {type(object_refs).__name__}")
    refs, _ = _as_ref_list(object_refs, "wait")
    if len(set(refs)) != len(refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if num_returns <= 0 or num_returns > len(refs):
        if refs or num_returns != 0:
            raise ValueError(
                f"Invalid number of objects to return {num_returns}: it must be "
                f"between 1 and the number of refs ({len(refs)})."
            )
    if not refs:
        return [], []
    return connected_core_worker().wait(refs, num_returns, timeout)


def kill(actor: ActorHandle, *, no_restart: bool = True) -> None:
    if not isinstance(actor, ActorHandle):
        raise ValueError(
            f"plait.kill() only supported for actors. For tasks, try "
            f"plait.cancel(). Got: {type(actor).__name__}."
        )
    kill_actor(connected_core_worker(), actor, no_restart)


def cancel(object_ref: ObjectRef, *, force: bool = False, recursive: bool = True) -> None:
    if not isinstance(object_ref, ObjectRef):
        raise TypeError(f"plait.cancel() expects an ObjectRef, got {type(object_ref).__name__}")
    cw = connected_core_worker()
    if object_ref.owner.worker_id != cw.worker_id:
        raise ValueError("plait.cancel() only cancels tasks submitted by this process.")
    task_id = object_ref.task_id()

    async def cancel_task() -> None:
        if not await cw.actor_submitter.cancel(task_id, force, recursive):
            await cw.task_submitter.cancel(task_id, force, recursive)

    cw.io.run(cancel_task(), timeout=30)


def get_actor(name: str, namespace: str | None = None) -> ActorHandle:
    return get_named_actor(connected_core_worker(), name, namespace)


def _all_nodes() -> list[common_pb2.NodeInfo]:
    cw = current_core_worker()
    return list(cw.gcs_sync.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=30).nodes)


def nodes() -> list[dict[str, Any]]:
    return [
        {
            "NodeID": n.node_id,
            "Alive": n.alive,
            "NodeManagerAddress": n.ip,
            "NodeManagerPort": n.raylet_port,
            "Resources": dict(n.total_resources),
            "IsHead": n.is_head,
            "alive": n.alive,
        }
        for n in _all_nodes()
    ]


def _sum(attr: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in _all_nodes():
        if n.alive:
            for k, v in getattr(n, attr).items():
                out[k] = out.get(k, 0.0) + v
    return out


def cluster_resources() -> dict[str, float]:
    return _sum("total_resources")


def available_resources() -> dict[str, float]:
    return {k: v for k, v in _sum("available_resources").items() if v > 0}


def get_gpu_ids() -> list[Any]:
    """The GPUs assigned to the running task or actor (CUDA device numbers, as in
    CUDA_VISIBLE_DEVICES); [] in a driver or a task that asked for none."""
    connected_core_worker()
    ctx = task_context.get()
    if ctx is not None:
        return list(ctx.gpu_ids)
    cw = maybe_core_worker()
    if cw is not None and cw.executor is not None:
        return list(cw.executor.gpu_ids)
    return []
