"""`plait start/status/stop` build a two-node cluster that a driver connects to."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait_fixtures import ROOT


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plait._cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture()
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env["PLAIT_TMPDIR"] = str(tmp_path / "plait")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "python"), env.get("PYTHONPATH", "")])
    yield env
    run_cli(["stop"], env)


DRIVER = """
import plait, sys
plait.init(address=sys.argv[1])
@plait.remote(resources={"joined": 1})
def on_joined():
    return plait.get_runtime_context().get_node_id()
print("NODE", plait.get(on_joined.remote(), timeout=60))
print("CPUS", plait.cluster_resources()["CPU"])
plait.shutdown()
"""


def test_start_join_status_stop(cli_env: dict[str, str], tmp_path: Path) -> None:
    head = run_cli(["start", "--head", "--port", "0", "--num-cpus", "1"], cli_env)
    assert head.returncode == 0, head.stderr
    line = next(ln for ln in head.stdout.splitlines() if "GCS address:" in ln)
    address = line.split("GCS address:")[1].strip()
    join = run_cli(
        ["start", "--address", address, "--num-cpus", "1", "--resources", '{"joined": 1}'], cli_env
    )
    assert join.returncode == 0, join.stderr
    joined_node = join.stdout.split("plait node ")[1].split()[0]

    status = run_cli(["status", "--address", address], cli_env)
    assert status.returncode == 0, status.stderr
    assert "2 alive" in status.stdout and "CPU: 0 / 2" in status.stdout

    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    # "auto" finds the cluster that `plait start --head` recorded.
    drv = subprocess.run(
        [sys.executable, str(script), "auto"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert drv.returncode == 0, drv.stderr
    assert f"NODE {joined_node}" in drv.stdout
    assert "CPUS 2.0" in drv.stdout

    stop = run_cli(["stop"], cli_env)
    assert stop.returncode == 0 and "stopped 3" in stop.stdout
    after = run_cli(["status", "--address", address], cli_env, timeout=30)
    assert after.returncode != 0


def test_start_with_bad_resources_json_fails_clearly(cli_env: dict[str, str]) -> None:
    res = run_cli(["start", "--head", "--port", "0", "--resources", "{nope"], cli_env)
    assert res.returncode != 0
    assert "--resources must be a JSON object" in res.stderr
