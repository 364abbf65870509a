"""NodeScheduler: lease decisions from events, without sockets or processes."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest

from plait._services.raylet.scheduler import (
    Decision,
    DecisionKind,
    LeaseRequest,
    NodeScheduler,
    NodeView,
    shape_str,
)

GRANT = DecisionKind.GRANT
SPILLBACK = DecisionKind.SPILLBACK
QUEUE = DecisionKind.QUEUE
INFEASIBLE = DecisionKind.INFEASIBLE

_counter = 0


def req(resources: Mapping[str, float], *, grant_or_queue: bool = False) -> LeaseRequest:
    global _counter
    _counter += 1
    return LeaseRequest(_counter.to_bytes(4, "big"), dict(resources), grant_or_queue)


def node(
    node_id: str,
    total: Mapping[str, float],
    available: Mapping[str, float] | None = None,
    *,
    alive: bool = True,
) -> NodeView:
    return NodeView(
        node_id,
        "10.0.0.2",
        7000,
        alive,
        dict(total),
        dict(total if available is None else available),
    )


def kinds(decisions: list[Decision]) -> list[DecisionKind]:
    return [d.kind for d in decisions]


def test_request_that_fits_is_granted_and_takes_resources() -> None:
    s = NodeScheduler("local", {"CPU": 4, "custom": 2})
    d = s.submit(req({"CPU": 1.5, "custom": 1}))
    assert d.kind is GRANT
    assert d.allocation is not None
    assert s.available == {"CPU": 2.5, "custom": 1.0}


def test_empty_request_always_fits_even_on_a_full_node() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    assert s.submit(req({"CPU": 1})).kind is GRANT
    d = s.submit(req({}))
    assert d.kind is GRANT
    assert s.available == {"CPU": 0.0}
    # Zero amounts constrain nothing either.
    assert s.submit(req({"CPU": 0, "GPU": 0})).kind is GRANT


def test_fractional_resources_are_released_exactly() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    allocs = []
    for _ in range(10):
        d = s.submit(req({"CPU": 0.1}))
        assert d.kind is GRANT and d.allocation is not None
        allocs.append(d.allocation)
    extra = req({"CPU": 0.1})
    assert s.submit(extra).kind is QUEUE
    assert s.cancel(extra.request_id)
    for a in allocs:
        s.release(a)
    assert s.available == {"CPU": 1.0}


def test_request_that_fits_later_is_queued_and_granted_on_release() -> None:
    s = NodeScheduler("local", {"CPU": 2})
    first = s.submit(req({"CPU": 2}))
    assert first.kind is GRANT and first.allocation is not None
    waiting = req({"CPU": 1})
    assert s.submit(waiting).kind is QUEUE
    assert s.num_queued() == 1
    decisions = s.release(first.allocation)
    assert kinds(decisions) == [GRANT]
    assert decisions[0].request_id == waiting.request_id
    assert s.available == {"CPU": 1.0}
    assert s.num_queued() == 0


def test_release_grants_queued_requests_in_fifo_order_skipping_ones_that_do_not_fit() -> None:
    s = NodeScheduler("local", {"CPU": 3})
    held = s.submit(req({"CPU": 3}))
    assert held.allocation is not None
    a, big, b, c = req({"CPU": 1}), req({"CPU": 3}), req({"CPU": 1}), req({"CPU": 1})
    for r in (a, big, b, c):
        assert s.submit(r).kind is QUEUE
    decisions = s.release(held.allocation)
    # a first; big does not fit next to a, so b and c are granted after it.
    assert [d.request_id for d in decisions] == [a.request_id, b.request_id, c.request_id]
    assert kinds(decisions) == [GRANT, GRANT, GRANT]
    assert s.is_queued(big.request_id)


def test_cancel_removes_a_queued_request() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    held = s.submit(req({"CPU": 1}))
    assert held.allocation is not None
    waiting = req({"CPU": 1})
    s.submit(waiting)
    assert s.cancel(waiting.request_id)
    assert not s.cancel(waiting.request_id)
    assert s.release(held.allocation) == []
    assert s.available == {"CPU": 1.0}


def test_gpu_leases_get_distinct_whole_gpu_ids_and_return_them() -> None:
    s = NodeScheduler("local", {"CPU": 8, "GPU": 3})
    d1 = s.submit(req({"GPU": 2}))
    d2 = s.submit(req({"GPU": 1.5}))  # over one: rounded up to whole devices
    assert d1.allocation is not None and d1.allocation.gpu_ids == (0, 1)
    assert s.available["GPU"] == 1.0
    assert d2.kind is QUEUE  # needs two whole devices; one is free
    decisions = s.release(d1.allocation)
    assert kinds(decisions) == [GRANT]
    assert decisions[0].allocation is not None
    assert decisions[0].allocation.gpu_ids == (0, 1)
    assert s.free_gpu_ids == [2]


def test_fractional_gpu_leases_share_a_device() -> None:
    s = NodeScheduler("local", {"CPU": 8, "GPU": 2})
    quarters = [s.submit(req({"GPU": 0.25})) for _ in range(4)]
    assert kinds(quarters) == [GRANT] * 4
    ids = [d.allocation.gpu_ids for d in quarters if d.allocation is not None]
    assert ids == [(0,)] * 4  # packed onto one device, the other stays whole
    assert s.free_gpu_ids == [1] and s.available["GPU"] == 1.0
    whole = s.submit(req({"GPU": 1}))
    assert whole.allocation is not None and whole.allocation.gpu_ids == (1,)
    half = req({"GPU": 0.5})
    assert s.submit(half).kind is QUEUE  # 0 GPU left on either device
    # A quarter's share comes back: not enough for a half yet; a second one is.
    assert quarters[0].allocation is not None and quarters[1].allocation is not None
    assert s.release(quarters[0].allocation) == []
    decisions = s.release(quarters[1].allocation)
    assert [d.request_id for d in decisions] == [half.request_id]
    assert decisions[0].allocation is not None and decisions[0].allocation.gpu_ids == (0,)


def test_gpu_share_split_across_devices_does_not_fit_a_whole_gpu() -> None:
    s = NodeScheduler("local", {"GPU": 2})
    a, b = s.submit(req({"GPU": 0.5})), s.submit(req({"GPU": 0.75}))
    assert a.allocation is not None and b.allocation is not None
    assert a.allocation.gpu_ids == (0,) and b.allocation.gpu_ids == (1,)  # 0.75 > 0.5 free
    assert s.available["GPU"] == 0.75
    assert s.submit(req({"GPU": 0.75})).kind is QUEUE  # 0.75 free, but 0.5 + 0.25
    assert s.submit(req({"GPU": 0.5})).kind is GRANT


def test_busy_node_spills_back_to_a_node_with_resources_available_now() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.update_cluster_view([node("full", {"CPU": 4}, {"CPU": 0}), node("free", {"CPU": 4})])
    assert s.submit(req({"CPU": 1})).kind is GRANT
    d = s.submit(req({"CPU": 1}))
    assert d.kind is SPILLBACK
    assert d.target is not None and d.target.node_id == "free"
    assert s.num_queued() == 0


def test_grant_or_queue_request_is_queued_not_spilled_again() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.update_cluster_view([node("free", {"CPU": 4})])
    s.submit(req({"CPU": 1}))
    assert s.submit(req({"CPU": 1}, grant_or_queue=True)).kind is QUEUE


def test_busy_node_queues_when_no_other_node_has_it_available() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.update_cluster_view(
        [node("busy", {"CPU": 4}, {"CPU": 0.5}), node("dead", {"CPU": 8}, alive=False)]
    )
    s.submit(req({"CPU": 1}))
    assert s.submit(req({"CPU": 1})).kind is QUEUE


def test_spills_are_counted_against_the_target_until_the_next_view() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.update_cluster_view([node("other", {"CPU": 2})])
    s.submit(req({"CPU": 1}))
    assert s.submit(req({"CPU": 1})).kind is SPILLBACK
    assert s.submit(req({"CPU": 1})).kind is SPILLBACK
    # "other" has had 2 CPUs' worth sent its way: the third waits here.
    assert s.submit(req({"CPU": 1})).kind is QUEUE


def test_request_this_node_can_never_fit_spills_to_a_node_whose_total_fits() -> None:
    s = NodeScheduler("local", {"CPU": 2})
    s.update_cluster_view([node("gpu-busy", {"CPU": 2, "GPU": 1}, {"CPU": 2, "GPU": 0})])
    d = s.submit(req({"GPU": 1}, grant_or_queue=True))
    # Even with grant_or_queue: this node can never run it, and totals do not go stale.
    assert d.kind is SPILLBACK
    assert d.target is not None and d.target.node_id == "gpu-busy"


def test_never_fitting_request_prefers_a_node_with_it_available_now() -> None:
    s = NodeScheduler("local", {"CPU": 2})
    s.update_cluster_view(
        [
            node("a-busy", {"GPU": 2}, {"GPU": 0}),
            node("b-free", {"GPU": 1}),
        ]
    )
    d = s.submit(req({"GPU": 1}))
    assert d.kind is SPILLBACK
    assert d.target is not None and d.target.node_id == "b-free"


def test_infeasible_request_waits_warns_once_and_spills_when_a_node_joins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = NodeScheduler("local", {"CPU": 2})
    s.update_cluster_view([node("cpu-only", {"CPU": 8})])
    r1, r2 = req({"GPU": 1}), req({"GPU": 1})
    with caplog.at_level(logging.WARNING, logger="plait._services.raylet.scheduler"):
        assert s.submit(r1).kind is INFEASIBLE
        assert s.submit(r2).kind is INFEASIBLE
    warnings = [r for r in caplog.records if "infeasible" in r.getMessage()]
    assert len(warnings) == 1
    assert "{GPU: 1}" in warnings[0].getMessage()
    assert s.infeasible_shapes() == ["{GPU: 1}"]
    # A release does not help an infeasible request.
    held = s.submit(req({"CPU": 1}))
    assert held.allocation is not None
    assert s.release(held.allocation) == []
    # The same view again changes nothing; a GPU node joining spills both there.
    assert s.update_cluster_view([node("cpu-only", {"CPU": 8})]) == []
    decisions = s.update_cluster_view([node("cpu-only", {"CPU": 8}), node("gpu", {"GPU": 4})])
    assert kinds(decisions) == [SPILLBACK, SPILLBACK]
    assert [d.request_id for d in decisions] == [r1.request_id, r2.request_id]
    assert all(d.target is not None and d.target.node_id == "gpu" for d in decisions)
    assert s.num_queued() == 0
    assert s.infeasible_shapes() == []


def test_queued_request_spills_when_the_view_shows_a_free_node() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.submit(req({"CPU": 1}))
    waiting = req({"CPU": 1})
    pinned = req({"CPU": 1}, grant_or_queue=True)
    assert s.submit(waiting).kind is QUEUE
    assert s.submit(pinned).kind is QUEUE
    decisions = s.update_cluster_view([node("free", {"CPU": 4})])
    assert [(d.kind, d.request_id) for d in decisions] == [(SPILLBACK, waiting.request_id)]
    assert s.is_queued(pinned.request_id)


def test_view_ignores_this_nodes_own_entry() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.submit(req({"CPU": 1}))
    # The GCS's (stale) figure for this node must not make it a spillback target.
    s.update_cluster_view([node("local", {"CPU": 1}, {"CPU": 1})])
    assert s.submit(req({"CPU": 1})).kind is QUEUE
    assert s.node_address("local") is None


def test_node_address_only_for_alive_nodes() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.update_cluster_view([node("up", {"CPU": 1}), node("down", {"CPU": 1}, alive=False)])
    assert s.node_address("up") == "10.0.0.2:7000"
    assert s.node_address("down") is None
    assert s.node_address("unknown") is None


def test_node_resource_pins_a_request_to_its_node() -> None:
    s = NodeScheduler("local", {"CPU": 4, "node:10.0.0.1": 1})
    s.update_cluster_view([node("other", {"CPU": 4, "node:10.0.0.2": 1})])
    assert s.submit(req({"CPU": 1, "node:10.0.0.1": 0.001})).kind is GRANT
    d = s.submit(req({"CPU": 1, "node:10.0.0.2": 0.001}))
    assert d.kind is SPILLBACK and d.target is not None and d.target.node_id == "other"


def test_duplicate_request_id_is_rejected() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    s.submit(req({"CPU": 1}))
    r = req({"CPU": 1})
    s.submit(r)
    with pytest.raises(ValueError, match="already queued"):
        s.submit(r)


def test_negative_amount_is_rejected() -> None:
    s = NodeScheduler("local", {"CPU": 1})
    with pytest.raises(ValueError, match="negative"):
        s.submit(req({"CPU": -1}))


def test_shape_str() -> None:
    assert shape_str({"GPU": 1.0, "CPU": 0.5}) == "{CPU: 0.5, GPU: 1}"
    assert shape_str({}) == "{}"
