"""Per-job settings, as Ray's `ray.job_config.JobConfig`: `plait.init(job_config=...)`.

plait implements `code_search_path` and `ray_namespace`. Ray's other settings
(`runtime_env`, `jvm_options`, `metadata`, `default_actor_lifetime="detached"`, the
Python logging config) raise NotImplementedError naming the setting when given a value
other than their default, rather than being accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_LIFETIMES = ("detached", "non_detached")
# from_json's keys: Ray's constructor keywords plus the internal ones its from_json reads.
_JSON_KEYS = (
    "jvm_options",
    "code_search_path",
    "runtime_env",
    "metadata",
    "ray_namespace",
    "default_actor_lifetime",
    "client_job",
    "py_driver_sys_path",
)


def _not_implemented(name: str, value: object, why: str) -> NotImplementedError:
    return NotImplementedError(
        f"JobConfig({name}={value!r}) is not supported by plait yet ({why}); "
        f"leave {name} at its default"
    )


def _paths(code_search_path: object) -> list[str]:
    if code_search_path is None:
        return []
    # A str would be read as a list of one-character paths.
    if isinstance(code_search_path, (str, bytes)) or not isinstance(code_search_path, Sequence):
        raise TypeError(
            "code_search_path must be a list of paths, got "
            f"{type(code_search_path).__name__}: {code_search_path!r}"
        )
    for p in code_search_path:
        if not isinstance(p, str):
            raise TypeError(
                f"code_search_path entries must be str paths, got {type(p).__name__}: {p!r}"
            )
    return list(code_search_path)


class JobConfig:
    """The configuration of a job (a driver and everything it starts).

    Args:
        jvm_options: JVM options for the job's Java workers (not supported: only empty).
        code_search_path: directories and files the job's workers load code from: Python
            modules and packages, jars and class directories, C++ shared libraries. The
            driver ships them to every node (docs/cross-language.md).
        runtime_env: not supported yet (only None or {}).
        metadata: opaque job metadata (not supported: only None or {}).
        ray_namespace: the job's namespace (named actors live in it); None: a new
            anonymous one. `plait.init(namespace=...)` may name it instead.
        default_actor_lifetime: "non_detached" ("detached" is not supported yet).
    """

    def __init__(
        self,
        jvm_options: list[str] | None = None,
        code_search_path: list[str] | None = None,
        runtime_env: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
        ray_namespace: str | None = None,
        default_actor_lifetime: str = "non_detached",
    ) -> None:
        if jvm_options:
            raise _not_implemented(
                "jvm_options", jvm_options, "Java workers start with plait's fixed JVM options"
            )
        self.jvm_options: list[str] = []
        self.code_search_path: list[str] = _paths(code_search_path)
        self.metadata: dict[str, str] = {}
        for key, value in (metadata or {}).items():
            self.set_metadata(key, value)
        self.ray_namespace: str | None = None
        if ray_namespace is not None:
            self.set_ray_namespace(ray_namespace)
        self.runtime_env: dict[str, Any] = {}
        self.set_runtime_env(runtime_env)
        self.set_default_actor_lifetime(default_actor_lifetime)

    def set_metadata(self, key: str, value: str) -> None:
        raise _not_implemented("metadata", {key: value}, "plait's job table stores no job metadata")

    def set_runtime_env(
        self, runtime_env: Mapping[str, Any] | None, validate: bool = False
    ) -> None:
        """Ray's runtime environments are a later plait feature: only None or {} is
        accepted (`validate` is accepted as Ray's keyword; there is nothing to check)."""
        if runtime_env is not None and not isinstance(runtime_env, Mapping):
            raise TypeError(f"runtime_env must be a dict or None, got {type(runtime_env).__name__}")
        if runtime_env:
            raise _not_implemented(
                "runtime_env", dict(runtime_env), "runtime environments are not implemented"
            )
        self.runtime_env = {}

    def set_ray_namespace(self, ray_namespace: str) -> None:
        if not isinstance(ray_namespace, str):
            raise TypeError(f"ray_namespace must be a str, got {type(ray_namespace).__name__}")
        if not ray_namespace:
            raise ValueError("ray_namespace must not be an empty string")
        self.ray_namespace = ray_namespace

    def set_default_actor_lifetime(self, default_actor_lifetime: str) -> None:
        if default_actor_lifetime not in _LIFETIMES:
            raise ValueError(
                "Default actor lifetime must be one of `detached`, `non_detached`, got "
                f"{default_actor_lifetime!r}"
            )
        if default_actor_lifetime == "detached":
            raise _not_implemented(
                "default_actor_lifetime",
                default_actor_lifetime,
                "give each actor lifetime='detached' instead",
            )
        self._default_actor_lifetime = default_actor_lifetime

    def set_py_logging_config(self, logging_config: object = None) -> None:
        if logging_config is not None:
            raise _not_implemented(
                "py_logging_config", logging_config, "plait does not configure worker logging"
            )

    @classmethod
    def from_json(cls, job_config_json: Mapping[str, Any]) -> JobConfig:
        """A JobConfig from a JSON-like dict (Ray's from_json takes the parsed dict)."""
        if not isinstance(job_config_json, Mapping):
            raise TypeError(
                f"JobConfig.from_json takes a dict, got {type(job_config_json).__name__}"
            )
        unknown = sorted(set(job_config_json) - set(_JSON_KEYS))
        if unknown:
            raise ValueError(
                f"JobConfig.from_json: unknown keys {unknown}; known: {list(_JSON_KEYS)}"
            )
        if job_config_json.get("client_job", False):
            raise _not_implemented("client_job", True, "plait has no Ray Client")
        if job_config_json.get("py_driver_sys_path"):
            raise _not_implemented(
                "py_driver_sys_path",
                job_config_json["py_driver_sys_path"],
                "use code_search_path",
            )
        return cls(
            jvm_options=job_config_json.get("jvm_options"),
            code_search_path=job_config_json.get("code_search_path"),
            runtime_env=job_config_json.get("runtime_env"),
            metadata=job_config_json.get("metadata"),
            ray_namespace=job_config_json.get("ray_namespace"),
            default_actor_lifetime=job_config_json.get("default_actor_lifetime", "non_detached"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobConfig):
            return NotImplemented
        return (self.code_search_path, self.ray_namespace) == (
            other.code_search_path,
            other.ray_namespace,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like Ray's

    def __repr__(self) -> str:
        return (
            f"JobConfig(code_search_path={self.code_search_path!r}, "
            f"ray_namespace={self.ray_namespace!r})"
        )
