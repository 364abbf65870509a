"""The internal KV store: namespaced string keys to bytes (function table, user data)."""

from __future__ import annotations

import struct

from plait._services.gcs.storage import SqliteStore

TABLE = "kv"


def _storage_key(ns: str, key: str) -> bytes:
    # Length-prefix the namespace so no (ns, key) pair can collide with another.
    ns_b = ns.encode()
    return struct.pack(">I", len(ns_b)) + ns_b + key.encode()


def _split_storage_key(raw: bytes) -> tuple[str, str]:
    (n,) = struct.unpack(">I", raw[:4])
    return raw[4 : 4 + n].decode(), raw[4 + n :].decode()


class KVStore:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._data: dict[str, dict[str, bytes]] = {}
        for raw, value in store.load(TABLE):
            ns, key = _split_storage_key(raw)
            self._data.setdefault(ns, {})[key] = value

    def put(self, ns: str, key: str, value: bytes, overwrite: bool) -> bool:
        """Store value; True when the key is new. An existing key is replaced only
        when `overwrite` is set (and the answer is still False: nothing was added)."""
        space = self._data.setdefault(ns, {})
        existed = key in space
        if existed and not overwrite:
            return False
        space[key] = value
        self._store.put(TABLE, _storage_key(ns, key), value)
        return not existed

    def get(self, ns: str, key: str) -> bytes | None:
        return self._data.get(ns, {}).get(key)

    def delete(self, ns: str, key: str) -> bool:
        space = self._data.get(ns)
        if space is None or key not in space:
            return False
        del space[key]
        self._store.delete(TABLE, _storage_key(ns, key))
        return True

    def keys(self, ns: str, prefix: str) -> list[str]:
        return sorted(k for k in self._data.get(ns, {}) if k.startswith(prefix))
