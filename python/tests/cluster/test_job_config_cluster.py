"""init(job_config=JobConfig(...)) on a real cluster: the job runs in the JobConfig's
namespace and its workers load code from its code_search_path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import plait
from plait.job_config import JobConfig

MODULE = "jobconfig_search_path_mod"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # A module only the code search path has: not in the driver's cwd nor on its sys.path.
    code = tmp_path_factory.mktemp("job-code")
    (code / f"{MODULE}.py").write_text("def where():\n    return 'from the code search path'\n")
    if plait.is_initialized():
        plait.shutdown()
    info = plait.init(
        num_cpus=2, job_config=JobConfig(ray_namespace="ns1", code_search_path=[str(code)])
    )
    try:
        yield info
    finally:
        plait.shutdown()


@plait.remote
class Holder:
    def namespace(self) -> str:
        return plait.get_runtime_context().namespace


@plait.remote
def use_search_path_module() -> str:
    import importlib

    mod: Any = importlib.import_module(MODULE)
    return str(mod.where())


def test_named_actor_lives_in_the_job_configs_namespace(cluster: dict[str, Any]) -> None:
    assert cluster["namespace"] == "ns1"
    assert plait.get_runtime_context().namespace == "ns1"
    holder = Holder.options(name="jobconfig-holder").remote()
    assert plait.get(holder.namespace.remote(), timeout=60) == "ns1"
    found = plait.get_actor("jobconfig-holder", namespace="ns1")
    assert plait.get(found.namespace.remote(), timeout=60) == "ns1"
    assert plait.get_actor("jobconfig-holder")._actor_id == found._actor_id
    with pytest.raises(ValueError, match="Failed to look up"):
        plait.get_actor("jobconfig-holder", namespace="not-ns1")


def test_workers_load_code_from_the_job_configs_code_search_path(
    cluster: dict[str, Any],
) -> None:
    assert plait.get(use_search_path_module.remote(), timeout=60) == "from the code search path"
