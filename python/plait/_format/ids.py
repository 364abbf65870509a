"""Identifiers: random or derived bytes, shown as hex.

An ObjectID is its creating task's id (16 bytes) plus a 4-byte big-endian index: return
values use 1..num_returns, `plait.put` uses a per-worker "put task" id with a counter.
"""

from __future__ import annotations

import os
import struct

ID_SIZE = 16
OBJECT_ID_SIZE = ID_SIZE + 4


def random_id() -> bytes:
    return os.urandom(ID_SIZE)


def object_id_for(task_id: bytes, index: int) -> bytes:
    return task_id + struct.pack(">I", index)


def task_id_of(object_id: bytes) -> bytes:
    return object_id[:ID_SIZE]


def hex_id(raw: bytes) -> str:
    return raw.hex()
