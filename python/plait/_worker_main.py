"""Entry point of a worker process, started by a raylet's worker pool.

python -m plait._worker_main --node-id ... --raylet-address ... --gcs-address ...
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plait._core.host_api import HostApi
    from plait._core.language import LanguageExecutor


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _language_executor(language: str, shipped: list[str], host: HostApi) -> LanguageExecutor:
    """The executor hosting the job's C++ or Java code; C++ and Java code call back into
    this core worker (get, put, tasks, actors) through host."""
    if language == "cpp":
        # Loaded only in C++ workers: it loads the native runtime.
        from plait._cpp.executor import CppExecutor  # noqa: PLC0415

        cpp = CppExecutor.for_code_search_path(shipped)
        cpp.set_host(host)
        return cpp
    if language == "java":
        # Loaded only in Java workers: it starts a JVM.
        from plait._java.bridge import install  # noqa: PLC0415
        from plait._java.executor import JavaExecutor  # noqa: PLC0415

        java = JavaExecutor.for_code_search_path(shipped)
        install(host)
        return java
    raise ValueError(f"unknown worker language {language!r} (expected python, cpp or java)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="plait worker process")
    p.add_argument("--node-id", required=True)
    p.add_argument("--node-ip", required=True)
    p.add_argument("--raylet-address", required=True)
    p.add_argument("--gcs-address", required=True)
    p.add_argument("--worker-id", required=True)
    p.add_argument("--job-id", required=True)
    p.add_argument("--store-dir", default="")
    p.add_argument("--language", default="python")
    ns = p.parse_args(argv)
    parent = os.getppid()
    _die_with_parent()
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s worker %(process)d %(levelname)s %(message)s",
    )
    # Imported after the parent-death hook so a slow import cannot outlive the raylet.
    from plait._core.code_package import materialize  # noqa: PLC0415
    from plait._core.context import set_core_worker  # noqa: PLC0415
    from plait._core.core_worker import CoreWorker  # noqa: PLC0415
    from plait._core.executor import TaskExecutor  # noqa: PLC0415
    from plait._protocol import gcs_pb2  # noqa: PLC0415

    cw = CoreWorker(
        is_driver=False,
        gcs_address=ns.gcs_address,
        raylet_address=ns.raylet_address,
        node_id=ns.node_id,
        node_ip=ns.node_ip,
        job_id=bytes.fromhex(ns.job_id),
        worker_id=bytes.fromhex(ns.worker_id),
        store_dir=ns.store_dir,
    )
    executor = TaskExecutor(cw)
    cw.start(executor)

    job = cw.gcs_sync.GetJob(gcs_pb2.GetJobRequest(job_id=cw.job_id)).job
    # The job's code, unpacked on this machine: first on the search path, so a worker on
    # a node that lacks the driver's files still finds them.
    shipped = materialize(cw.gcs_sync, job)
    sys.path[:0] = shipped
    if ns.language != "python":
        # Only what the job shipped (its explicit code_search_path): the rest of the
        # path is the driver's Python path, no place to look for jars or libraries.
        executor.language_executor = _language_executor(ns.language, shipped, cw.host_api())
    set_core_worker(cw)
    executor.install_cancel_handler()
    cw.register_with_raylet()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # The main thread runs tasks (and single-threaded actors' calls) until the raylet goes.
    executor.main.run_forever(lambda: os.getppid() == parent)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
