"""plait._java.executor.JavaExecutor in this process (no cluster): Java methods and actors
called with values encoded by plait._format, results decoded by it, failures as
LanguageError. The JVM starts once per test process (JPype cannot restart it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plait_fixtures import ROOT, build_java

from plait._core.language import LanguageError
from plait._format import deserialize, serialize
from plait._protocol import common_pb2

EXAMPLES_JAR = ROOT / "build" / "java-examples" / "plait-examples.jar"


@pytest.fixture(scope="module")
def built() -> None:
    """The runtime jar and the examples jar (a no-op when they are up to date)."""
    build_java()


@pytest.fixture()
def executor(built: None) -> Iterator[Any]:
    from plait._java.executor import JavaExecutor

    # One executor per test: each hosts at most one actor. The examples jar goes on the
    # JVM's class path when this starts it, else into the executor's own class loader.
    yield JavaExecutor.for_code_search_path([str(EXAMPLES_JAR)])


def fn(class_name: str, method: str) -> common_pb2.FunctionDescriptor:
    return common_pb2.FunctionDescriptor(
        language=common_pb2.JAVA,
        java=common_pb2.JavaFunction(class_name=class_name, method=method, arity=-1),
    )


def enc(*values: Any) -> list[bytes]:
    return [serialize(v).to_bytes() for v in values]


def call(
    ex: Any,
    class_name: str,
    method: str,
    *args: Any,
    kwargs: dict[str, Any] | None = None,
    num_returns: int = 1,
) -> list[Any]:
    kwargs = kwargs or {}
    out = ex.call_function(
        fn(class_name, method), enc(*args, *kwargs.values()), list(kwargs), num_returns
    )
    assert all(isinstance(b, bytes) for b in out)
    return [deserialize(b) for b in out]


STATS = "io.plait.examples.Stats"


def test_math_max_as_a_task(executor: Any) -> None:
    assert call(executor, "java.lang.Math", "max", 3, 7) == [7]
    assert call(executor, "java.lang.Math", "max", 3, 7.5) == [7.5]


def test_arguments_from_read_only_memoryviews(executor: Any) -> None:
    # Store objects arrive as read-only views of shared memory; they are passed in place.
    args = [memoryview(b) for b in enc(3, 7)]
    assert args[0].readonly
    out = executor.call_function(fn("java.lang.Math", "max"), args, [], 1)
    assert deserialize(out[0]) == 7


def test_array_list_actor(executor: Any) -> None:
    executor.create_actor(fn("java.util.ArrayList", "<init>"), [], [])
    assert [deserialize(b) for b in executor.call_method("add", enc("a"), [], 1)] == [True]
    executor.call_method("add", enc(42), [], 1)
    assert deserialize(executor.call_method("get", enc(1), [], 1)[0]) == 42
    assert deserialize(executor.call_method("size", [], [], 1)[0]) == 2
    with pytest.raises(LanguageError) as e:
        executor.call_method("get", enc(9), [], 1)
    assert e.value.type_name == "java.lang.IndexOutOfBoundsException"
    assert e.value.language == "java"
    # the actor survives its method's failure
    assert deserialize(executor.call_method("size", [], [], 1)[0]) == 2


def test_hash_map_actor(executor: Any) -> None:
    executor.create_actor(fn("java.util.HashMap", "<init>"), [], [])
    assert deserialize(executor.call_method("put", enc("k", [1, "x"]), [], 1)[0]) is None
    assert deserialize(executor.call_method("get", enc("k"), [], 1)[0]) == [1, "x"]
    assert deserialize(executor.call_method("get", enc("missing"), [], 1)[0]) is None


def test_example_actor_with_keyword_arguments(executor: Any) -> None:
    executor.create_actor(fn("io.plait.examples.Counter", "<init>"), enc(10), [])
    assert deserialize(executor.call_method("increment", [], [], 1)[0]) == 11
    out = executor.call_method("label", enc("<", ">"), ["suffix", "prefix"], 1)
    assert deserialize(out[0]) == ">11<"


def test_overload_errors_name_the_problem(executor: Any) -> None:
    with pytest.raises(LanguageError) as e:
        call(executor, "java.lang.Math", "max", "a", 1)
    assert e.value.message.startswith("no overload of java.lang.Math.max takes (String, Long)")
    assert e.value.type_name == "java.lang.IllegalArgumentException"
    with pytest.raises(LanguageError, match="takes 2 arguments, got 1"):
        call(executor, "java.lang.Math", "max", 1)
    with pytest.raises(LanguageError, match="no class named com.example.Missing"):
        call(executor, "com.example.Missing", "f")
    with pytest.raises(LanguageError, match="has no public static method named 'nope'"):
        call(executor, "java.lang.Math", "nope")
    with pytest.raises(LanguageError, match="-parameters"):
        call(executor, "java.lang.Math", "max", 1, kwargs={"b": 2})


def test_user_exception_reaches_python_with_class_and_stack(executor: Any) -> None:
    with pytest.raises(LanguageError) as e:
        call(executor, STATS, "checked", -5)
    err = e.value
    assert err.type_name == "io.plait.examples.Stats$InvalidInputException"
    assert err.message == "negative value -5"
    assert err.language == "java"
    assert err.stack.startswith("io.plait.examples.Stats$InvalidInputException: negative")
    assert "at io.plait.examples.Stats.checked(Stats.java:" in err.stack


def test_tensors_in_and_out(executor: Any) -> None:
    [mean] = call(executor, STATS, "mean", np.array([1.0, 2.0, 6.0]))
    assert mean == 3.0
    [sums] = call(executor, STATS, "cumsum", np.arange(1, 5, dtype=np.int64))
    assert isinstance(sums, np.ndarray) and sums.dtype == np.int64
    assert sums.tolist() == [1, 3, 6, 10]
    [scaled] = call(executor, STATS, "scale", np.array([0.5, 1.5]), 2)
    assert scaled.dtype == np.float64 and scaled.tolist() == [1.0, 3.0]


def test_large_tensor_is_read_in_place(executor: Any) -> None:
    values = np.arange(1_000_000, dtype=np.float64)
    [mean] = call(executor, STATS, "mean", values)
    assert mean == pytest.approx(values.mean())


def test_list_of_maps(executor: Any) -> None:
    rows = [{"a": 2, "b": 3, "name": "x"}, {"a": 4, "b": 5, "name": "y"}]
    [out] = call(executor, STATS, "withTotals", rows)
    assert out == [
        {"a": 2, "b": 3, "name": "x", "total": 6},
        {"a": 4, "b": 5, "name": "y", "total": 20},
    ]


def test_several_returns_and_python_only_values(executor: Any) -> None:
    assert call(executor, "java.util.List", "of", 1, "b", num_returns=2) == [1, "b"]
    with pytest.raises(
        LanguageError, match="cannot read a Python-only value of type 'builtins.set'"
    ):
        call(executor, "java.util.Objects", "toString", {1, 2})


def test_arrow_table_round_trip(executor: Any) -> None:
    import pyarrow as pa

    table = pa.table({"id": [1, 2, 3], "name": ["a", None, "c"]})
    [back] = call(executor, "java.util.Objects", "requireNonNull", table)
    assert isinstance(back, pa.Table)
    assert back.to_pylist() == table.to_pylist()


class FakeHost:
    """HostApi's byte-level methods over a dict: what the bridge forwards Java's calls to."""

    def __init__(self) -> None:
        from plait._format.object_ref import ObjectRef, OwnerAddress

        self.objects: dict[bytes, bytes] = {}
        self.calls: list[tuple[Any, ...]] = []
        self._ref = ObjectRef
        self._owner = OwnerAddress

    def _store(self, encoded: bytes) -> Any:
        oid = len(self.objects).to_bytes(20, "big")
        self.objects[oid] = encoded
        return self._ref(oid, self._owner("ab" * 8, "127.0.0.1", 1, b"\x00" * 16))

    def put(self, encoded: bytes) -> bytes:
        return serialize(self._store(encoded)).to_bytes()

    def get(self, encoded_refs: bytes, timeout_s: float) -> list[Any]:
        refs = deserialize(encoded_refs)
        if any(r.object_id not in self.objects for r in refs):
            from plait.exceptions import GetTimeoutError

            raise GetTimeoutError(f"Get timed out after {timeout_s}s.")
        # store objects arrive as read-only views; the bridge passes them in place
        return [memoryview(self.objects[r.object_id]) for r in refs]

    def submit_task(
        self,
        language: str,
        name_parts: list[str],
        args: list[bytes],
        kwarg_names: list[str],
        num_returns: int,
        resources: dict[str, float],
    ) -> bytes:
        self.calls.append((language, name_parts, list(kwarg_names), resources))
        total = sum(deserialize(a) for a in args)
        return serialize([self._store(serialize(total).to_bytes())]).to_bytes()

    def create_actor(
        self,
        language: str,
        name_parts: list[str],
        args: list[bytes],
        kwarg_names: list[str],
        options: dict[str, Any],
    ) -> bytes:
        raise ValueError("no actors here")

    def call_actor(
        self,
        encoded_handle: bytes,
        method: str,
        args: list[bytes],
        kwarg_names: list[str],
        num_returns: int,
    ) -> bytes:
        raise ValueError("no actors here")

    def get_actor(self, name: str, namespace: str) -> bytes:
        raise AssertionError("named_actor_exists said no")

    def kill_actor(self, encoded_handle: bytes) -> None:
        pass

    def named_actor_exists(self, name: str, namespace: str) -> bool:
        return False


def test_runtime_bridge_forwards_java_calls_to_the_host(built: None) -> None:
    import jpype

    from plait._java import bridge, jvm

    jvm.start()
    host = FakeHost()
    bridge.install(host)
    try:
        plait = jpype.JClass("io.plait.Plait")
        py_fn = jpype.JClass("io.plait.PyFunction")
        ref = plait.put(jpype.JArray(jpype.JDouble)([1.5, 2.5]))
        assert list(plait.get(ref)) == [1.5, 2.5]  # a tensor back as double[]
        task = plait.task(
            py_fn.of("mod", "add", jpype.JClass("java.lang.Long")), jpype.JLong(2), jpype.JLong(3)
        )
        assert int(plait.get(task.setResource("CPU", 1.0).remote())) == 5
        kw_task = plait.task(py_fn.of("mod", "add"), jpype.JLong(2))
        kw_task.setKwarg("b", jpype.JLong(4))
        assert int(plait.get(kw_task.remote())) == 6  # keyword values follow the positional
        assert host.calls == [
            ("python", ["mod", "add"], [], {"CPU": 1.0}),
            ("python", ["mod", "add"], ["b"], {}),
        ]
        assert not plait.getActor("nobody").isPresent()
        with pytest.raises(jpype.JClass("io.plait.PlaitException"), match="no actors here"):
            plait.actor(jpype.JClass("io.plait.PyActorClass").of("mod", "C")).remote()
        object_ref = jpype.JClass("io.plait.ObjectRef")
        ghost = object_ref.untyped(jpype.JArray(jpype.JByte)(b"\xff" * 20), ref.owner())
        with pytest.raises(jpype.JClass("io.plait.GetTimeoutException"), match="timed out"):
            plait.get(ghost, 10)
    finally:
        bridge.uninstall()


class MappedHost(FakeHost):
    """get() maps each object from a file, as the core worker maps store objects
    (plait._transport.store_client.map_object): when the last reference to the returned
    buffer goes, the memory is unmapped, and Java's only reference is the bridge's."""

    def __init__(self, tmp: Path) -> None:
        super().__init__()
        self.tmp = tmp
        self.mapped: list[Any] = []  # weak references to every buffer handed out

    def get(self, encoded_refs: bytes, timeout_s: float) -> list[Any]:
        import weakref

        import pyarrow as pa

        out = []
        for r in deserialize(encoded_refs):
            path = self.tmp / r.object_id.hex()
            path.write_bytes(self.objects[r.object_id])
            with pa.memory_map(str(path), "r") as f:
                buf = f.read_buffer()
            self.mapped.append(weakref.ref(buf))
            out.append(buf)
        return out

    def unmapped(self, timeout_s: float = 10.0) -> bool:
        """Runs Java's GC (and Python's) until every mapping handed out is gone."""
        import gc
        import time

        import jpype

        deadline = time.monotonic() + timeout_s
        while any(w() is not None for w in self.mapped) and time.monotonic() < deadline:
            jpype.JClass("java.lang.System").gc()
            gc.collect()
            time.sleep(0.02)
        return all(w() is None for w in self.mapped)


def test_mapped_tensor_outlives_the_java_values_made_of_it(built: None, tmp_path: Path) -> None:
    # Regression: a Java worker crashed (SIGSEGV in jlong_disjoint_arraycopy) encoding the
    # result of a task that returned a tensor it had fetched with Plait.get: once encoded,
    # the Tensor (the only holder of the store mapping's Keepalive) was garbage, Java's GC
    # let the mapping go, and copying its bytes into the result read unmapped memory.
    import jpype

    from plait._java import bridge, jvm

    jvm.start()
    host = MappedHost(tmp_path)
    values = np.arange(1_000_000, dtype=np.float64)
    bridge.install(host)
    try:
        ref = host._store(serialize(values).to_bytes())
        plait = jpype.JClass("io.plait.Plait")
        java_ref = jpype.JClass("io.plait.runtime.ObjectDecoder").decode(
            jpype.JArray(jpype.JByte)(serialize(ref).to_bytes())
        )
        encoder = jpype.JClass("io.plait.runtime.ObjectEncoder")

        tensor = plait.get(java_ref)
        encoded = encoder.encode(tensor)  # the buffers, not yet copied
        data = tensor.data()
        del tensor
        assert not host.unmapped(0.5), "unmapped while an EncodedObject still needs it"
        back = deserialize(bytes(memoryview(encoded.toBytes())))
        assert np.array_equal(back, values)
        del encoded
        assert not host.unmapped(0.5), "unmapped while a ByteBuffer over it is reachable"
        assert data.getDouble(8 * 999_999) == 999_999.0
        del data
        assert host.unmapped(), "the mapping outlived every Java value made of it"
    finally:
        bridge.uninstall()


def test_java_task_returns_a_tensor_it_fetched(executor: Any, tmp_path: Path) -> None:
    # The crashing path itself: a Java task (here Plait.get) returns a tensor it fetched
    # from the store; the result is encoded from the mapping, which goes afterwards.
    from plait._java import bridge

    host = MappedHost(tmp_path)
    values = np.arange(1_000_000, dtype=np.float64)
    bridge.install(host)
    try:
        ref = host._store(serialize(values).to_bytes())
        for _ in range(3):
            [back] = call(executor, "io.plait.Plait", "get", ref)
            assert np.array_equal(back, values)
        assert host.unmapped()
    finally:
        bridge.uninstall()
