"""Durable record storage for the GCS tables: one SQLite file, write-through.

The tables keep everything in memory and write each change here, so reads never touch
disk; on start they load their rows back. Values are opaque bytes (serialized protobuf
messages or plain encodings), keyed by (table, key).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MEMORY = ":memory:"


class SqliteStore:
    """A (table, key) -> value map persisted in one SQLite file.

    Not thread-safe: the GCS uses it from its single event-loop thread only.
    """

    def __init__(self, path: str = MEMORY) -> None:
        self.path = path
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every put/delete is its own transaction, so a GCS killed at any
        # moment leaves a consistent file; `batch` groups related writes.
        self._db = sqlite3.connect(path, isolation_level=None)
        # WAL + synchronous=NORMAL survives a killed process (not an OS crash) and keeps
        # writes cheap enough to do one per state change.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            " tbl TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
            " PRIMARY KEY (tbl, key))"
        )

    @property
    def persistent(self) -> bool:
        return self.path != MEMORY

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes inside into one transaction (nesting joins the outer one)."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def put(self, table: str, key: bytes, value: bytes) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO records (tbl, key, value) VALUES (?, ?, ?)",
            (table, key, value),
        )

    def delete(self, table: str, key: bytes) -> None:
        self._db.execute("DELETE FROM records WHERE tbl = ? AND key = ?", (table, key))

    def get(self, table: str, key: bytes) -> bytes | None:
        row = self._db.execute(
            "SELECT value FROM records WHERE tbl = ? AND key = ?", (table, key)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def load(self, table: str) -> list[tuple[bytes, bytes]]:
        rows = self._db.execute(
            "SELECT key, value FROM records WHERE tbl = ? ORDER BY rowid", (table,)
        ).fetchall()
        return [(bytes(k), bytes(v)) for k, v in rows]

    def close(self) -> None:
        self._db.close()
