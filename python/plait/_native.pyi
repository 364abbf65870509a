# Stubs for the compiled extension built from cpp/plait/native/module.cc.
from typing import Any

import numpy.typing as npt
from _typeshed import ReadableBuffer, WriteableBuffer

# numpy arrays are named too: numpy declares the buffer protocol to type checkers only
# for Python >= 3.12, and plait supports 3.10.
def copy_buffer(
    dst: WriteableBuffer | npt.NDArray[Any], src: ReadableBuffer | npt.NDArray[Any]
) -> None:
    """Copy every byte of C-contiguous `src` into writable, C-contiguous `dst`.

    The sizes must match exactly. Runs with the GIL released. Raises ValueError on a
    size mismatch (naming both sizes), a read-only `dst` or a strided buffer, and
    TypeError when an argument does not support the buffer protocol.
    """

def version() -> str:
    """The plait version this extension was built for."""
