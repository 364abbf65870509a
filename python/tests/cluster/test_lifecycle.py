"""A local head started by init() goes away with the driver, however the driver ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plait_fixtures import ROOT, process_gone

SCRIPT = """
import os, sys, plait
from plait import _init
if sys.argv[1] != "auto":
    plait.init(num_cpus=1)
# "auto": no init(); the first .remote() starts the local cluster, as in Ray
@plait.remote
def pid():
    return os.getpid()
worker = plait.get(pid.remote())
print("PIDS", *[p.pid for p in _init._head.procs], worker, flush=True)
if sys.argv[1] == "shutdown":
    plait.shutdown()
elif sys.argv[1] == "kill":
    os.kill(os.getpid(), 9)
# "exit": fall off the end; atexit tears the cluster down
"""


@pytest.mark.parametrize("how", ["shutdown", "exit", "kill", "auto"])
def test_local_cluster_stops_with_driver(how: str, tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), PLAIT_TMPDIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, str(script), how], env=env, capture_output=True, text=True, timeout=90
    )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("PIDS"))
    pids = [int(p) for p in line.split()[1:]]
    assert len(pids) == 3  # GCS, raylet, worker
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(process_gone(p) for p in pids):
        time.sleep(0.1)
    alive = [p for p in pids if not process_gone(p)]
    for p in alive:
        os.kill(p, 9)
    assert not alive, f"processes left running after the driver ended ({how}): {alive}"
