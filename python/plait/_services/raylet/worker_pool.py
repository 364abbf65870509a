"""The node's worker processes: start, register, reuse, reap; and the drivers' lives.

Workers are kept per (job_id, language). A lease asks `pop_worker` for one: an idle
registered worker is reused, otherwise a process is started and the caller waits until
it calls RegisterWorker (`register_worker`). Started workers are matched to waiting
callers in arrival order, so a worker started for a request that was cancelled serves the
next one (or goes idle).

One asyncio task (`run`) watches everything with cheap polls, never blocking the loop:
child exits (Popen.poll), registration deadlines, idle workers beyond the per-job
allowance, and registered drivers' pids.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import psutil  # type: ignore[import-untyped, unused-ignore]

from plait._protocol import common_pb2
from plait._services.raylet.crash_report import read_report, symbolize

logger = logging.getLogger(__name__)

PoolKey = tuple[bytes, int]  # (job_id, language)

DEFAULT_REGISTER_TIMEOUT_S = 30.0
DEFAULT_IDLE_TIMEOUT_S = 10.0
DEFAULT_KILL_GRACE_S = 1.0
POLL_INTERVAL_S = 0.1
DRIVER_CHECK_INTERVAL_S = 0.5
# The death causes kept for owners that ask why a worker died (GetWorkerFailure).
FAILURES_KEPT = 1000
# Where a worker writes its crash report (the C++ executor installs a fatal-signal handler
# that does: plait/_cpp/executor.py, cpp/plait/native/crash_handler.cc).
CRASH_FILE_ENV = "PLAIT_CRASH_FILE"
# A worker dying of one of these crashed, whatever we were doing to it at the time.
CRASH_SIGNALS = frozenset(
    {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT}
)


class WorkerStartError(Exception):
    """No worker could be started for a lease; the message says why."""


@dataclass(eq=False)
class Worker:
    worker_id: bytes
    job_id: bytes
    language: int
    process: subprocess.Popen[bytes]
    started_at: float
    port: int = 0
    registered: bool = False
    idle_since: float | None = None
    # The lease this worker serves, when leased (set by the node manager).
    lease_id: bytes | None = None
    detached: bool = False
    # Why we killed it, reported instead of the bare exit status.
    kill_reason: str | None = None
    # Where its fatal-signal handler writes a crash report (native stack).
    crash_file: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def key(self) -> PoolKey:
        return (self.job_id, self.language)


@dataclass(eq=False)
class Driver:
    worker_id: bytes
    job_id: bytes
    pid: int
    # Guards against pid reuse: the process with this pid must have started then.
    create_time: float | None = None


JobInfoFn = Callable[[bytes], Awaitable[common_pb2.JobInfo | None]]
WorkerExitFn = Callable[[Worker, str], None]
DriverExitFn = Callable[[Driver], None]
# (language, worker_id, job_id) -> argv; the default runs plait's worker main.
CommandFn = Callable[[int, bytes, bytes], list[str]]


def exit_reason(returncode: int) -> str:
    """E.g. "worker process killed by signal SIGSEGV (Segmentation fault)"."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"worker process killed by signal {-returncode}"
        description = signal.strsignal(-returncode)
        return f"worker process killed by signal {name}" + (
            f" ({description})" if description else ""
        )
    return f"worker process exited with code {returncode}"


def crashed(returncode: int) -> bool:
    return returncode < 0 and -returncode in CRASH_SIGNALS


@dataclass(eq=False)
class WorkerFailure:
    """Why a registered worker died, for its owners (GetWorkerFailure)."""

    reason: str
    pid: int
    # What its fatal-signal handler wrote (signal, native stack), frames not named yet.
    crash_report: str = ""
    # The report with its frames named (addr2line, off the event loop), once done.
    described: asyncio.Future[str] | None = None

    def cause(self, report: str) -> str:
        head = f"{self.reason} (pid {self.pid})"
        return f"{head}\n{report}" if report else head


def plait_paths() -> list[str]:
    """This process's sys.path entries that hold the plait package, so workers import
    the same plait as their raylet."""
    out: list[str] = []
    for entry in sys.path:
        path = os.path.abspath(entry or os.getcwd())
        if os.path.isdir(os.path.join(path, "plait")) and path not in out:
            out.append(path)
    return out


@dataclass
class PoolConfig:
    node_id: str
    node_ip: str
    raylet_address: str
    gcs_address: str
    store_dir: str
    num_cpus: float
    register_timeout_s: float = DEFAULT_REGISTER_TIMEOUT_S
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
    kill_grace_s: float = DEFAULT_KILL_GRACE_S
    extra_env: dict[str, str] = field(default_factory=dict)
    # Where workers write crash reports ("": the system's temporary directory).
    crash_dir: str = ""


class WorkerPool:
    def __init__(
        self,
        config: PoolConfig,
        get_job_info: JobInfoFn,
        on_worker_exit: WorkerExitFn,
        on_driver_exit: DriverExitFn,
        command: CommandFn | None = None,
    ) -> None:
        self.config = config
        self._get_job_info = get_job_info
        self._on_worker_exit = on_worker_exit
        self._on_driver_exit = on_driver_exit
        self._command = command or self.worker_command
        self._workers: dict[bytes, Worker] = {}  # every live process, by worker id
        self._idle: dict[PoolKey, list[Worker]] = collections.defaultdict(list)
        self._waiters: dict[PoolKey, collections.deque[asyncio.Future[Worker]]] = (
            collections.defaultdict(collections.deque)
        )
        self._drivers: dict[bytes, Driver] = {}
        self._failures: collections.OrderedDict[bytes, WorkerFailure] = collections.OrderedDict()
        self._crash_dir = config.crash_dir or tempfile.gettempdir()
        self._closed = False

    # ---- queries ----

    @property
    def max_idle_per_job(self) -> int:
        return max(2, int(self.config.num_cpus))

    def get(self, worker_id: bytes) -> Worker | None:
        return self._workers.get(worker_id)

    def workers(self) -> list[Worker]:
        return list(self._workers.values())

    def num_workers(self) -> int:
        return len(self._workers)

    def num_idle(self) -> int:
        return sum(len(ws) for ws in self._idle.values())

    def num_starting(self, key: PoolKey) -> int:
        return sum(1 for w in self._workers.values() if w.key == key and not w.registered)

    def drivers(self) -> list[Driver]:
        return list(self._drivers.values())

    # ---- starting workers ----

    def worker_command(self, language: int, worker_id: bytes, job_id: bytes) -> list[str]:
        c = self.config
        # Every language's executor is hosted by the same Python worker main (Java
        # through JPype, C++ through the extension); it is told which one to load.
        extra = (
            []
            if language == common_pb2.PYTHON
            else ["--language", common_pb2.Language.Name(language).lower()]
        )
        return [
            sys.executable, "-m", "plait._worker_main",
            "--node-id", c.node_id,
            "--node-ip", c.node_ip,
            "--raylet-address", c.raylet_address,
            "--gcs-address", c.gcs_address,
            "--worker-id", worker_id.hex(),
            "--job-id", job_id.hex(),
            "--store-dir", c.store_dir,
            *extra,
        ]  # fmt: skip

    def _spawn(self, job_id: bytes, language: int, job: common_pb2.JobInfo | None) -> Worker:
        worker_id = os.urandom(16)
        env = dict(os.environ)
        env.update(self.config.extra_env)
        paths: list[str] = []
        for entry in [*(job.code_search_path if job else []), *plait_paths()]:
            if entry and entry not in paths:
                paths.append(entry)
        env["PYTHONPATH"] = os.pathsep.join(paths)
        # Prints from tasks should reach the user's terminal as they happen.
        env["PYTHONUNBUFFERED"] = "1"
        crash_file = os.path.join(self._crash_dir, f"plait-worker-{worker_id.hex()}.crash")
        env[CRASH_FILE_ENV] = crash_file
        cwd = (
            job.working_dir if job and job.working_dir and os.path.isdir(job.working_dir) else None
        )
        argv = self._command(language, worker_id, job_id)
        try:
            # stdout/stderr inherited from the raylet, so users see their prints.
            process = subprocess.Popen(argv, env=env, cwd=cwd)
        except OSError as e:
            raise WorkerStartError(f"could not start a worker process ({argv[0]}): {e}") from e
        worker = Worker(
            worker_id, job_id, language, process, time.monotonic(), crash_file=crash_file
        )
        self._workers[worker_id] = worker
        logger.info(
            "started worker %s (pid %d) for job %s", worker_id.hex(), process.pid, job_id.hex()
        )
        return worker

    async def pop_worker(self, job_id: bytes, language: int) -> Worker:
        """A registered worker for this job and language: idle, or newly started."""
        if self._closed:
            raise WorkerStartError("the raylet is shutting down")
        key = (job_id, language)
        # Fetch the job's code path before deciding, so no await sits between counting
        # starting workers and starting one.
        job = await self._get_job_info(job_id)
        idle = self._idle.get(key)
        while idle:
            worker = idle.pop()  # most recently idle: the longest idle ones get trimmed
            worker.idle_since = None
            if worker.process.poll() is None:
                return worker
            # Died since the last tick: leave it for the tick to reap and report.
        fut: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        waiters = self._waiters[key]
        waiters.append(fut)
        if self.num_starting(key) < sum(1 for f in waiters if not f.done()):
            try:
                self._spawn(job_id, language, job)
            except WorkerStartError:
                waiters.remove(fut)
                raise
        try:
            return await fut
        except asyncio.CancelledError:
            if fut in waiters:
                waiters.remove(fut)
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.push_worker(fut.result())
            raise

    async def prestart(self, job_id: bytes, language: int, count: int) -> None:
        """Start workers until the job has `count` idle or starting ones."""
        key = (job_id, language)
        job = await self._get_job_info(job_id)
        have = len(self._idle.get(key, ())) + self.num_starting(key)
        for _ in range(count - have):
            if self._closed:
                return
            try:
                self._spawn(job_id, language, job)
            except WorkerStartError as e:
                logger.error("prestarting a worker failed: %s", e)
                return

    def register_worker(self, worker_id: bytes, port: int, pid: int) -> Worker | None:
        """A started worker reports its port; None when we did not start it."""
        worker = self._workers.get(worker_id)
        if worker is None or worker.registered:
            return None
        if pid and pid != worker.pid:
            # A wrapper (e.g. a shell) may sit between us and the worker; we watch the
            # process we started, which is the one whose exit matters.
            logger.debug(
                "worker %s registered pid %d, started %d", worker_id.hex(), pid, worker.pid
            )
        worker.port = port
        worker.registered = True
        logger.info("worker %s registered on port %d", worker_id.hex(), port)
        self.push_worker(worker)
        return worker

    def push_worker(self, worker: Worker) -> None:
        """A registered worker is free: hand it to the oldest waiter, or keep it idle."""
        worker.lease_id = None
        worker.detached = False
        if worker.worker_id not in self._workers or worker.kill_reason is not None:
            return
        waiters = self._waiters.get(worker.key)
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                worker.idle_since = None
                fut.set_result(worker)
                return
        worker.idle_since = time.monotonic()
        self._idle[worker.key].append(worker)

    def _fail_excess_waiters(self, key: PoolKey, message: str) -> None:
        """Fail the waiters that no starting worker will serve any more."""
        waiters = self._waiters.get(key)
        if not waiters:
            return
        live = [f for f in waiters if not f.done()]
        waiters.clear()
        waiters.extend(live)
        while len(waiters) > self.num_starting(key):
            fut = waiters.popleft()
            fut.set_exception(WorkerStartError(message))

    # ---- drivers ----

    def register_driver(self, worker_id: bytes, pid: int, job_id: bytes) -> Driver:
        create_time: float | None = None
        try:
            create_time = psutil.Process(pid).create_time()
        except (psutil.Error, ValueError):
            logger.warning("driver pid %d of job %s is not running", pid, job_id.hex())
        driver = Driver(worker_id, job_id, pid, create_time)
        self._drivers[worker_id] = driver
        return driver

    def _driver_alive(self, driver: Driver) -> bool:
        try:
            proc = psutil.Process(driver.pid)
            if driver.create_time is not None and proc.create_time() != driver.create_time:
                return False  # the pid was reused by another process
            return bool(proc.status() != psutil.STATUS_ZOMBIE)
        except (psutil.Error, ValueError):
            return False

    def _check_drivers(self) -> None:
        for driver in list(self._drivers.values()):
            if not self._driver_alive(driver):
                del self._drivers[driver.worker_id]
                logger.info("driver pid %d of job %s exited", driver.pid, driver.job_id.hex())
                self._on_driver_exit(driver)

    # ---- stopping workers ----

    def kill_worker(self, worker: Worker, reason: str, *, grace_s: float = 0.0) -> None:
        """Stop a worker (SIGTERM, then SIGKILL after grace_s; at once when 0). Its exit
        is handled like any death, with `reason` reported (unless it had died already: then
        its own exit is)."""
        self._remove_idle(worker)
        if worker.process.poll() is not None:
            return
        if worker.kill_reason is None:
            worker.kill_reason = reason
        try:
            if grace_s > 0:
                worker.process.terminate()
                asyncio.get_running_loop().call_later(grace_s, self._force_kill, worker)
            else:
                worker.process.kill()
        except ProcessLookupError:
            pass

    @staticmethod
    def _force_kill(worker: Worker) -> None:
        if worker.process.poll() is None:
            try:
                worker.process.kill()
            except ProcessLookupError:
                pass

    def job_finished(self, job_id: bytes) -> None:
        """Stop the job's workers, except those leased to a detached actor."""
        for key, waiters in list(self._waiters.items()):
            if key[0] == job_id:
                for fut in waiters:
                    if not fut.done():
                        fut.set_exception(WorkerStartError(f"job {job_id.hex()} finished"))
                del self._waiters[key]
        for worker in list(self._workers.values()):
            if worker.job_id == job_id and not (worker.lease_id is not None and worker.detached):
                self.kill_worker(
                    worker, f"job {job_id.hex()} finished", grace_s=self.config.kill_grace_s
                )

    def _remove_idle(self, worker: Worker) -> None:
        idle = self._idle.get(worker.key)
        if idle and worker in idle:
            idle.remove(worker)
        worker.idle_since = None

    def _reap(self, worker: Worker, returncode: int) -> None:
        self._workers.pop(worker.worker_id, None)
        self._remove_idle(worker)
        report = read_report(worker.crash_file) if worker.crash_file else ""
        # A crash signal wins over our kill: the owner wants to know it crashed.
        if worker.kill_reason is None or crashed(returncode):
            reason = exit_reason(returncode)
        else:
            reason = worker.kill_reason
        if not worker.registered:
            logger.error("worker %s failed to start: %s", worker.worker_id.hex(), reason)
            self._fail_excess_waiters(worker.key, f"a worker failed to start: {reason}")
            return
        log = logger.info if worker.kill_reason else logger.warning
        log("worker %s (pid %d) is gone: %s", worker.worker_id.hex(), worker.pid, reason)
        self._failures[worker.worker_id] = WorkerFailure(reason, worker.pid, report)
        while len(self._failures) > FAILURES_KEPT:
            self._failures.popitem(last=False)
        self._on_worker_exit(worker, reason)

    async def failure(self, worker_id: bytes, timeout_s: float) -> str | None:
        """Why the worker died: its exit (or why we killed it) and its crash report with
        the frames named. Waits up to timeout_s for a live worker to die and be reaped;
        None when it is still alive then, or unknown here."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while worker_id not in self._failures:
            if worker_id not in self._workers or loop.time() >= deadline:
                return None
            await asyncio.sleep(POLL_INTERVAL_S / 2)
        f = self._failures[worker_id]
        if not f.crash_report:
            return f.cause("")
        if f.described is None:
            # addr2line reads whole libraries: not on the loop.
            f.described = asyncio.ensure_future(asyncio.to_thread(symbolize, f.crash_report))
        try:
            return f.cause(await asyncio.shield(f.described))
        except Exception:
            logger.exception("naming the frames of a crash report failed")
            return f.cause(f.crash_report)

    # ---- the watch loop ----

    def tick(self) -> None:
        """One round of checks (the loop calls this every POLL_INTERVAL_S)."""
        now = time.monotonic()
        for worker in list(self._workers.values()):
            rc = worker.process.poll()
            if rc is not None:
                self._reap(worker, rc)
            elif (
                not worker.registered
                and worker.kill_reason is None
                and now - worker.started_at > self.config.register_timeout_s
            ):
                self.kill_worker(
                    worker,
                    f"worker did not register within {self.config.register_timeout_s:g} s",
                )
        self._trim_idle(now)

    def _trim_idle(self, now: float) -> None:
        limit = self.max_idle_per_job
        for idle in self._idle.values():
            if len(idle) <= limit:
                continue
            # Oldest idle first; keep `limit` of them, stop the rest once idle long enough.
            by_age = sorted(idle, key=lambda w: w.idle_since or now)
            for worker in by_age[: len(idle) - limit]:
                if now - (worker.idle_since or now) >= self.config.idle_timeout_s:
                    self.kill_worker(
                        worker, "idle worker stopped", grace_s=self.config.kill_grace_s
                    )

    async def run(self) -> None:
        """Watch the workers and drivers until cancelled."""
        last_driver_check = 0.0
        while True:
            try:
                self.tick()
                now = time.monotonic()
                if now - last_driver_check >= DRIVER_CHECK_INTERVAL_S:
                    last_driver_check = now
                    self._check_drivers()
            except Exception:
                logger.exception("worker pool check failed")
            await asyncio.sleep(POLL_INTERVAL_S)

    async def close(self, grace_s: float | None = None) -> None:
        """Stop every worker (SIGTERM, SIGKILL after the grace) and wait for them."""
        self._closed = True
        grace = self.config.kill_grace_s if grace_s is None else grace_s
        for waiters in self._waiters.values():
            for fut in waiters:
                if not fut.done():
                    fut.set_exception(WorkerStartError("the raylet is shutting down"))
        self._waiters.clear()
        workers = list(self._workers.values())
        for worker in workers:
            worker.kill_reason = worker.kill_reason or "the raylet is shutting down"
            if worker.process.poll() is None:
                try:
                    worker.process.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(w.process.poll() is None for w in workers):
            await asyncio.sleep(0.05)
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
        for worker in workers:
            try:
                await asyncio.to_thread(worker.process.wait, 5)
            except subprocess.TimeoutExpired:
                logger.error("worker pid %d did not exit", worker.pid)
        self._workers.clear()
        self._idle.clear()
