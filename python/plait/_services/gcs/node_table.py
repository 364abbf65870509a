"""The node table: which raylets exist, their resources, and whether they are alive.

A node is in one of three conditions:
- alive: registered (or heard from) and heartbeating within the timeout;
- recovering: loaded from storage after a GCS restart, not alive until it heartbeats,
  declared dead if it stays silent for a whole timeout;
- dead: timed out or unregistered. A heartbeat from a dead node is answered with
  `unknown_node`, and the raylet re-registers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from plait._protocol import common_pb2
from plait._services.gcs.storage import SqliteStore

logger = logging.getLogger(__name__)

TABLE = "nodes"
DEFAULT_NODE_TIMEOUT_S = 5.0

Clock = Callable[[], float]


class NodeTable:
    """Nodes by id. `clock` (monotonic) drives timeouts; `wall_clock` stamps NodeInfo."""

    def __init__(
        self,
        store: SqliteStore,
        timeout_s: float = DEFAULT_NODE_TIMEOUT_S,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        self._store = store
        self.timeout_s = timeout_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._nodes: dict[str, common_pb2.NodeInfo] = {}
        # node id -> clock() of its last sign of life (registration or heartbeat); only
        # for nodes not yet declared dead (alive or recovering).
        self._last_seen: dict[str, float] = {}
        self._load()

    def _load(self) -> None:
        now = self._clock()
        for key, value in self._store.load(TABLE):
            node = common_pb2.NodeInfo.FromString(value)
            node_id = key.decode()
            # A node that was alive before the restart gets one timeout from now to
            # heartbeat; until it does it is not offered to schedulers.
            if node.alive:
                self._last_seen[node_id] = now
            node.alive = False
            self._nodes[node_id] = node
        if self._nodes:
            logger.info(
                "recovered %d node(s), %d awaiting a heartbeat",
                len(self._nodes),
                len(self._last_seen),
            )

    def _persist(self, node: common_pb2.NodeInfo) -> None:
        # Persist "was alive" for recovering nodes too, so a second quick restart still
        # waits for them instead of forgetting they existed.
        stored = common_pb2.NodeInfo()
        stored.CopyFrom(node)
        stored.alive = node.node_id in self._last_seen
        self._store.put(TABLE, node.node_id.encode(), stored.SerializeToString())

    def register(self, node: common_pb2.NodeInfo) -> None:
        info = common_pb2.NodeInfo()
        info.CopyFrom(node)
        info.alive = True
        info.last_heartbeat = self._wall_clock()
        if not info.available_resources:
            info.available_resources.update(info.total_resources)
        previous = self._nodes.get(info.node_id)
        self._nodes[info.node_id] = info
        self._last_seen[info.node_id] = self._clock()
        self._persist(info)
        logger.info(
            "node %s %sregistered at %s:%d resources=%s",
            info.node_id,
            "re-" if previous is not None else "",
            info.ip,
            info.raylet_port,
            dict(info.total_resources),
        )

    def heartbeat(self, node_id: str, available_resources: Mapping[str, float]) -> bool:
        """Record a heartbeat; False when the node is unknown or dead (re-register)."""
        node = self._nodes.get(node_id)
        if node is None or node_id not in self._last_seen:
            return False
        self._last_seen[node_id] = self._clock()
        node.last_heartbeat = self._wall_clock()
        node.available_resources.clear()
        node.available_resources.update(available_resources)
        if not node.alive:
            node.alive = True
            self._persist(node)
            logger.info("node %s is back after the GCS restart", node_id)
        return True

    def mark_dead(self, node_id: str) -> bool:
        """Declare a node dead; False when it was unknown or already dead."""
        node = self._nodes.get(node_id)
        if node is None or node_id not in self._last_seen:
            return False
        del self._last_seen[node_id]
        node.alive = False
        self._persist(node)
        return True

    def expired(self) -> list[str]:
        """Nodes (alive or recovering) silent for longer than the timeout."""
        now = self._clock()
        return [node_id for node_id, seen in self._last_seen.items() if now - seen > self.timeout_s]

    def get(self, node_id: str) -> common_pb2.NodeInfo | None:
        return self._nodes.get(node_id)

    def all(self) -> list[common_pb2.NodeInfo]:
        """Every node ever known, dead ones with alive=False."""
        return list(self._nodes.values())
