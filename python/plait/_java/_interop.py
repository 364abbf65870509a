"""JPype glue: Python buffers as Java direct ByteBuffers (no copy, kept alive for Java),
byte[] conversions, and a typed @JOverride.

jpype.nio.convertToDirectBuffer wraps a buffer's memory (read-only buffers become
read-only DirectByteBufferR) and releases the Python buffer when the Java buffer object it
returned is collected. Java's slices of it do not count for a read-only one (bytes, a
store mapping): they reference the writable buffer under the DirectByteBufferR, not it. So
whatever Java may keep a view of (a tensor or Arrow column in an argument, a Plait.get
result) also gets a Keepalive: a Java AutoCloseable whose Python side holds the sources
and the proxies of their Java buffers until Java drops it (its GC) or closes it. Java's
codec gives the Keepalive to every view it makes (io.plait.runtime.ForeignMemory: every
ByteBuffer over the memory; Tensor; EncodedObject until it has copied the bytes out).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar, cast

import jpype  # type: ignore[import-untyped]
import jpype.nio  # type: ignore[import-untyped]

F = TypeVar("F", bound=Callable[..., Any])

# Encoded values in bytes up to this size go to Java as a copy in a byte[] (a call's inline
# arguments are at most 100 KiB): cheaper than a direct ByteBuffer and a Keepalive, and Java
# then owns the memory. Larger ones, and every store view, are passed as direct buffers.
COPY_MAX = 128 * 1024


def copied(buf: Any) -> TypeGuard[bytes]:
    """Whether `buf` goes to Java as a byte[] copy (see COPY_MAX)."""
    return type(buf) is bytes and len(buf) <= COPY_MAX


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


def java_bytes(data: bytes | bytearray | memoryview) -> Any:
    """A Java byte[] (a copy: Java arrays cannot alias Python memory)."""
    return jpype.JArray(jpype.JByte)(bytes(data))


def py_bytes(array: Any) -> bytes:
    """A Java byte[] as bytes (one memcpy through the buffer protocol)."""
    return bytes(memoryview(array))
