"""Python <-> C++ through a real cluster: C++ workers load the job's library (shipped
through the code search path) and call back into the runtime."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from plait_fixtures import build_cpp_example

import plait
from plait import exceptions as exc


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    library = build_cpp_example()
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=2, namespace="cpp-test", code_search_path=[str(library)])
    yield
    plait.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


def test_saxpy_on_an_arrow_table_from_the_store() -> None:
    n = 200_000  # 3.2 MB: the table goes through the shared-memory store
    table = pa.table({"x": np.arange(n, dtype=np.float64), "y": np.ones(n)})
    ref = plait.put(table)
    out = plait.get(plait.cpp_function("saxpy").remote(2.0, ref), timeout=60)
    assert out.column_names == ["y"]
    assert out.column("y").to_numpy()[:3].tolist() == [1.0, 3.0, 5.0]
    assert out.num_rows == n


def test_values_of_the_type_table_round_trip() -> None:
    echo = plait.cpp_function("echo")
    for v in [None, True, -(2**63), 2.5, "héllo", b"\x00\x01", [1, [2, 3]], {"a": 1}]:
        assert plait.get(echo.remote(v), timeout=60) == v
    lengths = plait.get(plait.cpp_function("word_lengths").remote(["ab", "cde"]), timeout=60)
    assert lengths == {"ab": 2, "cde": 3}
    scaled = plait.get(plait.cpp_function("scale").remote(np.arange(4.0), 3.0), timeout=60)
    assert scaled.tolist() == [0.0, 3.0, 6.0, 9.0]


def test_cpp_actor_keeps_state() -> None:
    c = plait.cpp_actor_class("Counter").remote(10)
    assert plait.get([c.add.remote(1), c.add.remote(2)], timeout=60) == [11, 13]
    assert plait.get(c.get.remote(), timeout=60) == 13


def test_cpp_exception_and_bad_calls_name_the_problem() -> None:
    with pytest.raises(exc.CrossLanguageError, match="domain_error.*division by zero"):
        plait.get(plait.cpp_function("divide").remote(1.0, 0.0), timeout=60)
    with pytest.raises(exc.CrossLanguageError, match="divide expects 2 arguments, got 1"):
        plait.get(plait.cpp_function("divide").remote(1.0), timeout=60)
    with pytest.raises(exc.CrossLanguageError, match="argument 2 of divide: expected float64"):
        plait.get(plait.cpp_function("divide").remote(1.0, "x"), timeout=60)
    with pytest.raises(exc.CrossLanguageError, match="no_such_fn"):
        plait.get(plait.cpp_function("no_such_fn").remote(), timeout=60)
    c = plait.cpp_actor_class("Counter").remote(0)
    with pytest.raises(exc.CrossLanguageError, match="nope"):
        plait.get(c.nope.remote(), timeout=60)
    assert plait.get(c.add.remote(5), timeout=60) == 5  # the actor lived on


def test_python_only_value_refused_with_its_type() -> None:
    class Secret:
        pass

    with pytest.raises(exc.CrossLanguageError, match="Secret"):
        plait.get(plait.cpp_function("divide").remote(Secret(), 1.0), timeout=60)


def test_cpp_calls_back_into_the_runtime() -> None:
    assert plait.get(plait.cpp_function("put_get").remote(41), timeout=60) == 41
    assert (
        plait.get(plait.cpp_function("call_python").remote("operator", "add", 40, 2), timeout=60)
        == 42
    )


def test_results_flow_between_python_and_cpp() -> None:
    @plait.remote
    def halve(x: float) -> float:
        return x / 2

    from_cpp = plait.cpp_function("divide").remote(10.0, 2.0)
    assert plait.get(halve.remote(from_cpp), timeout=60) == 2.5
    from_py = halve.remote(8.0)
    assert plait.get(plait.cpp_function("divide").remote(from_py, 2.0), timeout=60) == 2.0
