"""A borrower that went away: ReferenceCounter.drop_borrower, and where it is wired."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from plait._core.lease_state import DropBorrower
from plait._core.reference_counter import Decision, FreeOwned, ReferenceCounter
from plait._core.task_spec import PendingTask
from plait._core.task_state import NormalTaskState, PushTask
from plait._core.task_submitter import run_shared_instruction
from plait._format.object_ref import OwnerAddress
from plait._protocol import common_pb2, raylet_pb2

ME = OwnerAddress("n1", "127.0.0.1", 1, b"me")


def test_dropping_a_borrower_frees_what_only_it_held() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.add_owned(b"y", ME)
    rc.update_borrower(b"x", b"w1", 2)
    rc.update_borrower(b"y", b"w1", 1)
    rc.update_borrower(b"y", b"w2", 1)
    assert rc.drop_borrower(b"w1") == [FreeOwned(b"x")]
    assert rc.counts(b"y") is not None and rc.counts(b"y")["borrowers"] == 1  # type: ignore[index]


def test_dropping_a_borrower_keeps_objects_still_used_here() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.add_local(b"x", ME)
    rc.update_borrower(b"x", b"w1", 1)
    assert rc.drop_borrower(b"w1") == []
    assert rc.remove_local(b"x") == [FreeOwned(b"x")]


def test_dropping_a_borrower_frees_what_the_freed_object_contained() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"inner", ME)
    rc.add_owned(b"outer", ME, inner=[(b"inner", ME)])
    rc.update_borrower(b"outer", b"w1", 1)
    assert rc.drop_borrower(b"w1") == [FreeOwned(b"outer"), FreeOwned(b"inner")]


def test_dropping_an_unknown_borrower_changes_nothing() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.update_borrower(b"x", b"w1", 1)
    assert rc.drop_borrower(b"w2") == []
    assert rc.owns(b"x")


class _FakeCoreWorker:
    """What run_shared_instruction touches for a DropBorrower: no sockets."""

    def __init__(self) -> None:
        self.ref_counter = ReferenceCounter(b"me")
        self.applied: list[Decision] = []

    def apply(self, decisions: Sequence[Decision]) -> None:
        self.applied.extend(decisions)


def test_worker_death_in_a_push_drops_its_borrower_registrations() -> None:
    """The task state machine names the dead worker; the driver drops what it borrowed."""
    cw = _FakeCoreWorker()
    cw.ref_counter.add_owned(b"arg", ME)
    cw.ref_counter.update_borrower(b"arg", b"w1", 1)  # the worker registered as a borrower

    sm = NormalTaskState("127.0.0.1:7000")
    spec = common_pb2.TaskSpec(task_id=b"t", name="f", max_retries=0, resources={"CPU": 1.0})
    task = PendingTask(spec=spec, pinned=[])
    (req,) = sm.submit(task)
    reply = raylet_pb2.RequestWorkerLeaseReply(
        granted=True, lease_id=b"L", worker_address=common_pb2.Address(worker_id=b"w1")
    )
    push = next(
        i
        for i in sm.lease_replied(req.for_, req.request.request_id, reply)
        if isinstance(i, PushTask)
    )  # type: ignore[union-attr]
    out = sm.push_failed(push.key, push.lease, task, "UNAVAILABLE", "worker died")
    (drop,) = [i for i in out if isinstance(i, DropBorrower)]
    asyncio.run(run_shared_instruction(cw, drop))  # type: ignore[arg-type]
    assert cw.applied == [FreeOwned(b"arg")]
