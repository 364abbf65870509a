"""Calling C++ and Java from Python: plait.cpp_function, plait.java_actor_class, ...

The callee runs in a C++ or Java worker (a worker process of that language, started by the
raylet); arguments and results cross in the language-neutral object format.
"""

from __future__ import annotations

from typing import Any

from plait._core.actor_handle import ActorHandle, create_actor
from plait._core.options import resolve
from plait._core.submit import returns, submit_task
from plait._init import connected_core_worker
from plait._protocol import common_pb2


class CrossLanguageFunction:
    """A function of another language, called like a remote function (the same options,
    retries and ownership as one)."""

    def __init__(
        self,
        descriptor: common_pb2.FunctionDescriptor,
        name: str,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._descriptor = descriptor
        self._name = name
        self._options = dict(options or {})
        self._call_options = resolve(self._options, "task", f"function {name!r}")

    def options(self, **options: Any) -> CrossLanguageFunction:
        return CrossLanguageFunction(self._descriptor, self._name, {**self._options, **options})

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        cw = connected_core_worker()
        opts = self._call_options
        refs = submit_task(cw, self._descriptor, args, kwargs, opts, self._name)
        return returns(refs, opts.num_returns)

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
        self._call_options = resolve(self._options, "actor", f"actor class {class_name!r}")

    def options(self, **options: Any) -> CrossLanguageActorClass:
        return CrossLanguageActorClass(
            self._descriptor, self._class_name, {**self._options, **options}
        )

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        cw = connected_core_worker()
        return create_actor(
            cw, self._descriptor, self._class_name, self._call_options, args, kwargs
        )


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


def _require_java() -> None:
    """Fails now, saying `pip install 'plait[java]'`, when JPype1 (the Java workers' JVM
    host) is missing, rather than in a Java worker that cannot start."""
    # Importing the package raises that error (plait/_java/__init__.py).
    import plait._java  # noqa: PLC0415, F401


def java_function(class_name: str, method: str) -> CrossLanguageFunction:
    """A public static method of any class on the job's classpath (the JDK's included)."""
    _require_java()
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
    _require_java()
    _check_name(class_name, "the Java class name")
    return CrossLanguageActorClass(
        common_pb2.FunctionDescriptor(
            language=common_pb2.JAVA,
            java=common_pb2.JavaFunction(class_name=class_name, method="<init>", arity=-1),
        ),
        class_name,
    )
