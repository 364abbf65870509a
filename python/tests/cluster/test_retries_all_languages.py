"""Retries mean the same in every language (one spec builder): a Python, C++ or Java task
with max_retries=-1 is retried after its worker is killed, and retry_exceptions retries
(only) the errors it names. The C++ and Java tasks are examples/cpp's `flaky` and
examples/java's Flaky.attempt, which behave like `_python_flaky` below."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait_fixtures import build_cpp_example, build_java, process_gone, wait_for

import plait
from plait import exceptions as exc


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    library = build_cpp_example()
    jar = build_java()
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=2, namespace="retries", code_search_path=[str(library), str(jar)])
    yield
    plait.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


@plait.remote
def _python_flaky(path: str, hang: int, raise_: int) -> int:
    """Each attempt adds PATH/<n>.pid holding its worker's pid; attempt n < hang sleeps
    (the test kills its worker), one below hang + raise_ raises, a later one returns n."""
    n = 0
    while os.path.exists(os.path.join(path, f"{n}.pid")):
        n += 1
    with open(os.path.join(path, f"{n}.pid"), "w") as f:
        f.write(str(os.getpid()))
    if n < hang:
        time.sleep(60)
    if n < hang + raise_:
        raise RuntimeError(f"attempt {n}")
    return n


def _flaky(language: str) -> Any:
    if language == "python":
        return _python_flaky
    if language == "cpp":
        return plait.cpp_function("flaky")
    return plait.java_function("io.plait.examples.Flaky", "attempt")


# The class a task's error is raised as: Python's own, another language's
# CrossLanguageError.
_ERROR: dict[str, type[BaseException]] = {
    "python": RuntimeError,
    "cpp": exc.CrossLanguageError,
    "java": exc.CrossLanguageError,
}
LANGUAGES = ["python", "cpp", "java"]


def _kill_attempt(path: Path, n: int) -> None:
    pid_file = wait_for(
        lambda: next(path.glob(f"{n}.pid"), None), timeout=60, what=f"attempt {n} to start"
    )
    pid = int(wait_for(pid_file.read_text, timeout=10, what="its pid"))
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: process_gone(pid), timeout=10, what="the worker to exit")


@pytest.mark.parametrize("language", LANGUAGES)
def test_max_retries_minus_one_retries_after_the_worker_is_killed(
    language: str, tmp_path: Path
) -> None:
    ref = _flaky(language).options(max_retries=-1).remote(str(tmp_path), 2, 0)
    _kill_attempt(tmp_path, 0)
    _kill_attempt(tmp_path, 1)
    assert plait.get(ref, timeout=60) == 2  # the third attempt, in a third worker
    assert len(list(tmp_path.glob("*.pid"))) == 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_retry_exceptions_retries_only_the_errors_it_names(language: str, tmp_path: Path) -> None:
    flaky = _flaky(language).options(max_retries=2)
    runs = {name: tmp_path / name for name in ("any", "listed", "other", "default")}
    for d in runs.values():
        d.mkdir()
    # Two failed attempts, then success: retried on any error, or on the listed class.
    any_error = flaky.options(retry_exceptions=True).remote(str(runs["any"]), 0, 2)
    listed = flaky.options(retry_exceptions=[_ERROR[language]]).remote(str(runs["listed"]), 0, 2)
    other = flaky.options(retry_exceptions=[KeyError]).remote(str(runs["other"]), 0, 2)
    default = flaky.remote(str(runs["default"]), 0, 2)
    assert plait.get([any_error, listed], timeout=60) == [2, 2]
    for ref in (other, default):  # not a listed class / not asked: no retry
        with pytest.raises(_ERROR[language], match="attempt 0"):
            plait.get(ref, timeout=60)
    assert {name: len(list(d.glob("*.pid"))) for name, d in runs.items()} == {
        "any": 3,
        "listed": 3,
        "other": 1,
        "default": 1,
    }
