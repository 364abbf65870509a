"""Connecting a process to a cluster: init(), shutdown(), and Ray's auto-connect.

The rest of the public API reaches the process's core worker through
connected_core_worker(), which connects on first use.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import uuid
from typing import Any

from plait._core.code_package import upload
from plait._core.context import (
    current_core_worker,
    maybe_core_worker,
    set_core_worker,
)
from plait._core.core_worker import CoreWorker
from plait._core.options import validate
from plait._protocol import common_pb2, gcs_pb2
from plait._services.node import CLUSTER_FILE, NodeProcesses, start_head
from plait._transport.channels import parse_address, sync_channel
from plait._transport.clients import GcsSyncClient
from plait.job_config import JobConfig

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
    with sync_channel(gcs_address) as ch:
        try:
            nodes = GcsSyncClient(ch).GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=10).nodes
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


def _job_namespace(namespace: str | None, job_config: JobConfig | None) -> str | None:
    """The namespace init() gives the job: namespace=, else the JobConfig's."""
    if job_config is None:
        return namespace
    if not isinstance(job_config, JobConfig):
        raise TypeError(
            f"job_config must be a plait.job_config.JobConfig, got {type(job_config).__name__}"
        )
    from_config = job_config.ray_namespace
    if namespace is not None and from_config is not None and namespace != from_config:
        raise ValueError(
            f"init(namespace={namespace!r}) and job_config's ray_namespace="
            f"{from_config!r} disagree; give the namespace once"
        )
    return namespace if namespace is not None else from_config


def init(
    address: str | None = None,
    *,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    namespace: str | None = None,
    object_store_memory: int | None = None,
    ignore_reinit_error: bool = False,
    logging_level: int | str | None = None,
    job_config: JobConfig | None = None,
    code_search_path: list[str] | None = None,
    **unsupported: Any,
) -> dict[str, Any]:
    """Connect this process to a cluster as a driver, starting a local one if needed.

    Ray's other keywords are accepted only at their no-op value (NotImplementedError
    otherwise); an unknown one is a ValueError naming the closest valid keyword."""
    global _head, _address_info
    validate(unsupported, "init")
    namespace = _job_namespace(namespace, job_config)
    if logging_level is not None:
        logging.getLogger("plait").setLevel(logging_level)
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


def connected_core_worker() -> CoreWorker:
    """The process's core worker, after connecting this process (init() with no
    arguments) if it is not connected yet, as Ray's get/put/wait/.remote() do."""
    cw = maybe_core_worker()
    if cw is None:
        _auto_init()
    return current_core_worker()
