"""Shipping a job's code search path to workers on every node.

The driver packs each explicit code_search_path entry (a directory as a zip, a file as
is: Python modules, jars, C++ libraries) into the GCS KV under its content hash. A worker
on any node unpacks the job's packages once per machine into a cache directory and loads
code from there, so nodes need not share a file system.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

from plait._protocol import common_pb2, gcs_pb2
from plait._transport.clients import GcsSyncClient

CODE_NS = "plait:code"
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
_DIR_PREFIX = "dir-"
_FILE_PREFIX = "file-"


def _pack(path: Path) -> tuple[str, bytes]:
    """(key, bytes) for one entry; the key names the kind and keeps the file name."""
    if path.is_dir():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(path.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    zf.write(f, f.relative_to(path).as_posix())
        data = buf.getvalue()
        kind = _DIR_PREFIX
        name = path.name or "root"
    else:
        data = path.read_bytes()
        kind = _FILE_PREFIX
        name = path.name
    digest = hashlib.sha256(data).hexdigest()[:32]
    return f"{kind}{digest}/{name}", data


def upload(gcs: GcsSyncClient, paths: list[str]) -> list[str]:
    """Store each entry in the GCS KV (content-addressed, so re-uploads are free)."""
    keys = []
    for p in paths:
        key, data = _pack(Path(p))
        if len(data) > MAX_PACKAGE_BYTES:
            raise ValueError(
                f"code_search_path entry {p!r} packs to {len(data)} bytes, more "
                f"than the {MAX_PACKAGE_BYTES} allowed"
            )
        gcs.KVPut(
            gcs_pb2.KVPutRequest(ns=CODE_NS, key=key, value=data, overwrite=False), timeout=120
        )
        keys.append(key)
    return keys


def cache_root() -> Path:
    return (
        Path(os.environ.get("PLAIT_TMPDIR", os.path.join(tempfile.gettempdir(), "plait"))) / "code"
    )


def materialize(gcs: GcsSyncClient, job: common_pb2.JobInfo) -> list[str]:
    """Local paths of the job's packages, unpacked on first use (any worker of the job)."""
    out = []
    for key in job.code_packages:
        kind_digest, name = key.split("/", 1)
        target = cache_root() / kind_digest / name
        if not target.exists():
            reply = gcs.KVGet(gcs_pb2.KVGetRequest(ns=CODE_NS, key=key), timeout=120)
            if not reply.found:
                raise RuntimeError(f"code package {key} of the job is missing from the GCS")
            tmp = target.parent / f".tmp-{os.getpid()}-{name}"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            if kind_digest.startswith(_DIR_PREFIX):
                with zipfile.ZipFile(io.BytesIO(reply.value)) as zf:
                    zf.extractall(tmp)
            else:
                tmp.write_bytes(reply.value)
            try:
                os.rename(tmp, target)  # atomic: concurrent workers see all or nothing
            except OSError:
                if not target.exists():
                    raise
        out.append(str(target))
    return out
