"""Arrow values as IPC streams in out-of-band buffers.

pyarrow is imported only when an Arrow value is met, so processes that never touch Arrow
do not pay for the import. Writing is lazy: the stream's size is measured with a mock
sink when the value is serialized, and the stream itself is written straight into the
destination (shared memory) by write_to, so a large table is copied once.
"""

from __future__ import annotations

import sys
from typing import Any

from plait._format._constants import (
    ARROW_ARRAY,
    ARROW_CHUNKED_ARRAY,
    ARROW_RECORD_BATCH,
    ARROW_TABLE,
)
from plait._format._types import DeserializationError


def kind_of(obj: Any) -> str | None:
    """The Arrow ext kind of obj, or None when obj is not Arrow data."""
    pa = sys.modules.get("pyarrow")
    if pa is None:  # not imported, so obj cannot be a pyarrow object
        return None
    if isinstance(obj, pa.Table):
        return ARROW_TABLE
    if isinstance(obj, pa.RecordBatch):
        return ARROW_RECORD_BATCH
    if isinstance(obj, pa.Array):
        return ARROW_ARRAY
    if isinstance(obj, pa.ChunkedArray):
        return ARROW_CHUNKED_ARRAY
    return None


def _write_stream(sink: Any, obj: Any, kind: str) -> None:
    import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

    # An Array travels as a one-column record batch and a ChunkedArray as a one-column
    # table (one batch per chunk): IPC streams carry only record batches.
    if kind == ARROW_ARRAY:
        obj = pa.RecordBatch.from_arrays([obj], names=[""])
    elif kind == ARROW_CHUNKED_ARRAY:
        obj = pa.Table.from_arrays([obj], names=[""])
    with pa.ipc.new_stream(sink, obj.schema) as writer:
        if isinstance(obj, pa.Table):
            writer.write_table(obj)
        else:
            writer.write_batch(obj)


class ArrowSource:
    """An out-of-band buffer holding obj's IPC stream, written on demand."""

    __slots__ = ("obj", "kind", "nbytes")

    def __init__(self, obj: Any, kind: str) -> None:
        import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        self.obj = obj
        self.kind = kind
        mock = pa.MockOutputStream()
        _write_stream(mock, obj, kind)
        self.nbytes: int = mock.size()

    def write_into(self, dest: memoryview) -> None:
        import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        sink = pa.FixedSizeBufferWriter(pa.py_buffer(dest))
        _write_stream(sink, self.obj, self.kind)
        if sink.tell() != self.nbytes:  # the mock and the real writer disagreed
            raise RuntimeError("Arrow IPC stream size changed between measuring and writing")

    def chunk(self) -> Any:
        import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

        sink = pa.BufferOutputStream()
        _write_stream(sink, self.obj, self.kind)
        return sink.getvalue()


def read(kind: str, buf: Any) -> Any:
    """Read the value back from its IPC stream; buf is a pyarrow.Buffer (zero copy)."""
    import pyarrow as pa  # noqa: PLC0415 (optional and heavy: imported only when such a value is met)

    reader = pa.ipc.open_stream(buf)
    if kind == ARROW_TABLE:
        return reader.read_all()
    if kind == ARROW_CHUNKED_ARRAY:
        table = reader.read_all()
        if table.num_columns != 1:
            raise DeserializationError(
                f"Arrow chunked_array stream has {table.num_columns} columns, expected 1"
            )
        return table.column(0)
    batches = list(reader)
    if len(batches) != 1:
        raise DeserializationError(
            f"Arrow {kind} stream has {len(batches)} record batches, expected 1"
        )
    batch = batches[0]
    if kind == ARROW_RECORD_BATCH:
        return batch
    if batch.num_columns != 1:
        raise DeserializationError(
            f"Arrow array stream has {batch.num_columns} columns, expected 1"
        )
    return batch.column(0)
