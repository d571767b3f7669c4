# DAIVI Lakehouse Explorer. `make run` starts the app; `make test` runs every test tier.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LAKEHOUSE ?= data/lakehouse
SCALE ?= medium
PORT ?= 8501

.PHONY: run test lint demo bench bench-load chromium clean-data help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/ —/'

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

test: $(VENV)/.dev chromium  ## install test deps, run every test tier (unit, sql, app, aws, e2e)
	$(PY) -m pytest

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
