"""Calling C++ and Java from Python: plait.cpp_function, plait.java_actor_class, ...

The callee runs in a C++ or Java worker (a worker process of that language, started by the
raylet); arguments and results cross in the language-neutral object format.
"""

from __future__ import annotations

from typing import Any

from plait._actor import ActorHandle, create_actor
from plait._core.context import current_core_worker
from plait._core.task_spec import make_return_refs, new_task
from plait._protocol import common_pb2
from plait._remote_function import (
    ACTOR_OPTIONS,
    TASK_OPTIONS,
    _returns,
    check_options,
    resource_request,
)


class CrossLanguageFunction:
    """A function of another language, called like a remote function."""

    def __init__(
        self,
        descriptor: common_pb2.FunctionDescriptor,
        name: str,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._descriptor = descriptor
        self._name = name
        self._options = dict(options or {})
        check_options(self._options, TASK_OPTIONS, f"function {name!r}")

    def options(self, **options: Any) -> CrossLanguageFunction:
        return CrossLanguageFunction(self._descriptor, self._name, {**self._options, **options})

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        cw = current_core_worker()
        num_returns = int(self._options.get("num_returns", 1))
        task = new_task(
            cw,
            type_=common_pb2.NORMAL_TASK,
            function=self._descriptor,
            args=args,
            kwargs=kwargs,
            num_returns=num_returns,
            resources=resource_request(self._options, 1.0),
            max_retries=int(self._options.get("max_retries", 3)),
            name=self._options.get("name") or self._name,
        )
        refs = make_return_refs(cw, task)
        cw.task_submitter.submit(task)
        return _returns(refs, num_returns)

    def __repr__(self) -> str:
        lang = common_pb2.Language.Name(self._descriptor.language).lower()
        return f"<{lang} function {self._name}>"


class CrossLanguageActorClass:
    """An actor class of another language: `.remote(*args)` gives an ActorHandle whose
    methods are checked by the actor itself (any public method may be called)."""

    def __init__(
        self,
        descriptor: common_pb2.FunctionDescriptor,
        class_name: str,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._descriptor = descriptor
        self._class_name = class_name
        self._options = dict(options or {})
        check_options(self._options, ACTOR_OPTIONS, f"actor class {class_name!r}")

    def options(self, **options: Any) -> CrossLanguageActorClass:
        return CrossLanguageActorClass(
            self._descriptor, self._class_name, {**self._options, **options}
        )

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        return create_actor(self._descriptor, self._class_name, {}, self._options, args, kwargs)


def _check_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a non-empty str, got {value!r}")
    return value


def cpp_function(name: str) -> CrossLanguageFunction:
    """A C++ function registered with PLAIT_REMOTE in one of the job's libraries."""
    _check_name(name, "the C++ function name")
    return CrossLanguageFunction(
        common_pb2.FunctionDescriptor(
            language=common_pb2.CPP, cpp=common_pb2.CppFunction(symbol=name)
        ),
        name,
    )


def cpp_actor_class(name: str) -> CrossLanguageActorClass:
    """A C++ class registered with PLAIT_ACTOR in one of the job's libraries."""
    _check_name(name, "the C++ class name")
    return CrossLanguageActorClass(
        common_pb2.FunctionDescriptor(
            language=common_pb2.CPP, cpp=common_pb2.CppFunction(symbol=name)
        ),
        name,
    )


def java_function(class_name: str, method: str) -> CrossLanguageFunction:
    """A public static method of any class on the job's classpath (the JDK's included)."""
    _check_name(class_name, "the Java class name")
    _check_name(method, "the Java method name")
    return CrossLanguageFunction(
        common_pb2.FunctionDescriptor(
            language=common_pb2.JAVA,
            java=common_pb2.JavaFunction(class_name=class_name, method=method, arity=-1),
        ),
        f"{class_name}.{method}",
    )


def java_actor_class(class_name: str) -> CrossLanguageActorClass:
    """Any public class on the job's classpath, constructed with matching arguments."""
    _check_name(class_name, "the Java class name")
    return CrossLanguageActorClass(
        common_pb2.FunctionDescriptor(
            language=common_pb2.JAVA,
            java=common_pb2.JavaFunction(class_name=class_name, method="<init>", arity=-1),
        ),
        class_name,
    )
