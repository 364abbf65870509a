"""A crashed worker's death cause: from the raylet's worker pool (exit signal, crash
report with named frames) through the owner's state machine (one warning per retry, the
final WorkerCrashedError), without processes or sockets."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from plait._core.lease_state import DropBorrower, RequestLease, ReturnLease
from plait._core.task_spec import PendingTask
from plait._core.task_state import (
    FailTask,
    KeyState,
    NormalTaskState,
    PushTask,
    TaskInstruction,
    crash_message,
)
from plait._format import exceptions as exc
from plait._protocol import common_pb2, raylet_pb2
from plait._services.raylet import crash_report, worker_pool
from plait._services.raylet.worker_pool import PoolConfig, Worker, WorkerPool

REPORT = """\
*** plait: fatal signal SIGSEGV (Segmentation fault) in pid 4242; native stack, most recent call first:
/site/plait/_native.so(+0x48b77)[0x7f793cc7fb77]
/lib/x86_64-linux-gnu/libc.so.6(+0x3c050)[0x7f7940c5a050]
/jobs/libplait_example.so(+0x5f02c)[0x7f793c00002c]
/lib/x86_64-linux-gnu/libffi.so.8(ffi_call+0xcd)[0x7f793f688b0d]
*** end of native stack"""  # noqa: E501
CAUSE = (
    "worker process killed by signal SIGSEGV (Segmentation fault) (pid 4242)\n"
    + REPORT.replace("[0x7f793c00002c]", "[0x7f793c00002c] -> crash_now() at example.cc:9")
)


# -- the owner's state machine --------------------------------------------------------------
def only(out: list[TaskInstruction], kind: type) -> list:  # type: ignore[type-arg]
    return [i for i in out if isinstance(i, kind)]


def granted(worker: bytes) -> raylet_pb2.RequestWorkerLeaseReply:
    return raylet_pb2.RequestWorkerLeaseReply(
        granted=True,
        lease_id=b"lease-" + worker,
        worker_address=common_pb2.Address(node_id="n1", ip="10.0.0.1", port=9, worker_id=worker),
    )


def task(name: str, max_retries: int) -> PendingTask:
    spec = common_pb2.TaskSpec(
        task_id=b"t-" + name.encode(), name=name, max_retries=max_retries, resources={"CPU": 1}
    )
    return PendingTask(spec=spec, pinned=[])


def pushed(sm: NormalTaskState, t: PendingTask, worker: bytes) -> tuple[KeyState, PushTask]:
    (req,) = only(sm.submit(t), RequestLease)
    (push,) = only(sm.lease_replied(req.for_, req.request.request_id, granted(worker)), PushTask)
    return req.for_, push


def test_worker_lost_breaks_the_lease_at_once_so_nothing_else_is_pushed_to_it() -> None:
    sm = NormalTaskState("127.0.0.1:7000")
    first = task("first", 1)
    key, push = pushed(sm, first, b"w1")
    out = sm.worker_lost(key, push.lease)
    (ret,) = only(out, ReturnLease)
    assert ret.disconnect and ret.lease_id == b"lease-w1"
    assert only(out, DropBorrower)[0].worker_id == b"w1"
    assert not only(out, FailTask) and first.spec.attempt == 0  # decided later
    # A task submitted while the owner asks why the worker died gets a new lease.
    second = task("second", 0)
    assert only(sm.submit(second), RequestLease) and not only(sm.submit(task("x", 0)), PushTask)
    # The decision, with the cause: no second ReturnLease for the same lease.
    out = sm.push_failed(key, push.lease, first, "UNAVAILABLE", "Socket closed", CAUSE)
    assert not only(out, ReturnLease) and not only(out, FailTask)
    assert first.spec.attempt == 1


def test_each_retry_is_logged_with_the_cause_and_the_final_error_carries_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sm = NormalTaskState("127.0.0.1:7000")
    t = task("crash", 1)
    key, push = pushed(sm, t, b"w1")
    caplog.set_level(logging.WARNING, logger="plait._core.task_state")
    sm.worker_lost(key, push.lease)
    out = sm.push_failed(key, push.lease, t, "UNAVAILABLE", "Socket closed", CAUSE)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning == (
        "task crash: worker process killed by signal SIGSEGV (Segmentation fault) "
        "(pid 4242); retrying (1 of 1)"
    )
    (req,) = only(out, RequestLease)
    (push,) = only(sm.lease_replied(key, req.request.request_id, granted(b"w2")), PushTask)
    sm.worker_lost(key, push.lease)
    (fail,) = only(
        sm.push_failed(key, push.lease, t, "UNAVAILABLE", "Socket closed", CAUSE), FailTask
    )
    assert len(caplog.records) == 1  # no retry left: an error, not another warning
    err = fail.error
    assert isinstance(err, exc.WorkerCrashedError)
    text = str(err)
    assert text.startswith(
        "The worker running task 'crash' died unexpectedly: worker process killed by "
        "signal SIGSEGV (Segmentation fault) (pid 4242). It was retried 1 time "
        "(max_retries=1), each time because its worker died"
    )
    assert "Native stack of the last attempt" in text
    assert "libplait_example.so(+0x5f02c)[0x7f793c00002c] -> crash_now() at example.cc:9" in text
    assert text.rstrip().endswith("*** end of native stack")
    assert sm.tasks == {}


def test_unlimited_retries_say_so() -> None:
    sm = NormalTaskState("127.0.0.1:7000")
    t = task("forever", -1)
    key, push = pushed(sm, t, b"w1")
    assert not only(sm.push_failed(key, push.lease, t, "UNAVAILABLE", "gone", CAUSE), FailTask)
    assert t.spec.attempt == 1


@pytest.mark.parametrize(
    ("attempt", "max_retries", "expected"),
    [
        (0, 0, "No retry was allowed (max_retries=0)."),
        (1, 1, "It was retried 1 time (max_retries=1)"),
        (3, 3, "It was retried 3 times (max_retries=3)"),
    ],
)
def test_crash_message_counts_the_retries(attempt: int, max_retries: int, expected: str) -> None:
    spec = common_pb2.TaskSpec(name="saxpy", attempt=attempt, max_retries=max_retries)
    assert expected in crash_message(spec, "UNAVAILABLE", "gone", CAUSE)


def test_without_a_cause_the_failed_push_is_reported() -> None:
    spec = common_pb2.TaskSpec(name="f", max_retries=0)
    msg = crash_message(spec, "UNAVAILABLE", "Socket closed", "")
    assert msg == (
        "The worker running task 'f' died unexpectedly: its worker died (UNAVAILABLE: "
        "Socket closed). No retry was allowed (max_retries=0)."
    )
    assert "Native stack" not in msg


# -- the crash report -------------------------------------------------------------------
def test_frames_without_a_symbol_are_found_per_library() -> None:
    assert crash_report.unnamed_frames(REPORT) == {
        "/site/plait/_native.so": ["0x48b77"],
        "/lib/x86_64-linux-gnu/libc.so.6": ["0x3c050"],
        "/jobs/libplait_example.so": ["0x5f02c"],
    }  # ffi_call+0xcd is named already


def test_symbolize_names_the_frames_the_symbolizer_knows() -> None:
    asked: list[tuple[str, list[str]]] = []

    def fake(obj: str, offsets: Sequence[str]) -> list[str]:
        asked.append((obj, list(offsets)))
        return ["crash_now() at example.cc:9"] if obj.endswith("example.so") else [""]

    out = crash_report.symbolize(REPORT, fake)
    assert len(asked) == 3
    assert "(+0x5f02c)[0x7f793c00002c] -> crash_now() at example.cc:9" in out
    assert "_native.so(+0x48b77)[0x7f793cc7fb77]\n" in out  # unknown: left as it was
    assert out.count("->") == 1


def test_read_report_takes_the_file_away(tmp_path: Path) -> None:
    path = tmp_path / "w.crash"
    path.write_text(REPORT + "\n")
    assert crash_report.read_report(str(path)) == REPORT
    assert not path.exists()
    assert crash_report.read_report(str(path)) == ""  # none written: nothing to add


def test_read_report_keeps_the_end_of_a_huge_report(tmp_path: Path) -> None:
    path = tmp_path / "w.crash"
    path.write_text("x" * (crash_report.MAX_REPORT_BYTES * 2) + "\nthe end")
    text = crash_report.read_report(str(path))
    assert text.endswith("the end") and len(text) <= crash_report.MAX_REPORT_BYTES


def test_stripped_or_non_elf_files_get_no_guessed_names(tmp_path: Path) -> None:
    not_elf = tmp_path / "lib.so"
    not_elf.write_bytes(b"not an ELF file")
    assert not crash_report.has_symbol_table(str(not_elf))
    assert crash_report.addr2line(str(not_elf), ["0x10"]) == [""]
    assert not crash_report.has_symbol_table(str(tmp_path / "missing.so"))


# -- the raylet's worker pool -------------------------------------------------------------
def test_exit_reason_names_the_signal() -> None:
    assert worker_pool.exit_reason(-signal.SIGSEGV) == (
        "worker process killed by signal SIGSEGV (Segmentation fault)"
    )
    assert worker_pool.exit_reason(3) == "worker process exited with code 3"
    assert worker_pool.crashed(-signal.SIGABRT) and not worker_pool.crashed(-signal.SIGKILL)


class DeadProcess:
    """What Popen looks like once the process has exited."""

    def __init__(self, returncode: int, pid: int = 4242) -> None:
        self.returncode = returncode
        self.pid = pid

    def poll(self) -> int:
        return self.returncode

    def kill(self) -> None:
        raise AssertionError("a dead process is not killed")

    terminate = kill


def pool_with(tmp_path: Path, returncode: int, report: str | None) -> tuple[WorkerPool, Worker]:
    exits: list[tuple[bytes, str]] = []
    config = PoolConfig("node", "127.0.0.1", "r:1", "g:1", str(tmp_path), 1.0)
    config.crash_dir = str(tmp_path)

    async def no_job(job_id: bytes) -> None:
        return None

    pool = WorkerPool(config, no_job, lambda w, r: exits.append((w.worker_id, r)), print)
    crash_file = tmp_path / "w1.crash"
    if report is not None:
        crash_file.write_text(report)
    worker = Worker(
        b"w1",
        b"job",
        common_pb2.CPP,
        DeadProcess(returncode),  # type: ignore[arg-type]
        0.0,
        registered=True,
        crash_file=str(crash_file),
    )
    pool._workers[worker.worker_id] = worker
    return pool, worker


def test_a_crashed_workers_cause_has_its_signal_and_named_native_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        worker_pool, "symbolize", lambda report: report + "\n(frames named)", raising=True
    )
    pool, worker = pool_with(tmp_path, -signal.SIGSEGV, REPORT)
    # The owner returned the lease as broken first: the crash still wins over our kill.
    pool.kill_worker(worker, "its lease was returned as broken")
    pool.tick()
    assert not (tmp_path / "w1.crash").exists()
    cause = asyncio.run(pool.failure(b"w1", timeout_s=0))
    assert cause is not None
    assert cause.startswith(
        "worker process killed by signal SIGSEGV (Segmentation fault) (pid 4242)\n"
        "*** plait: fatal signal SIGSEGV"
    )
    assert cause.endswith("*** end of native stack\n(frames named)")


def test_a_kill_that_ended_a_worker_is_its_cause(tmp_path: Path) -> None:
    pool, worker = pool_with(tmp_path, -signal.SIGKILL, None)
    worker.kill_reason = "its lease was returned as broken"
    pool.tick()
    assert asyncio.run(pool.failure(b"w1", 0)) == "its lease was returned as broken (pid 4242)"


class LiveProcess(DeadProcess):
    def poll(self) -> None:  # type: ignore[override]
        return None


def test_unknown_or_live_workers_have_no_cause(tmp_path: Path) -> None:
    pool, worker = pool_with(tmp_path, 0, None)
    assert asyncio.run(pool.failure(b"nobody", timeout_s=5)) is None  # unknown: at once
    worker.process = LiveProcess(0)  # type: ignore[assignment]
    pool.tick()
    assert asyncio.run(pool.failure(b"w1", timeout_s=0.2)) is None  # alive after the wait
