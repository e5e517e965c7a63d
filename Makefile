# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create the virtual environments they need.
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
SDK3_VERSION ?= 3.78.1
SDK7_VERSION ?= 7.17.0
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit install sdk-venvs compose-tool browser clean

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

install: $(VENV)/.installed
sdk-venvs: .venv-sdk3/.installed .venv-sdk7/.installed

# `docker-compose config` validates docker-compose.yml in the tests (no engine needed).
compose-tool:
	bash scripts/ensure-docker-compose.sh

# Debian's Chromium for the browser test (Playwright drives it; no Playwright browser download).
browser:
	bash scripts/ensure-chromium.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check connectors tests dags benchmarks

typecheck: install
	$(BIN)/mypy

test: install sdk-venvs compose-tool browser lint typecheck
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q -m unit

demo: install
	$(BIN)/python -m labelbox_provider.cli.demo


clean:
	rm -rf $(VENV) .venv-sdk3 .venv-sdk7 .pytest_cache .mypy_cache .ruff_cache build *.egg-info
