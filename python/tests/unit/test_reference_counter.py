"""The ownership state machine, without sockets."""

from __future__ import annotations

from plait._core.reference_counter import FreeOwned, ReferenceCounter, ReleaseBorrowed
from plait._format.object_ref import OwnerAddress

ME = OwnerAddress("n1", "127.0.0.1", 1000, b"me")
OTHER = OwnerAddress("n1", "127.0.0.1", 2000, b"other")


def test_owned_object_freed_when_last_local_ref_goes() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.add_local(b"x", ME)
    rc.add_local(b"x", ME)
    assert rc.remove_local(b"x") == []
    assert rc.remove_local(b"x") == [FreeOwned(b"x")]
    assert not rc.has(b"x")


def test_submitted_task_pins_argument() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.add_local(b"x", ME)
    rc.add_submitted([(b"x", ME)])
    assert rc.remove_local(b"x") == []
    assert rc.remove_submitted([b"x"]) == [FreeOwned(b"x")]


def test_borrowers_keep_owned_object_alive() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.add_local(b"x", ME)
    rc.update_borrower(b"x", b"w1", +2)
    assert rc.remove_local(b"x") == []
    assert rc.update_borrower(b"x", b"w1", -1) == []
    assert rc.update_borrower(b"x", b"w1", -1) == [FreeOwned(b"x")]


def test_dead_borrower_is_dropped() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"x", ME)
    rc.update_borrower(b"x", b"w1", +1)
    assert rc.drop_borrower(b"w1") == [FreeOwned(b"x")]


def test_contained_refs_live_as_long_as_outer_object() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_owned(b"inner", ME)
    rc.add_local(b"inner", ME)
    rc.add_owned(b"outer", ME, inner=[(b"inner", ME)])
    rc.add_local(b"outer", ME)
    assert rc.remove_local(b"inner") == []
    assert rc.remove_local(b"outer") == [FreeOwned(b"outer"), FreeOwned(b"inner")]


def test_borrowed_ref_releases_credits_to_owner() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_local(b"y", OTHER)
    rc.add_credits(b"y", OTHER, 2)
    assert not rc.owns(b"y")
    assert rc.remove_local(b"y") == [ReleaseBorrowed(b"y", OTHER, 2)]


def test_borrowed_ref_without_credits_releases_nothing() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_local(b"y", OTHER)
    assert rc.remove_local(b"y") == []
    assert not rc.has(b"y")


def test_pending_borrow_releases_lists_held_credits() -> None:
    rc = ReferenceCounter(b"me")
    rc.add_local(b"y", OTHER)
    rc.add_credits(b"y", OTHER, 1)
    assert rc.pending_borrow_releases() == [ReleaseBorrowed(b"y", OTHER, 1)]
