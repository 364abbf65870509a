"""JPype glue: Python buffers as Java direct ByteBuffers (no copy, kept alive for Java),
byte[] conversions, and a typed @JOverride.

jpype.nio.convertToDirectBuffer wraps a buffer's memory (read-only buffers become
read-only DirectByteBufferR), but only the returned Python proxy keeps the source alive:
a slice Java makes of it does not. So whatever Java may keep a view of (a tensor or Arrow
column in an argument) also gets a Keepalive: a Java AutoCloseable whose Python side holds
the sources until Java drops it (its GC) or closes it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import jpype  # type: ignore[import-untyped]
import jpype.nio  # type: ignore[import-untyped]


F = TypeVar("F", bound=Callable[..., Any])


def override(method: F) -> F:
    """jpype.JOverride, typed (it marks the method and returns it)."""
    return cast(F, jpype.JOverride(method))


@jpype.JImplements("java.lang.AutoCloseable", deferred=True)
class Keepalive:
    """Holds Python objects for as long as Java holds this (or until Java closes it)."""

    def __init__(self, objects: Any) -> None:
        self._objects: Any = objects

    @override
    def close(self) -> None:
        self._objects = None


def direct_buffer(buf: Any) -> Any:
    """A java.nio.ByteBuffer over `buf`'s memory (bytes, memoryview, bytearray, numpy…)."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())  # only a strided view is copied
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return jpype.nio.convertToDirectBuffer(view)


def direct_buffers(bufs: Sequence[Any]) -> Any:
    """A Java ByteBuffer[] over `bufs` (the proxies must stay alive during the call)."""
    cls = jpype.JClass("java.nio.ByteBuffer")
    return jpype.JArray(cls)([direct_buffer(b) for b in bufs])


def java_bytes(data: bytes | bytearray | memoryview) -> Any:
    """A Java byte[] (a copy: Java arrays cannot alias Python memory)."""
    return jpype.JArray(jpype.JByte)(bytes(data))


def py_bytes(array: Any) -> bytes:
    """A Java byte[] as bytes (one memcpy through the buffer protocol)."""
    return bytes(memoryview(array))
