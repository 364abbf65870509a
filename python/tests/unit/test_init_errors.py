"""plait.init's bad inputs fail at once with a clear error and leave plait uninitialized."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import plait
from plait import _init


@pytest.fixture(autouse=True)
def not_initialized() -> None:
    if plait.is_initialized():
        plait.shutdown()


def test_auto_without_a_running_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster_file = tmp_path / "cluster.json"
    monkeypatch.setattr(_init, "CLUSTER_FILE", cluster_file)
    with pytest.raises(ConnectionError, match="no running plait cluster was found"):
        plait.init(address="auto")
    assert not plait.is_initialized()
    # A cluster that `plait start` recorded but that is gone (nothing listens there).
    cluster_file.write_text(json.dumps({"gcs_address": "127.0.0.1:1"}))
    with pytest.raises(ConnectionError, match="could not reach the plait GCS at 127.0.0.1:1"):
        plait.init(address="auto")
    assert not plait.is_initialized()


def test_resources_are_rejected_when_connecting_to_a_cluster() -> None:
    with pytest.raises(ValueError, match="must not be provided"):
        plait.init(address="127.0.0.1:1", num_cpus=1)
    with pytest.raises(ValueError, match="num_cpus and num_gpus"):
        plait.init(resources={"CPU": 1})
    with pytest.raises(TypeError, match="resources must be a dict"):
        plait.init(resources=["x"])  # type: ignore[arg-type]
    assert not plait.is_initialized()


def test_api_before_init_without_auto_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_ENABLE_AUTO_CONNECT", "0")  # else put() would call init()
    with pytest.raises(RuntimeError, match=r"call plait.init\(\) first"):
        plait.put(1)
    assert not plait.is_initialized()
