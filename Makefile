# Svod task runner. `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.svod-installed
WORKSPACE ?= data
PEOPLE ?= 3000
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: install demo test test-slow test-all fmt lint typecheck check bench bench-small dagster clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## create .venv and install Svod with its pinned dependencies

demo: install ## write the sample workspace and run the whole pipeline on it
	$(BIN)/svod sample --workspace $(WORKSPACE) --people $(PEOPLE)
	$(BIN)/svod run --workspace $(WORKSPACE)

test: install ## run the test suite (slow tests excluded)
	$(BIN)/python -m pytest -m "not slow" -n 2 -q

test-slow: install ## run only the slow tests
	$(BIN)/python -m pytest -m slow -q

test-all: install
	$(BIN)/python -m pytest -q -n 2

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy pipelines identity quality dagster_project benchmarks tests

check: lint typecheck test

bench: install ## full-size benchmarks (minutes; writes benchmarks/out/)
	$(BIN)/python benchmarks/run_all.py

bench-small: install ## the benchmarks in a small mode, as CI runs them
	$(BIN)/python benchmarks/run_all.py --small

dagster: install ## open the Dagster UI on the default workspace
	$(BIN)/dagster dev

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
