"""`python -m plait._services.raylet`: run one node's raylet.

Once registered with the GCS it writes {"node_id", "port", "store_dir"} to --ready-file
(atomically) and prints `raylet NODE_ID listening on IP:PORT`. SIGTERM/SIGINT (or the
Shutdown RPC) stop it: workers killed, store deleted, node unregistered.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import logging
import os
import signal
import sys
import tempfile
import time

from plait._services.raylet.node_manager import GcsUnavailableError, NodeManager, RayletConfig

logger = logging.getLogger("plait._services.raylet")


def detect_num_gpus() -> int:
    """GPUs this node may use: CUDA_VISIBLE_DEVICES when set, else /dev/nvidiaN devices
    (no nvidia-smi call: starting a raylet must stay fast)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        entries = [e for e in visible.split(",") if e.strip()]
        if any(e.strip().startswith("-") for e in entries):
            return 0  # "-1" hides every device
        return len(entries)
    return len(glob.glob("/dev/nvidia[0-9]*"))


def write_ready_file(path: str, content: dict[str, object]) -> None:
    """Readers never see a partial file: write a temp file, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ready-", dir=directory)
    with os.fdopen(fd, "w") as f:
        json.dump(content, f)
    os.replace(tmp, path)


def parse_resources(text: str) -> dict[str, float]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"--resources must be a JSON object: {e}") from e
    if not isinstance(raw, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw.values()
    ):
        raise argparse.ArgumentTypeError('--resources must map names to numbers: {"custom": 2}')
    reserved = {"CPU", "GPU"} & raw.keys()
    if reserved:
        raise argparse.ArgumentTypeError(
            f"use --num-cpus/--num-gpus, not --resources, for {sorted(reserved)}"
        )
    return {str(k): float(v) for k, v in raw.items()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m plait._services.raylet", description=__doc__)
    p.add_argument("--gcs-address", required=True, help="HOST:PORT of the GCS")
    p.add_argument("--node-ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--num-cpus", type=float, default=None, help="default: os.cpu_count()")
    p.add_argument("--num-gpus", type=float, default=None, help="default: detected GPUs")
    p.add_argument("--resources", type=parse_resources, default={}, help='JSON: {"custom": 2}')
    p.add_argument(
        "--object-store-memory", type=int, default=0, help="bytes (default: 30%% of memory)"
    )
    p.add_argument("--session-dir", default="", help="logs and spilled objects live here")
    p.add_argument("--store-dir", default="", help="default: /dev/shm/plait-<session>/<node>")
    p.add_argument("--ready-file", default=None)
    p.add_argument("--head", action="store_true", help="this is the head node")
    return p


async def serve(config: RayletConfig, ready_file: str | None) -> None:
    manager = NodeManager(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, manager.request_shutdown)
    try:
        await manager.start()
        if ready_file:
            write_ready_file(
                ready_file,
                {"node_id": manager.node_id, "port": manager.port, "store_dir": manager.store_dir},
            )
        # stdout is shared with the workers (and so with the user's terminal): log instead.
        logger.info("raylet %s listening on %s", manager.node_id, manager.address)
        await manager.wait_for_shutdown()
    finally:
        await manager.stop()


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    session_dir = ns.session_dir or os.path.join(
        tempfile.gettempdir(), "plait", f"session_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    )
    os.makedirs(session_dir, exist_ok=True)
    config = RayletConfig(
        gcs_address=ns.gcs_address,
        node_ip=ns.node_ip,
        port=ns.port,
        num_cpus=ns.num_cpus if ns.num_cpus is not None else float(os.cpu_count() or 1),
        num_gpus=ns.num_gpus if ns.num_gpus is not None else float(detect_num_gpus()),
        custom_resources=ns.resources,
        object_store_memory=ns.object_store_memory,
        session_dir=session_dir,
        store_dir=ns.store_dir,
        is_head=ns.head,
    )
    try:
        asyncio.run(serve(config, ns.ready_file))
    except GcsUnavailableError as e:
        logger.error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
