"""Starting and stopping the processes of a node: the GCS (head only) and a raylet.

Used by `plait.init()` (a local head torn down at shutdown) and by `plait start`.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLAIT_TMP = Path(os.environ.get("PLAIT_TMPDIR", os.path.join(tempfile.gettempdir(), "plait")))
CLUSTER_FILE = PLAIT_TMP / "cluster.json"
STARTUP_TIMEOUT_S = 60.0


@dataclass
class NodeProcesses:
    gcs_address: str
    raylet_address: str
    node_id: str
    store_dir: str
    session_dir: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self, timeout: float = 10.0) -> None:
        # Raylet first (it stops its workers and removes its store), then the GCS.
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the process that started us dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _python_env() -> dict[str, str]:
    env = dict(os.environ)
    pkg_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        [pkg_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env


def _spawn(
    args: list[str], log_path: Path, tie_to_parent: bool, inherit_output: bool
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    kwargs: dict[str, Any] = {"stdin": subprocess.DEVNULL, "env": _python_env()}
    if inherit_output:
        kwargs["stderr"] = log
    else:
        kwargs["stdout"] = log
        kwargs["stderr"] = log
        kwargs["start_new_session"] = True
    if tie_to_parent:
        kwargs["preexec_fn"] = _die_with_parent
    return subprocess.Popen([sys.executable, "-m", *args], **kwargs)


def _wait_ready(path: Path, proc: subprocess.Popen[bytes], what: str, log: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting:\n{tail}")
        time.sleep(0.02)
    proc.kill()
    raise TimeoutError(f"{what} did not start within {STARTUP_TIMEOUT_S:.0f}s (log: {log})")


def new_session_dir() -> Path:
    PLAIT_TMP.mkdir(parents=True, exist_ok=True)
    d = (
        PLAIT_TMP
        / f"session_{time.strftime('%Y-%m-%d_%H-%M-%S')}_{os.getpid()}_{os.urandom(2).hex()}"
    )
    d.mkdir(parents=True)
    return d


def start_gcs(
    session: Path, host: str, port: int, tie_to_parent: bool
) -> tuple[str, subprocess.Popen[bytes]]:
    ready = session / "gcs.ready"
    log = session / "logs" / "gcs.log"
    proc = _spawn(
        [
            "plait._services.gcs",
            "--host",
            host,
            "--port",
            str(port),
            "--storage",
            str(session / "gcs.sqlite"),
            "--ready-file",
            str(ready),
        ],
        log,
        tie_to_parent,
        inherit_output=False,
    )
    bound = _wait_ready(ready, proc, "the GCS", log).strip()
    return f"{host}:{bound}", proc


def start_raylet(
    session: Path,
    gcs_address: str,
    *,
    node_ip: str,
    port: int = 0,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    object_store_memory: int | None = None,
    head: bool = False,
    tie_to_parent: bool = True,
    inherit_output: bool = True,
) -> tuple[dict[str, Any], subprocess.Popen[bytes]]:
    tag = os.urandom(3).hex()
    ready = session / f"raylet-{tag}.ready"
    log = session / "logs" / f"raylet-{tag}.log"
    args = [
        "plait._services.raylet",
        "--gcs-address",
        gcs_address,
        "--node-ip",
        node_ip,
        "--port",
        str(port),
        "--session-dir",
        str(session),
        "--ready-file",
        str(ready),
    ]
    if num_cpus is not None:
        args += ["--num-cpus", str(num_cpus)]
    if num_gpus is not None:
        args += ["--num-gpus", str(num_gpus)]
    if resources:
        args += ["--resources", json.dumps(resources)]
    if object_store_memory:
        args += ["--object-store-memory", str(int(object_store_memory))]
    if head:
        args.append("--head")
    proc = _spawn(args, log, tie_to_parent, inherit_output)
    info = json.loads(_wait_ready(ready, proc, "the raylet", log))
    return info, proc


def start_head(
    *,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    object_store_memory: int | None = None,
    host: str = "127.0.0.1",
    gcs_port: int = 0,
    tie_to_parent: bool = True,
    inherit_output: bool = True,
) -> NodeProcesses:
    session = new_session_dir()
    gcs_address, gcs = start_gcs(session, host, gcs_port, tie_to_parent)
    try:
        info, raylet = start_raylet(
            session,
            gcs_address,
            node_ip=host,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            resources=resources,
            object_store_memory=object_store_memory,
            head=True,
            tie_to_parent=tie_to_parent,
            inherit_output=inherit_output,
        )
    except BaseException:
        gcs.kill()
        raise
    return NodeProcesses(
        gcs_address,
        f"{host}:{info['port']}",
        info["node_id"],
        info["store_dir"],
        str(session),
        [gcs, raylet],
    )


def start_worker_node(
    gcs_address: str,
    *,
    node_ip: str = "127.0.0.1",
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    object_store_memory: int | None = None,
    tie_to_parent: bool = True,
    inherit_output: bool = True,
) -> NodeProcesses:
    session = new_session_dir()
    info, raylet = start_raylet(
        session,
        gcs_address,
        node_ip=node_ip,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        resources=resources,
        object_store_memory=object_store_memory,
        tie_to_parent=tie_to_parent,
        inherit_output=inherit_output,
    )
    return NodeProcesses(
        gcs_address,
        f"{node_ip}:{info['port']}",
        info["node_id"],
        info["store_dir"],
        str(session),
        [raylet],
    )
