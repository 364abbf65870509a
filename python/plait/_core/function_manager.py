"""Shipping Python functions and classes to workers through the GCS function table.

The caller pickles a remote function or class once (cloudpickle, by value when it is not
importable) and stores it in the GCS KV under a content hash; workers load it by that key
and cache it.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from typing import TYPE_CHECKING, Any

import cloudpickle

from plait._format import SerializationError
from plait._protocol import common_pb2, gcs_pb2

if TYPE_CHECKING:
    from plait._core.core_worker import CoreWorker

FUNCTION_TABLE_NS = "plait:functions"


class FunctionManager:
    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self._exported: dict[int, common_pb2.PythonFunction] = {}
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def export(self, obj: Any) -> common_pb2.PythonFunction:
        """Store obj in the function table (once per process) and describe it."""
        key = id(obj)
        with self._lock:
            desc = self._exported.get(key)
        if desc is not None:
            return desc
        try:
            blob = cloudpickle.dumps(obj)
        except Exception as e:
            raise SerializationError(
                f"could not serialize remote {getattr(obj, '__qualname__', obj)!r} to send it "
                f"to workers: {type(e).__name__}: {e}"
            ) from e
        digest = hashlib.sha1(blob).hexdigest()
        self.cw.gcs_sync.KVPut(
            gcs_pb2.KVPutRequest(ns=FUNCTION_TABLE_NS, key=digest, value=blob, overwrite=False)
        )
        desc = common_pb2.PythonFunction(
            module=getattr(obj, "__module__", "") or "",
            qualname=getattr(obj, "__qualname__", ""),
            function_key=digest,
        )
        with self._lock:
            self._exported[key] = desc
            # Keep obj alive so its id() is not reused by another object.
            self._loaded.setdefault("id:" + str(key), obj)
        return desc

    def load(self, desc: common_pb2.PythonFunction) -> Any:
        """The callable (or class) a descriptor names (any thread but the I/O loop)."""
        cache_key = desc.function_key or f"{desc.module}:{desc.qualname}"
        with self._lock:
            obj = self._loaded.get(cache_key)
        if obj is not None:
            return obj
        if desc.function_key:
            reply = self.cw.gcs_sync.KVGet(
                gcs_pb2.KVGetRequest(ns=FUNCTION_TABLE_NS, key=desc.function_key)
            )
            if not reply.found:
                raise RuntimeError(
                    f"function {desc.qualname!r} ({desc.function_key}) is not "
                    "in the cluster's function table"
                )
            obj = cloudpickle.loads(reply.value)
        else:
            try:
                obj = importlib.import_module(desc.module)
                for part in desc.qualname.split("."):
                    obj = getattr(obj, part)
            except (ImportError, AttributeError) as e:
                raise RuntimeError(f"unknown function {desc.module}.{desc.qualname}: {e}") from e
        with self._lock:
            self._loaded[cache_key] = obj
        return obj
