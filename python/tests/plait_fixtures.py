"""Fixtures shared by the integration tests: real clusters, stopped by the test."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import plait


def local_cluster(**init_kwargs: Any) -> Callable[[], Iterator[dict[str, Any]]]:
    """A module-scoped fixture: plait.init(**init_kwargs) with a fresh local head."""

    @pytest.fixture(scope="module")
    def fixture() -> Iterator[dict[str, Any]]:
        if plait.is_initialized():
            plait.shutdown()
        info = plait.init(**init_kwargs)
        try:
            yield info
        finally:
            plait.shutdown()

    return fixture


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll predicate until it returns a truthy value; fail the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
