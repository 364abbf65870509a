"""The one table of call options (Ray's names) and the one validator that reads it.

Every `.remote()` (Python functions and classes, C++ and Java functions and classes, and
the calls C++ and Java code makes through HostApi) resolves its options here, so each
option means the same for every language. An option is either implemented, or accepted
only at its default/no-op value and refused otherwise with NotImplementedError; an unknown
keyword is a ValueError that suggests the closest valid one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Where an option applies: a normal task, an actor's creation, an actor method call;
# "init" is plait.init's keywords.
Scope = Literal["task", "actor", "method", "init"]

# Ray's max_retries=-1 ("retry forever") as the spec's attempt bound.
RETRY_FOREVER = 2**31 - 1

_CALL_SCOPES: tuple[Scope, ...] = ("task", "actor", "method")
_WHAT: dict[Scope, str] = {
    "task": "a remote function",
    "actor": "an actor class",
    "method": "an actor method",
    "init": "plait.init()",
}


# -- value checks (each raises with a message naming the option) ------------------------
def _any(name: str, v: Any) -> None:
    return None


def _non_negative_number(name: str, v: Any) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
        raise ValueError(f"{name} must be a non-negative number, got {v!r}")


def _optional_str(name: str, v: Any) -> None:
    if v is not None and not isinstance(v, str):
        raise TypeError(f"{name} must be a str, got {type(v).__name__}")


def _bool(name: str, v: Any) -> None:
    if v is not None and not isinstance(v, bool):
        raise ValueError(f"{name} must be a bool, got {v!r}")


def _num_returns(name: str, v: Any) -> None:
    if v in ("streaming", "dynamic"):
        raise NotImplementedError(
            f"plait does not implement generator tasks (num_returns={v!r}) yet"
        )
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"num_returns must be a non-negative int, got {v!r}")


def _max_retries(name: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < -1:
        raise ValueError(f"max_retries must be an int >= -1 (-1: retry forever), got {v!r}")


def _retry_exceptions(name: str, v: Any) -> None:
    if isinstance(v, bool) or v is None:
        return
    if isinstance(v, (list, tuple)) and all(
        isinstance(c, type) and issubclass(c, BaseException) for c in v
    ):
        return
    raise ValueError(
        f"retry_exceptions must be either a boolean or a list of exceptions, got {v!r}"
    )


def _resources(name: str, v: Any) -> None:
    if v is None:
        return
    if not isinstance(v, dict) or not all(
        isinstance(k, str) and not isinstance(n, bool) and isinstance(n, (int, float)) and n >= 0
        for k, n in v.items()
    ):
        raise ValueError(f"resources must be a dict of name -> non-negative number, got {v!r}")
    if "CPU" in v or "GPU" in v:
        raise ValueError("Use the num_cpus and num_gpus options, not resources, for CPU and GPU.")


def _lifetime(name: str, v: Any) -> None:
    if v not in (None, "detached", "non_detached"):
        raise ValueError(f"lifetime must be 'detached' or 'non_detached', got {v!r}")


def _max_concurrency(name: str, v: Any) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        raise ValueError(f"max_concurrency must be a positive int, got {v!r}")


# -- no-op values of the options plait does not implement --------------------------------
def _is(*values: Any) -> Callable[[Any], bool]:
    """Accepts exactly these values (None, the default, or a value with nothing to do)."""
    return lambda v: any(v is x or (type(v) is type(x) and v == x) for x in values)


def _none(v: Any) -> bool:
    return v is None


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, (dict, list)) and not v)


@dataclass(frozen=True)
class Option:
    """One row of the table: `name` where it applies (`scopes`), its default, its check,
    and, when plait does not implement it, the values it may take anyway (`noop`)."""

    name: str
    scopes: frozenset[Scope]
    default: Any = None
    check: Callable[[str, Any], None] = _any
    implemented: bool = True
    noop: Callable[[Any], bool] = _none
    # A default that differs by scope (num_cpus: 1 for a task, 0 for an actor).
    scope_defaults: tuple[tuple[Scope, Any], ...] = ()
    doc: str = ""

    def default_for(self, scope: Scope) -> Any:
        return dict(self.scope_defaults).get(scope, self.default)


def _row(name: str, scopes: str, default: Any = None, **kw: Any) -> Option:
    return Option(name, frozenset(scopes.split()), default, **kw)  # type: ignore[arg-type]


def _todo(name: str, scopes: str, noop: Callable[[Any], bool] = _none, **kw: Any) -> Option:
    return _row(name, scopes, None, implemented=False, noop=noop, **kw)


OPTIONS: tuple[Option, ...] = (
    # -- implemented -------------------------------------------------------------------
    _row(
        "num_cpus",
        "task actor",
        1.0,
        check=_non_negative_number,
        scope_defaults=(("actor", 0.0),),
    ),
    _row("num_gpus", "task actor", 0.0, check=_non_negative_number),
    _row("resources", "task actor", None, check=_resources),
    _row("num_returns", "task method", 1, check=_num_returns),
    _row("max_retries", "task", 3, check=_max_retries),
    _row("retry_exceptions", "task", False, check=_retry_exceptions),
    _row("name", "task actor method", None, check=_optional_str),
    _row("namespace", "actor", None, check=_optional_str),
    _row("lifetime", "actor", None, check=_lifetime),
    _row("max_concurrency", "actor", None, check=_max_concurrency),
    _row("get_if_exists", "actor", False, check=_bool),
    # -- accepted only at their default / no-op value --------------------------------------
    _todo("memory", "task actor", _is(None, 0, 0.0)),
    _todo("object_store_memory", "task actor"),
    _todo("accelerator_type", "task actor"),
    _todo("runtime_env", "task actor", _empty),
    _todo("scheduling_strategy", "task actor", _is(None, "DEFAULT")),
    _todo("placement_group", "task actor", _is(None, "default")),
    _todo("placement_group_bundle_index", "task actor", _is(None, -1)),
    _todo("placement_group_capture_child_tasks", "task actor", _is(None, False)),
    _todo("label_selector", "task actor", _empty),
    _todo("fallback_strategy", "task actor", _empty),
    _todo("_labels", "task actor", _empty),
    _todo("_metadata", "task actor", _empty),
    # plait records no task events, so they are never on.
    _todo("enable_task_events", "task actor method", _is(None, False)),
    _todo("max_calls", "task", _is(None, 0)),
    _todo("_generator_backpressure_num_objects", "task method", _is(None, -1)),
    _todo("max_restarts", "actor", _is(None, 0)),
    _todo("max_task_retries", "actor method", _is(None, 0)),
    _todo("max_pending_calls", "actor", _is(None, -1)),
    _todo("concurrency_groups", "actor", _empty),
    _todo("allow_out_of_order_execution", "actor", _is(None, False)),
    _todo("concurrency_group", "method"),
    # Actor calls are not retried (max_task_retries is 0), so there is nothing to retry on.
    _todo("retry_exceptions", "method", _is(None, False)),
    _todo("tensor_transport", "method"),
    # -- plait.init(): the implemented ones are init's own parameters ---------------------
    *(
        _row(n, "init")
        for n in (
            "address",
            "num_cpus",
            "num_gpus",
            "resources",
            "namespace",
            "object_store_memory",
            "ignore_reinit_error",
            "logging_level",
            "job_config",
            "code_search_path",
        )
    ),
    _todo("labels", "init", _empty),
    _todo("local_mode", "init", _is(None, False)),
    _todo("include_dashboard", "init", _is(None, False)),
    _todo("dashboard_host", "init", _is(None, "localhost", "127.0.0.1")),
    _todo("dashboard_port", "init"),
    # plait never configures the root logger nor forwards worker output to the driver.
    _todo("configure_logging", "init", _is(None, False)),
    _todo("log_to_driver", "init", _is(None, False)),
    _todo("logging_format", "init"),
    _todo("logging_config", "init"),
    _todo("runtime_env", "init", _empty),
    _todo("enable_resource_isolation", "init", _is(None, False)),
    _todo("system_reserved_cpu", "init"),
    _todo("system_reserved_memory", "init"),
    _todo("storage", "init"),
    *(
        _todo(n, "init", _empty)
        for n in (
            "_system_config",
            "_temp_dir",
            "_node_ip_address",
            "_enable_object_reconstruction",
            "_plasma_directory",
            "_metrics_export_port",
            "_redis_password",
            "_memory",
            "_driver_object_store_memory",
            "_tracing_startup_hook",
            "_node_name",
        )
    ),
)

_BY_SCOPE: dict[Scope, dict[str, Option]] = {s: {} for s in _WHAT}
for _opt in OPTIONS:
    for _s in _opt.scopes:
        assert _opt.name not in _BY_SCOPE[_s], f"option {_opt.name!r} twice for {_s}"
        _BY_SCOPE[_s][_opt.name] = _opt


def options_for(scope: Scope) -> Mapping[str, Option]:
    return _BY_SCOPE[scope]


def unknown_keyword(
    name: str, valid: Iterable[str], what: str, scope: Scope | None = None
) -> ValueError:
    """The ValueError for a keyword that is not valid for `what`, with the closest valid one."""
    valid = sorted(valid)
    kind = "keyword argument" if scope == "init" else "option"
    msg = f"Invalid {kind} {name!r} for {what}"
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    others = [s for s in _CALL_SCOPES if s != scope and name in _BY_SCOPE[s]]
    if others:
        msg += f" (it is an option of {' and of '.join(_WHAT[s] for s in others)})"
    if close:
        msg += f": did you mean {close[0]!r}?"
    elif not others:
        msg += f". Valid ones: {', '.join(valid)}."
    return ValueError(msg)


def validate(opts: Mapping[str, Any], scope: Scope, what: str | None = None) -> None:
    """Check every keyword of `opts` against the table: unknown ones raise ValueError (with
    a suggestion), bad values ValueError/TypeError, unimplemented ones NotImplementedError
    unless their value is a no-op."""
    table = _BY_SCOPE[scope]
    what = what or _WHAT[scope]
    for name, value in opts.items():
        opt = table.get(name)
        if opt is None:
            raise unknown_keyword(name, table, what, scope)
        opt.check(name, value)
        if not opt.implemented and not opt.noop(value):
            raise NotImplementedError(
                f"plait does not implement the {name!r} option (of {what}) yet; "
                f"got {name}={value!r}"
            )


@dataclass(frozen=True)
class CallOptions:
    """The options of one kind of call, checked and with their defaults filled in: what
    the spec builder (task_spec.new_task) and the submitters read."""

    num_returns: int = 1
    resources: dict[str, float] = field(default_factory=dict)
    # The spec's bound on re-executions (-1 already made RETRY_FOREVER).
    max_retries: int = 0
    retry_exceptions: bool | tuple[type[BaseException], ...] = False
    name: str = ""
    namespace: str | None = None
    detached: bool = False
    max_concurrency: int | None = None
    get_if_exists: bool = False


def resolve(opts: Mapping[str, Any], scope: Scope, what: str | None = None) -> CallOptions:
    """validate(opts), then the CallOptions they mean for a call of `scope`."""
    validate(opts, scope, what)
    table = _BY_SCOPE[scope]

    def get(name: str) -> Any:
        v = opts.get(name)
        return table[name].default_for(scope) if v is None and name in table else v

    resources: dict[str, float] = {}
    if scope != "method":
        cpus = float(get("num_cpus"))
        gpus = float(get("num_gpus"))
        if cpus:
            resources["CPU"] = cpus
        if gpus:
            resources["GPU"] = gpus
        for k, v in (get("resources") or {}).items():
            if v:
                resources[k] = float(v)
    retries = int(get("max_retries") or 0) if scope == "task" else 0
    retry_exc = get("retry_exceptions") if scope == "task" else False
    return CallOptions(
        num_returns=int(get("num_returns")) if scope in ("task", "method") else 0,
        resources=resources,
        max_retries=RETRY_FOREVER if retries == -1 else retries,
        retry_exceptions=tuple(retry_exc)
        if isinstance(retry_exc, (list, tuple))
        else bool(retry_exc),
        name=get("name") or "",
        namespace=get("namespace") if scope == "actor" else None,
        detached=scope == "actor" and get("lifetime") == "detached",
        max_concurrency=get("max_concurrency") if scope == "actor" else None,
        get_if_exists=bool(get("get_if_exists")) if scope == "actor" else False,
    )


def resource_options(resources: Mapping[str, float]) -> dict[str, Any]:
    """A resource map ({"CPU": 2, "GPU": 1, "x": 1}, as C++ and Java send it) as the
    options that ask for it."""
    res = dict(resources)
    opts: dict[str, Any] = {}
    if "CPU" in res:
        opts["num_cpus"] = res.pop("CPU")
    if "GPU" in res:
        opts["num_gpus"] = res.pop("GPU")
    if res:
        opts["resources"] = res
    return opts
