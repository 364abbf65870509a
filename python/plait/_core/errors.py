"""Errors as stored objects: how a failure becomes a value, and a value an exception."""

from __future__ import annotations

import traceback

import cloudpickle

from plait._core.language import LanguageError
from plait._core.memory_store import StoredObject
from plait._format import ErrorInfo, serialize
from plait._format import exceptions as exc


def error_info_for(err: BaseException, function_name: str = "") -> ErrorInfo:
    """The neutral description of an exception raised by user code (or by plait)."""
    if isinstance(err, LanguageError):
        return ErrorInfo(
            type_name=err.type_name,
            message=err.message,
            language=err.language,
            stack=err.stack,
            cause=None,
            python_pickle=None,
        )
    if isinstance(err, exc.RayTaskError):
        stack = err.traceback_str
        to_pickle: BaseException = err
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
    cause = type(err)
    return ErrorInfo(
        type_name=f"{cause.__module__}.{cause.__qualname__}",
        message=str(err),
        language="python",
        stack=stack,
        cause=None,
        python_pickle=pickled,
    )


def error_object(err: BaseException, function_name: str = "") -> StoredObject:
    data = serialize(error_info_for(err, function_name)).to_bytes()
    return StoredObject(data=data, size=len(data), is_error=True)


def exception_from(info: ErrorInfo) -> BaseException:
    """The exception `plait.get` raises for a stored error."""
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
        return exc.CrossLanguageError("", _describe(info), None, info.type_name, info.language)
    short = info.type_name.rsplit(".", 1)[-1]
    return exc.RayTaskError("", info.stack or info.message, None, short, info.language)


def _describe(info: ErrorInfo) -> str:
    text = f"{info.type_name}: {info.message}"
    if info.stack:
        text += "\n" + info.stack
    return text
