"""Errors as stored objects: how a failure becomes a value, and a value an exception."""

from __future__ import annotations

import traceback
import weakref

import cloudpickle

from plait._core.language import LanguageError
from plait._core.memory_store import StoredObject
from plait._format import ErrorInfo, serialize
from plait._format import exceptions as exc


def error_info_for(err: BaseException, function_name: str = "") -> ErrorInfo:
    """The neutral description of an exception raised by user code (or by plait)."""
    kept = _kept_info(err)
    if kept is not None:
        # A stored error re-raised (a failed argument, or a task that let plait.get's
        # exception propagate): the same value again, cause chain and pickle included.
        return kept
    if isinstance(err, LanguageError):
        # err.cause: the Error the foreign code got from a call and let propagate.
        return ErrorInfo(
            type_name=err.type_name,
            message=err.message,
            language=err.language,
            stack=err.stack,
            cause=err.cause,
            python_pickle=None,
        )
    if isinstance(err, exc.CrossLanguageError):
        # Built here rather than read from a store (e.g. unpickled): its fields are the value.
        return ErrorInfo(
            type_name=err.type_name,
            message=err.message,
            language=err.language,
            stack=err.remote_stack,
            cause=None if err.cause is None else error_info_for(err.cause),
            python_pickle=None,
        )
    named: BaseException = err
    if isinstance(err, exc.RayTaskError):
        stack = err.traceback_str
        to_pickle: BaseException = err
        if err.cause is not None and not isinstance(err.cause, exc.RayTaskError):
            named = err.cause  # a remote ValueError is a builtins.ValueError to every reader
    elif isinstance(err, exc.RayError):
        stack = "".join(traceback.format_exception(err))
        to_pickle = err
    else:
        stack = "".join(traceback.format_exception(err))
        to_pickle = exc.RayTaskError(function_name, stack, err)
    try:
        pickled: bytes | None = cloudpickle.dumps(to_pickle)
    except Exception:
        pickled = None
    named_type = type(named)
    return ErrorInfo(
        type_name=f"{named_type.__module__}.{named_type.__qualname__}",
        message=str(named),
        language="python",
        stack=stack,
        cause=None,
        python_pickle=pickled,
    )


def error_object(err: BaseException, function_name: str = "") -> StoredObject:
    data = serialize(error_info_for(err, function_name)).to_bytes()
    return StoredObject(data=data, size=len(data), is_error=True)


# The ErrorInfo each exception exception_from made was raised for, so raising it again
# stores the same value. Weak: kept no longer than the exception (not in its __dict__,
# which pickles and compares).
_kept: weakref.WeakKeyDictionary[BaseException, ErrorInfo] = weakref.WeakKeyDictionary()


def _kept_info(err: BaseException) -> ErrorInfo | None:
    try:
        return _kept.get(err)
    except TypeError:  # a builtin exception: no weak references, never kept
        return None


def exception_from(info: ErrorInfo) -> BaseException:
    """The exception `plait.get` raises for a stored error.

    An error with a cause chain (it crossed languages: a Java task let a Python task's
    error propagate, ...) becomes a CrossLanguageError per link, each the `__cause__` of
    the one before, the first also an instance of the Python exception's class the chain
    began as (so `except ValueError` catches it)."""
    err = _exception_for_link(info)
    if isinstance(err, exc.CrossLanguageError):
        err = err.as_instanceof_origin()
    try:
        _kept[err] = info
    except TypeError:  # a builtin exception (no weak references): rebuilt when re-raised
        pass
    return err


def _exception_for_link(info: ErrorInfo) -> BaseException:
    if info.cause is not None:
        cause = exception_from(info.cause)
        links = _links(info)
        origin = links[-1]
        return exc.CrossLanguageError(
            "",
            info.stack,
            cause,
            info.type_name,
            info.language,
            message=info.message,
            languages=tuple(link.language for link in reversed(links)),
            origin_message=_headline(origin),
        )
    if info.python_pickle:
        try:
            err = cloudpickle.loads(info.python_pickle)
        except Exception:
            err = None
        if isinstance(err, exc.RayTaskError):
            return err.as_instanceof_cause()
        if isinstance(err, BaseException):
            return err
    if info.language != "python":
        return exc.CrossLanguageError(
            "", info.stack, None, info.type_name, info.language, message=info.message
        )
    short = info.type_name.rsplit(".", 1)[-1]
    return exc.RayTaskError("", info.stack or info.message, None, short, info.language)


def _links(info: ErrorInfo) -> list[ErrorInfo]:
    """info and its causes, this link first."""
    out = [info]
    while out[-1].cause is not None:
        out.append(out[-1].cause)
    return out


def _headline(info: ErrorInfo) -> str:
    """ "ValueError: bad input": Python's types by their short name, as Python prints them."""
    type_name = info.type_name.rsplit(".", 1)[-1] if info.language == "python" else info.type_name
    return f"{type_name}: {info.message}" if info.message else type_name
