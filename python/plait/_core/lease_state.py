"""Worker leases, as plain data: what a lease request is, how a raylet's answer moves it on
(spillback), and the lease instructions both submitters hand to their driver.

One piece of logic serves normal tasks and actor creation: a request goes to our raylet;
an answer of *spillback* names another raylet, which is then asked with grant_or_queue
(it must grant or queue, not spill again) until a grant, a refusal, or too many hops.
No I/O here: the drivers send the requests and feed the replies back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from plait._protocol import common_pb2, raylet_pb2

# A request spilled back this many times ends (a task asks again; an actor fails).
MAX_SPILLBACK_HOPS = 8


@dataclass(slots=True, eq=False)
class LeaseRequest:
    """One request for a worker, from its first raylet to its last hop."""

    request_id: bytes
    raylet: str  # the raylet it is now waiting on
    hops: int = 0

    @property
    def grant_or_queue(self) -> bool:
        """A raylet we were spilled back to must grant or queue, never spill again."""
        return self.hops > 0


class LeaseStep(enum.Enum):
    GRANTED = enum.auto()
    SPILLED = enum.auto()  # ask request.raylet (now the spillback target) again
    REFUSED = enum.auto()  # the raylet answered with an error
    CANCELLED = enum.auto()  # the request was withdrawn (CancelWorkerLease)
    TOO_MANY_HOPS = enum.auto()


def lease_step(req: LeaseRequest, reply: raylet_pb2.RequestWorkerLeaseReply) -> LeaseStep:
    """Move `req` on by the raylet's reply (the one spillback loop of the core worker)."""
    if reply.granted:
        return LeaseStep.GRANTED
    if reply.spillback:
        if req.hops + 1 >= MAX_SPILLBACK_HOPS:
            return LeaseStep.TOO_MANY_HOPS
        req.hops += 1
        req.raylet = f"{reply.spillback_ip}:{reply.spillback_port}"
        return LeaseStep.SPILLED
    return LeaseStep.REFUSED if reply.error else LeaseStep.CANCELLED


@dataclass(slots=True, eq=False)
class Lease:
    """A granted worker lease: the worker tasks are pushed to, and what runs there."""

    lease_id: bytes
    worker: common_pb2.Address
    raylet: str
    gpu_ids: list[int]
    in_flight: set[bytes] = field(default_factory=set)
    broken: bool = False  # its worker died (or is being killed): push nothing more
    # Bumped each time the lease turns idle; an idle timer for an older epoch is stale.
    idle_epoch: int = 0


# -- instructions --------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class RequestLease:
    """Send RequestWorkerLease for `request` to `request.raylet`; feed the reply back with
    `for_` (the scheduling key or actor id the request serves)."""

    for_: object
    request: LeaseRequest
    language: int
    resources: dict[str, float]
    task_name: str
    is_actor: bool = False
    detached: bool = False


@dataclass(slots=True, eq=False)
class WithdrawLeaseRequest:
    """CancelWorkerLease: the queued request is no longer wanted."""

    request_id: bytes
    raylet: str


@dataclass(slots=True, eq=False)
class ReturnLease:
    """ReturnWorkerLease; with disconnect the raylet kills the worker instead of reusing it."""

    lease_id: bytes
    raylet: str
    disconnect: bool


@dataclass(slots=True, eq=False)
class DropBorrower:
    """The worker with this id is gone: forget every borrower registration it held with
    us, so what only it borrowed can be freed (ReferenceCounter.drop_borrower)."""

    worker_id: bytes
