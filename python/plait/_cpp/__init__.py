"""C++ workers: the executor that runs C++ libraries built with the plait SDK, and where
that SDK lives (headers, sources and the CMake package for building user libraries).

    cmake -S mylib -B build -Dplait_DIR="$(python -c 'import plait._cpp as c; print(c.cmake_dir())')"

with `find_package(plait CONFIG REQUIRED)` and `plait_add_library(mylib SOURCES ...)` in
the library's CMakeLists.txt (see examples/cpp/).
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

__all__ = ["ArrowVersionMismatch", "arrow_build", "check_arrow_build", "cmake_dir", "include_dirs"]

_PACKAGE = Path(__file__).resolve().parent


def cmake_dir() -> str:
    """The directory holding plaitConfig.cmake: pass it as -Dplait_DIR=... to CMake."""
    return str(_PACKAGE / "cmake")


def include_dirs() -> list[str]:
    """Include directories of the SDK headers (<plait/plait.h>), for builds without CMake.

    In an installed wheel they sit in the package; in a source checkout (editable
    install) they are the repository's cpp/include and cpp/.
    """
    installed = _PACKAGE / "sdk" / "include"
    if (installed / "plait" / "plait.h").is_file():
        return [str(installed)]
    repo = _PACKAGE.parents[2]
    return [str(repo / "cpp" / "include"), str(repo / "cpp")]


# What plaitConfig.cmake writes into a library linked with Arrow C++ (plait_add_library).
_ARROW_BUILD = re.compile(rb"PLAIT_ARROW_BUILD=([^;\x00]{1,64});so=([^;\x00]{1,16});")


class ArrowVersionMismatch(ValueError):
    """A C++ library was built for another pyarrow (libarrow) than the one here."""


def arrow_build(library: str | Path) -> tuple[str, str] | None:
    """(pyarrow version, libarrow so_version) a library built with plaitConfig.cmake was
    linked against, read from the file without loading it; None for a library without
    Arrow (or not built by the helper)."""
    try:
        f = open(library, "rb")
    except OSError:  # missing or unreadable: the loader reports it ("cannot load ...")
        return None
    with f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            return None
        with data:
            found = _ARROW_BUILD.search(data)
            if found is None:
                return None
            pyarrow_version, so_version = found.group(1), found.group(2)
    return pyarrow_version.decode("ascii", "replace"), so_version.decode("ascii", "replace")


def check_arrow_build(library: str | Path) -> None:
    """Raises ArrowVersionMismatch when `library` was built for a libarrow other than this
    process's pyarrow's: loading it would bind a second, incompatible libarrow (or fail
    to find the one it was linked with)."""
    built = arrow_build(library)
    if built is None:
        return
    import pyarrow  # noqa: PLC0415 (only for libraries that link Arrow)

    here = (str(pyarrow.__version__), str(pyarrow.cpp_build_info.so_version))
    if built[1] != here[1]:
        raise ArrowVersionMismatch(
            f"{library} was built for pyarrow {built[0]} (libarrow.so.{built[1]}), but this "
            f"worker runs pyarrow {here[0]} (libarrow.so.{here[1]}): rebuild it against "
            "this environment's pyarrow (find_package(plait) with plait_DIR from "
            "`python -c 'import plait._cpp as c; print(c.cmake_dir())'` run by the Python "
            "the workers use)"
        )
