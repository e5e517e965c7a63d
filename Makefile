# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create the virtual environments they need.
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
SDK3_VERSION ?= 3.78.1
SDK7_VERSION ?= 7.17.0
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit install sdk-venvs compose-tool clean bench

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]"
	touch $@

# The official Labelbox SDK, unmodified, each release in its own venv (test-only; its pins clash
# with Airflow's). 3.78.1 is the last release with export v1 (its [data] extra is what
# Project.label_generator needs); 7.x is current.
.venv-sdk3/.installed: Makefile
	$(PYTHON) -m venv .venv-sdk3
	.venv-sdk3/bin/pip install -q "labelbox[data]==$(SDK3_VERSION)" packaging  # 3.78.1 imports packaging without declaring it
	touch $@

.venv-sdk7/.installed: Makefile
	$(PYTHON) -m venv .venv-sdk7
	.venv-sdk7/bin/pip install -q "labelbox==$(SDK7_VERSION)"
	touch $@

# dlt, the benchmarks' contender (benchmark-only; its own venv so its pins never meet Airflow's)
DLT_VERSION ?= 1.31.0
.venv-dlt/.installed: Makefile
	$(PYTHON) -m venv .venv-dlt
	.venv-dlt/bin/pip install -q "dlt[parquet,filesystem]==$(DLT_VERSION)" msgspec
	touch $@

install: $(VENV)/.installed
sdk-venvs: .venv-sdk3/.installed .venv-sdk7/.installed

# `docker-compose config` validates docker-compose.yml in the tests (no engine needed).
compose-tool:
	bash scripts/ensure-docker-compose.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check connectors tests dags benchmarks

typecheck: install
	$(BIN)/mypy

test: install sdk-venvs compose-tool lint typecheck
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q -m unit

# Side-by-side benchmarks (not part of `make test`): one table, written to benchmarks/RESULTS.md.
# BENCH_SCALE=small for a quick run; the default is the issue's full sizes (hours, ~40 GB in
# BENCH_WORKDIR). Needs the local PostgreSQL (127.0.0.1:5432, database test) for the loads.
BENCH_SCALE ?= full
bench: install .venv-dlt/.installed
	BENCH_SCALE=$(BENCH_SCALE) BENCH_DLT_PYTHON=.venv-dlt/bin/python PYTHONPATH=connectors \
		$(BIN)/python benchmarks/bench.py

demo: install
	$(BIN)/python -m labelbox_provider.cli.demo


clean:
	rm -rf $(VENV) .venv-sdk3 .venv-sdk7 .venv-dlt .pytest_cache .mypy_cache .ruff_cache build *.egg-info
