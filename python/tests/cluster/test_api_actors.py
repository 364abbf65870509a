"""Actors against a real local cluster."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from plait_fixtures import local_cluster, process_gone, wait_for

import plait
from plait import exceptions as exc

cluster = local_cluster(num_cpus=2, namespace="actors-test")
pytestmark = pytest.mark.usefixtures("cluster")


@plait.remote
class Counter:
    def __init__(self, start: int = 0) -> None:
        self.n = start
        self.log: list[int] = []

    def incr(self, by: int = 1) -> int:
        self.n += by
        return self.n

    def append(self, x: int) -> None:
        self.log.append(x)

    def get_log(self) -> list[int]:
        return self.log

    @plait.method(num_returns=2)
    def pair(self) -> tuple[int, int]:
        return self.n, -self.n

    def pid(self) -> int:
        return os.getpid()

    def fail(self) -> None:
        raise KeyError("nope")


def test_actor_keeps_state() -> None:
    c = Counter.remote(10)
    assert plait.get([c.incr.remote() for _ in range(5)]) == [11, 12, 13, 14, 15]
    a, b = c.pair.remote()
    assert plait.get([a, b]) == [15, -15]


def test_calls_from_one_caller_run_in_submission_order() -> None:
    c = Counter.remote()
    for i in range(200):
        c.append.remote(i)
    assert plait.get(c.get_log.remote()) == list(range(200))


def test_actor_method_error_keeps_actor_alive() -> None:
    c = Counter.remote()
    with pytest.raises(KeyError):
        plait.get(c.fail.remote())
    assert plait.get(c.incr.remote()) == 1


def test_unknown_method_and_wrong_arguments() -> None:
    c = Counter.remote()
    with pytest.raises(AttributeError, match="has no method 'nope'"):
        c.nope.remote()
    with pytest.raises(TypeError, match="wrong arguments for actor method 'Counter.incr'"):
        c.incr.remote(1, 2, 3)
    with pytest.raises(TypeError, match="wrong arguments for actor class"):
        Counter.remote(1, 2, 3)
    with pytest.raises(TypeError, match="cannot be instantiated directly"):
        Counter()
    assert plait.get(c.incr.remote()) == 1


def test_unpicklable_argument_gets_clear_error_and_leaves_no_actor() -> None:
    with pytest.raises(TypeError, match="cannot serialize a value of type '_thread.lock'"):
        Counter.options(name="lock-holder").remote(threading.Lock())
    c = Counter.options(name="lock-holder").remote(1)  # the name was not taken
    with pytest.raises(TypeError, match="cannot serialize"):
        c.incr.remote(threading.Lock())
    assert plait.get(c.incr.remote(), timeout=30) == 2


def test_infeasible_actor_stays_pending_with_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plait._core import actor_submitter

    monkeypatch.setattr(actor_submitter, "INFEASIBLE_WARNING_S", 0.3)  # default 5 s
    pending = Counter.options(resources={"nonexistent": 1}).remote()
    ref = pending.incr.remote()
    with caplog.at_level("WARNING"):
        ready, _ = plait.wait([ref], timeout=1.5)
    assert ready == []
    assert any(
        "Actor 'Counter' asks for {'nonexistent': 1.0}, which no node" in r.getMessage()
        for r in caplog.records
    )
    plait.kill(pending)
    with pytest.raises(exc.ActorDiedError):
        plait.get(ref, timeout=20)
    # Its worker lease request was withdrawn: nothing waits at the raylet any more.
    from plait._core.context import current_core_worker
    from plait._protocol import raylet_pb2

    stats = current_core_worker().raylet_sync.GetNodeStats
    wait_for(
        lambda: stats(raylet_pb2.GetNodeStatsRequest(), timeout=10).num_pending_leases == 0,
        timeout=10,
        what="the lease request to be cancelled",
    )


def test_constructor_failure_reports_cause() -> None:
    @plait.remote
    class Broken:
        def __init__(self) -> None:
            raise RuntimeError("bad config")

        def ping(self) -> int:
            return 1

    b = Broken.remote()
    with pytest.raises(exc.ActorDiedError, match="bad config"):
        plait.get(b.ping.remote(), timeout=30)


def test_async_actor_runs_calls_concurrently() -> None:
    @plait.remote
    class AsyncActor:
        def __init__(self) -> None:
            self.active = 0
            self.peak = 0

        async def work(self) -> int:
            self.active += 1
            self.peak = max(self.peak, self.active)
            await asyncio.sleep(0.3)
            self.active -= 1
            return 1

        async def get_peak(self) -> int:
            return self.peak

    a = AsyncActor.options(max_concurrency=4).remote()
    t0 = time.monotonic()
    assert sum(plait.get([a.work.remote() for _ in range(8)], timeout=30)) == 8
    assert time.monotonic() - t0 < 2.0  # 8 x 0.3 s would be 2.4 s one at a time
    assert plait.get(a.get_peak.remote()) == 4


def test_threaded_actor_runs_calls_concurrently() -> None:
    @plait.remote(max_concurrency=3)
    class Threaded:
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.active = 0
            self.peak = 0

        def work(self) -> None:
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.3)
            with self.lock:
                self.active -= 1

        def get_peak(self) -> int:
            return self.peak

    t = Threaded.remote()
    plait.get([t.work.remote() for _ in range(6)], timeout=30)
    assert plait.get(t.get_peak.remote()) == 3


def test_named_actor_lookup() -> None:
    c = Counter.options(name="shared-counter").remote(100)
    plait.get(c.incr.remote())
    found = plait.get_actor("shared-counter")
    assert plait.get(found.incr.remote()) == 102
    with pytest.raises(ValueError, match="already taken|already exists|taken"):
        Counter.options(name="shared-counter").remote()
    same = Counter.options(name="shared-counter", get_if_exists=True).remote()
    assert plait.get(same.incr.remote()) == 103
    with pytest.raises(ValueError, match="Failed to look up actor with name 'no-such'"):
        plait.get_actor("no-such")
    with pytest.raises(ValueError, match="Failed to look up"):
        plait.get_actor("shared-counter", namespace="other-namespace")


def test_killed_named_actor_frees_its_name() -> None:
    c = Counter.options(name="reusable").remote()
    assert plait.get(c.incr.remote(), timeout=30) == 1
    plait.kill(c)
    with pytest.raises(ValueError, match="Failed to look up"):
        plait.get_actor("reusable")
    d = Counter.options(name="reusable").remote(40)
    assert plait.get(d.incr.remote(), timeout=30) == 41
    assert plait.get(plait.get_actor("reusable").incr.remote(), timeout=30) == 42


SECOND_DRIVER = """
import sys, plait
plait.init(address=sys.argv[1], namespace="actors-test")
print("SAME", plait.get(plait.get_actor("ns-shared").incr.remote(), timeout=30), flush=True)
print("NS", plait.get_runtime_context().namespace, flush=True)
plait.shutdown()
plait.init(address=sys.argv[1])  # an anonymous namespace of its own
try:
    plait.get_actor("ns-shared")
    print("ANON found")
except ValueError:
    print("ANON missing")
plait.shutdown()
"""


def test_namespaces_scope_named_actors(cluster: dict[str, Any], tmp_path: Path) -> None:
    elsewhere = Counter.options(name="ns-counter", namespace="elsewhere").remote(5)
    assert plait.get(elsewhere.incr.remote(), timeout=30) == 6
    with pytest.raises(ValueError, match="Failed to look up"):
        plait.get_actor("ns-counter")  # not in this driver's namespace
    assert plait.get(plait.get_actor("ns-counter", namespace="elsewhere").incr.remote()) == 7
    # Another driver sees the named actors of the namespace it joins, and only those.
    shared = Counter.options(name="ns-shared").remote(100)
    assert plait.get(shared.incr.remote(), timeout=30) == 101
    script = tmp_path / "driver.py"
    script.write_text(SECOND_DRIVER)
    out = subprocess.run(
        [sys.executable, str(script), cluster["address"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SAME 102" in out.stdout and "NS actors-test" in out.stdout
    assert "ANON missing" in out.stdout


def test_actor_handles_passed_to_tasks_and_actors() -> None:
    c = Counter.remote()

    @plait.remote
    def bump(handle: Any, times: int) -> int:
        return plait.get([handle.incr.remote() for _ in range(times)])[-1]

    @plait.remote
    class Forwarder:
        def __init__(self, target: Any) -> None:
            self.target = target

        def forward(self) -> int:
            return plait.get(self.target.incr.remote(100))

    assert plait.get(bump.remote(c, 3)) == 3
    f = Forwarder.remote(c)
    assert plait.get(f.forward.remote()) == 103
    assert plait.get(c.incr.remote()) == 104


def test_kill_actor() -> None:
    c = Counter.remote()
    pid = plait.get(c.pid.remote())
    plait.kill(c)
    with pytest.raises(exc.RayActorError, match="killed"):
        plait.get(c.incr.remote(), timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("actor process still alive after plait.kill")
    with pytest.raises(ValueError, match="only supported for actors"):
        plait.kill("not an actor")  # type: ignore[arg-type]


def test_kill_during_creation_frees_the_actors_worker(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    @plait.remote(num_cpus=2)
    class SlowStart:
        def __init__(self, path: str) -> None:
            with open(path, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(1)

        def ping(self) -> str:
            return "pong"

    a = SlowStart.remote(str(pid_file))
    pid = int(
        wait_for(
            lambda: pid_file.exists() and pid_file.read_text(), what="the constructor to start"
        )
    )
    plait.kill(a)
    with pytest.raises(exc.ActorDiedError, match="killed"):
        plait.get(a.ping.remote(), timeout=20)
    wait_for(lambda: process_gone(pid), timeout=10, what="the actor's worker to exit")

    @plait.remote(num_cpus=2)
    def whole_node() -> int:
        return 1

    assert plait.get(whole_node.remote(), timeout=20) == 1  # its 2 CPUs came back


def test_actor_process_death_is_reported() -> None:
    c = Counter.remote()
    pid = plait.get(c.pid.remote())
    os.kill(pid, 9)
    with pytest.raises(exc.ActorDiedError):
        plait.get(c.incr.remote(), timeout=30)


def test_detached_actor_outlives_creator_handle() -> None:
    @plait.remote
    def make_detached() -> str:
        Counter.options(name="detached-one", lifetime="detached").remote(7)
        return "ok"

    assert plait.get(make_detached.remote()) == "ok"
    found = plait.get_actor("detached-one")
    assert plait.get(found.incr.remote(), timeout=30) == 8
    plait.kill(found)


def test_runtime_context_in_actor() -> None:
    @plait.remote
    class Who:
        def ids(self) -> tuple[str | None, str]:
            ctx = plait.get_runtime_context()
            return ctx.get_actor_id(), ctx.namespace

    w = Who.remote()
    actor_id, ns = plait.get(w.ids.remote())
    assert actor_id == w._actor_id.hex()
    assert ns == "actors-test"


def test_async_actor_can_await_object_refs() -> None:
    @plait.remote
    def slow_value() -> int:
        time.sleep(0.2)
        return 5

    @plait.remote
    class Awaiter:
        async def total(self, refs: list[Any]) -> int:
            values = await asyncio.gather(*refs)
            return sum(values)

    a = Awaiter.remote()
    assert plait.get(a.total.remote([slow_value.remote(), slow_value.remote()]), timeout=30) == 10


def test_cancel_actor_calls() -> None:
    @plait.remote
    def later(x: float) -> float:
        time.sleep(x)
        return 0.0

    @plait.remote
    class Worker:
        def __init__(self) -> None:
            self.saw_cancel = False

        def poll(self, seconds: float) -> str:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if plait.get_runtime_context().is_canceled():
                    self.saw_cancel = True
                    return "stopped early"
                time.sleep(0.02)
            return "ran to the end"

        def sleep(self, seconds: float) -> str:
            time.sleep(seconds)
            return "done"

        def saw(self) -> bool:
            return self.saw_cancel

    w = Worker.remote()
    assert plait.get(w.saw.remote(), timeout=20) is False
    running = w.poll.remote(20)  # running on the actor when cancelled
    queued = w.sleep.remote(0)  # sent, waiting behind `running`
    waiting = w.sleep.remote(later.remote(1))  # still waiting for its argument
    time.sleep(0.5)
    t0 = time.monotonic()
    for ref in (waiting, queued, running):
        plait.cancel(ref)
    for ref in (running, queued, waiting):
        with pytest.raises(exc.TaskCancelledError):
            plait.get(ref, timeout=20)
    assert time.monotonic() - t0 < 10
    # The running call was not interrupted: it saw the flag and stopped on its own, and
    # the actor lives on with its state.
    assert plait.get(w.saw.remote(), timeout=20) is True
    with pytest.raises(ValueError, match="force=True is not supported for actor tasks"):
        plait.cancel(w.sleep.remote(1), force=True)

    @plait.remote
    class AsyncWorker:
        async def sleep(self, seconds: float) -> str:
            await asyncio.sleep(seconds)
            return "done"

        async def ping(self) -> str:
            return "pong"

    a = AsyncWorker.remote()
    assert plait.get(a.ping.remote(), timeout=20) == "pong"
    ref = a.sleep.remote(30)
    time.sleep(0.2)
    plait.cancel(ref)
    with pytest.raises(exc.TaskCancelledError):
        plait.get(ref, timeout=10)  # its coroutine was cancelled: no 30 s wait
    assert plait.get(a.ping.remote(), timeout=10) == "pong"
