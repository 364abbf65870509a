"""@plait.remote on functions: RemoteFunction and its options."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from plait._core.context import core_worker_or_init
from plait._core.task_spec import make_return_refs, new_task
from plait._format.object_ref import ObjectRef
from plait._protocol import common_pb2

TASK_OPTIONS = {
    "num_cpus",
    "num_gpus",
    "resources",
    "num_returns",
    "max_retries",
    "name",
    "retry_exceptions",
    "memory",
    "runtime_env",
    "scheduling_strategy",
    "accelerator_type",
    "max_calls",
    "_metadata",
}
ACTOR_OPTIONS = {
    "num_cpus",
    "num_gpus",
    "resources",
    "max_concurrency",
    "name",
    "namespace",
    "lifetime",
    "max_restarts",
    "max_task_retries",
    "get_if_exists",
    "memory",
    "runtime_env",
    "scheduling_strategy",
    "accelerator_type",
    "concurrency_groups",
    "_metadata",
}


def check_options(opts: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(opts) - allowed)
    if unknown:
        raise ValueError(
            f"Invalid option(s) for {what}: {', '.join(unknown)}. "
            f"Valid options: {', '.join(sorted(allowed))}."
        )
    for key in ("num_cpus", "num_gpus"):
        v = opts.get(key)
        if v is not None and (not isinstance(v, (int, float)) or v < 0):
            raise ValueError(f"{key} must be a non-negative number, got {v!r}")
    retries = opts.get("max_retries")
    if retries is not None and (
        not isinstance(retries, int) or isinstance(retries, bool) or retries < -1
    ):
        raise ValueError(f"max_retries must be an int >= -1 (-1: retry forever), got {retries!r}")
    retry_exc = opts.get("retry_exceptions")
    if (
        retry_exc is not None
        and not isinstance(retry_exc, bool)
        and not (
            isinstance(retry_exc, (list, tuple))
            and all(isinstance(c, type) and issubclass(c, BaseException) for c in retry_exc)
        )
    ):
        raise ValueError(
            f"retry_exceptions must be either a boolean or a list of exceptions, got {retry_exc!r}"
        )
    res = opts.get("resources")
    if res is not None:
        if not isinstance(res, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and v >= 0 for k, v in res.items()
        ):
            raise ValueError(
                f"resources must be a dict of name -> non-negative number, got {res!r}"
            )
        if "CPU" in res or "GPU" in res:
            raise ValueError(
                "Use the num_cpus and num_gpus options, not resources, for CPU and GPU."
            )


def max_retries(value: int) -> int:
    """Ray's max_retries: -1 retries forever."""
    return 2**31 - 1 if value == -1 else int(value)


def resource_request(opts: dict[str, Any], default_cpus: float) -> dict[str, float]:
    out: dict[str, float] = {}
    cpus = opts.get("num_cpus")
    cpus = default_cpus if cpus is None else float(cpus)
    if cpus:
        out["CPU"] = cpus
    gpus = opts.get("num_gpus") or 0
    if gpus:
        out["GPU"] = float(gpus)
    for k, v in (opts.get("resources") or {}).items():
        if v:
            out[k] = float(v)
    return out


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


def signature_of(fn: Any, drop_self: bool = False) -> inspect.Signature | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if drop_self:
        params = list(sig.parameters.values())[1:]
        sig = sig.replace(parameters=params)
    return sig


class RemoteFunction:
    def __init__(self, function: Any, options: dict[str, Any]) -> None:
        if not callable(function):
            raise TypeError(f"@plait.remote expects a function or class, got {function!r}")
        check_options(options, TASK_OPTIONS, "a remote function")
        self._function = function
        self._options = options
        self._signature = signature_of(function)
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Remote functions cannot be called directly. Instead of running "
            f"'{self._function.__name__}()', try "
            f"'{self._function.__name__}.remote()'."
        )

    def options(self, **options: Any) -> RemoteFunction:
        merged = {**self._options, **options}
        rf = RemoteFunction.__new__(RemoteFunction)
        check_options(merged, TASK_OPTIONS, "a remote function")
        rf._function = self._function
        rf._options = merged
        rf._signature = self._signature
        functools.update_wrapper(rf, self._function)
        return rf

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        cw = core_worker_or_init()
        check_call(
            self._signature, args, kwargs, f"remote function '{self._function.__qualname__}'"
        )
        opts = self._options
        num_returns = opts.get("num_returns", 1)
        if not isinstance(num_returns, int) or num_returns < 0:
            raise ValueError(f"num_returns must be a non-negative int, got {num_returns!r}")
        desc = common_pb2.FunctionDescriptor(
            language=common_pb2.PYTHON, python=cw.functions.export(self._function)
        )
        task = new_task(
            cw,
            type_=common_pb2.NORMAL_TASK,
            function=desc,
            args=args,
            kwargs=kwargs,
            num_returns=num_returns,
            resources=resource_request(opts, 1.0),
            max_retries=max_retries(opts.get("max_retries", 3)),
            name=opts.get("name") or self._function.__qualname__,
        )
        retry_exc = opts.get("retry_exceptions") or False
        task.retry_exceptions = tuple(retry_exc) if isinstance(retry_exc, list) else retry_exc
        refs = make_return_refs(cw, task)
        cw.task_submitter.submit(task)
        return _returns(refs, num_returns)

    def __reduce__(self) -> Any:
        return (RemoteFunction, (self._function, self._options))


def _returns(refs: list[ObjectRef], num_returns: int) -> Any:
    if num_returns == 1:
        return refs[0]
    if num_returns == 0:
        return None
    return refs
