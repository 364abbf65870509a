"""The byte-level API that C++ and Java SDKs call, driven from Python with encoded values."""

from __future__ import annotations

import gc

import pytest
from plait_fixtures import local_cluster, wait_for

import plait
from plait._core.context import current_core_worker
from plait._core.host_api import HostApi
from plait._format import ErrorInfo, deserialize, serialize

cluster = local_cluster(num_cpus=2, namespace="host-api")
pytestmark = pytest.mark.usefixtures("cluster")


class Greeter:
    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    def greet(self, name: str) -> str:
        return f"{self.greeting}, {name}"


def enc(v: object) -> bytes:
    return serialize(v).to_bytes()


def host() -> HostApi:
    api: HostApi = current_core_worker().host_api()
    return api


def test_put_then_get_round_trips_encoded_values() -> None:
    ref = host().put(enc({"a": [1, 2.5, "x"]}))
    gc.collect()  # no Python ObjectRef is left: the host's hold keeps the object
    [value] = host().get(enc([deserialize(ref)]), 30.0)
    assert deserialize(value) == {"a": [1, 2.5, "x"]}


def test_released_refs_let_the_owner_free_the_object() -> None:
    cw = current_core_worker()
    before = host().num_held()
    ref = host().put(enc("short-lived"))
    oid = deserialize(ref).object_id
    assert host().num_held() == before + 1
    host().release(ref)
    assert host().num_held() == before
    gc.collect()
    wait_for(lambda: not cw.ref_counter.has(oid), timeout=10, what="the object to be freed")


def test_releases_inside_a_task_wait_for_that_task_only() -> None:
    """Holds given back during a task go when that task's results are registered, and a
    concurrent task (threaded/async actors) finishing first does not drop them."""
    from plait._core.context import TaskContext, task_context

    cw = current_core_worker()
    refs = {t: host().put(enc(f"held by {t!r}")) for t in (b"task-a", b"task-b")}
    oids = {t: deserialize(r).object_id for t, r in refs.items()}
    for t, r in refs.items():
        token = task_context.set(TaskContext(task_id=t))
        try:
            host().release(r)
        finally:
            task_context.reset(token)
    gc.collect()
    host().flush_released(b"task-b")
    wait_for(
        lambda: not cw.ref_counter.has(oids[b"task-b"]),
        timeout=10,
        what="task b's object to be freed",
    )
    assert cw.ref_counter.has(oids[b"task-a"])  # task a has not finished
    host().flush_released(b"task-a")
    gc.collect()
    wait_for(
        lambda: not cw.ref_counter.has(oids[b"task-a"]),
        timeout=10,
        what="task a's object to be freed",
    )


def test_submit_python_function_by_module_and_name() -> None:
    refs = deserialize(
        host().submit_task("python", ["operator", "add"], [enc(2), enc(40)], [], 1, {})
    )
    assert plait.get(refs[0], timeout=30) == 42


def test_top_level_ref_argument_is_resolved() -> None:
    r = plait.put(10)
    refs = deserialize(
        host().submit_task("python", ["operator", "mul"], [enc(r), enc(3)], [], 1, {})
    )
    assert plait.get(refs[0], timeout=30) == 30


def test_python_actor_created_and_called_by_name() -> None:
    h = host().create_actor(
        "python", ["test_host_api", "Greeter"], [enc("hello")], [], {"name": "greeter"}
    )
    refs = deserialize(host().call_actor(h, "greet", [enc("plait")], [], 1))
    assert plait.get(refs[0], timeout=30) == "hello, plait"
    found = host().get_actor("greeter", "")
    refs = deserialize(host().call_actor(found, "greet", [enc("again")], [], 1))
    assert plait.get(refs[0], timeout=30) == "hello, again"


def test_failed_task_comes_back_as_encoded_error() -> None:
    refs = deserialize(
        host().submit_task("python", ["operator", "truediv"], [enc(1), enc(0)], [], 1, {})
    )
    [value] = host().get(enc(refs), 30.0)
    err = deserialize(value)
    assert isinstance(err, ErrorInfo)
    assert err.type_name.endswith("ZeroDivisionError")


def test_misuse_is_reported_clearly() -> None:
    with pytest.raises(ValueError, match=r"named by \[module, qualname\]"):
        host().submit_task("python", ["only-one-part"], [], [], 1, {})
    with pytest.raises(ValueError, match="Failed to look up actor"):
        host().get_actor("no-such-actor", "")
    with pytest.raises(TypeError, match="expected ObjectRefs"):
        host().get(enc([1, 2]), 1.0)
