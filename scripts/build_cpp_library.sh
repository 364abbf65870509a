#!/usr/bin/env bash
# Builds a CMake project that uses plait's CMake helper (find_package(plait),
# plait_add_library) into OUT_DIR; incremental: a second run rebuilds only what changed.
#
#   scripts/build_cpp_library.sh SOURCE_DIR OUT_DIR
#
# The libraries land in OUT_DIR. PYTHON: the interpreter that has plait (and pyarrow)
# installed; default: the checkout's .venv/bin/python, else python3. BUILD_DIR: where
# CMake builds (default OUT_DIR/build). CMAKE_BUILD_TYPE: default Release.
set -euo pipefail

src=$(cd "${1:?usage: build_cpp_library.sh SOURCE_DIR OUT_DIR}" && pwd)
out=${2:?usage: build_cpp_library.sh SOURCE_DIR OUT_DIR}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then PYTHON=$repo/.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${BUILD_DIR:-$out/build}

plait_dir=$("$PYTHON" -c 'import plait._cpp as c; print(c.cmake_dir())')
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

cmake -S "$src" -B "$build" "${generator[@]}" --log-level=WARNING \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" \
  -Dplait_DIR="$plait_dir" \
  -DPython3_EXECUTABLE="$PYTHON" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$out"
cmake --build "$build"
