"""The actor table: every actor's state and address, and the (namespace, name) index.

A name belongs to one non-DEAD actor at a time; it is released when that actor dies.
DEAD is final: a later update asking for another state is ignored (a late "ALIVE" from
a creation reply must not resurrect an actor whose node has already died).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from plait._protocol import common_pb2
from plait._services.gcs.storage import SqliteStore

logger = logging.getLogger(__name__)

TABLE = "actors"
DEAD = common_pb2.DEAD
ALIVE = common_pb2.ALIVE

ActorListener = Callable[[common_pb2.ActorInfo], None]


def _state_name(state: int) -> str:
    return common_pb2.ActorState.Name(state)


class ActorTable:
    def __init__(self, store: SqliteStore, listener: ActorListener | None = None) -> None:
        self._store = store
        # Called with the stored record after every change (register, update, death).
        self.listener = listener
        self._actors: dict[bytes, common_pb2.ActorInfo] = {}
        self._names: dict[tuple[str, str], bytes] = {}
        for key, value in store.load(TABLE):
            info = common_pb2.ActorInfo.FromString(value)
            self._actors[key] = info
            if info.name and info.state != DEAD:
                self._names[(info.namespace, info.name)] = key

    def _changed(self, info: common_pb2.ActorInfo) -> None:
        self._store.put(TABLE, info.actor_id, info.SerializeToString())
        if self.listener is not None:
            self.listener(info)

    def register(self, actor: common_pb2.ActorInfo) -> str:
        """Add an actor; return "" on success or why not (name taken, already dead)."""
        existing = self._actors.get(actor.actor_id)
        if existing is not None:
            if existing.state == DEAD:
                return f"actor {actor.actor_id.hex()} is already dead"
            # A retried registration of a live actor: nothing to change.
            return ""
        if actor.name:
            holder = self._names.get((actor.namespace, actor.name))
            if holder is not None:
                return f"actor name {actor.name!r} already taken in namespace {actor.namespace!r}"
        info = common_pb2.ActorInfo()
        info.CopyFrom(actor)
        self._actors[info.actor_id] = info
        if info.name and info.state != DEAD:
            self._names[(info.namespace, info.name)] = info.actor_id
        logger.info(
            "actor %s registered (class %s, name %r, namespace %r, %s)",
            info.actor_id.hex(),
            info.class_name,
            info.name,
            info.namespace,
            _state_name(info.state),
        )
        self._changed(info)
        return ""

    def update(self, actor: common_pb2.ActorInfo) -> common_pb2.ActorInfo | None:
        """Merge `actor` into the stored record; None when the actor is unknown.

        Fields left at their default keep the stored value; name and namespace never
        change after registration.
        """
        info = self._actors.get(actor.actor_id)
        if info is None:
            return None
        if info.state == DEAD:
            if actor.state != DEAD:
                logger.info(
                    "ignoring update of dead actor %s to %s",
                    actor.actor_id.hex(),
                    _state_name(actor.state),
                )
            return info
        patch = common_pb2.ActorInfo()
        patch.CopyFrom(actor)
        patch.ClearField("name")
        patch.ClearField("namespace")
        if patch.HasField("address"):
            # A new address replaces the old one whole (a field-wise merge could keep
            # a stale worker id next to a new port).
            info.ClearField("address")
        old_state = info.state
        info.MergeFrom(patch)
        if info.state == DEAD:
            self._release_name(info)
        if info.state != old_state:
            logger.info(
                "actor %s: %s -> %s%s",
                info.actor_id.hex(),
                _state_name(old_state),
                _state_name(info.state),
                f" ({info.death_cause})" if info.state == DEAD else "",
            )
        self._changed(info)
        return info

    def _release_name(self, info: common_pb2.ActorInfo) -> None:
        key = (info.namespace, info.name)
        if info.name and self._names.get(key) == info.actor_id:
            del self._names[key]

    def kill_where(
        self, predicate: Callable[[common_pb2.ActorInfo], bool], cause: str
    ) -> list[common_pb2.ActorInfo]:
        """Mark every non-DEAD actor matching `predicate` DEAD; return them."""
        victims = [a for a in self._actors.values() if a.state != DEAD and predicate(a)]
        with self._store.batch():
            for info in victims:
                info.state = DEAD
                info.death_cause = cause
                self._release_name(info)
                logger.info("actor %s is dead: %s", info.actor_id.hex(), cause)
                self._changed(info)
        return victims

    def get(self, actor_id: bytes) -> common_pb2.ActorInfo | None:
        return self._actors.get(actor_id)

    def get_named(self, namespace: str, name: str) -> common_pb2.ActorInfo | None:
        actor_id = self._names.get((namespace, name))
        return None if actor_id is None else self._actors[actor_id]

    def list(
        self, only_named: bool, namespace: str, all_namespaces: bool
    ) -> list[common_pb2.ActorInfo]:
        """Actors in `namespace` (or all namespaces). `only_named` lists the live named
        actors (the holders of names); otherwise dead actors are listed too."""
        out = []
        for info in self._actors.values():
            if not all_namespaces and info.namespace != namespace:
                continue
            if only_named and (not info.name or info.state == DEAD):
                continue
            out.append(info)
        return out
