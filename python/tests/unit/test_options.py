"""The one options table and its validator, and the one spec builder, without a process:
every `.remote()` of every language (and HostApi's submissions) resolves options the same
way and builds the same retry and resource fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import plait
from plait._core.actor_handle import ActorHandle
from plait._core.context import set_core_worker
from plait._core.host_api import HostApi
from plait._core.options import OPTIONS, RETRY_FOREVER, options_for, resolve, validate
from plait._core.task_spec import PendingTask
from plait._format.object_ref import OwnerAddress
from plait._protocol import common_pb2

# Ray 2.60's option names (ray._private.ray_option_utils), which plait must know: each is
# implemented or refused with NotImplementedError, never unknown.
RAY_TASK_OPTIONS = {
    "accelerator_type", "memory", "name", "num_cpus", "num_gpus", "object_store_memory",
    "placement_group", "placement_group_bundle_index", "placement_group_capture_child_tasks",
    "resources", "runtime_env", "scheduling_strategy", "_metadata", "enable_task_events",
    "_labels", "label_selector", "fallback_strategy", "num_returns", "max_calls",
    "max_retries", "retry_exceptions", "_generator_backpressure_num_objects",
}  # fmt: skip
RAY_ACTOR_OPTIONS = {
    "accelerator_type", "memory", "name", "num_cpus", "num_gpus", "object_store_memory",
    "placement_group", "placement_group_bundle_index", "placement_group_capture_child_tasks",
    "resources", "runtime_env", "scheduling_strategy", "_metadata", "enable_task_events",
    "_labels", "label_selector", "fallback_strategy", "concurrency_groups", "lifetime",
    "max_concurrency", "max_restarts", "max_task_retries", "max_pending_calls", "namespace",
    "get_if_exists", "allow_out_of_order_execution",
}  # fmt: skip
RAY_METHOD_OPTIONS = {
    "num_returns", "concurrency_group", "max_task_retries", "retry_exceptions",
    "_generator_backpressure_num_objects", "enable_task_events", "tensor_transport", "name",
}  # fmt: skip


class _NotANoop:
    """A value no unimplemented option treats as its default."""


# -- the table -------------------------------------------------------------------------
def test_the_table_knows_every_ray_option_once_per_scope() -> None:
    assert RAY_TASK_OPTIONS <= set(options_for("task"))
    assert RAY_ACTOR_OPTIONS <= set(options_for("actor"))
    assert RAY_METHOD_OPTIONS <= set(options_for("method"))
    rows = [(s, o.name) for o in OPTIONS for s in o.scopes]
    assert len(rows) == len(set(rows))


def test_defaults_come_from_the_table() -> None:
    task, actor = resolve({}, "task"), resolve({}, "actor")
    assert task.resources == {"CPU": 1.0} and actor.resources == {}
    assert task.max_retries == 3 and task.num_returns == 1 and task.retry_exceptions is False
    assert actor.max_retries == 0 and actor.num_returns == 0
    assert resolve({}, "method").num_returns == 1


# -- unknown keywords: ValueError naming them, with the closest valid one ----------------
def test_init_with_a_misspelt_keyword_suggests_the_right_one() -> None:
    with pytest.raises(ValueError, match="'num_cpu'.*did you mean 'num_cpus'"):
        plait.init(num_cpu=2)
    with pytest.raises(ValueError, match="'namespce'.*did you mean 'namespace'"):
        plait.init(namespce="x")
    assert not plait.is_initialized()


def test_remote_with_a_misspelt_option_suggests_the_right_one() -> None:
    with pytest.raises(ValueError, match="'num_cpu'.*did you mean 'num_cpus'"):
        plait.remote(num_cpu=1)(lambda: 1)

    class Actor:
        pass

    with pytest.raises(ValueError, match="'max_concurency'.*did you mean 'max_concurrency'"):
        plait.remote(max_concurency=2)(Actor)
    with pytest.raises(ValueError, match="'num_return'.*did you mean 'num_returns'"):
        plait.method(num_return=2)


def test_options_with_a_misspelt_keyword_suggests_the_right_one() -> None:
    f = plait.remote(lambda: 1)

    class Actor:
        pass

    targets: list[Any] = [
        f,
        plait.remote(Actor),
        plait.cpp_function("f"),
        plait.java_function("a.B", "f"),
        plait.cpp_actor_class("C"),
        plait.java_actor_class("a.B"),
    ]
    for target in targets:
        with pytest.raises(ValueError, match="'num_cpu'.*did you mean 'num_cpus'"):
            target.options(num_cpu=1)
    method = ActorHandle(b"a" * 16, "Actor", {"m": 1}).m
    with pytest.raises(ValueError, match="'num_return'.*did you mean 'num_returns'"):
        method.options(num_return=2)


def test_an_option_of_another_kind_of_call_says_so() -> None:
    with pytest.raises(ValueError, match="'max_concurrency'.*option of an actor class"):
        plait.remote(lambda: 1).options(max_concurrency=2)
    with pytest.raises(ValueError, match="'max_retries'.*option of a remote function"):
        plait.cpp_actor_class("C").options(max_retries=2)


def test_bad_values_name_the_option() -> None:
    f = plait.remote(lambda: 1)
    with pytest.raises(ValueError, match="max_retries must be"):
        f.options(max_retries=-2)
    with pytest.raises(ValueError, match="retry_exceptions must be"):
        plait.cpp_function("f").options(retry_exceptions="yes")
    with pytest.raises(ValueError, match="num_cpus must be"):
        plait.java_function("a.B", "f").options(num_cpus=-1)
    with pytest.raises(ValueError, match="not resources, for CPU"):
        plait.cpp_actor_class("C").options(resources={"CPU": 1})
    with pytest.raises(ValueError, match="lifetime must be"):
        plait.java_actor_class("a.B").options(lifetime="forever")


# -- options plait does not implement: NotImplementedError unless a no-op ------------------
_UNIMPLEMENTED = [(s, o.name) for o in OPTIONS if not o.implemented for s in sorted(o.scopes)]


@pytest.mark.parametrize(("scope", "name"), _UNIMPLEMENTED)
def test_each_unimplemented_option_raises_naming_itself(scope: str, name: str) -> None:
    with pytest.raises(NotImplementedError, match=f"'{name}'"):
        validate({name: _NotANoop()}, scope)  # type: ignore[arg-type]


def test_unimplemented_options_raise_from_every_entry_point() -> None:
    class Actor:
        pass

    with pytest.raises(NotImplementedError, match="scheduling_strategy"):
        plait.remote(scheduling_strategy="SPREAD")(lambda: 1)
    with pytest.raises(NotImplementedError, match="max_restarts"):
        plait.remote(max_restarts=3)(Actor)
    with pytest.raises(NotImplementedError, match="runtime_env"):
        plait.cpp_function("f").options(runtime_env={"env_vars": {"A": "1"}})
    with pytest.raises(NotImplementedError, match="max_task_retries"):
        plait.java_actor_class("a.B").options(max_task_retries=2)
    with pytest.raises(NotImplementedError, match="concurrency_group"):
        ActorHandle(b"a" * 16, "Actor", {"m": 1}).m.options(concurrency_group="io")
    with pytest.raises(NotImplementedError, match="concurrency_group"):
        plait.method(concurrency_group="io")
    with pytest.raises(NotImplementedError, match="generator tasks"):
        plait.remote(num_returns="streaming")(lambda: 1)
    with pytest.raises(NotImplementedError, match="local_mode"):
        plait.init(local_mode=True)
    with pytest.raises(NotImplementedError, match="runtime_env"):
        plait.init(runtime_env={"pip": ["x"]})
    assert not plait.is_initialized()


def test_default_values_of_unimplemented_options_are_accepted() -> None:
    class Actor:
        pass

    plait.remote(scheduling_strategy="DEFAULT", runtime_env=None, memory=0)(lambda: 1)
    plait.remote(max_restarts=0, max_task_retries=0, concurrency_groups={})(Actor)
    plait.java_function("a.B", "f").options(placement_group=None, label_selector={})
    validate({"include_dashboard": False, "log_to_driver": False}, "init")


# -- one spec builder: the same fields for every language -----------------------------------
class _Submitter:
    def __init__(self) -> None:
        self.tasks: list[PendingTask] = []

    def submit(self, task: PendingTask) -> None:
        self.tasks.append(task)


class _RefCounter:
    def add_submitted(self, pinned: Any) -> None:
        pass

    def add_owned(self, oid: bytes, owner: OwnerAddress) -> None:
        pass


class _Functions:
    def export(self, obj: Any) -> common_pb2.PythonFunction:
        return common_pb2.PythonFunction(module="m", qualname=obj.__qualname__)


class _FakeCoreWorker:
    """What the spec builder and submit_task read of a core worker; submits nothing."""

    def __init__(self) -> None:
        self.worker_id = b"w" * 16
        self.job_id = b"j" * 4
        self.namespace = "ns"
        self.address = OwnerAddress("node", "127.0.0.1", 1, self.worker_id)
        self.task_submitter = _Submitter()
        self.ref_counter = _RefCounter()
        self.functions = _Functions()

    def address_pb(self) -> common_pb2.Address:
        return common_pb2.Address(ip="127.0.0.1", port=1, worker_id=self.worker_id)


@pytest.fixture
def fake_cw() -> Iterator[_FakeCoreWorker]:
    assert not plait.is_initialized()
    cw = _FakeCoreWorker()
    set_core_worker(cw)  # type: ignore[arg-type]
    try:
        yield cw
    finally:
        set_core_worker(None)


def test_python_cpp_and_java_tasks_get_the_same_retry_and_resource_fields(
    fake_cw: _FakeCoreWorker,
) -> None:
    opts = {"max_retries": -1, "retry_exceptions": True, "num_cpus": 2, "resources": {"x": 1}}

    def py() -> int:
        return 1

    plait.remote(**opts)(py).remote()
    plait.cpp_function("f").options(**opts).remote()
    plait.java_function("a.B", "f").options(**opts).remote()
    tasks = fake_cw.task_submitter.tasks
    assert [t.spec.function.language for t in tasks] == [
        common_pb2.PYTHON,
        common_pb2.CPP,
        common_pb2.JAVA,
    ]
    for t in tasks:
        assert t.spec.max_retries == RETRY_FOREVER  # -1: retried forever, in every language
        assert t.retry_exceptions is True
        assert dict(t.spec.resources) == {"CPU": 2.0, "x": 1.0}
        assert t.spec.caller.worker_id == fake_cw.worker_id  # the caller owns the returns
        assert len(t.return_ids) == 1


def test_retry_exceptions_classes_and_defaults_are_kept_for_every_language(
    fake_cw: _FakeCoreWorker,
) -> None:
    plait.cpp_function("f").options(retry_exceptions=[KeyError], max_retries=2).remote()
    plait.java_function("a.B", "f").remote()
    cpp, java = fake_cw.task_submitter.tasks
    assert cpp.retry_exceptions == (KeyError,) and cpp.spec.max_retries == 2
    assert java.retry_exceptions is False and java.spec.max_retries == 3


def test_host_api_submits_through_the_same_builder(fake_cw: _FakeCoreWorker) -> None:
    host = HostApi(fake_cw)  # type: ignore[arg-type]
    host.submit_task("cpp", ["f"], [], [], 2, {"CPU": 1.0, "GPU": 1.0})
    host.submit_task("java", ["a.B", "f"], [], [], 1, {"CPU": 0.5})
    plait.cpp_function("f").options(num_returns=2, num_gpus=1).remote()
    from_host, java, from_python = fake_cw.task_submitter.tasks
    assert from_host.spec.max_retries == from_python.spec.max_retries == 3
    assert dict(from_host.spec.resources) == dict(from_python.spec.resources)
    assert from_host.spec.num_returns == from_python.spec.num_returns == 2
    assert dict(java.spec.resources) == {"CPU": 0.5}
    with pytest.raises(ValueError, match="must be a non-negative number"):
        host.submit_task("cpp", ["f"], [], [], 1, {"CPU": -1.0})
