"""Submitting normal tasks and actor calls: the one path every `.remote()` of every language
(and HostApi, for C++ and Java code) takes from resolved options to the submitters."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plait._core.options import CallOptions
from plait._core.task_spec import make_return_refs, new_task
from plait._format.object_ref import ObjectRef
from plait._protocol import common_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker


def submit_task(
    cw: CoreWorker,
    function: common_pb2.FunctionDescriptor,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: CallOptions,
    name: str,
) -> list[ObjectRef]:
    """A normal task of any language; the caller owns its returns."""
    task = new_task(
        cw,
        type_=common_pb2.NORMAL_TASK,
        function=function,
        args=args,
        kwargs=kwargs,
        options=options,
        name=name,
    )
    refs = make_return_refs(cw, task)
    cw.task_submitter.submit(task)
    return refs


def submit_actor_task(
    cw: CoreWorker,
    actor_id: bytes,
    method: str,
    function: common_pb2.FunctionDescriptor,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: CallOptions,
    name: str,
) -> list[ObjectRef]:
    """A call of an actor's method (of any language); the caller owns its returns."""
    task = new_task(
        cw,
        type_=common_pb2.ACTOR_TASK,
        function=function,
        args=args,
        kwargs=kwargs,
        options=options,
        name=name,
    )
    at = task.spec.actor_task
    at.actor_id = actor_id
    at.method_name = method
    at.caller_id = cw.worker_id
    refs = make_return_refs(cw, task)
    cw.actor_submitter.submit(task)
    return refs


def returns(refs: list[ObjectRef], num_returns: int) -> Any:
    """What `.remote()` returns, as in Ray: one ref, None for no returns, else a list."""
    if num_returns == 1:
        return refs[0]
    if num_returns == 0:
        return None
    return refs


def check_call(
    sig: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any], what: str
) -> None:
    """Fail at the call site, as a local call would, when the arguments do not fit."""
    if sig is None or (not args and not kwargs and not sig.parameters):
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"wrong arguments for {what}: {e}") from None


def signature_of(fn: Callable[..., Any], drop_self: bool = False) -> inspect.Signature | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if drop_self:
        params = list(sig.parameters.values())[1:]
        sig = sig.replace(parameters=params)
    return sig
