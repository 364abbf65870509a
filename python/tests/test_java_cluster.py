"""Python <-> Java through a real cluster: Java workers (a JVM in a worker process) and a
Java driver (`plait java`)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import plait
from plait import exceptions as exc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_JAR = ROOT / "build" / "java-examples" / "plait-examples.jar"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "setup_java.sh")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=2, namespace="java-test", code_search_path=[str(EXAMPLES_JAR)])
    yield
    plait.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


def test_jdk_static_method_as_a_task() -> None:
    assert plait.get(plait.java_function("java.lang.Math", "max").remote(3, 7),
                     timeout=60) == 7
    assert plait.get(plait.java_function("java.lang.Math", "max").remote(2.5, 1.0),
                     timeout=60) == 2.5


def test_jdk_classes_as_actors() -> None:
    lst = plait.java_actor_class("java.util.ArrayList").remote()
    plait.get([lst.add.remote("a"), lst.add.remote("b")], timeout=60)
    assert plait.get(lst.size.remote(), timeout=60) == 2
    assert plait.get(lst.get.remote(1), timeout=60) == "b"
    m = plait.java_actor_class("java.util.HashMap").remote()
    plait.get(m.put.remote("k", 41), timeout=60)
    assert plait.get(m.get.remote("k"), timeout=60) == 41


def test_user_class_from_code_search_path() -> None:
    stats = "io.plait.examples.Stats"
    mean = plait.java_function(stats, "mean").remote(np.array([1.0, 2.0, 3.0]))
    assert plait.get(mean, timeout=60) == 2.0
    cumsum = plait.get(plait.java_function(stats, "cumsum").remote(
        np.array([1, 2, 3], dtype=np.int64)), timeout=60)
    assert list(cumsum) == [1, 3, 6]


def test_java_exception_reaches_python_with_class_and_stack() -> None:
    ref = plait.java_function("io.plait.examples.Stats", "checked").remote(-5)
    with pytest.raises(exc.CrossLanguageError) as info:
        plait.get(ref, timeout=60)
    err = info.value
    assert err.language == "java"
    assert "InvalidInputException" in err.type_name
    assert "negative value -5" in str(err)
    assert "at io.plait.examples.Stats.checked" in str(err)  # the Java stack


def test_bad_calls_name_the_problem_and_actor_survives() -> None:
    with pytest.raises(exc.CrossLanguageError, match="no overload of java.lang.Math.max"):
        plait.get(plait.java_function("java.lang.Math", "max").remote("x", 1), timeout=60)
    with pytest.raises(exc.CrossLanguageError, match="ClassNotFound|no class"):
        plait.get(plait.java_function("com.example.Nope", "f").remote(), timeout=60)
    lst = plait.java_actor_class("java.util.ArrayList").remote()
    with pytest.raises(exc.CrossLanguageError, match="nosuchMethod|NoSuchMethod"):
        plait.get(lst.nosuchMethod.remote(), timeout=60)
    plait.get(lst.add.remote(1), timeout=60)
    assert plait.get(lst.size.remote(), timeout=60) == 1  # still alive, state kept


def test_python_only_value_is_refused_with_its_type() -> None:
    class Point:
        pass

    ref = plait.java_function("java.util.Objects", "toString").remote(Point())
    with pytest.raises(exc.CrossLanguageError, match="Point"):
        plait.get(ref, timeout=60)


def test_named_java_actor_found_from_python() -> None:
    plait.java_actor_class("java.util.ArrayList").options(name="shared-list").remote()
    found = plait.get_actor("shared-list")
    plait.get(found.add.remote(5), timeout=60)
    assert plait.get(found.size.remote(), timeout=60) == 1


def test_refs_pass_between_python_and_java() -> None:
    r = plait.put(20)
    assert plait.get(plait.java_function("java.lang.Math", "max").remote(r, 3),
                     timeout=60) == 20

    @plait.remote
    def double(x: Any) -> Any:
        return x * 2

    from_java = plait.java_function("java.lang.Math", "max").remote(4, 9)
    assert plait.get(double.remote(from_java), timeout=60) == 18


def test_java_driver_drives_python_and_java(tmp_path: Path) -> None:
    env = dict(os.environ, PLAIT_TMPDIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "plait._cli", "java", "-cp",
                          str(EXAMPLES_JAR), "io.plait.examples.CrossLanguageDriver"],
                         env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Math.max(3, 7) = 7" in out.stdout
    assert "counter = 11" in out.stdout
    assert "math.sqrt(2) = 1.4142135623730951" in out.stdout
    assert "math.sqrt(-1) failed in python: builtins.ValueError" in out.stdout
