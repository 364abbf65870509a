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
from plait_fixtures import ROOT, build_java, wait_for

import plait
from plait import exceptions as exc

EXAMPLES_JAR = ROOT / "build" / "java-examples" / "plait-examples.jar"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    build_java()
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=2, namespace="java-test", code_search_path=[str(EXAMPLES_JAR)])
    yield
    plait.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


def test_jdk_static_method_as_a_task() -> None:
    assert plait.get(plait.java_function("java.lang.Math", "max").remote(3, 7), timeout=60) == 7
    assert (
        plait.get(plait.java_function("java.lang.Math", "max").remote(2.5, 1.0), timeout=60) == 2.5
    )


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
    cumsum = plait.get(
        plait.java_function(stats, "cumsum").remote(np.array([1, 2, 3], dtype=np.int64)), timeout=60
    )
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
    assert plait.get(plait.java_function("java.lang.Math", "max").remote(r, 3), timeout=60) == 20

    @plait.remote
    def double(x: Any) -> Any:
        return x * 2

    from_java = plait.java_function("java.lang.Math", "max").remote(4, 9)
    assert plait.get(double.remote(from_java), timeout=60) == 18


def test_java_driver_drives_python_and_java(tmp_path: Path) -> None:
    env = dict(os.environ, PLAIT_TMPDIR=str(tmp_path))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "plait._cli",
            "java",
            "-cp",
            str(EXAMPLES_JAR),
            "io.plait.examples.CrossLanguageDriver",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Math.max(3, 7) = 7" in out.stdout
    assert "counter = 11" in out.stdout
    assert "math.sqrt(2) = 1.4142135623730951" in out.stdout
    assert "math.sqrt(-1) failed in python: builtins.ValueError" in out.stdout


def store_used() -> int:
    import gc

    from plait._core.context import current_core_worker
    from plait._protocol import raylet_pb2

    gc.collect()
    reply = current_core_worker().raylet_sync.GetNodeStats(
        raylet_pb2.GetNodeStatsRequest(), timeout=10
    )
    return int(reply.store_used_bytes)


MB5 = 5_000_000


def test_java_driver_gives_back_the_objects_it_drops() -> None:
    # Java code in this (driver) process: 10 puts from Java and 10 results of Python tasks,
    # 5 MB each, all held by the host for Java; once Java's GC has collected the refs, the
    # holds go back and the store's memory returns.
    import jpype

    from plait._core.context import current_core_worker
    from plait._java import bridge, jvm

    jvm.start()
    host = current_core_worker().host_api()
    bridge.install(host)
    try:
        java = jpype.JClass("io.plait.Plait")
        system = jpype.JClass("java.lang.System")
        base, held = store_used(), host.num_held()
        refs = [java.put(jpype.JArray(jpype.JByte)(MB5)) for _ in range(10)]
        make = jpype.JClass("io.plait.PyFunction").of("builtins", "bytes")
        refs += [java.task(make, jpype.JLong(MB5)).remote() for _ in range(10)]
        assert len(java.get(refs[-1])) == MB5  # a get's hold comes and goes with its value
        wait_for(
            lambda: store_used() >= base + 20 * MB5, timeout=30, what="the 20 objects in the store"
        )
        assert host.num_held() == held + 20
        kept = refs[3].as_(jpype.JClass("java.lang.Object"))  # a copy keeps its hold
        del refs

        def released() -> bool:
            system.gc()
            bridge.flush_releases()
            return store_used() <= base + MB5 + 1_000_000

        wait_for(released, timeout=20, what="the store to give the memory back")
        assert host.num_held() == held + 1
        del kept

        def all_released() -> bool:
            system.gc()
            bridge.flush_releases()
            return host.num_held() == held and store_used() <= base + 1_000_000

        wait_for(all_released, timeout=20, what="the copy's hold to go")
    finally:
        bridge.uninstall()


def test_refs_in_a_java_tasks_arguments_are_given_back() -> None:
    # The Java worker holds the ref inside its argument for the Java code (which returns
    # it); once the worker's GC has collected it, the owner can free the object.
    base = store_used()
    big = plait.put(np.ones(2 * MB5, dtype=np.uint8))
    out = plait.get(
        plait.java_function("java.util.Objects", "requireNonNull").remote([big]), timeout=60
    )
    assert out == [big]
    assert store_used() >= base + 2 * MB5
    del big, out
    gc_task = plait.java_function("java.lang.System", "gc")

    def freed() -> bool:
        plait.get([gc_task.remote() for _ in range(2)], timeout=60)
        return store_used() < base + MB5

    wait_for(freed, timeout=30, what="the Java worker to give its hold back")
