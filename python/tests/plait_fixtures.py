"""Fixtures shared by the integration tests: real clusters, stopped by the test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import plait


def local_cluster(**init_kwargs: Any) -> Callable[[], Iterator[dict[str, Any]]]:
    """A module-scoped fixture: plait.init(**init_kwargs) with a fresh local head."""

    @pytest.fixture(scope="module")
    def fixture() -> Iterator[dict[str, Any]]:
        if plait.is_initialized():
            plait.shutdown()
        info = plait.init(**init_kwargs)
        try:
            yield info
        finally:
            plait.shutdown()

    return fixture


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll predicate until it returns a truthy value; fail the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def process_gone(pid: int) -> bool:
    """True once the process has exited (or is a zombie nobody reaped yet)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def build_cpp_example() -> Any:
    """Build examples/cpp into build/cpp-examples (incremental: fast when up to date);
    returns the library's path."""
    import os
    import subprocess
    import sys

    out = ROOT / "build" / "cpp-examples"
    # No optimization: the tests check correctness, and -O0 halves the build time.
    env = {**os.environ, "PYTHON": sys.executable, "CMAKE_BUILD_TYPE": "None"}
    proc = subprocess.run(
        ["bash", str(ROOT / "examples" / "cpp" / "build.sh"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    path = out / "libplait_example.so"
    assert path.is_file()
    return path
