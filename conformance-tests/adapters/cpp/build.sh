#!/usr/bin/env bash
# Builds the C++ conformance adapter into OUT_DIR/libplait_conformance.so with plait's
# CMake helper (incremental). Prints the library's path as its last line.
#
#   conformance-tests/adapters/cpp/build.sh OUT_DIR
#
# PYTHON, BUILD_DIR, CMAKE_BUILD_TYPE: see scripts/build_cpp_library.sh.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/../../../scripts/build_cpp_library.sh" "$here" "$out"
echo "$(cd "$out" && pwd)/libplait_conformance.so"
