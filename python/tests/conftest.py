"""The split of the Python tests.

- python/tests/unit: starts no process, opens no server, runs no cluster; the whole set
  runs in seconds. Every test there gets the `unit` marker, and a unit test that starts a
  process or opens a server fails, naming what it started.
- python/tests/cluster: everything that starts processes (GCS, raylets, workers, JVMs in
  workers, the C++/Java builds) or opens servers. Every test there gets `cluster`.

A test file anywhere else under python/tests (directly in it, say) fails the run, so no
test falls outside the split. Unit tests run first when both sets are collected.
"""

from __future__ import annotations

import fnmatch
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest

HERE = Path(__file__).resolve().parent
SETS = ("unit", "cluster")


def _test_set(path: Path) -> str | None:
    """'unit' or 'cluster' for a path under python/tests/unit or /cluster, else None."""
    try:
        rel = path.resolve().relative_to(HERE)
    except ValueError:
        return None
    return rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in SETS else None


def _misplaced_test_files(config: pytest.Config) -> list[Path]:
    patterns = config.getini("python_files")
    found = []
    for dirpath, dirnames, filenames in os.walk(HERE):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            path = Path(dirpath) / name
            if (
                name.endswith(".py")
                and any(fnmatch.fnmatch(name, p) for p in patterns)
                and _test_set(path) is None
            ):
                found.append(path)
    return sorted(found)


def pytest_sessionstart(session: pytest.Session) -> None:
    # A scan, not a collection hook: `pytest python/tests/unit` must catch a stray file
    # in python/tests too, though it would never collect it.
    misplaced = _misplaced_test_files(session.config)
    if misplaced:
        names = ", ".join(str(p.relative_to(HERE.parents[1])) for p in misplaced)
        raise pytest.UsageError(
            f"test files outside the split: {names}. Put each in python/tests/unit "
            "(starts no process, opens no server) or python/tests/cluster."
        )


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        which = _test_set(item.path)
        if which is not None:
            item.add_marker(getattr(pytest.mark, which))
    # Unit tests first (a stable sort keeps each file's order), so a fast failure shows
    # before the clusters start.
    items.sort(key=lambda item: 0 if _test_set(item.path) == "unit" else 1)


class _NoProcessOrServer:
    """While a unit test runs, its thread may start no process and open no server."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.thread = threading.current_thread()
        self.monkeypatch = monkeypatch

    def forbid(self, owner: Any, name: str, what: str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # os.posix_spawn, say, where the platform has none
            return
        thread = self.thread

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is thread:
                raise AssertionError(
                    f"a unit test {what}: unit tests start no process and open no "
                    "server; move this test to python/tests/cluster"
                )
            return original(*args, **kwargs)

        self.monkeypatch.setattr(owner, name, guarded)


@pytest.fixture(autouse=True)
def _unit_starts_no_process(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if _test_set(request.node.path) != "unit":
        yield
        return
    guard = _NoProcessOrServer(monkeypatch)
    guard.forbid(subprocess.Popen, "__init__", "started a process (subprocess)")
    guard.forbid(os, "fork", "forked")
    guard.forbid(os, "posix_spawn", "started a process (posix_spawn)")
    guard.forbid(os, "posix_spawnp", "started a process (posix_spawnp)")
    guard.forbid(socket.socket, "listen", "opened a server socket")
    guard.forbid(grpc, "server", "opened a gRPC server")
    guard.forbid(grpc.aio, "server", "opened a gRPC server")
    yield
