"""The codec's value types and errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SerializationError(TypeError):
    """A value cannot be encoded (e.g. a lock, a generator, an open file)."""


class DeserializationError(ValueError):
    """Bytes are not a valid encoded object, or a Python-only value cannot be rebuilt."""


@dataclass
class ErrorInfo:
    """A failure as a value, readable in every language.

    `python_pickle` is the cloudpickled exception when Python raised it, so a Python reader
    can rebuild the exact exception; other languages ignore it.
    """

    type_name: str
    message: str
    language: str
    stack: str
    cause: ErrorInfo | None = None
    python_pickle: bytes | None = None


@dataclass
class ActorHandleData:
    """An actor handle's state, as decoded when no actor handle factory is set.

    It encodes back to the same actor-handle ext, so a process that only forwards handles
    does not need the runtime's handle class.
    """

    state: dict[Any, Any]

    def __plait_actor_state__(self) -> dict[Any, Any]:
        return self.state
