"""Worker side of tasks: run pushed tasks and actor calls, and report their returns.

Normal tasks run one at a time on one thread, in arrival order. An actor runs its calls on
one thread (default), on a pool of max_concurrency threads (threaded actor), or as
coroutines on its own event loop with at most max_concurrency at once (async actor).
Calls from one caller start in the caller's sequence order.
"""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import logging
import os
import queue
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait._core.context import GpuId, TaskContext, task_context
from plait._core.core_worker import address_proto, owner_of
from plait._core.encoded import INLINE_THRESHOLD, EncodedObject, refs_in
from plait._core.errors import error_object
from plait._core.language import LanguageExecutor
from plait._format import deserialize_with_refs, serialize
from plait._format import exceptions as exc
from plait._format.ids import object_id_for
from plait._format.object_ref import ObjectRef
from plait._protocol import common_pb2, worker_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

log = logging.getLogger(__name__)


logger = logging.getLogger(__name__)
_LANGUAGES = {"python": common_pb2.PYTHON, "java": common_pb2.JAVA, "cpp": common_pb2.CPP}


@dataclass
class _CallerOrder:
    expected: int = 0
    waiting: dict[int, asyncio.Event] = field(default_factory=dict)


class _Cancelled(Exception):
    pass


class MainThreadExecutor:
    """Runs submitted calls one at a time on the thread that calls run_forever (the
    worker's main thread), so that a cancel can interrupt blocking calls with a signal."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[Any], Any, tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self.thread_ident: int | None = None

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        self._queue.put((fut, fn, args))
        return fut

    def run_forever(self, keep_going: Any) -> None:
        self.thread_ident = threading.get_ident()
        while keep_going():
            try:
                item = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # handed to the awaiting coroutine
                fut.set_exception(e)

    def stop(self) -> None:
        self._queue.put(None)


class TaskExecutor:
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self.main = MainThreadExecutor()
        self._actor: Any = None
        self._actor_id = b""
        self._actor_name = ""
        self._actor_pool: ThreadPoolExecutor | None = None
        self._actor_loop: asyncio.AbstractEventLoop | None = None
        self._actor_sem: asyncio.Semaphore | None = None
        self._order: dict[bytes, _CallerOrder] = {}
        self._cancelled: set[bytes] = set()
        self._running: dict[bytes, int] = {}  # task id -> thread ident
        self._async_running: dict[bytes, asyncio.Future[Any]] = {}
        self.gpu_ids: list[GpuId] = []
        # The devices the raylet's environment made visible: the lease's GPU indices
        # select among them, and a task that asks for no GPU sees them all (as in Ray).
        self._visible_devices = os.environ.get("CUDA_VISIBLE_DEVICES")
        # Set in C++ and Java workers: runs tasks whose function is in that language.
        self.language_executor: LanguageExecutor | None = None
        self._foreign_actor = False

    def install_cancel_handler(self) -> None:
        """In the main thread: SIGINT cancels the running task, if it was cancelled."""

        def on_sigint(signum: int, frame: Any) -> None:
            if any(t in self._cancelled for t in self._running):
                raise _Cancelled()

        signal.signal(signal.SIGINT, on_sigint)

    def notify_blocked(self, blocked: bool) -> None:
        self.cw.notify_blocked(blocked)

    # -- entry -----------------------------------------------------------------------
    async def push_task(self, req: worker_pb2.PushTaskRequest) -> worker_pb2.PushTaskReply:
        spec = req.spec
        loop = asyncio.get_running_loop()
        if spec.type == common_pb2.NORMAL_TASK:
            return await asyncio.wrap_future(
                self.main.submit(self._run_normal, spec, self._devices(req.gpu_ids))
            )
        if spec.type == common_pb2.ACTOR_CREATION_TASK:
            return await loop.run_in_executor(
                None, self._create_actor, spec, self._devices(req.gpu_ids)
            )
        return await self._actor_call(spec)

    # -- normal tasks ----------------------------------------------------------------
    def _run_normal(
        self, spec: common_pb2.TaskSpec, gpu_ids: list[GpuId]
    ) -> worker_pb2.PushTaskReply:
        self._set_gpus(gpu_ids)
        self.cw.namespace = spec.namespace  # the submitting job's namespace
        if spec.function.language != common_pb2.PYTHON:
            le = self._language_executor(spec)
            return self._run_foreign(
                spec,
                lambda bufs: le.call_function(
                    spec.function, bufs, list(spec.kwarg_names), spec.num_returns
                ),
            )
        fn_desc = spec.function.python
        try:
            fn = self.cw.functions.load(fn_desc)
            fn = getattr(fn, "_function", fn)  # a RemoteFunction pickled by value
        except Exception as e:
            return self.error_reply(spec, e)
        return self._run_in_thread(spec, fn, gpu_ids)

    def _run_in_thread(
        self, spec: common_pb2.TaskSpec, fn: Any, gpu_ids: list[GpuId]
    ) -> worker_pb2.PushTaskReply:
        task_id = spec.task_id
        if task_id in self._cancelled:
            return worker_pb2.PushTaskReply(cancelled=True)
        self._running[task_id] = threading.get_ident()
        token = task_context.set(
            TaskContext(task_id, self._actor_id, gpu_ids, dict(spec.resources), spec.name)
        )
        try:
            args, kwargs = self._resolve_args(spec)
            result = fn(*args, **kwargs)
        except _Cancelled:
            return worker_pb2.PushTaskReply(cancelled=True)
        except exc.TaskCancelledError:
            return worker_pb2.PushTaskReply(cancelled=True)
        except BaseException as e:  # user code raised: the error becomes the return value
            if task_id in self._cancelled:
                return worker_pb2.PushTaskReply(cancelled=True)
            if isinstance(e, SystemExit) and spec.type == common_pb2.NORMAL_TASK:
                # As in Ray: sys.exit() in a task ends its worker; the owner sees a dead
                # worker, retries, and then raises WorkerCrashedError.
                logger.warning("task %s called sys.exit(%r): this worker exits", spec.name, e.code)
                os._exit(e.code if isinstance(e.code, int) else 1)
            return self.error_reply(spec, e)
        finally:
            self._running.pop(task_id, None)
            task_context.reset(token)
        if task_id in self._cancelled:
            return worker_pb2.PushTaskReply(cancelled=True)
        return self._returns_reply(spec, result)

    def _devices(self, indices: Any) -> list[GpuId]:
        return device_ids(list(indices), self._visible_devices)

    def _set_gpus(self, gpu_ids: list[GpuId]) -> None:
        self.gpu_ids = gpu_ids
        if gpu_ids:
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpu_ids)
        elif self._visible_devices is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = self._visible_devices

    # -- foreign-language tasks ---------------------------------------------------------
    def _language_executor(self, spec: common_pb2.TaskSpec) -> LanguageExecutor:
        le = self.language_executor
        if le is None or spec.function.language != _LANGUAGES.get(le.language):
            want = common_pb2.Language.Name(spec.function.language).lower()
            have = le.language if le is not None else "python"
            raise RuntimeError(f"a {have} worker cannot run a {want} task {spec.name!r}")
        return le

    def _run_foreign(self, spec: common_pb2.TaskSpec, call: Any) -> worker_pb2.PushTaskReply:
        """Run a C++/Java call on encoded arguments; its results are already encoded."""
        token = task_context.set(
            TaskContext(spec.task_id, self._actor_id, self.gpu_ids, dict(spec.resources), spec.name)
        )
        try:
            try:
                bufs = self._arg_buffers(spec)
                encoded = call(bufs)
            except BaseException as e:  # LanguageError, or an argument that failed upstream
                return self.error_reply(spec, e)
            finally:
                task_context.reset(token)
            if spec.type == common_pb2.ACTOR_CREATION_TASK:
                return worker_pb2.PushTaskReply()
            if len(encoded) != spec.num_returns:
                return self.error_reply(
                    spec,
                    ValueError(
                        f"task {spec.name!r} declared num_returns={spec.num_returns} but "
                        f"produced {len(encoded)} values"
                    ),
                )
            return self._reply_from_serialized(spec, [EncodedObject(b) for b in encoded])
        finally:
            # Refs the foreign code gave up during the call stay held until the refs in
            # its results are registered (above), so none is freed in between.
            self.cw.host_api().flush_released(spec.task_id)

    def _arg_buffers(self, spec: common_pb2.TaskSpec) -> list[Any]:
        """Arguments as encoded objects: inline bytes, or store views for refs."""
        out: list[Any] = [None] * len(spec.args)
        by_ref: list[tuple[int, ObjectRef]] = []
        nested: list[ObjectRef] = []
        for i, a in enumerate(spec.args):
            if a.HasField("ref"):
                by_ref.append((i, ObjectRef(a.ref.object_id, owner_of(a.ref.owner))))
            else:
                out[i] = a.value
                nested.extend(refs_in(a.value))
        if nested:
            self.cw.io.run(self.cw.register_borrowed(nested))
            # Foreign code may keep them (e.g. in actor state): hold them for it.
            self.cw.host_api().hold(nested)
        if by_ref:
            for (i, _), buf in zip(
                by_ref, self.cw.get_encoded([r for _, r in by_ref]), strict=False
            ):
                out[i] = buf
                # The SDK releases every ref inside its arguments when the call ends.
                self.cw.host_api().hold(refs_in(buf))
        return out

    # -- arguments and returns -----------------------------------------------------
    def _resolve_args(self, spec: common_pb2.TaskSpec) -> tuple[list[Any], dict[str, Any]]:
        values: list[Any] = [None] * len(spec.args)
        by_ref: list[tuple[int, ObjectRef]] = []
        nested: list[ObjectRef] = []
        for i, a in enumerate(spec.args):
            if a.HasField("ref"):
                by_ref.append((i, ObjectRef(a.ref.object_id, owner_of(a.ref.owner))))
            else:
                value, refs = deserialize_with_refs(a.value)
                values[i] = value
                nested.extend(refs)
        if nested:
            self.cw.io.run(self.cw.register_borrowed(nested))
        if by_ref:
            got = self.cw.get([r for _, r in by_ref])
            for (i, _), v in zip(by_ref, got, strict=False):
                values[i] = v
        nkw = len(spec.kwarg_names)
        if nkw:
            pos = values[:-nkw]
            kwargs = dict(zip(spec.kwarg_names, values[-nkw:], strict=False))
        else:
            pos, kwargs = values, {}
        return pos, kwargs

    def _returns_reply(self, spec: common_pb2.TaskSpec, result: Any) -> worker_pb2.PushTaskReply:
        n = spec.num_returns
        if n == 0:
            return worker_pb2.PushTaskReply()
        if n == 1:
            values = [result]
        else:
            try:
                values = list(result)
            except TypeError:
                values = []
            if len(values) != n:
                return self.error_reply(
                    spec,
                    ValueError(
                        f"task {spec.name!r} declared num_returns={n} but returned "
                        f"{type(result).__name__} {'of length ' + str(len(values)) if values else ''}".rstrip()
                    ),
                )
        try:
            sos = [serialize(v) for v in values]
        except Exception as e:  # e.g. an unserializable return value
            return self.error_reply(spec, e)
        return self._reply_from_serialized(spec, sos)

    def _reply_from_serialized(
        self, spec: common_pb2.TaskSpec, sos: list[Any]
    ) -> worker_pb2.PushTaskReply:
        reply = worker_pb2.PushTaskReply()
        caller = owner_of(spec.caller)
        try:
            for i, so in enumerate(sos):
                oid = object_id_for(spec.task_id, i + 1)
                ro = reply.returns.add(object_id=oid)
                if so.contained_refs:
                    nested = [r for r in so.contained_refs if r.owner.worker_id != caller.worker_id]
                    self.cw.io.run(self.cw.register_borrowed(nested, borrower=caller))
                    for r in so.contained_refs:
                        ro.nested_refs.add(object_id=r.object_id, owner=address_proto(r.owner))
                size = so.total_size()
                if size > INLINE_THRESHOLD:
                    self.cw.io.run(self.cw.write_to_store(oid, so))
                    ro.in_store = True
                    ro.node_id = self.cw.node_id
                    ro.size = size
                else:
                    ro.data = so.to_bytes()
                    ro.size = size
        except Exception as e:  # e.g. the store cannot hold a large return value
            return self.error_reply(spec, e)
        return reply

    def error_reply(
        self, spec: common_pb2.TaskSpec, err: BaseException
    ) -> worker_pb2.PushTaskReply:
        name = spec.name or spec.function.python.qualname
        obj = error_object(err, name)
        reply = worker_pb2.PushTaskReply(is_application_error=True)
        for i in range(
            max(spec.num_returns, 1 if spec.type == common_pb2.ACTOR_CREATION_TASK else 0)
        ):
            reply.returns.add(
                object_id=object_id_for(spec.task_id, i + 1), data=obj.data, size=obj.size
            )
        if spec.type == common_pb2.ACTOR_CREATION_TASK:
            reply.actor_creation_failed = True
        return reply

    # -- actors ------------------------------------------------------------------------
    def _create_actor(
        self, spec: common_pb2.TaskSpec, gpu_ids: list[GpuId]
    ) -> worker_pb2.PushTaskReply:
        self._set_gpus(gpu_ids)
        ac = spec.actor_creation
        self.cw.namespace = ac.namespace or spec.namespace
        self._actor_id = ac.actor_id
        self._actor_name = ac.name
        if spec.function.language != common_pb2.PYTHON:
            le = self._language_executor(spec)
            self._foreign_actor = True
            self._actor = le

            def create(bufs: list[Any]) -> list[bytes]:
                le.create_actor(spec.function, bufs, list(spec.kwarg_names))
                return []

            return self._run_foreign(spec, create)
        try:
            cls = self.cw.functions.load(spec.function.python)
            cls = getattr(cls, "_cls", cls)  # an ActorClass pickled by value
        except Exception as e:
            return self.error_reply(spec, e)
        token = task_context.set(
            TaskContext(spec.task_id, ac.actor_id, gpu_ids, dict(spec.resources), spec.name)
        )
        try:
            args, kwargs = self._resolve_args(spec)
            is_async = ac.is_async or any(
                inspect.iscoroutinefunction(m) for _, m in inspect.getmembers(cls) if callable(m)
            )
            if is_async:
                self._start_actor_loop(ac.max_concurrency or 1000)
                self._actor = self._on_actor_loop(lambda: cls(*args, **kwargs))
            else:
                if ac.max_concurrency > 1:
                    self._actor_pool = ThreadPoolExecutor(
                        ac.max_concurrency, thread_name_prefix="plait-actor"
                    )
                self._actor = cls(*args, **kwargs)
        except BaseException as e:
            return self.error_reply(spec, e)
        finally:
            task_context.reset(token)
        return worker_pb2.PushTaskReply()

    def _start_actor_loop(self, max_concurrency: int) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._actor_sem = asyncio.Semaphore(max_concurrency)
            ready.set()
            loop.run_forever()

        threading.Thread(target=run, name="plait-async-actor", daemon=True).start()
        ready.wait(10)
        self._actor_loop = loop

    def _on_actor_loop(self, fn: Any) -> Any:
        assert self._actor_loop is not None

        async def call() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._actor_loop).result()

    async def _actor_call(self, spec: common_pb2.TaskSpec) -> worker_pb2.PushTaskReply:
        at = spec.actor_task
        order = self._order.setdefault(at.caller_id, _CallerOrder())
        if at.sequence_number > order.expected:
            ev = order.waiting.setdefault(at.sequence_number, asyncio.Event())
            await ev.wait()
        # Start it (enqueue on its executor) before letting the next call of this caller go.
        fut = self._start_actor_call(spec)
        order.expected = max(order.expected, at.sequence_number + 1)
        nxt = order.waiting.pop(order.expected, None)
        if nxt is not None:
            nxt.set()
        reply: worker_pb2.PushTaskReply = await fut
        return reply

    def _start_actor_call(self, spec: common_pb2.TaskSpec) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        method_name = spec.actor_task.method_name
        if self._actor is None:
            return _done(
                loop,
                self.error_reply(
                    spec,
                    exc.RayActorError(f"this worker hosts no actor, cannot run {method_name!r}"),
                ),
            )
        if self._foreign_actor:
            le: LanguageExecutor = self._actor
            return asyncio.wrap_future(
                self.main.submit(
                    self._run_foreign,
                    spec,
                    lambda bufs: le.call_method(
                        method_name, bufs, list(spec.kwarg_names), spec.num_returns
                    ),
                )
            )
        method = getattr(self._actor, method_name, None)
        if method is None or not callable(method):
            cls_name = type(self._actor).__name__
            return _done(
                loop,
                self.error_reply(
                    spec, AttributeError(f"'{cls_name}' actor has no method '{method_name}'")
                ),
            )
        if self._actor_loop is not None:
            cfut = asyncio.run_coroutine_threadsafe(self._run_async(spec, method), self._actor_loop)
            return asyncio.wrap_future(cfut)
        if self._actor_pool is None:
            return asyncio.wrap_future(
                self.main.submit(self._run_in_thread, spec, method, self.gpu_ids)
            )
        return loop.run_in_executor(
            self._actor_pool, self._run_in_thread, spec, method, self.gpu_ids
        )

    async def _run_async(self, spec: common_pb2.TaskSpec, method: Any) -> worker_pb2.PushTaskReply:
        assert self._actor_sem is not None
        task_id = spec.task_id
        async with self._actor_sem:
            if task_id in self._cancelled:
                return worker_pb2.PushTaskReply(cancelled=True)
            task_context.set(
                TaskContext(task_id, self._actor_id, self.gpu_ids, dict(spec.resources), spec.name)
            )
            loop = asyncio.get_running_loop()
            try:
                args, kwargs = await loop.run_in_executor(None, self._resolve_args, spec)
                if inspect.iscoroutinefunction(method):
                    fut = asyncio.ensure_future(method(*args, **kwargs))
                    self._async_running[task_id] = fut
                    result = await fut
                else:
                    result = method(*args, **kwargs)
            except asyncio.CancelledError:
                return worker_pb2.PushTaskReply(cancelled=True)
            except BaseException as e:
                return self.error_reply(spec, e)
            finally:
                self._async_running.pop(task_id, None)
            return await loop.run_in_executor(None, self._returns_reply, spec, result)

    # -- cancellation ------------------------------------------------------------------
    def is_cancelled(self, task_id: bytes) -> bool:
        return task_id in self._cancelled

    def cancel(self, task_id: bytes, force: bool) -> bool:
        self._cancelled.add(task_id)
        if self._actor is not None:
            # An actor call is never interrupted (the actor's state would be left half
            # updated): a queued one will not start, a running one reports cancelled when
            # it ends; only an async actor's coroutine is cancelled, as in Ray.
            fut = self._async_running.get(task_id)
            if fut is not None and self._actor_loop is not None:
                self._actor_loop.call_soon_threadsafe(fut.cancel)
            return True
        if force:
            asyncio.get_running_loop().call_later(0.05, os._exit, 1)
            return True
        ident = self._running.get(task_id)
        if ident is not None and ident == self.main.thread_ident:
            # SIGINT interrupts blocking calls (sleep, I/O) in the main thread too.
            signal.pthread_kill(ident, signal.SIGINT)
        elif ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(_Cancelled)
            )
        fut = self._async_running.get(task_id)
        if fut is not None and self._actor_loop is not None:
            self._actor_loop.call_soon_threadsafe(fut.cancel)
        return True


def device_ids(indices: list[int], visible: str | None) -> list[GpuId]:
    """The devices a lease's GPU indices name: the index-th entry of the raylet's
    CUDA_VISIBLE_DEVICES when that is set (an int, or the entry as given, e.g. a UUID),
    else the index itself."""
    entries = [e.strip() for e in visible.split(",") if e.strip()] if visible else []
    out: list[GpuId] = []
    for i in indices:
        if i < len(entries):
            e = entries[i]
            out.append(int(e) if e.isdigit() else e)
        else:
            out.append(i)
    return out


def _done(loop: asyncio.AbstractEventLoop, value: Any) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = loop.create_future()
    fut.set_result(value)
    return fut
