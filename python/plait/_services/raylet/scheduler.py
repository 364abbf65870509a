"""Lease scheduling for one node: events in, decisions out, no I/O.

`NodeScheduler` holds this node's total and available resources, its GPU ids, the
cluster view (every other node's totals and availability, refreshed from GCS heartbeat
replies) and the queue of lease requests that could not be decided at once. Each event
(`submit`, `cancel`, `release`, `update_cluster_view`) returns the decisions it made:

- GRANT: the request fits here now; its resources (and GPU ids) are taken.
- SPILLBACK: another node should run it (the requester asks that node instead).
- QUEUE: it fits this node some day but not now; it waits here.
- INFEASIBLE: no node of the cluster could ever fit it; it waits here until the
  cluster view changes (a node joins) and is then spilled back.

Resources are counted in fixed point (1/10000 of a unit), so 0.1 + 0.2 releases exactly
what it took. GPUs are also tracked per device, as in Ray: a demand below one GPU takes
that share of one device (several such leases share it, packed onto the fullest device
that still fits), a larger demand is rounded up to whole devices that are entirely free.
Other nodes see only the "GPU" total in heartbeats, so a spilled-back request may queue
at a node whose free GPU share is split across devices.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

RESOURCE_UNIT = 10_000
GPU = "GPU"
CPU = "CPU"

# Resources in fixed point units.
Fixed = dict[str, int]


def to_fixed(resources: Mapping[str, float]) -> Fixed:
    """Float resources -> fixed point, dropping zero entries (they constrain nothing)."""
    out: Fixed = {}
    for name, amount in resources.items():
        if amount < 0:
            raise ValueError(f"resource {name!r} has a negative amount {amount}")
        units = round(amount * RESOURCE_UNIT)
        if units:
            out[name] = units
    return out


def to_float(resources: Mapping[str, int]) -> dict[str, float]:
    return {name: units / RESOURCE_UNIT for name, units in resources.items()}


def demand_of(resources: Mapping[str, float]) -> Fixed:
    """What a request takes from a node: its resources; a GPU demand above one is rounded
    up to whole GPUs (below one it is a share of one device)."""
    demand = to_fixed(resources)
    if demand.get(GPU, 0) > RESOURCE_UNIT:
        demand[GPU] = math.ceil(demand[GPU] / RESOURCE_UNIT) * RESOURCE_UNIT
    return demand


def gpu_share(gpu_units: int, num_ids: int) -> int:
    """What a lease of gpu_units over num_ids devices takes from each device."""
    return gpu_units if num_ids == 1 and gpu_units < RESOURCE_UNIT else RESOURCE_UNIT


def fits(demand: Mapping[str, int], available: Mapping[str, int]) -> bool:
    return all(available.get(name, 0) >= units for name, units in demand.items())


def shape_str(resources: Mapping[str, float]) -> str:
    """A resource shape as people read it: {CPU: 4, GPU: 1}."""
    if not resources:
        return "{}"
    parts = (f"{name}: {amount:g}" for name, amount in sorted(resources.items()))
    return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class NodeView:
    """Another node as the GCS last described it."""

    node_id: str
    ip: str
    port: int
    alive: bool
    total: Mapping[str, float]
    available: Mapping[str, float]

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class LeaseRequest:
    """What the scheduler needs to know about a lease request (the rest stays with the
    caller, keyed by request_id)."""

    request_id: bytes
    resources: Mapping[str, float]
    # Set after one spillback: queue here rather than send it on again, so a request
    # never ping-pongs between nodes whose views of each other are stale.
    grant_or_queue: bool = False


@dataclass(frozen=True)
class Allocation:
    """What a granted lease took; hand it back to `release`."""

    resources: Mapping[str, int]  # fixed point
    gpu_ids: tuple[int, ...] = ()

    def as_floats(self) -> dict[str, float]:
        return to_float(self.resources)


class DecisionKind(enum.Enum):
    GRANT = "grant"
    SPILLBACK = "spillback"
    QUEUE = "queue"
    INFEASIBLE = "infeasible"


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    request_id: bytes
    allocation: Allocation | None = None  # GRANT
    target: NodeView | None = None  # SPILLBACK


@dataclass
class _Queued:
    request: LeaseRequest
    demand: Fixed
    infeasible: bool


@dataclass
class _RemoteNode:
    view: NodeView
    total: Fixed
    # Our estimate: the GCS's figure minus what we spilled to it since.
    available: Fixed = field(default_factory=dict)


class NodeScheduler:
    """Resources, GPU ids, cluster view and lease queue of one node."""

    def __init__(self, node_id: str, total: Mapping[str, float]) -> None:
        self.node_id = node_id
        self._total = to_fixed(total)
        self._available: Fixed = dict(self._total)
        num_gpus = self._total.get(GPU, 0) // RESOURCE_UNIT
        self._gpu_free: list[int] = [RESOURCE_UNIT] * num_gpus  # per device, fixed point
        # Whole GPUs only: a fractional remainder of the GPU total is unusable.
        if num_gpus:
            self._total[GPU] = self._available[GPU] = num_gpus * RESOURCE_UNIT
        else:
            self._total.pop(GPU, None)
            self._available.pop(GPU, None)
        self._cluster: dict[str, _RemoteNode] = {}
        self._queue: OrderedDict[bytes, _Queued] = OrderedDict()
        # Shapes already warned about as infeasible (warn once each).
        self.warned_shapes: set[str] = set()

    # ---- views ----

    @property
    def total(self) -> dict[str, float]:
        return to_float(self._total)

    @property
    def available(self) -> dict[str, float]:
        return to_float(self._available)

    @property
    def free_gpu_ids(self) -> list[int]:
        """The devices no lease uses any share of."""
        return [i for i, free in enumerate(self._gpu_free) if free == RESOURCE_UNIT]

    def _place_gpus(self, units: int) -> tuple[int, ...] | None:
        """The devices a GPU demand would take now, or None when they are not free."""
        if units >= RESOURCE_UNIT:
            whole = self.free_gpu_ids
            n = units // RESOURCE_UNIT
            return tuple(whole[:n]) if len(whole) >= n else None
        fitting = [i for i, free in enumerate(self._gpu_free) if free >= units]
        if not fitting:
            return None
        return (min(fitting, key=lambda i: (self._gpu_free[i], i)),)

    def _fits_now(self, demand: Fixed) -> bool:
        if not fits(demand, self._available):
            return False
        return GPU not in demand or self._place_gpus(demand[GPU]) is not None

    def cluster_view(self) -> dict[str, NodeView]:
        return {node_id: node.view for node_id, node in self._cluster.items()}

    def node_address(self, node_id: str) -> str | None:
        """ip:port of an alive node of the cluster view (not this one)."""
        node = self._cluster.get(node_id)
        if node is None or not node.view.alive:
            return None
        return node.view.address

    def num_queued(self) -> int:
        return len(self._queue)

    def is_queued(self, request_id: bytes) -> bool:
        return request_id in self._queue

    def infeasible_shapes(self) -> list[str]:
        """Distinct shapes of the requests queued as infeasible, in queue order."""
        shapes: dict[str, None] = {}
        for entry in self._queue.values():
            if entry.infeasible:
                shapes[shape_str(entry.request.resources)] = None
        return list(shapes)

    # ---- events ----

    def submit(self, request: LeaseRequest) -> Decision:
        """Decide a new request; QUEUE and INFEASIBLE leave it in the queue."""
        if request.request_id in self._queue:
            raise ValueError(f"lease request {request.request_id.hex()} is already queued")
        demand = demand_of(request.resources)
        decision = self._decide(request, demand)
        if decision.kind in (DecisionKind.QUEUE, DecisionKind.INFEASIBLE):
            self._queue[request.request_id] = _Queued(
                request, demand, decision.kind is DecisionKind.INFEASIBLE
            )
        return decision

    def cancel(self, request_id: bytes) -> bool:
        """Drop a queued request; False when it is not queued (granted, spilled, unknown)."""
        return self._queue.pop(request_id, None) is not None

    def release(self, allocation: Allocation) -> list[Decision]:
        """Give a lease's resources back and grant what now fits, in FIFO order."""
        for name, units in allocation.resources.items():
            self._available[name] = min(
                self._available.get(name, 0) + units, self._total.get(name, 0)
            )
        share = gpu_share(allocation.resources.get(GPU, 0), len(allocation.gpu_ids))
        for gpu_id in allocation.gpu_ids:
            self._gpu_free[gpu_id] = min(self._gpu_free[gpu_id] + share, RESOURCE_UNIT)
        return self._reschedule(spill=False)

    def worker_blocked(self, allocation: Allocation) -> list[Decision]:
        """A leased worker waits in get/wait: lend its CPUs to other requests meanwhile."""
        cpus = allocation.resources.get(CPU, 0)
        if not cpus:
            return []
        self._available[CPU] = min(self._available.get(CPU, 0) + cpus, self._total.get(CPU, 0))
        return self._reschedule(spill=False)

    def worker_unblocked(self, allocation: Allocation) -> None:
        """The worker resumes: take its CPUs back (the node may be oversubscribed briefly,
        as in Ray, rather than stall a worker that already holds a lease)."""
        cpus = allocation.resources.get(CPU, 0)
        if cpus:
            self._available[CPU] = self._available.get(CPU, 0) - cpus

    def update_cluster_view(self, nodes: Iterable[NodeView]) -> list[Decision]:
        """Replace the view of the other nodes (this node's own entry is ignored: its
        local accounting is the truth) and retry the queue against it."""
        cluster: dict[str, _RemoteNode] = {}
        for view in nodes:
            if view.node_id == self.node_id:
                continue
            cluster[view.node_id] = _RemoteNode(
                view, to_fixed(view.total), to_fixed(view.available)
            )
        self._cluster = cluster
        return self._reschedule(spill=True)

    # ---- decisions ----

    def _decide(self, request: LeaseRequest, demand: Fixed) -> Decision:
        rid = request.request_id
        if self._fits_now(demand):
            return Decision(DecisionKind.GRANT, rid, allocation=self._allocate(demand))
        if fits(demand, self._total):
            if not request.grant_or_queue:
                target = self._pick_remote(demand, by_total=False)
                if target is not None:
                    return self._spill(rid, demand, target)
            return Decision(DecisionKind.QUEUE, rid)
        # This node can never run it. Spilling by *total* cannot ping-pong (totals do
        # not change), so grant_or_queue does not hold it here.
        target = self._pick_remote(demand, by_total=True)
        if target is not None:
            return self._spill(rid, demand, target)
        shape = shape_str(request.resources)
        if shape not in self.warned_shapes:
            self.warned_shapes.add(shape)
            logger.warning(
                "lease request for %s is infeasible: no node of the cluster has these "
                "resources (this node has %s); it waits until a node that fits joins",
                shape,
                shape_str(self.total),
            )
        return Decision(DecisionKind.INFEASIBLE, rid)

    def _reschedule(self, *, spill: bool) -> list[Decision]:
        """Re-decide queued requests in FIFO order. A request that does not fit is
        skipped, not waited on, so a big request does not block smaller ones behind it.
        With spill=False (a local release) only grants are possible."""
        decisions: list[Decision] = []
        for rid, entry in list(self._queue.items()):
            if entry.infeasible and not spill:
                continue
            if not entry.infeasible and not spill and not self._fits_now(entry.demand):
                continue
            decision = self._decide(entry.request, entry.demand)
            if decision.kind is DecisionKind.QUEUE:
                entry.infeasible = False
            elif decision.kind is DecisionKind.INFEASIBLE:
                entry.infeasible = True
            else:
                del self._queue[rid]
                decisions.append(decision)
        return decisions

    def _allocate(self, demand: Fixed) -> Allocation:
        for name, units in demand.items():
            self._available[name] -= units
        gpu_ids: tuple[int, ...] = ()
        if GPU in demand:
            gpu_ids = self._place_gpus(demand[GPU]) or ()  # _fits_now checked it
        share = gpu_share(demand.get(GPU, 0), len(gpu_ids))
        for gpu_id in gpu_ids:
            self._gpu_free[gpu_id] -= share
        return Allocation(dict(demand), gpu_ids)

    def _spill(self, rid: bytes, demand: Fixed, node: _RemoteNode) -> Decision:
        # Count what we send its way until the next heartbeat reply says the truth, so a
        # burst of requests does not all land on the same node.
        for name, units in demand.items():
            node.available[name] = max(node.available.get(name, 0) - units, 0)
        return Decision(DecisionKind.SPILLBACK, rid, target=node.view)

    def _pick_remote(self, demand: Fixed, *, by_total: bool) -> _RemoteNode | None:
        """The alive node that fits `demand` now, with the most headroom left; with
        by_total, a node whose total fits when none has it available now."""
        now = [n for n in self._cluster.values() if n.view.alive and fits(demand, n.available)]
        if now:
            return max(now, key=lambda n: (_headroom(demand, n), n.view.node_id))
        if not by_total:
            return None
        some_day = [n for n in self._cluster.values() if n.view.alive and fits(demand, n.total)]
        if some_day:
            return max(some_day, key=lambda n: (_headroom(demand, n), n.view.node_id))
        return None


def _headroom(demand: Mapping[str, int], node: _RemoteNode) -> float:
    """The smallest fraction left of any demanded resource after placing `demand`."""
    if not demand:
        return 1.0
    return min(
        (node.available.get(name, 0) - units) / max(node.total.get(name, 0), 1)
        for name, units in demand.items()
    )
