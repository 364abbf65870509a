"""Errors that cross languages keep their origin (issue 10): a Python ValueError raised in a
Python task that a Java or C++ task called and let propagate reaches the Python driver as a
CrossLanguageError that is also a ValueError, one `__cause__` per hop, the languages crossed
in its str; a C++ error through Java keeps its C++ type name. The relays are
examples/java's Relay and examples/cpp's call_python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plait_fixtures import build_cpp_example, build_java

import plait
from plait import exceptions as exc

MESSAGE = "n must be a non-negative integer"  # math.comb(-1, 2) raises ValueError(MESSAGE)
RELAY = "io.plait.examples.Relay"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    library = build_cpp_example()
    jar = build_java()
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=2, namespace="error-chains", code_search_path=[str(library), str(jar)])
    yield
    plait.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


def _assert_python_origin(err: BaseException) -> None:
    """err (a hop's __cause__) is the Python task's own error, as for a Python task."""
    assert isinstance(err, ValueError) and isinstance(err, exc.RayTaskError)
    assert not isinstance(err, exc.CrossLanguageError)
    assert err.language == "python" and err.args == (MESSAGE,)
    assert err.__cause__ is None


def test_python_error_through_java_is_caught_as_value_error() -> None:
    ref = plait.java_function(RELAY, "callPython").remote("math", "comb", -1, 2)
    with pytest.raises(ValueError, match=MESSAGE) as info:
        plait.get(ref, timeout=120)
    err = info.value
    assert isinstance(err, exc.CrossLanguageError) and isinstance(err, exc.RayTaskError)
    assert (err.language, err.type_name) == ("java", "io.plait.CrossLanguageException")
    assert err.languages == ("python", "java")
    assert str(err).startswith(f"ValueError: {MESSAGE} (python, via java)")
    assert "at io.plait.examples.Relay.callPython" in err.remote_stack  # the Java hop's stack
    assert err.cause is err.__cause__
    _assert_python_origin(err.__cause__)


def test_python_error_through_cpp_is_caught_as_value_error() -> None:
    ref = plait.cpp_function("call_python").remote("math", "comb", -1, 2)
    with pytest.raises(ValueError, match=MESSAGE) as info:
        plait.get(ref, timeout=120)
    err = info.value
    assert isinstance(err, exc.CrossLanguageError) and isinstance(err, exc.RayTaskError)
    assert (err.language, err.type_name) == ("cpp", "plait::Exception")
    assert err.languages == ("python", "cpp")
    assert str(err).startswith(f"ValueError: {MESSAGE} (python, via cpp)")
    assert "call_python" in err.remote_stack  # where in C++ it passed
    _assert_python_origin(err.__cause__)


def test_cpp_error_through_java_keeps_its_cpp_type() -> None:
    ref = plait.java_function(RELAY, "callCpp").remote("divide", 1.0, 0.0)
    with pytest.raises(exc.CrossLanguageError) as info:
        plait.get(ref, timeout=120)
    err = info.value
    assert type(err) is exc.CrossLanguageError  # began in C++: no Python class to add
    assert err.language == "java" and err.languages == ("cpp", "java")
    assert str(err).startswith("std::domain_error: division by zero (cpp, via java)")
    cpp = err.__cause__
    assert isinstance(cpp, exc.CrossLanguageError) and cpp is err.cause
    assert (cpp.type_name, cpp.language, cpp.message) == (
        "std::domain_error",
        "cpp",
        "division by zero",
    )
    assert cpp.__cause__ is None and cpp.languages == ("cpp",)


def test_error_of_one_language_has_no_cause() -> None:
    with pytest.raises(exc.CrossLanguageError) as info:
        plait.get(plait.cpp_function("divide").remote(1.0, 0.0), timeout=120)
    err = info.value
    assert err.__cause__ is None and err.cause is None and err.languages == ("cpp",)
    assert str(err).startswith("std::domain_error: division by zero (cpp)")
