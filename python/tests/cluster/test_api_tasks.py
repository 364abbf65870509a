"""Remote functions against a real local cluster (GCS + raylet + worker processes)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from plait_fixtures import local_cluster, process_gone, wait_for

import plait
from plait import exceptions as exc

cluster = local_cluster(num_cpus=2, num_gpus=2, resources={"custom": 1})
pytestmark = pytest.mark.usefixtures("cluster")


@plait.remote
def add(a: int, b: int = 10) -> int:
    return a + b


@plait.remote
def identity(x: Any) -> Any:
    return x


@plait.remote
def fail(msg: str) -> None:
    raise ValueError(msg)


def test_remote_function_returns_value() -> None:
    assert plait.get(add.remote(1, 2)) == 3
    assert plait.get(add.remote(1, b=5)) == 6
    assert plait.get([add.remote(i, 0) for i in range(10)]) == list(range(10))


def test_values_round_trip_through_tasks() -> None:
    values = [
        None,
        True,
        -(2**63),
        2**63 - 1,
        1.5,
        "héllo",
        b"\x00\x01",
        [1, [2, 3]],
        {"a": 1, 2: "b"},
        (1, 2),
        {1, 2},
    ]
    for v in values:
        assert plait.get(identity.remote(v)) == v


def test_calling_remote_function_directly_is_an_error() -> None:
    with pytest.raises(TypeError, match="cannot be called directly"):
        add(1, 2)


def test_wrong_arguments_fail_at_call_site() -> None:
    with pytest.raises(TypeError, match="wrong arguments for remote function 'add'"):
        add.remote(1, 2, 3)
    with pytest.raises(TypeError, match="missing a required argument"):
        add.remote()


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ValueError, match="Invalid option"):
        add.options(num_cpu=1)


def test_remote_error_is_catchable_as_original_type() -> None:
    ref = fail.remote("boom")
    with pytest.raises(ValueError) as info:
        plait.get(ref)
    err = info.value
    assert isinstance(err, exc.RayTaskError)
    assert "boom" in str(err)
    assert "in fail" in str(err) or "fail" in err.traceback_str  # remote traceback kept


def test_error_in_dependency_propagates() -> None:
    bad = fail.remote("upstream")
    downstream = add.remote(bad, 1)
    with pytest.raises(ValueError, match="upstream"):
        plait.get(downstream)


def test_get_raises_a_failed_object_without_waiting_for_the_rest() -> None:
    @plait.remote
    def slow() -> int:
        time.sleep(30)
        return 1

    pending = slow.remote()
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="early"):
        plait.get([pending, fail.remote("early")], timeout=20)
    assert time.monotonic() - t0 < 10  # as Ray: the error, not a wait for `slow`
    plait.cancel(pending, force=True)


def test_top_level_refs_are_resolved_nested_refs_are_not() -> None:
    r = plait.put(41)
    assert plait.get(add.remote(r, 1)) == 42

    @plait.remote
    def inspect_nested(xs: list[Any]) -> tuple[str, int]:
        return type(xs[0]).__name__, plait.get(xs[0])

    assert plait.get(inspect_nested.remote([r])) == ("ObjectRef", 41)


def test_tasks_submit_tasks_and_return_refs() -> None:
    @plait.remote
    def parent(n: int) -> list[int]:
        return plait.get([add.remote(i, 1) for i in range(n)])

    @plait.remote
    def make_ref() -> plait.ObjectRef:
        return add.remote(1, 1)

    assert plait.get(parent.remote(3)) == [1, 2, 3]
    inner = plait.get(make_ref.remote())
    assert isinstance(inner, plait.ObjectRef)
    assert plait.get(inner) == 2


def test_num_returns() -> None:
    @plait.remote(num_returns=3)
    def three() -> tuple[int, int, int]:
        return 1, 2, 3

    a, b, c = three.remote()
    assert plait.get([a, b, c]) == [1, 2, 3]
    x, y = add.options(num_returns=2).remote(1, 2), None
    with pytest.raises(ValueError, match="num_returns=2"):
        plait.get(x[0])
    assert y is None


def test_put_get_and_large_numpy_is_zero_copy() -> None:
    arr = np.arange(2_000_000, dtype=np.float64)  # 16 MB: goes to shared memory
    ref = plait.put(arr)
    out = plait.get(ref)
    assert np.array_equal(out, arr)
    assert not out.flags.writeable  # a read-only view of the store, not a copy
    assert not out.flags.owndata
    with pytest.raises(TypeError, match="ObjectRef"):
        plait.put(ref)


def test_arrow_table_from_store_is_not_copied() -> None:
    table = pa.table({"x": np.arange(1_000_000), "y": np.arange(1_000_000) * 2.0})
    ref = plait.put(table)
    before = pa.total_allocated_bytes()
    out = plait.get(ref)
    allocated = pa.total_allocated_bytes() - before
    assert out.equals(table)
    # 16 MB of columns, but Arrow allocated (almost) nothing: they point into the store.
    assert allocated < 1_000_000, allocated


def test_large_task_argument_and_return() -> None:
    arr = np.ones(500_000)

    @plait.remote
    def double(a: np.ndarray) -> np.ndarray:
        return a * 2

    assert float(plait.get(double.remote(arr)).sum()) == 1_000_000.0


def test_get_timeout() -> None:
    @plait.remote
    def slow() -> int:
        time.sleep(5)
        return 1

    ref = slow.remote()
    t0 = time.monotonic()
    with pytest.raises(exc.GetTimeoutError):
        plait.get(ref, timeout=0.3)
    assert time.monotonic() - t0 < 4
    plait.cancel(ref, force=True)


def test_get_rejects_non_refs() -> None:
    # As in Ray: a value that is not a ref or a list is a ValueError, a list holding a
    # non-ref a TypeError.
    with pytest.raises(ValueError, match="ObjectRef"):
        plait.get(42)
    with pytest.raises(TypeError, match="ObjectRef"):
        plait.get([plait.put(1), "x"])


def test_wait() -> None:
    @plait.remote
    def sleep_then(x: float) -> float:
        time.sleep(x)
        return x

    fast = sleep_then.remote(0.0)
    slow = sleep_then.remote(3.0)
    ready, not_ready = plait.wait([slow, fast], num_returns=1, timeout=2.5)
    assert ready == [fast] and not_ready == [slow]
    ready, not_ready = plait.wait([slow, fast], num_returns=2, timeout=0.1)
    assert len(ready) == 1 and not_ready == [slow]
    with pytest.raises(ValueError, match="unique"):
        plait.wait([fast, fast])
    plait.cancel(slow, force=True)


def test_unpicklable_argument_gets_clear_error() -> None:
    with pytest.raises(TypeError, match="cannot serialize a value of type '_thread.lock'"):
        identity.remote(threading.Lock())
    with pytest.raises(TypeError, match="cannot serialize"):
        identity.remote(x=[1, threading.Lock()])
    with pytest.raises(TypeError, match="cannot serialize a value of type '_thread.lock'"):
        plait.put(threading.Lock())


def test_unpicklable_return_gets_clear_error() -> None:
    @plait.remote
    def make_lock() -> Any:
        return threading.Lock()

    with pytest.raises(exc.RayTaskError, match="lock"):
        plait.get(make_lock.remote())


def test_cancel_queued_and_running_tasks() -> None:
    @plait.remote
    def sleeper() -> int:
        time.sleep(30)
        return 1

    running = sleeper.remote()
    time.sleep(0.5)
    plait.cancel(running)
    with pytest.raises(exc.TaskCancelledError):
        plait.get(running, timeout=20)
    forced = sleeper.remote()
    time.sleep(0.5)
    plait.cancel(forced, force=True)
    with pytest.raises(exc.TaskCancelledError):
        plait.get(forced, timeout=20)


def test_cancel_tasks_that_have_not_started() -> None:
    @plait.remote(num_cpus=2)
    def hog(x: Any = None) -> int:
        time.sleep(30)
        return 1

    running = hog.remote()  # holds both CPUs
    queued = hog.remote()  # waits for CPUs
    waiting = add.remote(running, 1)  # waits for its argument
    time.sleep(0.3)
    t0 = time.monotonic()
    plait.cancel(queued)
    plait.cancel(waiting)
    for ref in (queued, waiting):
        with pytest.raises(exc.TaskCancelledError, match="^Task [0-9a-f]+ was cancelled.$"):
            plait.get(ref, timeout=10)
    assert time.monotonic() - t0 < 5
    plait.cancel(running, force=True)
    with pytest.raises(exc.TaskCancelledError):
        plait.get(running, timeout=20)
    assert plait.get(add.remote(1, 1), timeout=30) == 2  # the CPUs are free again


def test_cancel_is_recursive(tmp_path: Path) -> None:
    @plait.remote
    def child(path: str) -> int:
        with open(path + ".pid", "w") as f:
            f.write(str(os.getpid()))
        try:
            time.sleep(30)
        finally:
            open(path + ".ended", "w").close()
        return 1

    @plait.remote
    def parent(path: str) -> int:
        return plait.get(child.remote(path))

    for force in (False, True):
        path = str(tmp_path / f"force-{force}")
        ref = parent.remote(path)
        pid = int(
            wait_for(
                lambda path=path: os.path.exists(path + ".pid") and open(path + ".pid").read(),
                what="the child task to start",
            )
        )
        plait.cancel(ref, force=force)
        with pytest.raises(exc.TaskCancelledError):
            plait.get(ref, timeout=20)
        if force:  # the child's worker was killed too
            wait_for(
                lambda pid=pid: process_gone(pid), timeout=10, what="the child's worker to exit"
            )
        else:  # the child was interrupted, not left running for 30 s
            wait_for(
                lambda path=path: os.path.exists(path + ".ended"),
                timeout=10,
                what="the child task to be cancelled",
            )


def test_worker_death_is_retried_then_reported(tmp_path: Path) -> None:
    marker = tmp_path / "died-once"

    @plait.remote(max_retries=2)
    def die_once(path: str) -> str:
        if not os.path.exists(path):
            open(path, "w").close()
            os._exit(1)
        return "recovered"

    assert plait.get(die_once.remote(str(marker)), timeout=60) == "recovered"

    @plait.remote(max_retries=1)
    def always_die() -> None:
        os._exit(1)

    with pytest.raises(exc.WorkerCrashedError, match="died"):
        plait.get(always_die.remote(), timeout=60)


def test_sys_exit_in_a_task_ends_its_worker(tmp_path: Path) -> None:
    """As in Ray: the worker exits, the task is retried, then WorkerCrashedError."""

    @plait.remote(max_retries=1)
    def leave(path: str) -> None:
        with open(os.path.join(path, f"{os.getpid()}.pid"), "w"):
            pass
        sys.exit(3)

    with pytest.raises(exc.WorkerCrashedError):
        plait.get(leave.remote(str(tmp_path)), timeout=60)
    pids = [int(p.stem) for p in tmp_path.glob("*.pid")]
    assert len(pids) == 2  # the first try and one retry, each in a worker that exited
    for pid in pids:
        wait_for(lambda pid=pid: process_gone(pid), timeout=10, what="the worker to exit")


def test_worker_killed_from_outside_is_noticed(tmp_path: Path) -> None:
    @plait.remote
    def record_pid_then_sleep(path: str) -> str:
        attempt = len(os.listdir(path))
        with open(os.path.join(path, f"{attempt}.pid"), "w") as f:
            f.write(str(os.getpid()))
        if attempt == 0:
            time.sleep(60)
        return f"attempt {attempt}"

    def kill_first_attempt(path: Path) -> None:
        pid_file = wait_for(lambda: next(path.glob("0.pid"), None), what="the task to start")
        pid = int(wait_for(pid_file.read_text, what="the pid"))
        os.kill(pid, signal.SIGKILL)

    no_retry, retried = tmp_path / "no-retry", tmp_path / "retried"
    no_retry.mkdir()
    retried.mkdir()
    ref = record_pid_then_sleep.options(max_retries=0).remote(str(no_retry))
    kill_first_attempt(no_retry)
    with pytest.raises(exc.WorkerCrashedError, match="died"):
        plait.get(ref, timeout=30)  # an error, not a hang
    assert len(list(no_retry.iterdir())) == 1  # max_retries=0: it did not run again
    ref = record_pid_then_sleep.options(max_retries=-1).remote(str(retried))
    kill_first_attempt(retried)
    assert plait.get(ref, timeout=30) == "attempt 1"


def test_retry_exceptions(tmp_path: Path) -> None:
    def bump(path: str) -> int:
        n = int(open(path).read()) if os.path.exists(path) else 0
        with open(path, "w") as f:
            f.write(str(n + 1))
        return n

    @plait.remote(max_retries=2, retry_exceptions=True)
    def flaky(path: str, fail_times: int, kind: type[Exception]) -> int:
        n = bump(path)
        if n < fail_times:
            raise kind(f"attempt {n}")
        return n

    def attempts(name: str) -> int:
        return int((tmp_path / name).read_text())

    assert plait.get(flaky.remote(str(tmp_path / "a"), 2, ValueError), timeout=30) == 2
    with pytest.raises(ValueError, match="attempt 2"):  # retries used up: the last error
        plait.get(flaky.remote(str(tmp_path / "b"), 5, ValueError), timeout=30)
    assert attempts("b") == 3
    only_key = flaky.options(retry_exceptions=[KeyError])
    with pytest.raises(ValueError, match="attempt 0"):  # not a listed class: no retry
        plait.get(only_key.remote(str(tmp_path / "c"), 5, ValueError), timeout=30)
    assert attempts("c") == 1
    assert plait.get(only_key.remote(str(tmp_path / "d"), 1, KeyError), timeout=30) == 1
    with pytest.raises(ValueError, match="attempt 0"):  # the default: no retry on errors
        plait.get(
            flaky.options(retry_exceptions=False).remote(str(tmp_path / "e"), 1, ValueError),
            timeout=30,
        )
    with pytest.raises(ValueError, match="retry_exceptions must be"):
        flaky.options(retry_exceptions="yes")
    with pytest.raises(ValueError, match="max_retries must be"):
        flaky.options(max_retries=-2)


def test_gpu_ids_and_cuda_visible_devices() -> None:
    @plait.remote(num_gpus=1)
    def gpus() -> tuple[list[int], str]:
        return plait.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES", "")

    ids, env = plait.get(gpus.remote())
    assert len(ids) == 1 and ids[0] in (0, 1)
    assert env == str(ids[0])
    both = plait.get([gpus.remote(), gpus.remote()])
    assert all(len(i) == 1 for i, _ in both)


def test_num_cpus_limits_concurrency() -> None:
    @plait.remote(num_cpus=2)
    def whole_node() -> tuple[float, float]:
        t0 = time.monotonic()
        time.sleep(0.4)
        return t0, time.monotonic()

    spans = sorted(plait.get([whole_node.remote(), whole_node.remote()], timeout=30))
    assert spans[1][0] >= spans[0][1] - 0.05  # 2 CPUs each on a 2-CPU node: one at a time
    too_big = whole_node.options(num_cpus=3).remote()
    ready, _ = plait.wait([too_big], timeout=0.5)
    assert ready == []  # more CPUs than any node has: pending (infeasible), not run
    plait.cancel(too_big)


def test_custom_resources_limit_concurrency() -> None:
    @plait.remote(resources={"custom": 1}, num_cpus=0)
    def hold() -> tuple[float, float]:
        t0 = time.monotonic()
        time.sleep(0.5)
        return t0, time.monotonic()

    spans = sorted(plait.get([hold.remote(), hold.remote()], timeout=30))
    # With one unit of "custom", the second starts only after the first ends.
    assert spans[1][0] >= spans[0][1] - 0.05


def test_infeasible_task_stays_pending_with_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plait._core import task_submitter

    monkeypatch.setattr(task_submitter, "INFEASIBLE_WARNING_S", 0.3)  # default 5 s

    @plait.remote(resources={"nonexistent": 1})
    def never() -> int:
        return 1

    ref = never.remote()
    with caplog.at_level("WARNING"):
        ready, _ = plait.wait([ref], timeout=1.5)
    assert ready == []
    assert any("no node in the cluster has" in r.getMessage() for r in caplog.records)
    plait.cancel(ref)
    # Nothing is left to run, so its worker lease request was withdrawn too.
    from plait._core.context import current_core_worker
    from plait._protocol import raylet_pb2

    stats = current_core_worker().raylet_sync.GetNodeStats
    wait_for(
        lambda: stats(raylet_pb2.GetNodeStatsRequest(), timeout=10).num_pending_leases == 0,
        timeout=10,
        what="the lease request to be cancelled",
    )


def test_cluster_info() -> None:
    res = plait.cluster_resources()
    assert res["CPU"] == 2 and res["GPU"] == 2 and res["custom"] == 1
    nodes = plait.nodes()
    assert len(nodes) == 1 and nodes[0]["Alive"]
    avail = plait.available_resources()
    assert avail.get("CPU", 0) <= 2
    ctx = plait.get_runtime_context()
    assert ctx.get_job_id() and ctx.get_node_id() == nodes[0]["NodeID"]

    @plait.remote
    def task_ctx() -> tuple[str | None, str]:
        c = plait.get_runtime_context()
        return c.get_task_id(), c.get_job_id()

    task_id, job_id = plait.get(task_ctx.remote())
    assert task_id and job_id == ctx.get_job_id()

    @plait.remote
    def my_name() -> str | None:
        return plait.get_runtime_context().get_task_name()

    assert plait.get(my_name.options(name="named-task").remote()) == "named-task"


def test_available_resources_follow_running_tasks() -> None:
    @plait.remote(resources={"custom": 1}, num_cpus=0)
    def hold(seconds: float) -> None:
        time.sleep(seconds)

    ref = hold.remote(30)
    wait_for(
        lambda: "custom" not in plait.available_resources(),
        timeout=10,
        what="the running task's resource to show as taken",
    )
    plait.cancel(ref, force=True)
    wait_for(
        lambda: plait.available_resources().get("custom") == 1,
        timeout=10,
        what="the resource to come back",
    )


def test_init_twice_and_is_initialized() -> None:
    assert plait.is_initialized()
    with pytest.raises(RuntimeError, match="init twice"):
        plait.init()
    plait.init(ignore_reinit_error=True)


def test_blocked_tasks_lend_their_cpu_to_nested_tasks() -> None:
    # Four levels deep on two CPUs: each level waits in get() for the next, which can
    # only run because a waiting worker gives its CPU back while it waits.
    @plait.remote
    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + plait.get(depth.remote(n - 1))

    assert plait.get(depth.remote(4), timeout=60) == 4
