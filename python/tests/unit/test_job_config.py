"""plait.job_config.JobConfig (Ray's ray.job_config.JobConfig) and what init() takes
from it; every case fails before any process starts."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import plait
import plait.job_config
from plait import _init
from plait.job_config import JobConfig


@pytest.fixture(autouse=True)
def not_initialized() -> None:
    if plait.is_initialized():
        plait.shutdown()


def test_one_class_at_rays_path_with_rays_signature() -> None:
    assert plait.JobConfig is JobConfig is _init.JobConfig
    assert JobConfig.__module__ == "plait.job_config"
    params = inspect.signature(JobConfig).parameters
    assert list(params) == [
        "jvm_options",
        "code_search_path",
        "runtime_env",
        "metadata",
        "ray_namespace",
        "default_actor_lifetime",
    ]
    assert params["default_actor_lifetime"].default == "non_detached"
    assert all(params[n].default is None for n in list(params)[:5])


def test_defaults_and_implemented_fields() -> None:
    config = JobConfig()
    assert config.code_search_path == []
    assert config.ray_namespace is None
    assert config.runtime_env == {}
    assert config.jvm_options == [] and config.metadata == {}
    config = JobConfig(code_search_path=["a.jar", "pymods"], ray_namespace="ns1")
    assert config.code_search_path == ["a.jar", "pymods"]
    assert config.ray_namespace == "ns1"
    config.set_ray_namespace("ns2")
    assert config.ray_namespace == "ns2"
    # The no-op values of the unimplemented fields are accepted, as Ray's defaults.
    JobConfig(jvm_options=[], runtime_env={}, metadata={}, default_actor_lifetime="non_detached")
    config.set_runtime_env(None)
    config.set_runtime_env({}, validate=True)
    config.set_py_logging_config(None)
    assert config == JobConfig(code_search_path=["a.jar", "pymods"], ray_namespace="ns2")
    assert "ray_namespace='ns2'" in repr(config)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"runtime_env": {"pip": ["numpy"]}}, "runtime_env"),
        ({"runtime_env": {"env_vars": {"A": "1"}}}, "runtime_env"),
        ({"jvm_options": ["-Xmx1g"]}, "jvm_options"),
        ({"metadata": {"k": "v"}}, "metadata"),
        ({"default_actor_lifetime": "detached"}, "default_actor_lifetime"),
    ],
)
def test_unimplemented_fields_raise_naming_them(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(NotImplementedError, match=rf"JobConfig\({name}="):
        JobConfig(**kwargs)


def test_unimplemented_setters_raise_naming_the_field() -> None:
    config = JobConfig()
    with pytest.raises(NotImplementedError, match="runtime_env"):
        config.set_runtime_env({"working_dir": "."})
    with pytest.raises(NotImplementedError, match="metadata"):
        config.set_metadata("k", "v")
    with pytest.raises(NotImplementedError, match="default_actor_lifetime"):
        config.set_default_actor_lifetime("detached")
    with pytest.raises(NotImplementedError, match="py_logging_config"):
        config.set_py_logging_config(object())
    assert config.runtime_env == {} and config.metadata == {}


def test_bad_values_get_clear_errors() -> None:
    with pytest.raises(TypeError, match="code_search_path must be a list of paths, got str"):
        JobConfig(code_search_path="app.jar")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="code_search_path entries must be str"):
        JobConfig(code_search_path=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="runtime_env must be a dict or None"):
        JobConfig(runtime_env=["pip"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be one of `detached`, `non_detached`"):
        JobConfig(default_actor_lifetime="forever")
    with pytest.raises(ValueError, match="must not be an empty string"):
        JobConfig(ray_namespace="")
    with pytest.raises(TypeError, match="ray_namespace must be a str"):
        JobConfig(ray_namespace=3)  # type: ignore[arg-type]


def test_from_json() -> None:
    config = JobConfig.from_json({"code_search_path": ["a.jar"], "ray_namespace": "n"})
    assert config == JobConfig(code_search_path=["a.jar"], ray_namespace="n")
    assert JobConfig.from_json({}) == JobConfig()
    with pytest.raises(NotImplementedError, match="runtime_env"):
        JobConfig.from_json({"runtime_env": {"pip": ["x"]}})
    with pytest.raises(NotImplementedError, match="client_job"):
        JobConfig.from_json({"client_job": True})
    with pytest.raises(ValueError, match=r"unknown keys \['namespace'\]"):
        JobConfig.from_json({"namespace": "n"})
    with pytest.raises(TypeError, match="takes a dict"):
        JobConfig.from_json('{"ray_namespace": "n"}')  # type: ignore[arg-type]


def test_init_takes_the_namespace_from_the_job_config() -> None:
    assert _init._job_namespace(None, JobConfig(ray_namespace="ns1")) == "ns1"
    assert _init._job_namespace("ns1", JobConfig(ray_namespace="ns1")) == "ns1"
    assert _init._job_namespace("ns2", JobConfig()) == "ns2"
    assert _init._job_namespace(None, JobConfig()) is None
    assert _init._job_namespace(None, None) is None


def test_init_refuses_a_namespace_that_disagrees_with_the_job_config() -> None:
    with pytest.raises(
        ValueError, match="init\\(namespace='a'\\) and job_config's ray_namespace='b'"
    ):
        plait.init(namespace="a", job_config=JobConfig(ray_namespace="b"))
    with pytest.raises(TypeError, match="job_config must be a plait.job_config.JobConfig"):
        plait.init(job_config={"ray_namespace": "b"})  # type: ignore[arg-type]
    assert not plait.is_initialized()
