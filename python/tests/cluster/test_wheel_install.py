"""The wheel is the product: `pip wheel .` (the Java runtime jar and the C++ SDK inside),
installed into a fresh virtualenv outside the checkout, runs a Python->Java, a Java->Python
and a Python->C++ call, the C++ library built with the installed CMake helper.

The wheel's CMake build dir (build/wheel-test/) is kept between runs, so a rebuild is
incremental; the virtualenv gets plait's dependencies from pip (its cache or PyPI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import plait

ROOT = Path(__file__).resolve().parents[3]
BUILD_DIR = ROOT / "build" / "wheel-test" / "{wheel_tag}"


@dataclass
class Installed:
    venv: Path
    python: Path
    package: Path  # site-packages/plait
    work: Path  # outside the checkout: where the programs run
    env: dict[str, str]


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc.stdout


def _clean_env(venv: Path) -> dict[str, str]:
    """This environment without anything that would point back at the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PLAIT_JAVA_CLASSPATH")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT), "the install must be outside the checkout"
    dist = base / "dist"
    # No build isolation: the checkout's .venv has the build requirements (setup.sh), and
    # the CMake cache stays valid between runs.
    _run(
        [
            sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
            "-q", "-w", str(dist), f"-Cbuild-dir={BUILD_DIR}",
        ],
        cwd=base,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        timeout=600,
    )  # fmt: skip
    wheels = sorted(dist.glob("plait-*.whl"))
    assert len(wheels) == 1, f"expected one plait wheel in {dist}, got {wheels}"
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=base, env=dict(os.environ), timeout=120)
    env = _clean_env(venv)
    python = venv / "bin" / "python"
    _run(
        [str(python), "-m", "pip", "install", "-q", f"{wheels[0]}[java]"],
        cwd=base,
        env=env,
        timeout=600,
    )
    package = Path(
        _run(
            [str(python), "-c", "import plait, os; print(os.path.dirname(plait.__file__))"],
            cwd=base,
            env=env,
            timeout=60,
        ).strip()
    )
    assert package.is_relative_to(venv), f"plait imported from {package}, not the venv"
    work = base / "work"
    work.mkdir()
    yield Installed(venv, python, package, work, env)
    # A cluster a failed program left behind would hold ports; its processes belong to
    # the program's session, which has exited, so only the files are ours to remove.
    shutil.rmtree(venv, ignore_errors=True)


def _build_cpp_library(installed: Installed) -> Path:
    """libwheel_add.so, built with find_package(plait 0.1) from the installed wheel."""
    src = installed.work / "cpp"
    src.mkdir(exist_ok=True)
    (src / "add.cc").write_text(
        textwrap.dedent("""\
            #include <cstdint>

            #include "plait/plait.h"

            static_assert(PLAIT_VERSION_MAJOR >= 0, "plait/version.h is part of the SDK");

            int64_t add(int64_t a, int64_t b) { return a + b; }
            PLAIT_REMOTE(add);
            """)
    )
    (src / "CMakeLists.txt").write_text(
        textwrap.dedent("""\
            cmake_minimum_required(VERSION 3.15)
            project(wheel_add LANGUAGES CXX)
            find_package(plait 0.1 CONFIG REQUIRED)
            plait_add_library(wheel_add SOURCES add.cc)
            """)
    )
    cmake_dir = _run(
        [str(installed.python), "-c", "import plait._cpp as c; print(c.cmake_dir())"],
        cwd=installed.work,
        env=installed.env,
        timeout=60,
    ).strip()
    assert Path(cmake_dir).is_relative_to(installed.package)
    build = src / "build"
    _run(
        [
            "cmake", "-S", str(src), "-B", str(build), f"-Dplait_DIR={cmake_dir}",
            f"-DPython3_EXECUTABLE={installed.python}", "-DCMAKE_BUILD_TYPE=None",
        ],
        cwd=installed.work,
        env=installed.env,
        timeout=120,
    )  # fmt: skip
    _run(["cmake", "--build", str(build)], cwd=installed.work, env=installed.env, timeout=300)
    lib = build / "libwheel_add.so"
    assert lib.is_file()
    return lib


@pytest.mark.timeout(900)
def test_python_calls_java_and_cpp_from_the_installed_wheel(installed: Installed) -> None:
    lib = _build_cpp_library(installed)
    program = installed.work / "py_main.py"
    program.write_text(
        textwrap.dedent("""\
            import sys

            import plait

            assert "jpype" not in sys.modules, "import plait loaded JPype"
            from plait._java import jvm

            jar = jvm.runtime_class_path()[0]
            assert jar.startswith(sys.prefix) and "/plait/_java/lib/plait-java-" in jar, jar
            plait.init(num_cpus=2, code_search_path=[sys.argv[1]])
            try:
                print("java", plait.get(plait.java_function("java.lang.Math", "max").remote(3, 7)))
                print("cpp", plait.get(plait.cpp_function("add").remote(2, 40)))
            finally:
                plait.shutdown()
            """)
    )
    out = _run(
        [str(installed.python), str(program), str(lib.parent)],
        cwd=installed.work,
        env=installed.env,
        timeout=180,
    )
    assert "java 7" in out.splitlines()
    assert "cpp 42" in out.splitlines()


@pytest.mark.timeout(900)
def test_java_program_calls_python_through_the_installed_wheel(installed: Installed) -> None:
    jars = sorted((installed.package / "_java" / "lib").glob("plait-java-*.jar"))
    assert len(jars) == 1, f"the wheel should carry one plait-java jar, has {jars}"
    src = installed.work / "java"
    src.mkdir(exist_ok=True)
    (src / "WheelMain.java").write_text(
        textwrap.dedent("""\
            import io.plait.ObjectRef;
            import io.plait.Plait;
            import io.plait.PyFunction;

            public final class WheelMain {
              public static void main(String[] args) {
                Plait.init();
                ObjectRef<Object> root = Plait.task(PyFunction.of("math", "sqrt"), 16.0).remote();
                System.out.println("python " + Plait.get(root));
              }
            }
            """)
    )
    classes = src / "classes"
    _run(
        ["javac", "-d", str(classes), "-cp", str(jars[0]), str(src / "WheelMain.java")],
        cwd=installed.work,
        env=installed.env,
        timeout=120,
    )
    out = _run(
        [str(installed.venv / "bin" / "plait"), "java", "-cp", str(classes), "WheelMain"],
        cwd=installed.work,
        env=installed.env,
        timeout=180,
    )
    assert "python 4.0" in out.splitlines()


@pytest.mark.timeout(900)
def test_installed_cmake_package_is_same_major_version(installed: Installed) -> None:
    """find_package(plait <other major>) refuses the installed SDK (SameMajorVersion)."""
    src = installed.work / "major"
    src.mkdir(exist_ok=True)
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.15)\nproject(major NONE)\n"
        "find_package(plait 99.0 CONFIG REQUIRED)\n"
    )
    cmake_dir = installed.package / "_cpp" / "cmake"
    proc = subprocess.run(
        ["cmake", "-S", str(src), "-B", str(src / "build"), f"-Dplait_DIR={cmake_dir}"],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())  # CMake wraps its messages
    assert 'compatible with requested version "99.0"' in message
    assert f"plaitConfig.cmake, version: {plait.__version__}" in message
