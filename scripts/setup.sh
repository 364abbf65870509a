#!/usr/bin/env bash
# Make this checkout ready to run and test plait: system packages, .venv, and an editable
# install of plait (with the compiled plait._native). Idempotent: on a ready machine it
# installs nothing and takes about a second. Re-run it after changing pyproject.toml,
# CMakeLists.txt or cpp/ (it notices and rebuilds); Python edits need no re-run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
STAMP=$VENV/.plait-install-stamp
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root (or sudo) to run: $*"; fi
}

# --- system packages --------------------------------------------------------------
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python >= 3.10"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); plait needs Python >= 3.10"

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v ninja >/dev/null || missing+=(ninja-build)
command -v g++ >/dev/null || missing+=(g++)
dpkg -s libgtest-dev >/dev/null 2>&1 || missing+=(libgtest-dev)
# The C++ codec test reads the golden vectors (JSON) with nlohmann-json (header-only).
dpkg -s nlohmann-json3-dev >/dev/null 2>&1 || missing+=(nlohmann-json3-dev)
# Debian's own python3 ships venv and the C headers separately.
"$PYTHON" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
"$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || missing+=(python3-dev)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# --- virtualenv -------------------------------------------------------------------
if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  say "creating $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi

# --- editable install -------------------------------------------------------------
# Reinstall only when an input of the build changed, or the install does not import from
# this checkout (a copied or moved .venv points at the old tree).
fingerprint() {
  {
    "$VENV/bin/python" -V
    cat pyproject.toml CMakeLists.txt
    # Sources only: git's view skips ignored build outputs someone may leave under cpp/.
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files -z --cached --others --exclude-standard -- cpp
    else
      find cpp -type f -print0
    fi | LC_ALL=C sort -z | { xargs -0 -r cat -- 2>/dev/null || true; }
    # The editable install maps each Python module to its file: a module moved or added
    # under python/plait needs a new map, so the names (not the contents) count too.
    find python/plait -name '*.py' | LC_ALL=C sort
  } | sha256sum | cut -d' ' -f1
}
check_install() {
  # Checks the install without running plait/__init__.py (whose imports are not setup's
  # business), from / so that nothing in the checkout shadows the installed package.
  (cd / && "$VENV/bin/python" - "$ROOT/python/plait" <<'PY'
import importlib, importlib.util, os, sys, types
spec = importlib.util.find_spec("plait")
locations = list(spec.submodule_search_locations or []) if spec else []
if os.path.realpath(sys.argv[1]) not in [os.path.realpath(p) for p in locations]:
    sys.exit("plait is not installed from this checkout")
package = types.ModuleType("plait")
package.__path__ = locations
sys.modules["plait"] = package
importlib.import_module("plait._native").version()
PY
  )
}

want=$(fingerprint)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && check_install >/dev/null 2>&1; then
  exit 0
fi

say "installing plait into $VENV (editable; compiles plait._native)"
# Build with the venv's own scikit-build-core and pybind11 (no build isolation) so the
# CMake build dir under build/ stays valid between installs and rebuilds are incremental.
build_requires=$("$VENV/bin/python" - <<'PY'
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip carries a copy of tomli
    from pip._vendor import tomli as tomllib
with open("pyproject.toml", "rb") as f:
    print(" ".join(tomllib.load(f)["build-system"]["requires"]))
PY
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086  # build_requires is a list of requirement strings
if ! { "$VENV/bin/python" -m pip install -q $build_requires \
       && "$VENV/bin/python" -m pip install -q --no-build-isolation -e ".[dev]"; } >"$log" 2>&1; then
  cat "$log" >&2
  die "pip install failed (output above)"
fi
check_install || die "plait._native does not import from $ROOT after install"
echo "$want" >"$STAMP"
say "done"
