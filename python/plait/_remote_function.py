"""@plait.remote on functions: RemoteFunction. Its options are resolved by the one options
table (plait._core.options) and its calls built and submitted by plait._core.submit, the
same path as C++ and Java functions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from plait._core.options import resolve
from plait._core.submit import check_call, returns, signature_of, submit_task
from plait._init import connected_core_worker
from plait._protocol import common_pb2


class RemoteFunction:
    def __init__(self, function: Callable[..., Any], options: dict[str, Any]) -> None:
        if not callable(function):
            raise TypeError(f"@plait.remote expects a function or class, got {function!r}")
        # Checked when decorated (and in .options()), as in Ray: a bad option fails there.
        self._call_options = resolve(options, "task")
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
        rf._call_options = resolve(merged, "task")
        rf._function = self._function
        rf._options = merged
        rf._signature = self._signature
        functools.update_wrapper(rf, self._function)
        return rf

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        cw = connected_core_worker()
        check_call(
            self._signature, args, kwargs, f"remote function '{self._function.__qualname__}'"
        )
        desc = common_pb2.FunctionDescriptor(
            language=common_pb2.PYTHON, python=cw.functions.export(self._function)
        )
        opts = self._call_options
        refs = submit_task(cw, desc, args, kwargs, opts, self._function.__qualname__)
        return returns(refs, opts.num_returns)

    def __reduce__(self) -> Any:
        return (RemoteFunction, (self._function, self._options))
