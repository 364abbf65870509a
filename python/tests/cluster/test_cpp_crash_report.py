"""A C++ kernel that segfaults (examples/cpp/example.cc: null_deref): the caller's
WorkerCrashedError names the function and the signal, says how many retries were made
and why, and shows the native stack of the last attempt (with the kernel's own frame);
each retry is logged with its cause."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from plait_fixtures import build_cpp_example

import plait
from plait import exceptions as exc


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    library = build_cpp_example()
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=1, namespace="cpp-crash-test", code_search_path=[str(library)])
    yield
    plait.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


def test_segfaulting_cpp_function_reports_signal_stack_and_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="plait._core.task_state")
    ref = plait.cpp_function("null_deref").options(max_retries=1).remote(7)
    with pytest.raises(exc.WorkerCrashedError) as info:
        plait.get(ref, timeout=120)
    text = str(info.value)
    assert "task 'null_deref' died unexpectedly" in text
    assert "killed by signal SIGSEGV (Segmentation fault)" in text
    assert "It was retried 1 time (max_retries=1), each time because its worker died" in text
    # The native stack of the last attempt, from the worker's crash report, with the
    # kernel's frame named (the example library keeps its symbol table).
    assert "Native stack of the last attempt" in text
    assert "*** plait: fatal signal SIGSEGV (Segmentation fault)" in text
    frames = [line for line in text.splitlines() if "libplait_example.so" in line]
    assert any("null_deref" in line for line in frames), text
    # One warning for the one retry, naming the cause.
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 1, retries
    assert retries[0].startswith("task null_deref: worker process killed by signal SIGSEGV")
    assert retries[0].endswith("retrying (1 of 1)")


def test_a_crash_without_retries_says_none_were_allowed() -> None:
    ref = plait.cpp_function("null_deref").options(max_retries=0).remote(1)
    with pytest.raises(exc.WorkerCrashedError, match="SIGSEGV") as info:
        plait.get(ref, timeout=120)
    assert "No retry was allowed (max_retries=0)" in str(info.value)
    # The worker pool still serves: a healthy call after the crashes.
    assert plait.get(plait.cpp_function("divide").remote(6.0, 3.0), timeout=60) == 2.0
