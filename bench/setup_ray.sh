#!/usr/bin/env bash
# Creates .venv-ray: a virtualenv holding Ray, the yardstick for bench/microbenchmark.py.
#
# Ray lives in its own venv (never in .venv) so that installing it can never move the
# grpcio/protobuf/numpy/pyarrow versions plait's generated stubs and tests are pinned to,
# and so that nothing in plait can import ray by accident. Best effort: when Ray cannot
# be installed (no network, no wheel for this platform) this prints why and exits 0, and
# the benchmark then reports plait alone.
#
# Usage: bash bench/setup_ray.sh [RAY_VERSION]      (run from anywhere)
set -uo pipefail

RAY_VERSION="${1:-2.60.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-ray"
# The same interpreter as plait's venv, so both sides of the comparison run one Python.
BASE_PY="${PLAIT_BENCH_BASE_PYTHON:-}"
if [[ -z "$BASE_PY" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then
        BASE_PY="$(cd "$ROOT" && .venv/bin/python -c 'import sys; print(sys._base_executable)')"
    else
        BASE_PY="$(command -v python3.11 || command -v python3)"
    fi
fi

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" - "$RAY_VERSION" <<'PY' 2>/dev/null
import sys, ray, pyarrow
sys.exit(0 if ray.__version__ == sys.argv[1] else 1)
PY
then
    exit 0  # already set up: a no-op, so `make bench` costs nothing the second time
fi

echo "setup_ray.sh: creating $VENV with ray[default]==$RAY_VERSION" >&2
if ! "$BASE_PY" -m venv "$VENV"; then
    echo "setup_ray.sh: could not create $VENV; benchmarking plait alone" >&2
    exit 0
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# numpy: the workloads; pyarrow: bench/crosslang.py's Arrow row.
if ! "$VENV/bin/python" -m pip install -q "ray[default]==$RAY_VERSION" numpy pyarrow; then
    echo "setup_ray.sh: could not install ray; benchmarking plait alone" >&2
    exit 0
fi
"$VENV/bin/python" -c 'import ray; print("setup_ray.sh: ray", ray.__version__, "ready")' >&2
