# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create the virtual environments they need (`make test` also the wheel's: .venv-wheel).
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
SDK3_VERSION ?= 3.78.1
SDK7_VERSION ?= 7.17.0
BIN := $(VENV)/bin
# pip builds this package in the tree (egg-info, build/): the editable install and the wheel
# build take turns, so that the venvs can be created in parallel (`make setup`, -j)
IN_TREE_BUILD := flock .in-tree-build.lock
APT_TURN := flock .in-tree-build.apt.lock  # apt-get runs one at a time (dpkg's lock)

.PHONY: setup deploy-test soak demo test lint typecheck unit install sdk-venvs wheel-venv compose-tool browser clean bench

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "apache-airflow==$(AIRFLOW_VERSION)"
	$(IN_TREE_BUILD) $(BIN)/pip install -q "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]"
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

# The package as users get it: the wheel built from this tree (not editable), with extras, in a
# fresh venv beside Airflow; tests/packaging runs `airflow providers list` etc. in it.
# Extend it by appending: `WHEEL_VENV_PACKAGES += apache-airflow-providers-celery`.
WHEEL_VENV := .venv-wheel
WHEEL_EXTRAS ?= s3,postgres
WHEEL_VENV_PACKAGES = "apache-airflow==$(AIRFLOW_VERSION)"
PACKAGE_FILES := $(shell find connectors/labelbox_provider -type f -not -path '*/__pycache__/*')
# tests/deploy runs a real Airflow from this venv: the Celery provider (celery < 5.7: 5.7 removed
# an import provider 3.26.0 uses), asyncpg (Airflow 3.3 also builds an async engine from the
# database URL) and the PostgreSQL and Redis clients.
WHEEL_VENV_PACKAGES += "apache-airflow-providers-celery==3.26.0" "celery[redis]>=5.5,<5.7" \
    asyncpg psycopg2-binary redis

$(WHEEL_VENV)/.installed: pyproject.toml Makefile $(PACKAGE_FILES)
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install -q --upgrade pip
	$(IN_TREE_BUILD) sh -c 'rm -rf build && $(WHEEL_VENV)/bin/pip wheel -q --no-deps -w $(WHEEL_VENV)/dist .'  # a stale build/lib would put deleted modules into the wheel
	$(WHEEL_VENV)/bin/pip install -q $(WHEEL_VENV_PACKAGES) \
	    "$$(ls $(WHEEL_VENV)/dist/airflow_provider_labelbox_export-*.whl)[$(WHEEL_EXTRAS)]"
	touch $@

install: $(VENV)/.installed
wheel-venv: $(WHEEL_VENV)/.installed
sdk-venvs: .venv-sdk3/.installed .venv-sdk7/.installed

# `docker-compose config` validates docker-compose.yml in the tests (no engine needed).
compose-tool:
	$(APT_TURN) bash scripts/ensure-docker-compose.sh

# Debian's Chromium for the browser test (Playwright drives it; no Playwright browser download).
browser:
	$(APT_TURN) bash scripts/ensure-chromium.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check connectors tests dags benchmarks

typecheck: install
	$(BIN)/mypy

# The whole suite, the deployment tests included (tests/deploy: a real Airflow from the wheel in
# .venv-wheel, with PostgreSQL, Redis, LocalExecutor and Celery; see docs/production.md). They
# need PostgreSQL and Redis on loopback: without them they skip, under CI=true they fail.
# Two pytest workers (pytest-xdist); a file's tests stay on one worker (--dist loadfile: the
# deployment suite's stacks are module fixtures). Each worker has its own AIRFLOW_HOME, emulators,
# S3 server, PostgreSQL schemas and databases. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: setup
	$(MAKE) lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

# Every venv and tool the tests need, built side by side (pip waits on the network and the disk
# as much as on the CPU: about half the time of building them one after the other).
setup:
	$(MAKE) -j4 --output-sync=target install sdk-venvs wheel-venv compose-tool browser

# Only the deployment suite (21-23 min on 2 cores shared with other suites, load 12-25; not yet
# timed on a quiet machine: docs/performance.md).
deploy-test: install wheel-venv
	$(BIN)/pytest -q -m deployment

unit: install
	$(BIN)/pytest -q -m unit

# Side-by-side benchmarks (not part of `make test`): one table, written to benchmarks/RESULTS.md.
# BENCH_SCALE=small for a quick run; the default is the issue's full sizes (hours, ~40 GB in
# BENCH_WORKDIR). Needs the local PostgreSQL (127.0.0.1:5432, database test) for the loads.
BENCH_SCALE ?= full
bench: install .venv-dlt/.installed
	BENCH_SCALE=$(BENCH_SCALE) BENCH_DLT_PYTHON=.venv-dlt/bin/python PYTHONPATH=connectors \
		$(BIN)/python benchmarks/bench.py

# The reliability tests at full counts (120 fault schedules, 35 SIGKILL crash points); see
# docs/reliability.md for what they prove (202 tests, 26 min on 2 cores at load 5-10).
soak: install
	LBX_SOAK=1 $(BIN)/pytest -q tests/reliability

demo: install
	$(BIN)/python -m labelbox_provider.cli.demo


clean:
	rm -rf $(VENV) .venv-sdk3 .venv-sdk7 .venv-dlt $(WHEEL_VENV) .in-tree-build.lock .in-tree-build.apt.lock .pytest_cache .mypy_cache .ruff_cache build *.egg-info
