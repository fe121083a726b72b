# floe developer entry points. On a fresh clone:
#   make demo   installs floe into .venv and runs the demo (local Iceberg warehouse under .floe/)
#   make test   installs floe with its dev tools into .venv and runs lint, types and the test suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PKGS   := packages/floe-core
STAMP  := $(VENV)/.installed
# The optional C decoder of Iceberg manifests: built when a C compiler and the Python headers
# are there; floe runs without it (slower), and .ci/run requires it (FLOE_REQUIRE_SPEEDUPS).
SPEEDUPS := packages/floe-speedups

.PHONY: install demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("floe needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(foreach p,$(PKGS) $(SPEEDUPS),$(p)/pyproject.toml) $(wildcard $(SPEEDUPS)/src/floe_speedups/*.c)
	$(BIN)/python -m pip install --quiet $(foreach p,$(PKGS),-e $(p)) -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e $(SPEEDUPS) || { \
	  $(BIN)/python -m pip uninstall --quiet --yes floe-speedups 2>/dev/null; \
	  echo "floe-speedups (the optional C decoder) could not be built: floe runs without it, more slowly. Install a C compiler and the Python headers (Debian: apt-get install gcc python3-dev) to build it." >&2; \
	  if [ -n "$$FLOE_REQUIRE_SPEEDUPS" ]; then exit 1; fi; }
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python examples/demo/run_demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .floe .pytest_cache .mypy_cache .ruff_cache benchmarks/.data
