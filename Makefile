# floe developer entry points. On a fresh clone:
#   make demo   installs floe into .venv and runs the demo (local Iceberg warehouse under .floe/)
#   make test   installs floe with its dev tools into .venv and runs lint, types and the test suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# floe-core and the alert channel distributions, each installable on its own.
CHANNELS := webhook slack email pagerduty alertmanager
PKGS   := packages/floe-core $(foreach c,$(CHANNELS),packages/floe-alert-$(c))
STAMP  := $(VENV)/.installed
# The optional C decoder of Iceberg manifests: built when a C compiler and the Python headers
# are there; floe runs without it (slower), and .ci/run requires it (FLOE_REQUIRE_SPEEDUPS).
SPEEDUPS := packages/floe-speedups

.PHONY: install demo demo-monitor test lint typecheck pytest bench clean alertmanager prometheus

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

# The demo left running: floe sla monitor on the demo tables until Ctrl-C (http://127.0.0.1:9464/).
demo-monitor: install
	$(BIN)/python examples/demo/run_demo.py --monitor

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The real Prometheus Alertmanager the alertmanager channel is tested against (Debian's
# package); .ci/run requires it (FLOE_REQUIRE_ALERTMANAGER), elsewhere its tests skip without it.
alertmanager:
	@command -v prometheus-alertmanager >/dev/null 2>&1 || { \
	  echo "installing prometheus-alertmanager (Debian) for the alertmanager channel's tests" >&2; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null; } \
	  || echo "prometheus-alertmanager could not be installed (apt-get as root); its tests will skip" >&2; }

# The real Prometheus that scrapes floe sla monitor's /metrics in one test (Debian's package);
# .ci/run requires it (FLOE_REQUIRE_PROMETHEUS), elsewhere that test skips without it.
prometheus:
	@command -v prometheus >/dev/null 2>&1 || { \
	  echo "installing prometheus (Debian) for the monitor's scrape test" >&2; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
	  || echo "prometheus could not be installed (apt-get as root); its test will skip" >&2; }

pytest: install alertmanager prometheus
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .floe .pytest_cache .mypy_cache .ruff_cache benchmarks/.data
