"""The executor of Java workers: runs Java methods and actors through io.plait.runtime.
TaskExecutor in this process's JVM (docs/cross-language.md, "Executor contract").

Each call is one JPype call into TaskExecutor's py* entry points. Small inline arguments
(bytes up to _interop.COPY_MAX: a task's inline values are at most 100 KiB) are copied into Java
byte arrays, which costs less than wrapping them; every other argument (a read-only view of
the shared-memory store) crosses without copying, as a direct ByteBuffer over the same
memory that a Keepalive holds for Java, and the Java codec reads tensors and Arrow columns
in place. Results come back as Java byte arrays, one encoded object each, copied once into
Python bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jpype  # type: ignore[import-untyped]

from plait._core.language import Buffer, LanguageError, error_cause
from plait._java import jvm
from plait._java._interop import Keepalive, copied, direct_buffer, py_bytes
from plait._protocol import common_pb2

LANGUAGE = "java"
_JSTRINGS_MAX = 1024


class JavaExecutor:
    """The LanguageExecutor for Java (one per worker; the worker hosts at most one actor)."""

    language = LANGUAGE

    def __init__(self, class_path: Sequence[str] = ()) -> None:
        extra = jvm.start(class_path)
        self._task_failure = jpype.JClass("io.plait.runtime.TaskFailure")
        self._byte_buffer = jpype.JClass("java.nio.ByteBuffer")
        self._byte_array = jpype.JArray(jpype.JByte)
        # Java strings of the names called (an actor calls a few methods over and over):
        # JPype would otherwise convert the Python str on every call.
        self._jstrings: dict[str, Any] = {}
        self._executor = jpype.JClass("io.plait.runtime.TaskExecutor")(
            jpype.JArray(jpype.JString)(extra)
        )

    @classmethod
    def for_code_search_path(cls, code_search_path: list[str]) -> JavaExecutor:
        """The job's jars and class directories (a directory's jars included)."""
        return cls(code_search_path)

    def call_function(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> list[bytes]:
        java = _java_descriptor(function)
        call = self._executor.pyCallFunction
        cls, name = self._jstring(java.class_name), self._jstring(java.method)
        return self._call(
            lambda i, v, k, owner: call(cls, name, i, v, k, num_returns, owner), args, kwarg_names
        )

    def create_actor(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
    ) -> None:
        java = _java_descriptor(function)
        call = self._executor.pyCreateActor
        self._call(lambda i, v, k, owner: call(java.class_name, i, v, k, owner), args, kwarg_names)

    def call_method(
        self, method: str, args: Sequence[Buffer], kwarg_names: Sequence[str], num_returns: int
    ) -> list[bytes]:
        call = self._executor.pyCallMethod
        name = self._jstring(method)
        return self._call(
            lambda i, v, k, owner: call(name, i, v, k, num_returns, owner), args, kwarg_names
        )

    def _jstring(self, s: str) -> Any:
        j = self._jstrings.get(s)
        if j is None:
            if len(self._jstrings) >= _JSTRINGS_MAX:
                self._jstrings.clear()
            j = self._jstrings[s] = jpype.JString(s)
        return j

    def actor(self) -> Any:
        """The Java actor instance (a JPype proxy), or None before create_actor."""
        return self._executor.actor()

    def _call(
        self,
        call: Callable[[Any, Any, Any, Any], Any],
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
    ) -> list[bytes]:
        # JPype converts the list (bytes and None) to a byte[][] itself, in one go.
        inline: list[bytes | None] = []
        views: list[Any] | None = None
        owner = None
        for i, a in enumerate(args):
            if copied(a):
                inline.append(a)
                continue
            if views is None:
                views = [None] * len(args)
            views[i] = direct_buffer(a)
            inline.append(None)
        if views is not None:
            # Java's views of these arguments (tensors, Arrow columns, every ByteBuffer over
            # them) hold this, and with it the Python buffers under them; Java closes it
            # after the call when it kept no view.
            owner = Keepalive((list(args), [v for v in views if v is not None]))
            views = jpype.JArray(self._byte_buffer)(views)
        try:
            out = call(inline, views, list(kwarg_names) if kwarg_names else None, owner)
        except self._task_failure as e:
            raise LanguageError(
                str(e.getTypeName()),
                str(e.getRemoteMessage()),
                str(e.getStackText()),
                LANGUAGE,
                error_cause(_bytes_or_none(e.getCauseError())),
            ) from None
        except jpype.JException as e:  # outside the executor's own handling (e.g. OOM)
            message = e.getMessage()
            raise LanguageError(
                str(e.getClass().getName()),
                "" if message is None else str(message),
                str(e.stacktrace()),
                LANGUAGE,
            ) from None
        if out is None:
            return []
        if isinstance(out, self._byte_array):  # the one result (TaskExecutor.pyResults)
            return [py_bytes(out)]
        return [py_bytes(out[i]) for i in range(len(out))]


def _bytes_or_none(array: Any) -> bytes | None:
    return None if array is None else py_bytes(array)


def _java_descriptor(function: common_pb2.FunctionDescriptor) -> common_pb2.JavaFunction:
    if function.WhichOneof("kind") != "java":
        raise LanguageError(
            "java.lang.IllegalArgumentException",
            f"a Java worker was given a {function.WhichOneof('kind')} function",
            "",
            LANGUAGE,
        )
    return function.java
