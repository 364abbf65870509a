"""One version, written in pyproject.toml, and the package metadata around it: every copy
(java/pom.xml, the C++ header, the CMake package version file, plait.__version__,
`plait --version`, the extension) agrees; LICENSE, py.typed and the project metadata exist;
JPype1 is the optional `plait[java]` extra; the CMake helper's Arrow build record."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip carries a copy of tomli
    from pip._vendor import tomli as tomllib

import plait
import plait._cpp as cpp
from plait import _native

ROOT = Path(__file__).resolve().parents[3]
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _pyproject() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _project() -> dict[str, object]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    return project


def _gen_version() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_version", ROOT / "scripts" / "gen_version.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERSION = str(_project()["version"])


def test_generated_version_files_are_current() -> None:
    gen = _gen_version()
    assert gen.project_version() == VERSION
    stale = [
        str(path.relative_to(ROOT))
        for path, text in gen.outputs(VERSION).items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"stale version in {stale}: run scripts/gen_version.py"


def test_every_copy_of_the_version_agrees() -> None:
    pom = ET.parse(ROOT / "java" / "pom.xml").getroot()
    assert pom.findtext("m:version", namespaces=POM_NS) == VERSION
    header = (ROOT / "cpp" / "include" / "plait" / "version.h").read_text()
    assert f'#define PLAIT_VERSION_STRING "{VERSION}"' in header
    major, minor, patch = VERSION.split(".")
    assert f"#define PLAIT_VERSION_MAJOR {major}\n" in header
    assert f"#define PLAIT_VERSION_MINOR {minor}\n" in header
    assert f"#define PLAIT_VERSION_PATCH {patch}\n" in header
    assert '#include "plait/version.h"' in (ROOT / "cpp/include/plait/plait.h").read_text()
    cmake = (ROOT / "python/plait/_cpp/cmake/plaitConfigVersion.cmake").read_text()
    assert f'set(PACKAGE_VERSION "{VERSION}")' in cmake
    assert "SameMajorVersion" in cmake
    assert f'PACKAGE_FIND_VERSION_MAJOR STREQUAL "{major}"' in cmake
    assert plait.__version__ == VERSION
    assert _native.version() == VERSION


def test_cli_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    from plait._cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"plait {VERSION}"


def test_license_and_py_typed_are_in_place() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert (ROOT / "python" / "plait" / "py.typed").is_file()


def test_project_metadata_is_complete() -> None:
    project = _project()
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert project["readme"] == "README.md"
    assert project["authors"]
    urls = project["urls"]
    assert isinstance(urls, dict) and {"Homepage", "Source", "Issues"} <= set(urls)
    classifiers = project["classifiers"]
    assert isinstance(classifiers, list) and "Typing :: Typed" in classifiers


def test_jpype_is_the_java_extra_not_a_dependency() -> None:
    project = _project()
    dependencies = project["dependencies"]
    assert isinstance(dependencies, list)
    assert not [d for d in dependencies if re.match(r"jpype", d, re.IGNORECASE)]
    extras = project["optional-dependencies"]
    assert isinstance(extras, dict) and extras["java"] == ["JPype1"]


def test_importing_plait_does_not_import_jpype() -> None:
    # Any earlier Java test may have loaded it; what counts is that plait's import chain
    # never reaches plait._java.
    for name in ("plait._cpp", "plait._init", "plait._api", "plait._cross_language"):
        module = sys.modules[name]
        assert "jpype" not in vars(module)


def test_first_java_call_without_jpype_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # sys.modules["jpype"] = None reads as "not installed" to importlib (find_spec: None).
    monkeypatch.setitem(sys.modules, "jpype", None)
    for name in [n for n in sys.modules if n == "plait._java" or n.startswith("plait._java.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install 'plait[java]'")):
        plait.java_function("java.lang.Math", "max")
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install 'plait[java]'")):
        plait.java_actor_class("java.util.ArrayList")


def _fake_library(path: Path, record: bytes) -> Path:
    path.write_bytes(b"\x7fELF" + b"\x00" * 64 + record + b"\x00" * 64)
    return path


def test_arrow_build_record_is_read_without_loading(tmp_path: Path) -> None:
    lib = _fake_library(tmp_path / "liba.so", b"PLAIT_ARROW_BUILD=26.0.1;so=2600;")
    assert cpp.arrow_build(lib) == ("26.0.1", "2600")
    assert cpp.arrow_build(_fake_library(tmp_path / "libb.so", b"")) is None
    (tmp_path / "empty.so").write_bytes(b"")
    assert cpp.arrow_build(tmp_path / "empty.so") is None


def test_library_built_for_another_pyarrow_is_refused_naming_both(tmp_path: Path) -> None:
    import pyarrow

    lib = _fake_library(tmp_path / "libold.so", b"PLAIT_ARROW_BUILD=1.0.0;so=100;")
    with pytest.raises(cpp.ArrowVersionMismatch) as info:
        cpp.check_arrow_build(lib)
    message = str(info.value)
    assert "pyarrow 1.0.0 (libarrow.so.100)" in message
    assert f"pyarrow {pyarrow.__version__} (libarrow.so.{pyarrow.cpp_build_info.so_version})" in (
        message
    )
    same = f"PLAIT_ARROW_BUILD=x;so={pyarrow.cpp_build_info.so_version};".encode()
    cpp.check_arrow_build(_fake_library(tmp_path / "libsame.so", same))  # no error


def test_cpp_executor_checks_the_arrow_build_before_loading(tmp_path: Path) -> None:
    from plait._cpp.executor import CppExecutor

    lib = _fake_library(tmp_path / "libold.so", b"PLAIT_ARROW_BUILD=1.0.0;so=100;")
    with pytest.raises(ValueError, match=r"built for pyarrow 1\.0\.0"):
        CppExecutor([str(lib)])


def test_pom_has_maven_centrals_required_metadata() -> None:
    """Maven Central's rules: coordinates, name, description, url, a license with a url,
    developers and scm; the jar names its JPMS module; no SLF4J binding reaches users."""
    pom = ET.parse(ROOT / "java" / "pom.xml").getroot()

    def text(path: str) -> str:
        value = pom.findtext(path, namespaces=POM_NS)
        assert value and value.strip(), f"java/pom.xml lacks <{path}>"
        return value.strip()

    assert text("m:groupId") == "io.plait"
    assert text("m:artifactId") == "plait-java"
    assert text("m:version") == VERSION
    for path in ("m:name", "m:description", "m:url"):
        text(path)
    assert text("m:licenses/m:license/m:name") == "Apache-2.0"
    assert text("m:licenses/m:license/m:url").startswith("https://www.apache.org/licenses/")
    text("m:developers/m:developer/m:name")
    for path in ("m:scm/m:connection", "m:scm/m:developerConnection", "m:scm/m:url"):
        text(path)
    plugins = {
        p.findtext("m:artifactId", namespaces=POM_NS): p
        for p in pom.iterfind("m:build/m:plugins/m:plugin", POM_NS)
    }
    assert {"maven-source-plugin", "maven-javadoc-plugin"} <= set(plugins)
    manifest = plugins["maven-jar-plugin"].find(
        "m:configuration/m:archive/m:manifestEntries/m:Automatic-Module-Name", POM_NS
    )
    assert manifest is not None and manifest.text == "io.plait"
    bindings = ("slf4j-nop", "slf4j-simple", "slf4j-jdk14", "slf4j-reload4j", "logback-classic")
    for dep in pom.iterfind("m:dependencies/m:dependency", POM_NS):
        artifact = dep.findtext("m:artifactId", namespaces=POM_NS)
        if artifact in bindings:
            scope = dep.findtext("m:scope", namespaces=POM_NS)
            optional = dep.findtext("m:optional", namespaces=POM_NS)
            assert scope == "test" or optional == "true", (
                f"{artifact} would reach plait-java's users: make it <optional>true</optional>"
            )
