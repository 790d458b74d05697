# The two commands a newcomer runs: `make demo` and `make test`. Everything else supports them
# (`make check` is the quick inner loop while changing code).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_OFFICES ?= 12
DEMO_DAYS ?= 730

.PHONY: venv demo test check lint typecheck bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## demo: set up .venv, load the demo group, build the warehouse, serve dashboards and Dagster UI
demo: venv
	$(BIN)/propcloud db upgrade
	$(BIN)/propcloud demo --offices $(DEMO_OFFICES) --days $(DEMO_DAYS)
	$(BIN)/propcloud pipeline run
	$(BIN)/propcloud serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

## test: set up .venv and run every test (lint, layer contracts, types, pytest)
# CPython before 3.11.8 sometimes raises "AST constructor recursion depth mismatch" when threads
# compile code at once (python/cpython#106905), as Streamlit's AppTest does: only that error is
# retried, any other failure fails the run.
test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup --reruns 2 --only-rerun "AST constructor recursion depth mismatch"

## check: the inner loop, under two minutes on two cores: lint, layer contracts, types and the
# fast tests — on SQLite only, without the browser tests and those marked slow (pipeline and
# mart builds, demo-scale data, migrations run down and back, other processes). `make test` runs
# all of them, on both backends.
# One subset is by choice: the role × scope test of the three reads that take any permission
# (energy.point_status, energy.list_points, lookup.offices) asks here one permission for each
# set of offices a principal's permissions give it; its `-every-permission` case, all 41
# permissions, is marked slow (about 25 s of CPU) and runs in `make test`.
# Python may cache bytecode here even where PYTHONDONTWRITEBYTECODE is set: each worker otherwise
# compiles and rewrites the asserts of every test module again (9 s of CPU a worker under load).
FAST := not slow and not browser and not postgres
check: lint typecheck
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n 2 -q -m "$(FAST)" --reruns 2 --only-rerun "AST constructor recursion depth mismatch"

## bench: the scale benchmarks, reported not asserted (see docs/benchmarks.md)
bench: venv
	$(BIN)/propcloud bench energy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

## screenshots: refresh the pictures in docs/img from the browser tests
screenshots: venv
	PROPCLOUD_SCREENSHOT_DIR=docs/img $(BIN)/pytest -q -m browser tests/e2e
