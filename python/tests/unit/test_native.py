"""plait._native: the compiled buffer copy used to write large values into shared memory."""

from __future__ import annotations

import numpy as np
import pytest

from plait import _native


def test_version_matches_package_metadata() -> None:
    from importlib.metadata import version

    assert _native.version() == version("plait")


def test_copy_into_bytearray_is_exact() -> None:
    src = bytes(range(256)) * 1024
    dst = bytearray(len(src))
    _native.copy_buffer(dst, src)
    assert dst == src


def test_copy_into_numpy_array_is_exact() -> None:
    src = np.random.default_rng(0).integers(0, 2**63, size=100_000, dtype=np.int64)
    dst = np.zeros_like(src)
    _native.copy_buffer(dst, src)
    np.testing.assert_array_equal(dst, src)


def test_copy_into_memoryview_slice_writes_only_that_slice() -> None:
    # Writers address a slot inside a larger shared-memory mapping through a slice.
    region = bytearray(b"\x00" * 16)
    _native.copy_buffer(memoryview(region)[4:8], b"abcd")
    assert region == b"\x00" * 4 + b"abcd" + b"\x00" * 8


def test_empty_buffers_copy() -> None:
    _native.copy_buffer(bytearray(), b"")


def test_size_mismatch_raises_value_error_naming_both_sizes() -> None:
    dst = bytearray(b"z" * 12)
    with pytest.raises(ValueError, match=r"source is 10 bytes, destination is 12 bytes"):
        _native.copy_buffer(dst, b"x" * 10)
    assert dst == b"z" * 12


def test_read_only_destination_is_rejected() -> None:
    dst = b"\x00" * 4
    with pytest.raises(ValueError, match="destination buffer is read-only"):
        _native.copy_buffer(dst, b"abcd")
    readonly_array = np.zeros(4, dtype=np.uint8)
    readonly_array.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _native.copy_buffer(readonly_array, b"abcd")


def test_strided_source_is_rejected() -> None:
    src = np.arange(8, dtype=np.uint8)[::2]
    with pytest.raises(ValueError, match="source buffer is not C-contiguous"):
        _native.copy_buffer(bytearray(4), src)


def test_non_buffer_argument_raises_type_error() -> None:
    with pytest.raises(TypeError):
        _native.copy_buffer(bytearray(4), 1234)  # type: ignore[arg-type]


def test_rejected_call_releases_the_destination_export() -> None:
    # A leaked buffer export would leave the bytearray unresizable.
    dst = bytearray(4)
    with pytest.raises(ValueError):
        _native.copy_buffer(dst, np.arange(8, dtype=np.uint8)[::2])
    dst.extend(b"more")
    assert len(dst) == 8
