# Every target works from a fresh clone: each one first runs scripts/setup.sh, which
# installs what is missing (system packages, .venv, editable plait) and is a no-op when
# the machine is ready.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CPP_TEST_DIR := build/cpp-tests

.PHONY: setup demo test check-protos check-format lint typecheck test-cpp test-java test-py conformance test-conformance bench clean distclean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/setup_java.sh
	@PYTHON=$(PY) bash examples/cpp/build.sh build/cpp-examples >/dev/null
	$(PY) examples/demo.py

# Stops at the first failing step, in this order.
test: check-protos check-format lint typecheck test-cpp test-java test-py test-conformance

check-protos: setup
	$(PY) scripts/gen_protos.py --check

# The object format's constants (proto/object_format.json) generated for Python, C++ and
# Java, the golden vectors built from them, and the version copied from pyproject.toml
# into the pom, the C++ header and the CMake package files, are current.
check-format: setup
	$(PY) scripts/gen_format.py --check
	$(PY) scripts/gen_golden.py --check
	$(PY) scripts/gen_version.py --check

typecheck: setup
	$(VENV)/bin/mypy

# ruff (lint, and formatting checked not applied) and import-linter (the layers of
# python/plait: imports only run downward, no cycles; docs/architecture.md).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

# The C++ unit tests get their own CMake build (not the wheel's), with BUILD_TESTING on.
test-cpp: setup
	cmake -S . -B $(CPP_TEST_DIR) -G Ninja -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=Debug --log-level=WARNING
	cmake --build $(CPP_TEST_DIR)
	ctest --test-dir $(CPP_TEST_DIR) --output-on-failure

# Builds java/ (the runtime jar that Java workers' JVMs load) and the Java examples, then
# runs the JUnit suite; scripts/setup_java.sh installs a JDK and Maven if missing.
test-java: setup
	bash scripts/setup_java.sh --test

# The Python tests come in two sets (python/tests/conftest.py): unit (no process, no
# server, seconds) and cluster (real clusters, workers, builds: minutes). test-py runs
# the unit set first, so a fast failure stops it before any cluster starts.
.PHONY: test-unit test-cluster
test-py: setup
	$(VENV)/bin/pytest python/tests/unit
	$(VENV)/bin/pytest python/tests/cluster

test-unit: setup
	$(VENV)/bin/pytest python/tests/unit

test-cluster: setup
	$(VENV)/bin/pytest python/tests/cluster

# The cross-language conformance suite (docs/conformance.md): builds the C++ and Java
# adapters, runs every case for every caller x callee pair on a local cluster, writes
# conformance-tests/report.html and report.xml. Fails on any unexpected result.
conformance test-conformance: setup
	@bash scripts/setup_java.sh
	timeout 1200 $(VENV)/bin/plait conformance

# Ray is only the yardstick: bench/setup_ray.sh installs it into its own .venv-ray
# (best effort), so it can never move the versions plait's generated stubs depend on.
bench: setup
	@bash bench/setup_ray.sh
	$(PY) bench/microbenchmark.py

clean:
	rm -rf build *.egg-info .mypy_cache .pytest_cache conformance-tests/report.html conformance-tests/report.xml
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

# clean, and also the virtualenv (the next target rebuilds it from scratch).
distclean: clean
	rm -rf $(VENV)
