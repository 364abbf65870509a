"""Helpers shared by python/tests/unit and python/tests/cluster: the repository root,
polling, and (for the cluster set) real clusters stopped by the test and the C++ example
build."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


ROOT = Path(__file__).resolve().parents[2]


def build_cpp_example() -> Path:
    """Build examples/cpp into build/cpp-examples (incremental: fast when up to date);
    returns the library's path."""
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
    if proc.returncode != 0:
        # Fail, never skip: `make test` installs the toolchain and pyarrow first.
        pytest.fail(
            "building examples/cpp failed: it needs a C++ toolchain, CMake and Arrow C++ "
            "(pyarrow in this virtualenv), which `make test` installs (scripts/setup.sh)"
            f"\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}",
            pytrace=False,
        )
    path = out / "libplait_example.so"
    assert path.is_file(), f"examples/cpp/build.sh succeeded but left no {path}"
    return path


JAVA_EXAMPLES_JAR = ROOT / "build" / "java-examples" / "plait-examples.jar"


def build_java() -> Path:
    """Build the Java runtime jar and the examples jar with scripts/setup_java.sh (a no-op
    when they are up to date); returns the examples jar's path."""
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup_java.sh")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        # Fail, never skip: `make test` installs the JDK and Maven first.
        pytest.fail(
            "scripts/setup_java.sh failed: the Java tests need a JDK 17+ and Maven (it "
            "installs them when apt-get can) and the runtime and examples jars it builds"
            f"\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}",
            pytrace=False,
        )
    assert JAVA_EXAMPLES_JAR.is_file(), f"setup_java.sh succeeded but left no {JAVA_EXAMPLES_JAR}"
    return JAVA_EXAMPLES_JAR
