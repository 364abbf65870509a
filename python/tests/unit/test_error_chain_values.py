"""Errors that crossed languages (object format ext 5 with a cause chain) become Python
exceptions that keep their origin: the class the error began as, one `__cause__` per hop,
the languages crossed in `str()`; and go back to the same chained value when re-raised."""

from __future__ import annotations

import pickle

import cloudpickle
import pytest

from plait import exceptions as exc
from plait._core.errors import error_info_for, exception_from
from plait._core.language import LanguageError
from plait._format import ErrorInfo, deserialize, serialize

JAVA_STACK = (
    "io.plait.CrossLanguageException: builtins.ValueError (python): bad input\n"
    "\tat io.plait.examples.Relay.callPython(Relay.java:30)\n"
)


def _python_origin() -> ErrorInfo:
    try:
        raise ValueError("bad input")
    except ValueError as e:
        return error_info_for(e, "check")


def _java_hop(cause: ErrorInfo) -> ErrorInfo:
    return ErrorInfo(
        "io.plait.CrossLanguageException",
        "builtins.ValueError (python): bad input",
        "java",
        JAVA_STACK,
        cause,
        None,
    )


def _cpp_hop(cause: ErrorInfo) -> ErrorInfo:
    return ErrorInfo(
        "plait::Exception", "builtins.ValueError: bad input", "cpp", "  in C++ relay", cause, None
    )


def _through_codec(info: ErrorInfo) -> ErrorInfo:
    back = deserialize(serialize(info).to_bytes())
    assert isinstance(back, ErrorInfo)
    return back


def test_python_error_through_java_is_still_a_value_error() -> None:
    err = exception_from(_through_codec(_java_hop(_python_origin())))
    assert isinstance(err, ValueError)
    assert isinstance(err, exc.CrossLanguageError) and isinstance(err, exc.RayTaskError)
    with pytest.raises(ValueError, match="bad input"):
        raise err
    assert err.args == ("bad input",)


def test_chain_fields_and_cause() -> None:
    err = exception_from(_java_hop(_python_origin()))
    assert isinstance(err, exc.CrossLanguageError)
    assert err.type_name == "io.plait.CrossLanguageException"
    assert err.language == "java"
    assert err.message == "builtins.ValueError (python): bad input"
    assert err.remote_stack == JAVA_STACK
    assert err.languages == ("python", "java")
    assert err.origin_message == "ValueError: bad input"
    # The next link: the Python task's own error, as plait.get raises it for a Python task.
    assert err.cause is err.__cause__
    assert isinstance(err.__cause__, ValueError) and isinstance(err.__cause__, exc.RayTaskError)
    assert err.__cause__.__cause__ is None
    assert "raise ValueError" in str(err.__cause__)  # the Python traceback


def test_str_starts_with_the_remote_message_and_names_the_languages() -> None:
    err = exception_from(_java_hop(_python_origin()))
    text = str(err)
    assert text.startswith("ValueError: bad input (python, via java)")
    assert "at io.plait.examples.Relay.callPython" in text  # the Java hop's stack


def test_two_hops_one_cause_per_hop() -> None:
    err = exception_from(_java_hop(_cpp_hop(_python_origin())))
    assert isinstance(err, ValueError) and isinstance(err, exc.CrossLanguageError)
    assert err.languages == ("python", "cpp", "java")
    assert str(err).startswith("ValueError: bad input (python, via cpp, java)")
    cpp = err.__cause__
    assert isinstance(cpp, exc.CrossLanguageError) and isinstance(cpp, ValueError)
    assert (cpp.language, cpp.type_name, cpp.remote_stack) == (
        "cpp",
        "plait::Exception",
        "  in C++ relay",
    )
    assert cpp.languages == ("python", "cpp")
    assert "[cpp] plait::Exception: builtins.ValueError: bad input" in str(cpp)
    assert isinstance(cpp.__cause__, ValueError) and not isinstance(
        cpp.__cause__, exc.CrossLanguageError
    )


def test_cpp_origin_through_java_keeps_its_type_name() -> None:
    origin = ErrorInfo(
        "std::domain_error", "division by zero", "cpp", "  in C++ divide", None, None
    )
    err = exception_from(_java_hop(origin))
    assert type(err) is exc.CrossLanguageError  # no Python class to be an instance of
    assert str(err).startswith("std::domain_error: division by zero (cpp, via java)")
    assert isinstance(err.cause, exc.CrossLanguageError)
    assert err.cause.type_name == "std::domain_error" and err.cause.language == "cpp"
    assert err.cause.cause is None and err.cause.languages == ("cpp",)


def test_single_foreign_error_str_starts_with_its_message() -> None:
    info = ErrorInfo(
        "java.lang.IllegalStateException",
        "boom",
        "java",
        "java.lang.IllegalStateException: boom\n\tat A.f(A.java:1)\n",
        None,
        None,
    )
    err = exception_from(info)
    assert type(err) is exc.CrossLanguageError
    assert str(err).startswith("java.lang.IllegalStateException: boom (java)\n")
    assert "at A.f" in str(err) and err.cause is None and err.__cause__ is None
    assert err.languages == ("java",) and err.remote_stack.startswith("java.lang")


def test_reraised_chain_stores_the_same_value() -> None:
    info = _java_hop(_python_origin())
    assert error_info_for(exception_from(info)) == info


def test_pickled_chain_keeps_class_fields_and_rebuilds_the_value() -> None:
    info = _java_hop(_cpp_hop(_python_origin()))
    err = exception_from(info)
    for back in (cloudpickle.loads(cloudpickle.dumps(err)), pickle.loads(pickle.dumps(err))):
        assert isinstance(back, ValueError) and isinstance(back, exc.CrossLanguageError)
        assert str(back) == str(err)
        assert back.languages == ("python", "cpp", "java")
        assert isinstance(back.__cause__, exc.CrossLanguageError)
        rebuilt = error_info_for(back)
        # Every link's fields survive; the Python link is pickled anew.
        assert (rebuilt.type_name, rebuilt.language, rebuilt.stack) == (
            info.type_name,
            "java",
            JAVA_STACK,
        )
        assert rebuilt.cause is not None and rebuilt.cause.type_name == "plait::Exception"
        origin = rebuilt.cause.cause
        assert origin is not None and origin.type_name == "builtins.ValueError"
        assert origin.message == "bad input" and origin.python_pickle is not None


def test_language_error_with_a_cause_becomes_a_chained_value() -> None:
    origin = _python_origin()
    info = error_info_for(
        LanguageError("plait::Exception", "builtins.ValueError: bad input", "", "cpp", origin)
    )
    assert (info.type_name, info.language, info.cause) == ("plait::Exception", "cpp", origin)
    assert info.python_pickle is None
