"""CppExecutor: the example C++ library (examples/cpp), built with the SDK's CMake helper
and loaded in-process, called on encoded arguments as a C++ worker would call it."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from plait_fixtures import ROOT, build_cpp_example

from plait._core.language import LanguageError
from plait._format import deserialize, serialize
from plait._format.object_ref import ObjectRef, OwnerAddress
from plait._protocol import common_pb2

REPO = ROOT
BUILD_SCRIPT = REPO / "examples" / "cpp" / "build.sh"
LIBRARY = "libplait_example.so"


@pytest.fixture(scope="module")
def library() -> Path:
    path: Path = build_cpp_example()
    return path


class FakeHost:
    """The host API (HostApi's methods) over a dict, running Python tasks inline. Like
    HostApi it holds every ref it hands out until the SDK releases it."""

    def __init__(self) -> None:
        self.store: dict[bytes, bytes] = {}
        self.submitted: list[tuple[str, list[str]]] = []
        self.holds = 0
        self._next = 0

    def _new_ref(self, encoded: bytes) -> ObjectRef:
        self._next += 1
        ref = ObjectRef(
            self._next.to_bytes(20, "big"),
            OwnerAddress("ab" * 8, "127.0.0.1", 1234, bytes(16)),
            count=False,
        )
        self.store[ref.object_id] = encoded
        return ref

    def hold(self, refs: list[ObjectRef]) -> None:
        self.holds += len(refs)

    def release(self, encoded_refs: bytes) -> None:
        self.holds -= len(deserialize(encoded_refs))

    def put(self, encoded: bytes) -> bytes:
        self.holds += 1
        return serialize(self._new_ref(bytes(encoded))).to_bytes()

    def get(self, encoded_refs: bytes, timeout_s: float) -> list[Any]:
        return [self.store[r.object_id] for r in deserialize(encoded_refs)]

    def submit_task(
        self,
        language: str,
        name_parts: list[str],
        args: list[bytes],
        kwarg_names: list[str],
        num_returns: int,
        resources: dict[str, float],
    ) -> bytes:
        self.submitted.append((language, name_parts))
        fn = getattr(importlib.import_module(name_parts[0]), name_parts[1])
        result = fn(*[deserialize(a) for a in args])
        self.holds += 1
        return serialize([self._new_ref(serialize(result).to_bytes())]).to_bytes()


@pytest.fixture()
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture()
def executor(library: Path, host: FakeHost) -> Iterator[Any]:
    from plait._cpp.executor import CppExecutor

    ex = CppExecutor([str(library)], host=host)
    yield ex
    ex.destroy_actor()


def cpp(name: str) -> common_pb2.FunctionDescriptor:
    return common_pb2.FunctionDescriptor(
        language=common_pb2.CPP, cpp=common_pb2.CppFunction(symbol=name)
    )


def enc(value: Any) -> bytes:
    return serialize(value).to_bytes()


def call(ex: Any, name: str, *args: Any, num_returns: int = 1) -> Any:
    out = ex.call_function(cpp(name), [enc(a) for a in args], [], num_returns)
    assert len(out) == num_returns
    values = [deserialize(b) for b in out]
    return values[0] if num_returns == 1 else values


def test_library_registers_its_functions_and_actor(executor: Any) -> None:
    names = executor.registered_names
    assert {"saxpy", "divide", "echo", "Counter"} <= set(names)
    assert set(executor.method_names("Counter")) == {"add", "get", "history", "record"}


def test_plain_values_round_trip_through_cpp(executor: Any) -> None:
    value = {
        "int": -5,
        "big": 2**64 - 1,
        "float": 1.5,
        "str": "héllo ✓ 🎉",
        "bin": b"\x00\xff",
        "list": [1, [2.5, None], True],
        7: "int key",
        "tuple": (1, 2),
    }
    back = call(executor, "echo", value)
    assert back == {**value, "tuple": [1, 2]}  # C++ reads tuples as arrays


def test_lists_maps_and_numbers_convert_to_cpp_types(executor: Any) -> None:
    assert call(executor, "word_lengths", ["a", "bcd", "ée"]) == {"a": 1, "bcd": 3, "ée": 3}
    assert call(executor, "divide", 7.0, 2) == 3.5  # an int widens to double
    assert call(executor, "divmod", 17, 5, num_returns=2) == [3, 2]


def test_arrow_table_in_and_out(executor: Any) -> None:
    table = pa.table({"x": [1.0, 2.0, None], "y": [10.0, 20.0, 30.0], "tag": ["a", "b", "c"]})
    result = call(executor, "saxpy", 2.0, table)
    assert isinstance(result, pa.Table)
    assert result.column_names == ["y"]
    assert result.column("y").to_pylist() == [12.0, 24.0, None]


def test_arrow_array_in_and_out(executor: Any) -> None:
    result = call(executor, "cumulative", pa.array([1.0, 2.0, 3.5]))
    assert isinstance(result, pa.Array)
    assert result.to_pylist() == [1.0, 3.0, 6.5]


def test_arrow_table_is_read_in_place(executor: Any) -> None:
    table = pa.table({"x": np.arange(100_000, dtype=np.float64), "y": np.zeros(100_000)})
    buf = pa.py_buffer(enc(table))  # a pyarrow.Buffer, as the object store hands out
    out = executor.call_function(cpp("column_address"), [buf, enc("x")], [], 1)
    address = deserialize(out[0])
    assert buf.address <= address < buf.address + buf.size


def test_numpy_tensors_in_place_and_back(executor: Any) -> None:
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    buf = pa.py_buffer(enc(arr))
    total, address = deserialize(executor.call_function(cpp("tensor_sum"), [buf], [], 1)[0])
    assert total == arr.sum()
    assert buf.address <= address < buf.address + buf.size
    # A memoryview argument works as well (and is not copied either).
    total2, _ = deserialize(executor.call_function(cpp("tensor_sum"), [memoryview(buf)], [], 1)[0])
    assert total2 == total
    scaled = call(executor, "scale", arr, 3)
    assert isinstance(scaled, np.ndarray) and scaled.shape == (3, 4)
    np.testing.assert_array_equal(scaled, arr * 3)


def test_wrong_arity_is_a_language_error(executor: Any) -> None:
    with pytest.raises(LanguageError) as info:
        call(executor, "divide", 1.0)
    assert info.value.type_name == "plait::TypeError"
    assert info.value.message == "divide expects 2 arguments, got 1"
    assert info.value.language == "cpp"


def test_wrong_argument_type_names_the_argument(executor: Any) -> None:
    with pytest.raises(LanguageError) as info:
        call(executor, "divide", 1.0, "two")
    assert info.value.message == "argument 2 of divide: expected float64, got string"
    with pytest.raises(LanguageError) as info:
        call(executor, "word_lengths", ["a", 3])
    assert info.value.message == "argument 1 of word_lengths: item 1: expected string, got int64"
    with pytest.raises(LanguageError) as info:
        call(executor, "saxpy", 2.0, [1, 2])
    assert "expected Arrow table, got array" in info.value.message


def test_python_only_argument_is_refused_naming_its_type(executor: Any) -> None:
    with pytest.raises(LanguageError) as info:
        call(executor, "echo", {1, 2})
    assert info.value.type_name == "plait::Refused"
    assert "'builtins.set'" in info.value.message


def test_keyword_arguments_are_refused(executor: Any) -> None:
    with pytest.raises(LanguageError, match="does not take keyword arguments"):
        executor.call_function(cpp("divide"), [enc(1.0), enc(2.0)], ["b"], 1)


def test_cpp_exception_becomes_language_error_with_its_type(executor: Any) -> None:
    with pytest.raises(LanguageError) as info:
        call(executor, "divide", 1.0, 0.0)
    assert info.value.type_name == "std::domain_error"
    assert info.value.message == "division by zero"
    assert "divide" in info.value.stack
    with pytest.raises(LanguageError) as info:
        call(executor, "saxpy", 1.0, pa.table({"z": [1]}))
    assert info.value.type_name == "std::invalid_argument"


def test_unknown_function_is_a_language_error(executor: Any) -> None:
    with pytest.raises(LanguageError) as info:
        call(executor, "no_such_function")
    assert info.value.type_name == "plait::NotFound"
    assert "'no_such_function'" in info.value.message


def test_actor_keeps_state_across_calls(executor: Any) -> None:
    executor.create_actor(cpp("Counter"), [enc(10)], [])

    def method(name: str, *args: Any) -> Any:
        return deserialize(executor.call_method(name, [enc(a) for a in args], [], 1)[0])

    assert method("add", 5) == 15
    method("record")
    assert method("add", -3) == 12
    method("record")
    assert method("history") == [15, 12]
    # Failed calls leave the actor alive and unchanged.
    with pytest.raises(LanguageError, match="argument 1 of Counter.add: expected int64"):
        method("add", "x")
    with pytest.raises(LanguageError, match="has no method 'reset'") as info:
        method("reset")
    assert info.value.type_name == "plait::NotFound"
    assert method("get") == 12


def test_actor_constructor_errors(executor: Any) -> None:
    with pytest.raises(LanguageError, match="Counter expects 1 argument, got 0"):
        executor.create_actor(cpp("Counter"), [], [])
    with pytest.raises(LanguageError) as info:
        executor.create_actor(cpp("Nope"), [], [])
    assert info.value.type_name == "plait::NotFound"
    with pytest.raises(LanguageError, match="hosts no C\\+\\+ actor"):
        executor.call_method("get", [], [], 1)


def test_cpp_code_calls_back_into_the_host(executor: Any, host: FakeHost) -> None:
    assert call(executor, "put_get", 41) == 41
    assert len(host.store) == 1
    assert call(executor, "call_python", "operator", "add", 2, 3) == 5
    assert host.submitted == [("python", ["operator", "add"])]
    assert host.holds == 0  # the C++ ObjectRefs are gone, and so are their holds


def test_host_errors_reach_cpp_code_as_exceptions(library: Path) -> None:
    from plait._cpp.executor import CppExecutor

    ex = CppExecutor([str(library)])  # no host: calls back into the runtime fail
    with pytest.raises(LanguageError) as info:
        call(ex, "put_get", 1)
    assert info.value.type_name == "plait::Exception"
    assert "no plait runtime" in info.value.message


def test_code_search_path_loads_plait_libraries_in_directories(
    library: Path, tmp_path: Path
) -> None:
    from plait._cpp.executor import CppExecutor

    shutil.copy(library, tmp_path / LIBRARY)
    (tmp_path / "notes.txt").write_text("not a library")
    ex = CppExecutor.for_code_search_path([str(tmp_path)])
    assert "saxpy" in ex.registered_names
    with pytest.raises(ValueError, match="cannot load"):
        CppExecutor([str(tmp_path / "missing.so")])


def test_code_search_path_skips_other_languages_files(library: Path, tmp_path: Path) -> None:
    from plait._cpp.executor import CppExecutor

    # One job's path holds every language's code: C++ workers load only the libraries.
    (tmp_path / "app.jar").write_bytes(b"PK\x03\x04 not ELF")
    (tmp_path / "mod.py").write_text("x = 1")
    ex = CppExecutor.for_code_search_path(
        [str(tmp_path / "app.jar"), str(library), str(tmp_path / "mod.py")]
    )
    assert "saxpy" in ex.registered_names
    with pytest.raises(ValueError, match="cannot load"):  # a listed library must load
        CppExecutor.for_code_search_path([str(tmp_path / "missing.so")])
