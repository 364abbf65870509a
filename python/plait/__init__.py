"""plait: a cross-language distributed runtime with a Ray-compatible Python API.

import plait as ray
ray.init()

@ray.remote
def square(x):
    return x * x

ray.get([square.remote(i) for i in range(4)])   # [0, 1, 4, 9]
"""

from __future__ import annotations

import os as _os

# plait starts its processes with subprocess (fork+exec) while gRPC threads run; gRPC's
# fork handlers are not needed for that, and they log a line on every start.
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from plait import exceptions  # noqa: E402
from plait._actor import ActorClass, ActorHandle, ActorMethod, method
from plait._api import (
    available_resources,
    cancel,
    cluster_resources,
    get,
    get_actor,
    get_gpu_ids,
    kill,
    nodes,
    put,
    remote,
    wait,
)
from plait._cross_language import (
    CrossLanguageActorClass,
    CrossLanguageFunction,
    cpp_actor_class,
    cpp_function,
    java_actor_class,
    java_function,
)
from plait._format.object_ref import ObjectRef
from plait._init import init, is_initialized, shutdown
from plait._remote_function import RemoteFunction
from plait._runtime_context import RuntimeContext, get_runtime_context
from plait.job_config import JobConfig

__version__ = "0.1.0"

__all__ = [
    "ActorClass",
    "ActorHandle",
    "ActorMethod",
    "CrossLanguageActorClass",
    "CrossLanguageFunction",
    "JobConfig",
    "ObjectRef",
    "RemoteFunction",
    "RuntimeContext",
    "__version__",
    "available_resources",
    "cancel",
    "cluster_resources",
    "cpp_actor_class",
    "cpp_function",
    "exceptions",
    "get",
    "get_actor",
    "get_gpu_ids",
    "get_runtime_context",
    "init",
    "is_initialized",
    "java_actor_class",
    "java_function",
    "kill",
    "method",
    "nodes",
    "put",
    "remote",
    "shutdown",
    "wait",
]
