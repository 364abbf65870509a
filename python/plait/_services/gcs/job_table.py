"""The job table: one row per driver, with ids the GCS hands out."""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable

from plait._protocol import common_pb2
from plait._services.gcs.storage import SqliteStore

logger = logging.getLogger(__name__)

TABLE = "jobs"
META_TABLE = "meta"
_COUNTER_KEY = b"job_counter"
JOB_ID_FORMAT = ">I"  # job ids are a 4-byte big-endian counter, starting at 1


def job_id_from_int(n: int) -> bytes:
    return struct.pack(JOB_ID_FORMAT, n)


class JobTable:
    def __init__(self, store: SqliteStore, wall_clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._wall_clock = wall_clock
        self._jobs: dict[bytes, common_pb2.JobInfo] = {}
        for key, value in store.load(TABLE):
            self._jobs[key] = common_pb2.JobInfo.FromString(value)
        raw = store.get(META_TABLE, _COUNTER_KEY)
        self._counter: int = struct.unpack(JOB_ID_FORMAT, raw)[0] if raw else 0

    def register(self, job: common_pb2.JobInfo) -> bytes:
        """Store a new job under a fresh id (any id in `job` is ignored); return the id."""
        self._counter += 1
        job_id = job_id_from_int(self._counter)
        info = common_pb2.JobInfo()
        info.CopyFrom(job)
        info.job_id = job_id
        info.finished = False
        if info.start_time == 0:
            info.start_time = self._wall_clock()
        with self._store.batch():
            # The counter is written with the job so a restart never reuses an id.
            self._store.put(META_TABLE, _COUNTER_KEY, job_id)
            self._store.put(TABLE, job_id, info.SerializeToString())
        self._jobs[job_id] = info
        logger.info(
            "job %s registered (namespace %r, driver pid %d)",
            job_id.hex(),
            info.namespace,
            info.driver_pid,
        )
        return job_id

    def mark_finished(self, job_id: bytes) -> bool:
        """Mark a job finished; False when unknown or already finished."""
        info = self._jobs.get(job_id)
        if info is None or info.finished:
            return False
        info.finished = True
        self._store.put(TABLE, job_id, info.SerializeToString())
        logger.info("job %s finished", job_id.hex())
        return True

    def get(self, job_id: bytes) -> common_pb2.JobInfo | None:
        return self._jobs.get(job_id)

    def finished_ids(self) -> list[bytes]:
        return [job_id for job_id, info in self._jobs.items() if info.finished]
