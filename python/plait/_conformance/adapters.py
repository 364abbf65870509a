"""The language adapters: how to build each, what goes on the job's code search path, and
how the runner reaches its callee functions and its caller entry (docs/conformance.md).

To plug in a language, add an entry to ADAPTERS (and its name to cases.LANGUAGES).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plait


class AdapterBuildError(RuntimeError):
    pass


def _run_build(script: Path, out_dir: Path, artifact: str) -> list[str]:
    # Unoptimized unless asked: the adapters check behaviour, and -O0 builds much faster.
    env = {"CMAKE_BUILD_TYPE": "None", **os.environ, "PYTHON": sys.executable}
    proc = subprocess.run(
        ["bash", str(script), str(out_dir)], env=env, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise AdapterBuildError(f"{script} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    path = out_dir / artifact
    if not path.is_file():
        raise AdapterBuildError(f"{script} did not produce {path}")
    return [str(path)]


@dataclass(frozen=True)
class Adapter:
    language: str
    # (suite dir, build dir) -> the code search path entries of this adapter
    build: Callable[[Path, Path], list[str]]
    function: Callable[[str], Any]  # callee function by contract name
    caller: Callable[[], Any]  # the caller's run(callee, op) as a remote function


def _python_build(suite: Path, out: Path) -> list[str]:
    path = suite / "adapters" / "python"
    # The driver wraps the callee's functions itself, so it imports them too.
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    return [str(path)]


def _python_function(name: str) -> Any:
    # The adapter's module is on sys.path only once the suite has laid it out.
    import plait_conformance_callee as callee  # type: ignore[import-not-found]  # noqa: PLC0415

    return plait.remote(getattr(callee, name))


def _python_caller() -> Any:
    # The adapter's module is on sys.path only once the suite has laid it out.
    import plait_conformance_caller as caller  # type: ignore[import-not-found]  # noqa: PLC0415

    return plait.remote(caller.run)


JAVA_CALLEE = "io.plait.conformance.Callee"
JAVA_CALLER = "io.plait.conformance.Caller"

ADAPTERS: dict[str, Adapter] = {
    "python": Adapter("python", _python_build, _python_function, _python_caller),
    "cpp": Adapter(
        "cpp",
        lambda suite, out: _run_build(
            suite / "adapters" / "cpp" / "build.sh", out, "libplait_conformance.so"
        ),
        plait.cpp_function,
        lambda: plait.cpp_function("conformance_run"),
    ),
    "java": Adapter(
        "java",
        lambda suite, out: _run_build(
            suite / "adapters" / "java" / "build.sh", out, "plait-conformance.jar"
        ),
        lambda name: plait.java_function(JAVA_CALLEE, name),
        lambda: plait.java_function(JAVA_CALLER, "run"),
    ),
}
