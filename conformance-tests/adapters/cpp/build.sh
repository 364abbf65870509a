#!/usr/bin/env bash
# Builds the C++ conformance adapter into OUT_DIR/libplait_conformance.so with plait's
# CMake helper (incremental: a second run rebuilds only what changed).
#
#   conformance-tests/adapters/cpp/build.sh OUT_DIR
#
# PYTHON: the interpreter that has plait (and pyarrow) installed; default: the checkout's
# .venv/bin/python, else python3. BUILD_DIR: where CMake builds (default OUT_DIR/build).
# CMAKE_BUILD_TYPE: default Release. Prints the library's path as its last line.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then PYTHON=$repo/.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${BUILD_DIR:-$out/build}

plait_dir=$("$PYTHON" -c 'import plait._cpp as c; print(c.cmake_dir())')
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

cmake -S "$here" -B "$build" "${generator[@]}" --log-level=WARNING \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" \
  -Dplait_DIR="$plait_dir" \
  -DPython3_EXECUTABLE="$PYTHON" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$out"
cmake --build "$build"
echo "$out/libplait_conformance.so"
