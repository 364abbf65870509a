"""Running a Java program's main() as a plait driver, in this (Python) driver process:
what `plait java -cp app.jar com.example.Main args...` does once connected."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

import jpype  # type: ignore[import-untyped]

from plait._java import bridge, jvm


def run_main(
    main_class: str, args: Sequence[str], class_path: Sequence[str], host: bridge.Host
) -> int:
    """Starts the JVM with `class_path`, makes `host` (a HostApi) the runtime of
    io.plait.Plait, and calls `main_class.main(args)`. Returns 0, or 1 after printing the
    Java stack trace when main throws."""
    extra = jvm.start(class_path)
    loader = None
    if extra:  # the JVM was already running: load the program through its own loader
        urls = [jpype.JClass("java.io.File")(p).toURI().toURL() for p in extra]
        loader = jpype.JClass("java.net.URLClassLoader")(
            jpype.JArray(jpype.JClass("java.net.URL"))(urls),
            jpype.JClass("io.plait.Plait").class_.getClassLoader(),
        )
    bridge.install(host)
    stop = threading.Event()
    releaser = threading.Thread(
        target=_release_dropped, args=(stop,), name="plait-java-releases", daemon=True
    )
    releaser.start()
    try:
        try:
            cls = jpype.JClass(main_class, loader=loader) if loader else jpype.JClass(main_class)
        except TypeError:
            print(
                f"plait java: no class named {main_class} on the class path {list(class_path)}",
                file=sys.stderr,
            )
            return 1
        try:
            cls.main(jpype.JArray(jpype.JString)(list(args)))
        except jpype.JException as e:
            print(f'Exception in thread "main" {e.stacktrace()}', file=sys.stderr)
            return 1
        return 0
    finally:
        stop.set()
        releaser.join()
        bridge.uninstall()


RELEASE_INTERVAL_S = 1.0


def _release_dropped(stop: threading.Event) -> None:
    """The holds of refs the Java program dropped go back to the host before each call it
    makes; this gives them back while it makes none (a service waiting for requests). A
    driver runs no tasks, so a release here can free no task's result early, and Java
    keeps a call's arguments reachable until the host has its own refs to them."""
    while not stop.wait(RELEASE_INTERVAL_S):
        try:
            bridge.flush_releases()
        except Exception:  # best effort: the next call (or tick) flushes again
            pass
