"""@plait.remote on classes: ActorClass and @plait.method. Handles, method calls and actor
creation live in plait._core.actor_handle (C++ and Java code creates actors through the
same path)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from plait._core.actor_handle import (
    LANGUAGE_NAMES,
    ActorHandle,
    ActorMethod,
    create_actor,
    method_descriptor,
)
from plait._core.options import resolve, validate
from plait._core.submit import check_call, signature_of
from plait._init import connected_core_worker
from plait._protocol import common_pb2

__all__ = [
    "LANGUAGE_NAMES",
    "ActorClass",
    "ActorHandle",
    "ActorMethod",
    "method",
    "method_descriptor",
]


def method(**options: Any) -> Callable[[Any], Any]:
    """Decorate an actor method to set its options, e.g. @plait.method(num_returns=2)."""
    validate(options, "method", "@plait.method")
    num_returns = int(options.get("num_returns", 1))

    def deco(fn: Any) -> Any:
        fn.__plait_num_returns__ = num_returns
        return fn

    return deco


def _methods_of(cls: type) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("__") and name not in ("__call__",):
            continue
        if callable(member):
            out[name] = int(getattr(member, "__plait_num_returns__", 1))
    return out


def _is_async_class(cls: type) -> bool:
    return any(
        inspect.iscoroutinefunction(m) or inspect.isasyncgenfunction(m)
        for _, m in inspect.getmembers(cls)
        if callable(m)
    )


class ActorClass:
    def __init__(self, cls: type, options: dict[str, Any]) -> None:
        self._call_options = resolve(options, "actor")
        self._cls = cls
        self._options = options
        self._methods = _methods_of(cls)
        self._signatures = {
            name: signature_of(getattr(cls, name), drop_self=True)
            for name in self._methods
            if not isinstance(inspect.getattr_static(cls, name), (staticmethod, classmethod))
        }
        self._init_signature = signature_of(cls)
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__module__ = cls.__module__
        self.__doc__ = cls.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actors cannot be instantiated directly. Instead of "
            f"'{self._cls.__name__}()', use '{self._cls.__name__}.remote()'."
        )

    def options(self, **options: Any) -> ActorClass:
        ac = ActorClass.__new__(ActorClass)
        ac.__dict__.update(self.__dict__)
        ac._options = {**self._options, **options}
        ac._call_options = resolve(ac._options, "actor")
        return ac

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        cw = connected_core_worker()
        check_call(self._init_signature, args, kwargs, f"actor class '{self._cls.__name__}'")
        desc = common_pb2.FunctionDescriptor(
            language=common_pb2.PYTHON, python=cw.functions.export(self._cls)
        )
        return create_actor(
            cw,
            desc,
            self._cls.__qualname__,
            self._call_options,
            args,
            kwargs,
            methods=self._methods,
            is_async=_is_async_class(self._cls),
            signatures=self._signatures,
        )

    def __reduce__(self) -> Any:
        return (ActorClass, (self._cls, self._options))
