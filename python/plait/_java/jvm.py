"""One JVM per process, started through JPype, with plait's Java runtime on its class path.

The runtime is java/ built by Maven: plait-java-<version>.jar plus its dependencies. An
installed wheel carries them in plait/_java/lib/ (the build backend runs Maven,
CMakeLists.txt); a source checkout (editable install) uses java/target/plait-java-*.jar and
java/target/lib/ (scripts/setup_java.sh builds both). The environment variable
PLAIT_JAVA_CLASSPATH (entries separated by os.pathsep) replaces that lookup.

A JVM cannot be restarted or have its class path changed once started, so entries that
arrive later (a second executor, a driver started after a worker-like test) are loaded by
the executor's own class loader instead (TaskExecutor's extra class path).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import jpype  # type: ignore[import-untyped]

# The jars an installed wheel carries (plait/_java/lib).
PACKAGED_LIB = Path(__file__).resolve().parent / "lib"
# python/plait/_java/jvm.py -> the repository root (the editable install points here).
_REPO = Path(__file__).resolve().parents[3]
JAVA_DIR = _REPO / "java"
BUILD_SCRIPT = _REPO / "scripts" / "setup_java.sh"
# Arrow's memory module reads the address of direct ByteBuffers (java.nio internals).
JVM_OPTIONS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    # Leave SIGINT/SIGTERM to Python: the core worker cancels tasks with SIGINT
    # and exits on SIGTERM; the JVM's own handlers would end the process.
    "-Xrs",
    "-Dfile.encoding=UTF-8",
)

_lock = threading.Lock()
_class_path: list[str] = []


class JavaRuntimeNotBuilt(RuntimeError):
    """No plait-java jar: neither in the installed package nor in a built java/."""


def _runtime_jar(directory: Path) -> Path | None:
    jars = sorted(
        p
        for p in directory.glob("plait-java-*.jar")
        if not p.name.endswith(("-sources.jar", "-javadoc.jar", "-tests.jar"))
    )
    return jars[-1] if jars else None


def runtime_class_path() -> list[str]:
    """The plait runtime jar and its dependencies."""
    override = os.environ.get("PLAIT_JAVA_CLASSPATH")
    if override:
        return [p for p in override.split(os.pathsep) if p]
    packaged = _runtime_jar(PACKAGED_LIB)
    if packaged is not None:
        others = sorted(str(p) for p in PACKAGED_LIB.glob("*.jar") if p != packaged)
        return [str(packaged), *others]
    target = JAVA_DIR / "target"
    jar = _runtime_jar(target)
    if jar is None:
        if not BUILD_SCRIPT.is_file():
            raise JavaRuntimeNotBuilt(
                f"plait's Java runtime is missing: no plait-java-*.jar in {PACKAGED_LIB} "
                "(this plait was built without Java, PLAIT_BUILD_JAVA=OFF): reinstall a "
                "plait wheel built with Java, or set PLAIT_JAVA_CLASSPATH"
            )
        raise JavaRuntimeNotBuilt(
            f"plait's Java runtime is not built (no plait-java-*.jar in {target}): run "
            f"`bash {BUILD_SCRIPT.relative_to(_REPO)}` (or `make test-java`), or set "
            "PLAIT_JAVA_CLASSPATH"
        )
    return [str(jar)] + sorted(str(p) for p in (target / "lib").glob("*.jar"))


def expand_class_path(entries: Sequence[str]) -> list[str]:
    """Class path entries for a job's code search path: a jar as it is; a directory as
    itself (for .class files) and every jar directly in it."""
    out: list[str] = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            out.append(str(path.resolve()))
            out.extend(str(p.resolve()) for p in sorted(path.glob("*.jar")))
        elif path.suffix in (".jar", ".zip") and path.exists():
            out.append(str(path.resolve()))
    return list(dict.fromkeys(out))


def start(class_path: Sequence[str] = ()) -> list[str]:
    """Starts the JVM if it is not running, with the runtime and `class_path` (expanded as
    expand_class_path does). Returns the entries that the running JVM's class path lacks
    (all present when this call started it), for a class loader of their own."""
    wanted = expand_class_path(class_path)
    with _lock:
        if jpype.isJVMStarted():
            return [p for p in wanted if p not in _class_path]
        cp = runtime_class_path() + wanted
        jpype.startJVM(*JVM_OPTIONS, classpath=cp, convertStrings=False, interrupt=False)
        _class_path[:] = cp
        return []


def is_started() -> bool:
    return bool(jpype.isJVMStarted())
