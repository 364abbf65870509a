"""Exceptions raised by plait, with Ray's names so `import plait as ray` code keeps working.

The classes live in the format layer (plait._format.exceptions), which every other layer
may import; this is their public home.
"""

from __future__ import annotations

from plait._format.exceptions import (
    ActorDiedError,
    ActorUnavailableError,
    CrossLanguageError,
    GetTimeoutError,
    NodeDiedError,
    ObjectLostError,
    ObjectStoreFullError,
    OwnerDiedError,
    PlaitError,
    RayActorError,
    RayError,
    RaySystemError,
    RayTaskError,
    TaskCancelledError,
    WorkerCrashedError,
)

__all__ = [
    "ActorDiedError",
    "ActorUnavailableError",
    "CrossLanguageError",
    "GetTimeoutError",
    "NodeDiedError",
    "ObjectLostError",
    "ObjectStoreFullError",
    "OwnerDiedError",
    "PlaitError",
    "RayActorError",
    "RayError",
    "RaySystemError",
    "RayTaskError",
    "TaskCancelledError",
    "WorkerCrashedError",
]
