"""C++ workers: the executor that runs C++ libraries built with the plait SDK, and where
that SDK lives (headers, sources and the CMake package for building user libraries).

    cmake -S mylib -B build -Dplait_DIR="$(python -c 'import plait._cpp as c; print(c.cmake_dir())')"

with `find_package(plait CONFIG REQUIRED)` and `plait_add_library(mylib SOURCES ...)` in
the library's CMakeLists.txt (see examples/cpp/).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["cmake_dir", "include_dirs"]

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
