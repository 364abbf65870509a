"""The driver-facing functions of the public API: init/shutdown, get/put/wait, actors."""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from plait._actor import ActorClass, ActorHandle
from plait._core.context import (
    core_worker_or_init,
    current_core_worker,
    maybe_core_worker,
    set_auto_init,
    set_core_worker,
    task_context,
)
from plait._core.core_worker import CoreWorker
from plait._format.object_ref import ObjectRef
from plait._protocol import common_pb2, gcs_pb2
from plait._remote_function import RemoteFunction
from plait._services.node import CLUSTER_FILE, NodeProcesses, start_head
from plait._transport.channels import parse_address, sync_channel

log = logging.getLogger("plait")

_lock = threading.RLock()
_head: NodeProcesses | None = None
_address_info: dict[str, Any] = {}


def is_initialized() -> bool:
    return maybe_core_worker() is not None


def _resolve_address(address: str | None) -> str | None:
    if address is None:
        address = os.environ.get("PLAIT_ADDRESS") or os.environ.get("RAY_ADDRESS") or None
        if address in (None, "", "local"):
            return None
    if address == "auto":
        if not CLUSTER_FILE.exists():
            raise ConnectionError(
                "address='auto' but no running plait cluster was found "
                f"({CLUSTER_FILE} is missing). Start one with "
                "'plait start --head'."
            )
        return str(json.loads(CLUSTER_FILE.read_text())["gcs_address"])
    if address.startswith("ray://") or address.startswith("plait://"):
        address = address.split("://", 1)[1]
    parse_address(address)
    return address


def _pick_raylet(gcs_address: str) -> common_pb2.NodeInfo:
    """The raylet on this machine for a driver joining an existing cluster."""
    from plait._protocol import gcs_pb2_grpc

    with sync_channel(gcs_address) as ch:
        try:
            nodes = (
                gcs_pb2_grpc.GcsServiceStub(ch)
                .GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=10)
                .nodes
            )
        except Exception as e:
            raise ConnectionError(f"could not reach the plait GCS at {gcs_address}: {e}") from e
    alive = [n for n in nodes if n.alive]
    if not alive:
        raise ConnectionError(f"the cluster at {gcs_address} has no live node")
    host = gcs_address.rsplit(":", 1)[0]
    local = [n for n in alive if n.ip == host] or alive
    local.sort(key=lambda n: not n.is_head)
    chosen: common_pb2.NodeInfo = local[0]
    return chosen


@dataclass
class JobConfig:
    """Per-job settings (Ray's JobConfig): code_search_path lists directories and files
    (Python modules, jars, C++ libraries) that the job's workers load code from."""

    code_search_path: list[str] = field(default_factory=list)


def init(
    address: str | None = None,
    *,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    namespace: str | None = None,
    object_store_memory: int | None = None,
    ignore_reinit_error: bool = False,
    logging_level: int = logging.INFO,
    job_config: JobConfig | None = None,
    code_search_path: list[str] | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    """Connect this process to a cluster as a driver, starting a local one if needed."""
    global _head, _address_info
    with _lock:
        if is_initialized():
            if ignore_reinit_error:
                return dict(_address_info)
            raise RuntimeError(
                "Maybe you called plait.init twice by accident? This error can "
                "be suppressed by passing in 'ignore_reinit_error=True'."
            )
        if resources is not None and not isinstance(resources, dict):
            raise TypeError(f"resources must be a dict, got {type(resources).__name__}")
        for key in ("CPU", "GPU"):
            if resources and key in resources:
                raise ValueError(
                    f"Use the num_cpus and num_gpus arguments, not resources['{key}']."
                )
        gcs_address = _resolve_address(address)
        if gcs_address is None:
            _head = start_head(
                num_cpus=num_cpus,
                num_gpus=num_gpus,
                resources=resources,
                object_store_memory=object_store_memory,
            )
            gcs_address = _head.gcs_address
            node = _pick_raylet(gcs_address)
        else:
            if num_cpus is not None or num_gpus is not None or resources:
                raise ValueError(
                    "When connecting to an existing cluster, num_cpus, num_gpus "
                    "and resources must not be provided."
                )
            node = _pick_raylet(gcs_address)
        try:
            paths = list(code_search_path or []) + list(
                job_config.code_search_path if job_config else []
            )
            cw = _connect(gcs_address, node, namespace, paths)
        except BaseException:
            if _head is not None:
                _head.stop()
                _head = None
            raise
        _address_info = {
            "address": gcs_address,
            "gcs_address": gcs_address,
            "node_id": node.node_id,
            "raylet_address": f"{node.ip}:{node.raylet_port}",
            "session_dir": _head.session_dir if _head else "",
            "namespace": cw.namespace,
            "job_id": cw.job_id.hex(),
        }
        atexit.register(shutdown)
        return dict(_address_info)


def _connect(
    gcs_address: str, node: common_pb2.NodeInfo, namespace: str | None, code_search_path: list[str]
) -> CoreWorker:
    import uuid

    ns = namespace if namespace is not None else f"anonymous-{uuid.uuid4().hex[:12]}"
    cw = CoreWorker(
        is_driver=True,
        gcs_address=gcs_address,
        raylet_address=f"{node.ip}:{node.raylet_port}",
        node_id=node.node_id,
        node_ip=node.ip,
        job_id=b"",
        namespace=ns,
        store_dir=node.store_dir,
    )
    cw.start()
    try:
        for p in code_search_path:
            if not os.path.exists(p):
                raise ValueError(f"code_search_path entry {p!r} does not exist")
        search_path = [os.path.abspath(p) for p in code_search_path] + [
            p for p in [os.getcwd(), *sys.path] if p and os.path.isdir(p)
        ]
        from plait._core.code_package import upload

        job = common_pb2.JobInfo(
            namespace=ns,
            driver=cw.address_pb(),
            code_search_path=search_path,
            working_dir=os.getcwd(),
            driver_pid=os.getpid(),
            code_packages=upload(cw.gcs_sync, code_search_path),
        )
        reply = cw.gcs_sync.RegisterJob(gcs_pb2.RegisterJobRequest(job=job), timeout=30)
        cw.job_id = reply.job_id
        cw.register_with_raylet()
    except BaseException:
        cw.shutdown()
        raise
    set_core_worker(cw)
    return cw


def shutdown() -> None:
    """Disconnect; stop the local cluster if init() started it."""
    global _head
    with _lock:
        cw = maybe_core_worker()
        if cw is not None and cw.is_driver:
            set_core_worker(None)
            try:
                cw.gcs_sync.MarkJobFinished(
                    gcs_pb2.MarkJobFinishedRequest(job_id=cw.job_id), timeout=5
                )
            except Exception:
                pass
            cw.shutdown()
        if _head is not None:
            _head.stop()
            _head = None


def _auto_init() -> None:
    """Ray's auto-connect: the first get/put/wait/.remote() of an unconnected process
    calls init() (PLAIT_ENABLE_AUTO_CONNECT=0 or RAY_ENABLE_AUTO_CONNECT=0 turns it off)."""
    flag = os.environ.get(
        "PLAIT_ENABLE_AUTO_CONNECT", os.environ.get("RAY_ENABLE_AUTO_CONNECT", "")
    )
    if flag == "0":
        return
    with _lock:
        if not is_initialized():
            init()


set_auto_init(_auto_init)


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
    values = core_worker_or_init().get(refs, timeout)
    return values[0] if single else values


def put(value: Any) -> ObjectRef:
    return core_worker_or_init().put(value)


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
    return core_worker_or_init().wait(refs, num_returns, timeout)


def kill(actor: ActorHandle, *, no_restart: bool = True) -> None:
    if not isinstance(actor, ActorHandle):
        raise ValueError(
            f"plait.kill() only supported for actors. For tasks, try "
            f"plait.cancel(). Got: {type(actor).__name__}."
        )
    cw = core_worker_or_init()
    cw.io.run(cw.actor_submitter.kill(actor._actor_id, no_restart), timeout=30)


def cancel(object_ref: ObjectRef, *, force: bool = False, recursive: bool = True) -> None:
    if not isinstance(object_ref, ObjectRef):
        raise TypeError(f"plait.cancel() expects an ObjectRef, got {type(object_ref).__name__}")
    cw = core_worker_or_init()
    if object_ref.owner.worker_id != cw.worker_id:
        raise ValueError("plait.cancel() only cancels tasks submitted by this process.")
    task_id = object_ref.task_id()

    async def cancel_task() -> None:
        if not await cw.actor_submitter.cancel(task_id, force, recursive):
            await cw.task_submitter.cancel(task_id, force, recursive)

    cw.io.run(cancel_task(), timeout=30)


def get_actor(name: str, namespace: str | None = None) -> ActorHandle:
    if not isinstance(name, str) or not name:
        raise ValueError(f"Please supply a non-empty actor name, got {name!r}")
    cw = core_worker_or_init()
    ns = namespace if namespace is not None else cw.namespace
    reply = cw.gcs_sync.GetNamedActor(
        gcs_pb2.GetNamedActorRequest(name=name, namespace=ns), timeout=30
    )
    if not reply.found:
        raise ValueError(
            f"Failed to look up actor with name '{name}' in namespace '{ns}'. "
            "This could be because 1. You are trying to look up a named actor "
            "you didn't create. 2. The named actor died. 3. You did not use a "
            "namespace matching the namespace of the actor."
        )
    return ActorHandle.from_info(reply.actor)


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
    core_worker_or_init()
    ctx = task_context.get()
    if ctx is not None:
        return list(ctx.gpu_ids)
    cw = maybe_core_worker()
    if cw is not None and cw.executor is not None:
        return list(cw.executor.gpu_ids)
    return []
