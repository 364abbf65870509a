"""io.plait.runtime.RuntimeBridge in Python: Java's calls into the hosting core worker.

Java code (a driver under `plait java`, or a Java task calling other tasks) reaches the
runtime through the Java interface io.plait.runtime.RuntimeBridge; RuntimeBridge below
implements it with JPype and forwards each call, as bytes, to a host object with HostApi's
byte-level methods (plait._core.host_api.HostApi). install() makes it the JVM's.

A failure of the call (a bad argument, an unknown actor) is thrown into Java as
io.plait.PlaitException with the Python exception's type and message; a get that timed out
as its subclass io.plait.GetTimeoutException.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import jpype  # type: ignore[import-untyped]

from plait._format import deserialize
from plait._format.exceptions import GetTimeoutError
from plait._java._interop import Keepalive, copied, direct_buffer, override, py_bytes

T = TypeVar("T")


class Host(Protocol):
    """What the bridge forwards to (HostApi has these methods)."""

    def put(self, encoded: bytes) -> bytes: ...

    def get(self, encoded_refs: bytes, timeout_s: float) -> list[Any]: ...

    def submit_task(
        self,
        language: str,
        name_parts: Sequence[str],
        args: Sequence[bytes],
        kwarg_names: Sequence[str],
        num_returns: int,
        resources: dict[str, float],
    ) -> bytes: ...

    def create_actor(
        self,
        language: str,
        name_parts: Sequence[str],
        args: Sequence[bytes],
        kwarg_names: Sequence[str],
        options: dict[str, Any],
    ) -> bytes: ...

    def call_actor(
        self,
        encoded_handle: bytes,
        method: str,
        args: Sequence[bytes],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> bytes: ...

    def get_actor(self, name: str, namespace: str) -> bytes: ...

    def kill_actor(self, encoded_handle: bytes) -> None: ...

    def named_actor_exists(self, name: str, namespace: str) -> bool: ...


def _strings(values: Any) -> list[str]:
    n = len(values)
    return [str(values[i]) for i in range(n)] if n else []


def _args(args: Any) -> list[bytes]:
    """A Java byte[][] as bytes (indexing: JPype's array iterator is Python code)."""
    return [py_bytes(args[i]) for i in range(len(args))]


def _out(data: bytes) -> bytes:
    """A byte[] result: JPype converts Python bytes returned to Java in one copy (cheaper
    than building a JArray here)."""
    return data if type(data) is bytes else bytes(data)


class _Classes:
    def __init__(self) -> None:
        self.buffer_views = jpype.JClass("io.plait.runtime.BufferView").of
        self.byte_buffer = jpype.JClass("java.nio.ByteBuffer")
        self.closeable = jpype.JClass("java.lang.AutoCloseable")


_classes: _Classes | None = None


def _java() -> _Classes:
    """Java classes the bridge uses on every call, looked up once (the JVM is running)."""
    global _classes
    if _classes is None:
        _classes = _Classes()
    return _classes


def _map(encoded: Any) -> dict[str, Any]:
    value = deserialize(encoded if isinstance(encoded, bytes) else py_bytes(encoded))
    if not isinstance(value, dict):
        raise TypeError(f"expected an encoded map, got {type(value).__name__}")
    return value


@jpype.JImplements("io.plait.runtime.RuntimeBridge", deferred=True)
class RuntimeBridge:
    def __init__(self, host: Host) -> None:
        self.host = host
        self._last_resources: tuple[bytes, dict[str, float]] | None = None

    def _forward(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except GetTimeoutError as e:  # the one failure Java code handles by its type
            raise jpype.JClass("io.plait.GetTimeoutException")(
                f"{what}: {type(e).__name__}: {e}"
            ) from e
        except Exception as e:  # raised into Java with a message naming the problem
            raise jpype.JClass("io.plait.PlaitException")(f"{what}: {type(e).__name__}: {e}") from e

    @override
    def put(self, encodedValue: Any) -> Any:
        return self._forward("put", lambda: _out(self.host.put(py_bytes(encodedValue))))

    @override
    def get(self, encodedRefs: Any, timeoutSeconds: float) -> Any:
        def call() -> Any:
            bufs = self.host.get(py_bytes(encodedRefs), float(timeoutSeconds))
            # Small inline values are copied into Java arrays (all in one JPype call). Every
            # other view holds its Python buffer (maybe a map of the store) via a Keepalive,
            # which the decoder gives every Java view of it (a Tensor, its ByteBuffers): once
            # this returns, nothing on the Python side holds the buffer.
            inline: list[bytes | None] = []
            views: list[Any] | None = None
            owners: list[Any] | None = None
            for i, b in enumerate(bufs):
                if copied(b):
                    inline.append(b)
                    continue
                if views is None or owners is None:
                    views, owners = [None] * len(bufs), [None] * len(bufs)
                buf = direct_buffer(b)
                views[i], owners[i] = buf, Keepalive((b, buf))
                inline.append(None)
            if views is None or owners is None:
                return _java().buffer_views(inline, None, None)
            return _java().buffer_views(
                inline,
                jpype.JArray(_java().byte_buffer)(views),
                jpype.JArray(_java().closeable)(owners),
            )

        return self._forward("get", call)

    @override
    def submitTask(
        self,
        language: Any,
        nameParts: Any,
        args: Any,
        kwargNames: Any,
        numReturns: int,
        encodedResources: Any,
    ) -> Any:
        return self._forward(
            "submitTask",
            lambda: _out(
                self.host.submit_task(
                    str(language),
                    _strings(nameParts),
                    _args(args),
                    _strings(kwargNames),
                    int(numReturns),
                    self._resources(encodedResources),
                )
            ),
        )

    def _resources(self, encoded: Any) -> dict[str, float]:
        """The decoded resources map (the last one cached: a program submits the same
        function with the same resources over and over)."""
        data = py_bytes(encoded)
        last = self._last_resources
        if last is not None and last[0] == data:
            return dict(last[1])
        resources = {str(k): float(v) for k, v in _map(data).items()}
        self._last_resources = (data, resources)
        return dict(resources)

    @override
    def createActor(
        self, language: Any, nameParts: Any, args: Any, kwargNames: Any, encodedOptions: Any
    ) -> Any:
        return self._forward(
            "createActor",
            lambda: _out(
                self.host.create_actor(
                    str(language),
                    _strings(nameParts),
                    _args(args),
                    _strings(kwargNames),
                    _map(encodedOptions),
                )
            ),
        )

    @override
    def callActor(
        self, encodedHandle: Any, method: Any, args: Any, kwargNames: Any, numReturns: int
    ) -> Any:
        return self._forward(
            "callActor",
            lambda: _out(
                self.host.call_actor(
                    py_bytes(encodedHandle),
                    str(method),
                    _args(args),
                    _strings(kwargNames),
                    int(numReturns),
                )
            ),
        )

    @override
    def getActor(self, name: Any, namespace: Any) -> Any:
        def call() -> Any:
            if not self.host.named_actor_exists(str(name), str(namespace)):
                return None
            return _out(self.host.get_actor(str(name), str(namespace)))

        return self._forward("getActor", call)

    @override
    def killActor(self, encodedHandle: Any) -> None:
        self._forward("killActor", lambda: self.host.kill_actor(py_bytes(encodedHandle)))

    @override
    def release(self, encodedRefs: Any) -> None:
        """Java's GC collected these refs (io.plait.runtime.RefHolds): one hold each back to
        HostApi.release. Java calls this on a thread that calls the host anyway (before a
        bridge call, around a task), never from its Cleaner. A host without release (a test
        double) keeps no holds."""
        release = getattr(self.host, "release", None)
        if release is not None:
            self._forward("release", lambda: release(py_bytes(encodedRefs)))


def flush_releases() -> None:
    """Gives the holds of refs Java's GC collected back to the host now (they also go
    before each call Java makes and around each task a Java worker runs)."""
    jpype.JClass("io.plait.runtime.HostRuntime").flushReleases()


def install(host: Host) -> RuntimeBridge:
    """Makes `host` the runtime of Java code in this JVM (io.plait.Plait's calls)."""
    bridge = RuntimeBridge(host)
    jpype.JClass("io.plait.runtime.HostRuntime").install(bridge)
    return bridge


def uninstall() -> None:
    jpype.JClass("io.plait.runtime.HostRuntime").install(None)
