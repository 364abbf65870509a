"""Ownership and reference counting, as a plain class: events in, decisions out.

Every core worker keeps one ReferenceCounter. For an object it owns, the object stays alive
while any of these is non-zero:
  local      ObjectRef instances alive in this process,
  submitted  pending tasks of ours that take it as an argument (top-level or nested),
  contained  live objects of ours whose value contains a ref to it,
  borrowers  references other processes registered with us (UpdateBorrowers).
When all reach zero the owner frees it (memory store entry and shared-memory copies).

For a borrowed object (owned elsewhere) we keep the same counts plus `credits`: how many
borrower registrations the owner holds for us. When the counts reach zero we hand the
credits back to the owner in one UpdateBorrowers message.

Registration rule (why there is no race): whoever sends a ref to another process keeps
its own count up until the receiver has registered with the owner. Task arguments are
pinned by the caller until the task's reply; the executing worker registers while the
task runs. Refs nested in a task's return values are registered for the caller by the
executing worker before it replies. Refs read out of a stored object are registered by
the reader while it still holds the outer object, whose owner pins what it contains.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from plait._format.object_ref import OwnerAddress


@dataclass
class _Entry:
    owned: bool
    owner: OwnerAddress
    local: int = 0
    submitted: int = 0
    contained: int = 0
    borrowers: dict[bytes, int] = field(default_factory=dict)
    credits: int = 0
    # Refs that this (owned) object's value contains; released when it is freed.
    inner: list[tuple[bytes, OwnerAddress]] = field(default_factory=list)

    def in_use(self) -> bool:
        return bool(self.local or self.submitted or self.contained or self.borrowers)


@dataclass(frozen=True)
class FreeOwned:
    """Decision: we own object_id and nobody can reach it: free its value everywhere."""

    object_id: bytes


@dataclass(frozen=True)
class ReleaseBorrowed:
    """Decision: tell `owner` we give back `credits` registrations of object_id."""

    object_id: bytes
    owner: OwnerAddress
    credits: int


Decision = FreeOwned | ReleaseBorrowed


class ReferenceCounter:
    def __init__(self, self_worker_id: bytes) -> None:
        self._me = self_worker_id
        self._lock = threading.RLock()
        self._entries: dict[bytes, _Entry] = {}

    # -- queries -----------------------------------------------------------------
    def owns(self, object_id: bytes) -> bool:
        with self._lock:
            e = self._entries.get(object_id)
            return e is not None and e.owned

    def has(self, object_id: bytes) -> bool:
        with self._lock:
            return object_id in self._entries

    def credits(self, object_id: bytes) -> int:
        with self._lock:
            e = self._entries.get(object_id)
            return e.credits if e else 0

    def inner_of(self, object_id: bytes) -> list[tuple[bytes, OwnerAddress]]:
        with self._lock:
            e = self._entries.get(object_id)
            return list(e.inner) if e else []

    def num_owned(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if e.owned)

    def num_borrowed(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if not e.owned)

    def counts(self, object_id: bytes) -> dict[str, int] | None:
        with self._lock:
            e = self._entries.get(object_id)
            if e is None:
                return None
            return {
                "local": e.local,
                "submitted": e.submitted,
                "contained": e.contained,
                "borrowers": sum(e.borrowers.values()),
                "credits": e.credits,
            }

    # -- events ------------------------------------------------------------------
    def add_owned(
        self,
        object_id: bytes,
        owner: OwnerAddress,
        inner: Iterable[tuple[bytes, OwnerAddress]] = (),
    ) -> None:
        """We created object_id (task return or put). `inner`: refs its value contains."""
        with self._lock:
            e = self._entries.get(object_id)
            if e is None:
                e = _Entry(owned=True, owner=owner)
                self._entries[object_id] = e
            for oid, own in inner:
                self._entry(oid, own).contained += 1
                e.inner.append((oid, own))

    def set_inner(self, object_id: bytes, inner: Iterable[tuple[bytes, OwnerAddress]]) -> None:
        """The value of an owned object became known and contains these refs."""
        with self._lock:
            e = self._entries.get(object_id)
            if e is None:
                return
            for oid, own in inner:
                self._entry(oid, own).contained += 1
                e.inner.append((oid, own))

    def add_local(self, object_id: bytes, owner: OwnerAddress) -> None:
        with self._lock:
            self._entry(object_id, owner).local += 1

    def remove_local(self, object_id: bytes) -> list[Decision]:
        with self._lock:
            e = self._entries.get(object_id)
            if e is None or e.local == 0:
                return []
            e.local -= 1
            return self._maybe_release(object_id, e)

    def add_submitted(self, refs: Iterable[tuple[bytes, OwnerAddress]]) -> None:
        with self._lock:
            for oid, own in refs:
                self._entry(oid, own).submitted += 1

    def remove_submitted(self, object_ids: Iterable[bytes]) -> list[Decision]:
        out: list[Decision] = []
        with self._lock:
            for oid in object_ids:
                e = self._entries.get(oid)
                if e is None or e.submitted == 0:
                    continue
                e.submitted -= 1
                out.extend(self._maybe_release(oid, e))
        return out

    def add_credits(self, object_id: bytes, owner: OwnerAddress, n: int = 1) -> None:
        """The owner registered us as a borrower n more times."""
        with self._lock:
            self._entry(object_id, owner).credits += n

    def add_contained(self, object_id: bytes, owner: OwnerAddress, n: int = 1) -> None:
        with self._lock:
            self._entry(object_id, owner).contained += n

    def remove_contained(self, object_ids: Iterable[bytes]) -> list[Decision]:
        out: list[Decision] = []
        with self._lock:
            for oid in object_ids:
                e = self._entries.get(oid)
                if e is None or e.contained == 0:
                    continue
                e.contained -= 1
                out.extend(self._maybe_release(oid, e))
        return out

    def update_borrower(self, object_id: bytes, borrower: bytes, delta: int) -> list[Decision]:
        """A borrower registered (+n) or released (-n) references to an object we own."""
        with self._lock:
            e = self._entries.get(object_id)
            if e is None or not e.owned:
                return []
            n = e.borrowers.get(borrower, 0) + delta
            if n > 0:
                e.borrowers[borrower] = n
            else:
                e.borrowers.pop(borrower, None)
            return self._maybe_release(object_id, e) if delta < 0 else []

    def drop_borrower(self, borrower: bytes) -> list[Decision]:
        """A borrower process died: forget every registration it held."""
        out: list[Decision] = []
        with self._lock:
            for oid, e in list(self._entries.items()):
                if e.owned and e.borrowers.pop(borrower, None) is not None:
                    out.extend(self._maybe_release(oid, e))
        return out

    def pending_borrow_releases(self) -> list[ReleaseBorrowed]:
        """Every borrowed registration we still hold (to hand back at shutdown)."""
        with self._lock:
            return [
                ReleaseBorrowed(oid, e.owner, e.credits)
                for oid, e in self._entries.items()
                if not e.owned and e.credits
            ]

    # -- internals ---------------------------------------------------------------
    def _entry(self, object_id: bytes, owner: OwnerAddress) -> _Entry:
        e = self._entries.get(object_id)
        if e is None:
            e = _Entry(owned=owner.worker_id == self._me, owner=owner)
            self._entries[object_id] = e
        return e

    def _maybe_release(self, object_id: bytes, e: _Entry) -> list[Decision]:
        if e.in_use():
            return []
        del self._entries[object_id]
        out: list[Decision] = []
        if e.owned:
            out.append(FreeOwned(object_id))
            for oid, _own in e.inner:
                inner = self._entries.get(oid)
                if inner is not None and inner.contained > 0:
                    inner.contained -= 1
                    out.extend(self._maybe_release(oid, inner))
        elif e.credits:
            out.append(ReleaseBorrowed(object_id, e.owner, e.credits))
        return out
