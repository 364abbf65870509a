"""Caller side of a task: turning Python arguments into a TaskSpec, and the task's record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait._core.context import task_context
from plait._core.encoded import INLINE_THRESHOLD, EncodedObject
from plait._core.memory_store import StoredObject
from plait._core.options import CallOptions
from plait._format import serialize
from plait._format.ids import object_id_for, random_id
from plait._format.object_ref import ObjectRef, OwnerAddress
from plait._protocol import common_pb2
from plait._transport.channels import resolve_future

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker


@dataclass
class PendingTask:
    spec: common_pb2.TaskSpec
    # Every ref the task's arguments hold (top-level and nested): pinned until it ends.
    pinned: list[tuple[bytes, OwnerAddress]]
    # Top-level ref arguments we own: resolved (inlined) before the task is sent.
    owned_deps: list[int] = field(default_factory=list)
    return_ids: list[bytes] = field(default_factory=list)
    cancelled: bool = False
    done: bool = False
    # Keeps the ObjectRefs of args alive while the task is queued (arg refs the user drops).
    keepalive: list[Any] = field(default_factory=list)
    pushed_to: Any = None
    # The task (in this process) that submitted this one: a recursive cancel of it
    # cancels this one too.
    parent_task_id: bytes = b""
    # Ray's retry_exceptions: retry (up to max_retries) when the task raises; True for
    # any exception, or a tuple of the exception classes to retry on.
    retry_exceptions: bool | tuple[type[BaseException], ...] = False
    # While its submitter waits for its arguments: that wait (a cancel stops it).
    resolving: asyncio.Future[StoredObject | None] | None = None


def build_args(
    cw: CoreWorker, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[
    list[common_pb2.TaskArg], list[str], list[tuple[bytes, OwnerAddress]], list[int], list[Any]
]:
    """Encode call arguments: refs stay refs, values are serialized (large ones put)."""
    out: list[common_pb2.TaskArg] = []
    pinned: list[tuple[bytes, OwnerAddress]] = []
    owned_deps: list[int] = []
    keep: list[Any] = []
    items = list(args) + list(kwargs.values())
    for i, value in enumerate(items):
        if isinstance(value, ObjectRef):
            out.append(
                common_pb2.TaskArg(
                    ref=common_pb2.ObjectRefProto(
                        object_id=value.object_id, owner=_addr(value.owner)
                    )
                )
            )
            pinned.append((value.object_id, value.owner))
            keep.append(value)
            if value.owner.worker_id == cw.worker_id:
                owned_deps.append(i)
            continue
        # Values a C++/Java SDK already encoded pass through as they are.
        so = value if isinstance(value, EncodedObject) else serialize(value)
        nested = so.contained_refs
        if so.total_size() > INLINE_THRESHOLD:
            ref = cw.put_serialized(so)
            keep.append(ref)
            out.append(
                common_pb2.TaskArg(
                    ref=common_pb2.ObjectRefProto(object_id=ref.object_id, owner=_addr(ref.owner))
                )
            )
            pinned.append((ref.object_id, ref.owner))
            continue
        arg = common_pb2.TaskArg(value=so.to_bytes())
        for r in nested:
            arg.nested_refs.append(
                common_pb2.ObjectRefProto(object_id=r.object_id, owner=_addr(r.owner))
            )
            pinned.append((r.object_id, r.owner))
        keep.extend(nested)
        out.append(arg)
    return out, list(kwargs.keys()), pinned, owned_deps, keep


def _addr(a: OwnerAddress) -> common_pb2.Address:
    return common_pb2.Address(node_id=a.node_id, ip=a.ip, port=a.port, worker_id=a.worker_id)


def new_task(
    cw: CoreWorker,
    *,
    type_: int,
    function: common_pb2.FunctionDescriptor,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: CallOptions,
    name: str,
) -> PendingTask:
    """The one spec builder: every task, actor creation and actor call of every language
    (and of C++ and Java code through HostApi) is built here from resolved options, so
    retries, resources and ownership mean the same for all of them."""
    task_id = random_id()
    targs, kwnames, pinned, owned_deps, keep = build_args(cw, args, kwargs)
    spec = common_pb2.TaskSpec(
        task_id=task_id,
        job_id=cw.job_id,
        type=type_,  # type: ignore[arg-type]
        function=function,
        args=targs,
        kwarg_names=kwnames,
        num_returns=options.num_returns,
        resources=options.resources,
        caller=cw.address_pb(),
        max_retries=options.max_retries,
        name=options.name or name,
        namespace=cw.namespace,
    )
    parent = task_context.get()
    task = PendingTask(
        spec=spec,
        pinned=pinned,
        owned_deps=owned_deps,
        keepalive=keep,
        parent_task_id=parent.task_id if parent is not None else b"",
        retry_exceptions=options.retry_exceptions,
    )
    task.return_ids = [object_id_for(task_id, i + 1) for i in range(options.num_returns)]
    return task


def make_return_refs(cw: CoreWorker, task: PendingTask) -> list[ObjectRef]:
    """Register the task's returns as owned by us and pin its arguments."""
    cw.ref_counter.add_submitted(task.pinned)
    refs = []
    for oid in task.return_ids:
        cw.ref_counter.add_owned(oid, cw.address)
        refs.append(ObjectRef(oid, cw.address))
    return refs


class DepsCancelled(Exception):
    """The task was cancelled while it waited for its arguments."""


async def wait_for_deps(cw: CoreWorker, task: PendingTask) -> StoredObject | None:
    """resolve_owned_deps, stopped (DepsCancelled) when the task is cancelled meanwhile:
    a cancelled task unpins its arguments, so they may never become ready."""
    task.resolving = asyncio.ensure_future(resolve_owned_deps(cw, task))
    try:
        return await task.resolving
    except asyncio.CancelledError:
        if task.cancelled and task.resolving.cancelled():
            raise DepsCancelled() from None
        raise
    finally:
        task.resolving = None


def stop_waiting_for_deps(task: PendingTask) -> None:
    if task.resolving is not None:
        task.resolving.cancel()


async def resolve_owned_deps(cw: CoreWorker, task: PendingTask) -> StoredObject | None:
    """Wait for the top-level ref args we own; inline small ready values into the spec.

    Returns the stored error of a failed dependency (the task then fails with it)."""
    loop = asyncio.get_running_loop()
    for i in task.owned_deps:
        arg = task.spec.args[i]
        oid = arg.ref.object_id
        fut: asyncio.Future[StoredObject] = loop.create_future()

        def cb(o: StoredObject, fut: asyncio.Future[StoredObject] = fut) -> None:
            loop.call_soon_threadsafe(resolve_future, fut, o)

        got = cw.memory_store.on_ready(oid, cb)
        if got is not None:
            obj = got
        else:
            try:
                obj = await fut
            except asyncio.CancelledError:
                cw.memory_store.remove_waiter(oid, cb)
                raise
        if obj.is_error:
            return obj
        if not obj.in_store and obj.data is not None:
            inner = _inner_refs(cw, oid)
            arg.ClearField("ref")
            arg.value = obj.data
            for own_oid, own in inner:
                arg.nested_refs.append(
                    common_pb2.ObjectRefProto(object_id=own_oid, owner=_addr(own))
                )
    return None


def _inner_refs(cw: CoreWorker, object_id: bytes) -> list[tuple[bytes, OwnerAddress]]:
    return cw.ref_counter.inner_of(object_id)


def finish_task(cw: CoreWorker, task: PendingTask) -> None:
    """The task is over (done, failed or cancelled): unpin its arguments."""
    if task.done:
        return
    task.done = True
    cw.apply(cw.ref_counter.remove_submitted([oid for oid, _ in task.pinned]))
    task.keepalive.clear()


def fail_task(cw: CoreWorker, task: PendingTask, obj: StoredObject) -> None:
    for oid in task.return_ids:
        if cw.ref_counter.owns(oid):
            cw.memory_store.put(oid, obj)
    finish_task(cw, task)
