"""A job's code_search_path reaches its workers through the GCS, not the driver's disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import plait
from plait._core.code_package import cache_root


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


def test_jars_libraries_and_modules_reach_another_node(tmp_path: Path) -> None:
    """C++ libraries, jars and Python modules run on a node that never had the files."""
    from plait_fixtures import ROOT, build_cpp_example, build_java

    from plait._services.node import start_head, start_worker_node

    build_java()
    code = tmp_path / "code"
    code.mkdir()
    library = shutil.copy(build_cpp_example(), code / "libplait_example.so")
    jar = shutil.copy(
        ROOT / "build" / "java-examples" / "plait-examples.jar", code / "plait-examples.jar"
    )
    modules = code / "modules"
    modules.mkdir()
    (modules / "far_mod.py").write_text("def twice(x):\n    return 2 * x\n")
    if plait.is_initialized():
        plait.shutdown()
    head = start_head(num_cpus=1)
    try:
        far = start_worker_node(head.gcs_address, num_cpus=1, resources={"far": 1})
        try:
            plait.init(
                address=head.gcs_address, code_search_path=[str(library), str(jar), str(modules)]
            )
            shutil.rmtree(code)  # the far node can only get them through the GCS
            on_far = {"resources": {"far": 1}}
            echo = plait.cpp_function("echo").options(**on_far)
            assert plait.get(echo.remote([1, "x"]), timeout=120) == [1, "x"]
            mean = plait.java_function("io.plait.examples.Stats", "mean").options(**on_far)
            assert plait.get(mean.remote([1.0, 2.0, 6.0]), timeout=120) == 3.0

            @plait.remote(**on_far)
            def use_module(x: int) -> tuple[int, str]:
                import far_mod

                return far_mod.twice(x), plait.get_runtime_context().get_node_id()

            value, node = plait.get(use_module.remote(21), timeout=120)
            assert value == 42 and node == far.node_id
        finally:
            plait.shutdown()
            far.stop()
    finally:
        head.stop()
