"""The contract between a worker's Python core worker and a foreign-language executor.

A C++ or Java worker is a Python process whose core worker hands tasks to a
LanguageExecutor (plait._cpp / plait._java). Arguments arrive as encoded objects (the
object format of docs/object-format.md; shared-memory views for stored objects), results
leave as encoded objects. See docs/cross-language.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from plait._format import DeserializationError, ErrorInfo, deserialize
from plait._protocol import common_pb2

Buffer = bytes | memoryview


class LanguageError(Exception):
    """Foreign user code raised, or the call could not be bound (unknown function,
    wrong arity, argument that cannot convert)."""

    def __init__(
        self,
        type_name: str,
        message: str,
        stack: str = "",
        language: str = "",
        cause: ErrorInfo | None = None,
    ) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.stack = stack
        self.language = language
        # The Error the foreign code got from a call (plait.get of a failed task) and let
        # propagate: the stored error keeps it as its cause.
        self.cause = cause


def error_cause(encoded: bytes | None) -> ErrorInfo | None:
    """The cause a foreign executor reported with a failure (an encoded Error value, or
    None): decoded for LanguageError.cause."""
    if not encoded:
        return None
    try:
        value = deserialize(encoded)
    except DeserializationError as e:
        # The failure still reaches the caller, its cause replaced by why it was unreadable.
        return ErrorInfo("plait.exceptions.RaySystemError", f"unreadable cause: {e}", "python", "")
    if not isinstance(value, ErrorInfo):
        return ErrorInfo(
            "plait.exceptions.RaySystemError",
            f"a failure's cause is a {type(value).__name__}, not an Error value",
            "python",
            "",
        )
    return value


class LanguageExecutor(Protocol):
    language: str  # "cpp" or "java"

    def call_function(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> list[bytes]:
        """Run a function; one encoded object per return value. Raises LanguageError."""
        ...

    def create_actor(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
    ) -> None:
        """Construct this worker's actor (one per worker). Raises LanguageError."""
        ...

    def call_method(
        self, method: str, args: Sequence[Buffer], kwarg_names: Sequence[str], num_returns: int
    ) -> list[bytes]:
        """Call a method of this worker's actor. Raises LanguageError."""
        ...
