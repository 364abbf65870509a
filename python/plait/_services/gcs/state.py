"""All GCS state and the rules that tie its tables together, without any networking.

The gRPC servicer (server.py) is a thin shell over `GcsState`: every decision (who is
dead, which actors die with a node or a job, name conflicts, job ids) is made here, so
tests drive it directly with an injected clock. Not thread-safe: the GCS calls it from
its one event-loop thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from plait._protocol import common_pb2
from plait._services.gcs.actor_table import ActorListener, ActorTable
from plait._services.gcs.job_table import JobTable
from plait._services.gcs.kv import KVStore
from plait._services.gcs.node_table import DEFAULT_NODE_TIMEOUT_S, Clock, NodeTable
from plait._services.gcs.storage import MEMORY, SqliteStore

logger = logging.getLogger(__name__)

OWNER_JOB_FINISHED = "owner job finished"


class GcsState:
    """Nodes, jobs, actors and KV, persisted in the SQLite file at `storage_path`.

    Opening a state on an existing file recovers jobs, actors, KV and the node list
    (nodes as not alive until they heartbeat again).
    """

    def __init__(
        self,
        storage_path: str = MEMORY,
        node_timeout_s: float = DEFAULT_NODE_TIMEOUT_S,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        actor_listener: ActorListener | None = None,
    ) -> None:
        self.store = SqliteStore(storage_path)
        self.nodes = NodeTable(self.store, node_timeout_s, clock, wall_clock)
        self.jobs = JobTable(self.store, wall_clock)
        self.actors = ActorTable(self.store, actor_listener)
        self.kv = KVStore(self.store)

    def close(self) -> None:
        self.store.close()

    # ---- nodes ----

    def register_node(self, node: common_pb2.NodeInfo) -> None:
        self.nodes.register(node)

    def unregister_node(self, node_id: str) -> list[common_pb2.ActorInfo]:
        """A raylet leaving on purpose: the node is dead and so are its actors."""
        return self._node_died(node_id, f"node {node_id} unregistered")

    def heartbeat(
        self, node_id: str, available_resources: Mapping[str, float]
    ) -> tuple[bool, list[common_pb2.NodeInfo], list[bytes]]:
        """(known, all nodes, finished job ids). known=False asks the raylet to
        re-register (the GCS restarted without it, or declared it dead)."""
        known = self.nodes.heartbeat(node_id, available_resources)
        return known, self.nodes.all(), self.jobs.finished_ids()

    def check_node_health(self) -> list[str]:
        """Declare dead every node silent for longer than the timeout (and kill the
        actors it hosted); return the ids of the nodes declared dead."""
        dead = self.nodes.expired()
        for node_id in dead:
            self._node_died(
                node_id,
                f"node {node_id} died (no heartbeat for {self.nodes.timeout_s:g}s)",
            )
        return dead

    def _node_died(self, node_id: str, cause: str) -> list[common_pb2.ActorInfo]:
        if not self.nodes.mark_dead(node_id):
            return []
        logger.warning("%s", cause)
        return self.actors.kill_where(lambda a: a.address.node_id == node_id, cause)

    # ---- jobs ----

    def register_job(self, job: common_pb2.JobInfo) -> bytes:
        return self.jobs.register(job)

    def mark_job_finished(self, job_id: bytes) -> list[common_pb2.ActorInfo]:
        """Finish a job; its non-detached actors die with it (returned)."""
        if not self.jobs.mark_finished(job_id):
            return []
        return self.actors.kill_where(
            lambda a: a.job_id == job_id and not a.detached, OWNER_JOB_FINISHED
        )

    # ---- actors ----

    def register_actor(self, actor: common_pb2.ActorInfo) -> str:
        return self.actors.register(actor)

    def update_actor(self, actor: common_pb2.ActorInfo) -> common_pb2.ActorInfo | None:
        return self.actors.update(actor)

    def report_worker_death(
        self, worker_id: bytes, node_id: str, reason: str
    ) -> list[common_pb2.ActorInfo]:
        """Actors hosted by that worker are DEAD with `reason` (returned)."""
        if not worker_id:
            return []  # an empty id would match every actor without an address
        cause = reason or f"worker {worker_id.hex()} died"
        return self.actors.kill_where(
            lambda a: (
                a.address.worker_id == worker_id and (not node_id or a.address.node_id == node_id)
            ),
            cause,
        )
