"""The executor of Java workers: runs Java methods and actors through io.plait.runtime.
TaskExecutor in this process's JVM (docs/cross-language.md, "Executor contract").

Arguments cross without copying: each encoded argument (inline bytes, or a read-only view
of the shared-memory store) becomes a direct ByteBuffer over the same memory, and the Java
codec reads tensors and Arrow columns in place. Results come back as Java byte arrays, one
encoded object each, copied once into Python bytes.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jpype  # type: ignore[import-untyped]

from plait._core_worker.language import Buffer, LanguageError
from plait._java import jvm
from plait._java._interop import Keepalive, direct_buffers, py_bytes
from plait._proto import common_pb2

LANGUAGE = "java"


class JavaExecutor:
    """The LanguageExecutor for Java (one per worker; the worker hosts at most one actor)."""

    language = LANGUAGE

    def __init__(self, class_path: Sequence[str] = ()) -> None:
        extra = jvm.start(class_path)
        self._task_failure = jpype.JClass("io.plait.runtime.TaskFailure")
        self._executor = jpype.JClass("io.plait.runtime.TaskExecutor")(
            jpype.JArray(jpype.JString)(extra))

    @classmethod
    def for_code_search_path(cls, code_search_path: list[str]) -> JavaExecutor:
        """The job's jars and class directories (a directory's jars included)."""
        return cls(code_search_path)

    def call_function(self, function: common_pb2.FunctionDescriptor, args: Sequence[Buffer],
                      kwarg_names: Sequence[str], num_returns: int) -> list[bytes]:
        java = _java_descriptor(function)
        return self._call(lambda a, k, owner: self._executor.callFunction(
            java.class_name, java.method, a, k, num_returns, owner), args, kwarg_names)

    def create_actor(self, function: common_pb2.FunctionDescriptor, args: Sequence[Buffer],
                     kwarg_names: Sequence[str]) -> None:
        java = _java_descriptor(function)
        self._call(lambda a, k, owner: self._executor.createActor(
            java.class_name, a, k, owner), args, kwarg_names)

    def call_method(self, method: str, args: Sequence[Buffer], kwarg_names: Sequence[str],
                    num_returns: int) -> list[bytes]:
        return self._call(lambda a, k, owner: self._executor.callMethod(
            method, a, k, num_returns, owner), args, kwarg_names)

    def actor(self) -> Any:
        """The Java actor instance (a JPype proxy), or None before create_actor."""
        return self._executor.actor()

    def _call(self, call: Callable[[Any, Any, Any], Any], args: Sequence[Buffer],
              kwarg_names: Sequence[str]) -> list[bytes]:
        sources = list(args)
        buffers, proxies = direct_buffers(sources)
        # Java's views of the arguments (tensors, Arrow columns, every ByteBuffer over them)
        # hold this, and with it the Python buffers under them; Java closes it after the
        # call when it kept no view.
        owner = Keepalive((sources, proxies))
        names = jpype.JArray(jpype.JString)(list(kwarg_names))
        try:
            out = call(buffers, names, owner)
        except self._task_failure as e:
            raise LanguageError(str(e.getTypeName()), str(e.getRemoteMessage()),
                                str(e.getStackText()), LANGUAGE) from None
        except jpype.JException as e:  # outside the executor's own handling (e.g. OOM)
            message = e.getMessage()
            raise LanguageError(str(e.getClass().getName()),
                                "" if message is None else str(message),
                                str(e.stacktrace()), LANGUAGE) from None
        return [] if out is None else [py_bytes(o) for o in out]


def _java_descriptor(function: common_pb2.FunctionDescriptor) -> common_pb2.JavaFunction:
    if function.WhichOneof("kind") != "java":
        raise LanguageError("java.lang.IllegalArgumentException",
                            f"a Java worker was given a {function.WhichOneof('kind')} "
                            "function", "", LANGUAGE)
    return function.java
