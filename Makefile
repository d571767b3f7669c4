# DAIVI Lakehouse Explorer. `make run` starts the app; `make test` runs every test tier.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LAKEHOUSE ?= data/lakehouse
SCALE ?= medium
PORT ?= 8501

.PHONY: run test test-fast test-unit test-sql test-app test-aws test-mcp test-deploy test-e2e typecheck lint demo bench bench-load chromium clean-data help

help:  ## list the targets
	@grep -E '^[a-z0-9 -]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/ —/'

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(LAKEHOUSE)/manifest.json: | $(VENV)/.runtime
	$(PY) -m daivi_data.demo --scale $(SCALE) --out $(LAKEHOUSE)

run: $(VENV)/.runtime $(LAKEHOUSE)/manifest.json  ## install, build the demo lakehouse if absent, start the app
	$(VENV)/bin/streamlit run Home.py --server.port $(PORT)

demo: $(VENV)/.runtime  ## (re)build the demo lakehouse: make demo SCALE=small|medium|large
	$(PY) -m daivi_data.demo --scale $(SCALE) --out $(LAKEHOUSE)

chromium:  ## install Debian's chromium for the browser tests, where missing
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the e2e tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: $(VENV)/.dev chromium  ## install test deps, run every test tier (unit, sql, app, aws, mcp, deploy, e2e) and the type check
	$(PY) -m pytest

test-fast: $(VENV)/.dev  ## the inner loop: unit + sql tiers, no browser, without the tests that build whole lakehouses (marked slow)
	$(PY) -m pytest tests/unit tests/sql -m "not slow" -q

# One target per tier (a folder of tests/): make test-unit, test-sql, test-app, test-aws, test-mcp, test-deploy, test-e2e.
test-unit test-sql test-app test-aws test-mcp test-deploy: test-%: $(VENV)/.dev  ## one test tier (tests/<tier>)
	$(PY) -m pytest tests/$*

test-e2e: $(VENV)/.dev chromium  ## the browser tier (tests/e2e, headless Chromium)
	$(PY) -m pytest tests/e2e

typecheck: $(VENV)/.dev  ## mypy over daivi_data and daivi_ui (settings in pyproject.toml; `make test` runs it as tests/unit/test_typecheck.py)
	$(PY) -m mypy

lint: $(VENV)/.dev  ## ruff
	$(VENV)/bin/ruff check .

BENCH_LAKEHOUSE ?= data/lakehouse-large
BENCH_SCALE ?= large
BENCH_ARGS ?=

bench: $(VENV)/.dev  ## issue 19's targets, measured (BENCH_LAKEHOUSE=/tmp/lh_medium BENCH_SCALE=medium BENCH_ARGS="--repeat 3")
	$(PY) -m bench.run --lakehouse $(BENCH_LAKEHOUSE) --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-load: $(VENV)/.dev  ## 25 concurrent sessions of different personas against `streamlit run` (BENCH_LAKEHOUSE, BENCH_ARGS)
	$(PY) -m bench.load --lakehouse $(BENCH_LAKEHOUSE) $(BENCH_ARGS)

clean-data:  ## delete the local lakehouse (rebuilt on the next `make run`)
	rm -rf $(LAKEHOUSE)
