"""Public methods a Java class inherits (from a non-public superclass such as the JDK's
AbstractStringBuilder, from public superclasses, interfaces' default methods) are callable
from Python and from a Java driver, actor methods and static functions alike."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait_fixtures import build_java

import plait
from plait import exceptions as exc
from plait._java.jvm import runtime_class_path

# A package-private base whose public methods reach callers only through the public
# subclass: the instance ones through javac's visibility bridges, the static one not.
SOURCES = {
    "inh/PublicRoot.java": """
package inh;
public class PublicRoot {
  public static long thrice(long x) { return 3 * x; }
}
""",
    "inh/HiddenBase.java": """
package inh;
class HiddenBase extends PublicRoot {
  private long total;
  public static long twice(long x) { return 2 * x; }
  public long add(long x) { total += x; return total; }
}
""",
    "inh/Sized.java": """
package inh;
public interface Sized {
  default long size() { return 42; }
}
""",
    "inh/Inherited.java": """
package inh;
public class Inherited extends HiddenBase implements Sized {
}
""",
    "inh/Driver.java": """
package inh;
import io.plait.JavaActorClass;
import io.plait.JavaActorHandle;
import io.plait.JavaActorMethod;
import io.plait.JavaFunction;
import io.plait.Plait;
public final class Driver {
  public static void main(String[] args) {
    Plait.init();
    JavaActorHandle sb = Plait.actor(JavaActorClass.of("java.lang.StringBuilder")).remote();
    Plait.get(sb.task(JavaActorMethod.of("append"), "ab").remote());
    System.out.println("length = "
        + Plait.get(sb.task(JavaActorMethod.of("length", Long.class)).remote()));
    System.out.println("twice = "
        + Plait.get(Plait.task(JavaFunction.of("inh.Inherited", "twice", Long.class), 21)
            .remote()));
  }
}
""",
}


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The classes above, compiled (against plait's runtime jar, for the driver)."""
    build_java()
    src = tmp_path_factory.mktemp("inherited-src")
    out = tmp_path_factory.mktemp("inherited-classes")
    files = []
    for name, text in SOURCES.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files.append(str(path))
    javac = shutil.which("javac")
    assert javac is not None, "build_java() installs a JDK; javac is not on PATH"
    cp = os.pathsep.join(runtime_class_path())
    proc = subprocess.run(
        [javac, "-cp", cp, "-d", str(out), *files], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def cluster(classes: Path) -> Iterator[None]:
    if plait.is_initialized():
        plait.shutdown()
    plait.init(num_cpus=2, namespace="java-inherited", code_search_path=[str(classes)])
    yield
    plait.shutdown()


def test_string_builder_methods_from_its_non_public_superclass(cluster: None) -> None:
    sb = plait.java_actor_class("java.lang.StringBuilder").remote()
    assert plait.get(sb.append.remote("ab"), timeout=60) == "ab"
    assert plait.get(sb.length.remote(), timeout=60) == 2
    assert plait.get(sb.charAt.remote(1), timeout=60) == "b"
    assert plait.get(sb.append.remote(7), timeout=60) == "ab7"  # append(long): same rules
    assert plait.get(sb.isEmpty.remote(), timeout=60) is False  # CharSequence's default
    with pytest.raises(exc.CrossLanguageError, match=r"overloads: charAt\(int\) \(java\)$"):
        plait.get(sb.charAt.remote("x"), timeout=60)


def test_user_class_inheriting_from_a_non_public_class(cluster: None) -> None:
    obj = plait.java_actor_class("inh.Inherited").remote()
    assert plait.get(obj.add.remote(2), timeout=60) == 2
    assert plait.get(obj.add.remote(3), timeout=60) == 5
    assert plait.get(obj.size.remote(), timeout=60) == 42  # a public interface's default
    # static methods inherited from a non-public and from a public superclass
    assert plait.get(plait.java_function("inh.Inherited", "twice").remote(4), timeout=60) == 8
    assert plait.get(plait.java_function("inh.Inherited", "thrice").remote(4), timeout=60) == 12
    with pytest.raises(exc.CrossLanguageError, match="has no public method named 'nope'"):
        plait.get(obj.nope.remote(), timeout=60)


def test_java_driver_calls_inherited_methods(classes: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PLAIT_TMPDIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "plait._cli", "java", "-cp", str(classes), "inh.Driver"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "length = 2" in out.stdout
    assert "twice = 42" in out.stdout
