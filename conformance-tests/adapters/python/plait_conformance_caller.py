"""The Python caller of the conformance suite: `run(callee, op)` executes one operation
against the callee language's adapter and returns an outcome map, never raising for a
failure of the operation (docs/conformance.md, "Caller").
"""

from __future__ import annotations

import traceback
from typing import Any

import plait
from plait import exceptions as exc

CALLEE_MODULE = "plait_conformance_callee"
JAVA_CALLEE = "io.plait.conformance.Callee"
JAVA_COUNTER = "io.plait.conformance.Counter"


def _function(callee: str, name: str) -> Any:
    if callee == "python":
        import plait_conformance_callee as module

        fn = getattr(module, name, None)
        if fn is None:
            # The same situation as an unknown C++ or Java function: reported by the
            # runtime's executor when the task runs, here at the caller.
            raise AttributeError(f"module {CALLEE_MODULE!r} has no function {name!r}")
        return plait.remote(fn)
    if callee == "cpp":
        return plait.cpp_function(name)
    if callee == "java":
        return plait.java_function(JAVA_CALLEE, name)
    raise ValueError(f"unknown callee language {callee!r}")


def _actor_class(callee: str, name: str) -> Any:
    if callee == "python":
        import plait_conformance_callee as module

        return plait.remote(getattr(module, name))
    if callee == "cpp":
        return plait.cpp_actor_class(name)
    if callee == "java":
        return plait.java_actor_class(JAVA_COUNTER if name == "Counter" else name)
    raise ValueError(f"unknown callee language {callee!r}")


def _error(e: BaseException) -> dict[str, Any]:
    if isinstance(e, exc.GetTimeoutError):
        kind = "timeout"
    elif isinstance(e, exc.RayActorError):
        kind = "actor_died"
    elif isinstance(e, exc.RayTaskError):
        kind = "task"
    elif isinstance(e, (TypeError, ValueError, AttributeError)):
        # Refused before the call left this process (wrong arity for a Python function,
        # a value the codec cannot write): the same failure the callee would report.
        kind = "task"
    else:
        kind = "other"
    if isinstance(e, exc.RayTaskError):
        type_name = e.type_name
        language = e.language
        message = str(e)
    else:
        type_name = f"{type(e).__module__}.{type(e).__qualname__}"
        language = "python"
        message = "".join(traceback.format_exception_only(type(e), e)).strip()
    return {"kind": kind, "type": type_name, "language": language, "message": message}


def _failed(e: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": _error(e)}


def _prepare_args(callee: str, op: dict[str, Any]) -> list[Any]:
    args = list(op.get("args", []))
    for i in op.get("put_args", []):
        args[i] = plait.put(args[i])
    for i in op.get("chain_args", []):
        args[i] = _function(callee, op.get("chain_via", "echo")).remote(args[i])
    for i in op.get("wrap_args", []):
        args[i] = [args[i]]
    return args


def _call(callee: str, op: dict[str, Any]) -> dict[str, Any]:
    timeout = float(op.get("timeout_s", 60))
    try:
        args = _prepare_args(callee, op)
        ref = _function(callee, op["function"]).remote(*args, **op.get("kwargs", {}))
        value = plait.get(ref, timeout=timeout)
        if op.get("get_result_ref"):
            if not isinstance(value, plait.ObjectRef):
                return {
                    "ok": False,
                    "error": {
                        "kind": "other",
                        "type": "",
                        "language": "python",
                        "message": f"expected an ObjectRef result, got {type(value).__name__}",
                    },
                }
            value = plait.get(value, timeout=timeout)
        return {"ok": True, "value": value}
    except Exception as e:  # noqa: BLE001 - every failure becomes an outcome
        return _failed(e)


def _actor(callee: str, op: dict[str, Any]) -> dict[str, Any]:
    timeout = float(op.get("timeout_s", 60))
    handle = None
    try:
        cls = _actor_class(callee, op.get("class", "Counter"))
        name = op.get("name")
        if name:
            cls = cls.options(name=name)
        handle = cls.remote(*op.get("args", []))
        target = plait.get_actor(name) if op.get("lookup") else handle
    except Exception as e:  # noqa: BLE001
        if handle is not None:
            plait.kill(handle)
        return _failed(e)
    pending: list[Any] = []  # per call: an ObjectRef, an outcome, or None (not yet)
    results: list[dict[str, Any]] = []

    def collect() -> None:
        for item in pending:
            if isinstance(item, dict):
                results.append(item)
                continue
            try:
                results.append({"ok": True, "value": plait.get(item, timeout=timeout)})
            except Exception as e:  # noqa: BLE001
                results.append(_failed(e))
        pending.clear()

    try:
        for call in op.get("calls", []):
            try:
                if call.get("kill"):
                    collect()
                    plait.kill(target)
                    pending.append({"ok": True, "value": None})
                elif "method" in call:
                    method = getattr(target, call["method"])
                    pending.append(method.remote(*call.get("args", [])))
                else:
                    # A sync point: calls through the passed handle come from another
                    # caller, so they are not ordered with ours.
                    collect()
                    args = (
                        [target, *call.get("args", [])]
                        if call.get("handle_arg")
                        else list(call.get("args", []))
                    )
                    pending.append(_function(callee, call["function"]).remote(*args))
                    collect()
            except Exception as e:  # noqa: BLE001
                pending.append(_failed(e))
        collect()
        return {"ok": True, "results": results}
    finally:
        try:
            plait.kill(handle)
        except Exception:  # noqa: BLE001 - already dead
            pass


def run(callee: str, op: dict[str, Any]) -> dict[str, Any]:
    """Execute one operation (docs/conformance.md) against `callee`'s adapter."""
    kind = op.get("op")
    if kind == "call":
        return _call(callee, op)
    if kind == "actor":
        return _actor(callee, op)
    return {
        "ok": False,
        "error": {
            "kind": "other",
            "type": "",
            "language": "python",
            "message": f"unknown op {kind!r}",
        },
    }
