"""CppExecutor: the LanguageExecutor of C++ workers (docs/cross-language.md).

It loads the job's C++ libraries (built with the plait SDK) into this process through
plait._native.CppRuntime and runs their registered functions and actor classes on
encoded arguments; results come back encoded. Calls run with the GIL released, so the
core worker keeps serving while user code runs.
"""

from __future__ import annotations

import faulthandler
import os
from collections.abc import Sequence
from pathlib import Path

import plait._native as _native
from plait._core.language import Buffer, LanguageError, error_cause
from plait._cpp import check_arrow_build
from plait._protocol import common_pb2

__all__ = ["CppExecutor", "find_libraries"]

_LANGUAGE = "cpp"
# The loader's message for a shared library that is not a plait library (a dependency
# shipped next to one): skipped when found by scanning a directory.
_NOT_PLAIT = "exports no plait_module_init"
# Where the raylet wants this worker's crash report (its worker pool sets it; the name is
# CRASH_FILE_ENV in plait/_services/raylet/worker_pool.py).
_CRASH_FILE_ENV = "PLAIT_CRASH_FILE"


def install_crash_handlers() -> None:
    """A crash in C++ code reports its signal and stacks before the process dies: the
    native stack (stderr and the raylet's crash file), then the Python one (faulthandler,
    stderr), which the native handler passes the signal on to."""
    if not faulthandler.is_enabled():
        faulthandler.enable()
    _native.install_crash_handler(os.environ.get(_CRASH_FILE_ENV, ""))


def _is_shared_library(path: Path) -> bool:
    """Named like a shared library: x.so, x.so.1 (or x.dylib)."""
    return path.suffix in (".so", ".dylib") or ".so." in path.name


def find_libraries(code_search_path: Sequence[str]) -> tuple[list[str], list[str]]:
    """(listed files, files found in listed directories): every *.so, sorted per directory.
    Listed files not named like shared libraries (a jar, a Python module) are other
    languages' code on the same job's path: skipped."""
    listed: list[str] = []
    scanned: list[str] = []
    for entry in code_search_path:
        path = Path(entry)
        if path.is_dir():
            scanned.extend(str(p.resolve()) for p in sorted(path.glob("*.so")) if p.is_file())
        elif _is_shared_library(path):
            listed.append(str(path.resolve()))
    return listed, scanned


class CppExecutor:
    """Runs C++ functions and this worker's C++ actor (one actor per worker)."""

    language = _LANGUAGE

    def __init__(
        self,
        libraries: Sequence[str] = (),
        host: object | None = None,
        optional_libraries: Sequence[str] = (),
    ) -> None:
        """Load `libraries` (each must be a plait library) and `optional_libraries`
        (skipped when they are shared libraries that register nothing with plait).

        `host` is the object C++ code calls back into for Put/Get/tasks/actors
        (plait._core.host_api.HostApi); it can also be set later with set_host.
        Raises ValueError when a library cannot be loaded or registers a name twice.
        """
        install_crash_handlers()
        self._runtime = _native.CppRuntime(host)
        self._names: list[str] = []
        for path in libraries:
            check_arrow_build(path)
            self._names.extend(self._runtime.load_library(os.fspath(path)))
        for path in optional_libraries:
            check_arrow_build(path)
            try:
                self._names.extend(self._runtime.load_library(os.fspath(path)))
            except ValueError as e:
                if _NOT_PLAIT not in str(e):
                    raise

    @classmethod
    def for_code_search_path(cls, code_search_path: Sequence[str]) -> CppExecutor:
        """Libraries listed as files must load; *.so files in listed directories load
        when they are plait libraries."""
        listed, scanned = find_libraries(code_search_path)
        return cls(listed, optional_libraries=scanned)

    def set_host(self, host: object | None) -> None:
        self._runtime.set_host(host)

    @property
    def registered_names(self) -> list[str]:
        """Functions and actor classes of every loaded library, in load order."""
        return list(self._names)

    def method_names(self, class_name: str) -> list[str]:
        return self._runtime.method_names(class_name)

    def call_function(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
        num_returns: int,
    ) -> list[bytes]:
        name = _symbol(function, "function")
        try:
            return self._runtime.call_function(name, list(args), list(kwarg_names), num_returns)
        except _native.CppCallError as e:
            raise _language_error(e) from None

    def create_actor(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[Buffer],
        kwarg_names: Sequence[str],
    ) -> None:
        class_name = _symbol(function, "actor class")
        try:
            self._runtime.create_actor(class_name, list(args), list(kwarg_names))
        except _native.CppCallError as e:
            raise _language_error(e) from None

    def call_method(
        self, method: str, args: Sequence[Buffer], kwarg_names: Sequence[str], num_returns: int
    ) -> list[bytes]:
        try:
            return self._runtime.call_method(method, list(args), list(kwarg_names), num_returns)
        except _native.CppCallError as e:
            raise _language_error(e) from None

    def destroy_actor(self) -> None:
        self._runtime.destroy_actor()


def _symbol(function: common_pb2.FunctionDescriptor, what: str) -> str:
    if function.language != common_pb2.CPP or not function.cpp.symbol:
        lang = common_pb2.Language.Name(function.language).lower()
        raise LanguageError(
            "plait::NotFound",
            f"a C++ worker cannot run a {lang} {what} ({function!r})",
            "",
            _LANGUAGE,
        )
    return function.cpp.symbol


def _language_error(e: _native.CppCallError) -> LanguageError:
    return LanguageError(e.type_name, e.message, e.stack, _LANGUAGE, error_cause(e.cause))
