"""A job's code_search_path reaches its workers through the GCS, not the driver's disk."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import plait
from plait._code_package import cache_root


@pytest.fixture()
def shipped_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "jobcode"
    (d / "pkg_in_dir").mkdir(parents=True)
    (d / "shipped_mod.py").write_text("def hello():\n    return 'hi from shipped code'\n")
    (d / "pkg_in_dir" / "__init__.py").write_text("VALUE = 42\n")
    if plait.is_initialized():
        plait.shutdown()
    yield d
    plait.shutdown()


def test_code_search_path_is_shipped_to_workers(shipped_dir: Path) -> None:
    plait.init(num_cpus=1, code_search_path=[str(shipped_dir)])
    # The driver's copy disappears: workers must load what the job shipped.
    shutil.rmtree(shipped_dir)

    @plait.remote
    def use_shipped() -> tuple[str, int, str]:
        import pkg_in_dir
        import shipped_mod

        return shipped_mod.hello(), pkg_in_dir.VALUE, shipped_mod.__file__

    greeting, value, where = plait.get(use_shipped.remote(), timeout=60)
    assert greeting == "hi from shipped code" and value == 42
    assert Path(where).resolve().is_relative_to(cache_root().resolve())


def test_missing_code_search_path_entry_is_rejected(tmp_path: Path) -> None:
    if plait.is_initialized():
        plait.shutdown()
    with pytest.raises(ValueError, match="does not exist"):
        plait.init(num_cpus=1, code_search_path=[str(tmp_path / "nope")])
    assert not plait.is_initialized()
