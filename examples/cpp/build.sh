#!/usr/bin/env bash
# Builds the example C++ library into OUT_DIR/libplait_example.so with plait's CMake helper.
#
#   examples/cpp/build.sh OUT_DIR
#
# PYTHON, BUILD_DIR, CMAKE_BUILD_TYPE: see scripts/build_cpp_library.sh.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/../../scripts/build_cpp_library.sh" "$here" "$out"
echo "$(cd "$out" && pwd)/libplait_example.so"
