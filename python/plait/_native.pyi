# Stubs for the compiled extension built from cpp/plait/native/module.cc.
from collections.abc import Sequence
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

def install_crash_handler(crash_file: str) -> None:
    """Report fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) with the native
    stack on stderr and in `crash_file` ("": stderr only), then die of the signal (or pass
    it to the handler installed before). Once per process; a later call only changes the
    file. Raises ValueError on an unusable path."""

# -- C++ workers (cpp/plait/native/cpp_runtime.h, host_bridge.h) ---------------------------

CPP_ABI_VERSION: int

class CppCallError(RuntimeError):
    """A C++ call failed: user code threw (type_name is its C++ type, e.g.
    std::invalid_argument) or the call could not be bound (plait::TypeError,
    plait::NotFound, ...)."""

    type_name: str
    message: str
    stack: str
    cause: bytes | None  # the encoded Error the C++ code let propagate (its cause)

class CppRuntime:
    """Loads C++ libraries built with the plait SDK and calls what they registered.

    Arguments are encoded objects (any C-contiguous buffer: bytes, memoryview,
    pyarrow.Buffer), read in place; results are encoded objects. User code runs with the
    GIL released. `host` is the object C++ code calls back into (HostApi's methods).
    """

    def __init__(self, host: object | None = None) -> None: ...
    def set_host(self, host: object | None) -> None: ...
    def load_library(self, path: str) -> list[str]:
        """dlopen a library; the names it registered. ValueError when it cannot load."""
    def function_names(self) -> list[str]: ...
    def class_names(self) -> list[str]: ...
    def method_names(self, class_name: str) -> list[str]: ...
    def call_function(
        self,
        name: str,
        args: Sequence[ReadableBuffer],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> list[bytes]: ...
    def create_actor(
        self, class_name: str, args: Sequence[ReadableBuffer], kwarg_names: Sequence[str]
    ) -> None: ...
    def call_method(
        self,
        method: str,
        args: Sequence[ReadableBuffer],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> list[bytes]: ...
    def destroy_actor(self) -> None: ...
    @property
    def has_actor(self) -> bool: ...
