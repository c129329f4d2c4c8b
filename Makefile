# issue-core developer tasks. Every target creates .venv on first use, so a fresh clone with only
# Python >= 3.11 and make needs nothing else: `make install` then `issue ...`, or `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: help install install-dev demo contracts test test-unit test-e2e test-cov bench issue-core-lint lint format typecheck docs clean

help:
	@echo "make install       create .venv and install issue-core (the 'issue' command in .venv/bin)"
	@echo "make demo          install, then create and list issues in a scratch local store"
	@echo "make install-dev   install with test, lint and server extras"
	@echo "make test          run the whole test suite"
	@echo "make contracts     refresh tests/contracts from ../shared/contracts (when that folder exists)"
	@echo "make test-unit     run the unit tests only"
	@echo "make test-cov      run the tests with line coverage (fails under 90%)"
	@echo "make bench         run the benchmarks in bench/"
	@echo "make issue-core-lint  ruff + mypy"
	@echo "make format        ruff format + ruff --fix"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# "compat" editable mode puts the checkout on sys.path with a plain .pth line; the default mode
# installs an import hook that costs every `issue` call ~10 ms of start-up. Byte-compiling once
# matters for the same reason (PYTHONDONTWRITEBYTECODE may be set).
EDITABLE := --config-settings editable_mode=compat

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(EDITABLE) -e .
	$(BIN)/python -m compileall -q issue_core > /dev/null
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(EDITABLE) -e '.[dev,api]'
	$(BIN)/python -m compileall -q issue_core > /dev/null
	@touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
	@echo "installed: $(abspath $(BIN))/issue  (activate with: . $(VENV)/bin/activate)"

install-dev: $(STAMP_DEV)

demo: install
	@cd "$$(mktemp -d)" && git init -q . && echo "scratch repository: $$PWD" && \
	  $(abspath $(BIN))/issue create "Try issue-core" --description "created by make demo" && \
	  $(abspath $(BIN))/issue create "Write the docs" && \
	  $(abspath $(BIN))/issue list

# The contract data the fakes are checked against lives in tests/contracts so a fresh clone needs
# nothing beside it; new data arrives in ../shared/contracts and is copied in here, as it came.
SHARED_CONTRACTS ?= ../shared/contracts
contracts:
	@if [ -d "$(SHARED_CONTRACTS)" ]; then \
	  rm -rf tests/contracts && mkdir -p tests/contracts && \
	  cp -R "$(SHARED_CONTRACTS)/." tests/contracts/ && \
	  find tests/contracts -name __pycache__ -prune -exec rm -rf {} + && \
	  echo "tests/contracts refreshed from $(SHARED_CONTRACTS)"; \
	else echo "$(SHARED_CONTRACTS) not found: tests/contracts left as it is"; fi

test: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

test-unit: $(STAMP_DEV)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

test-e2e: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -m e2e $(PYTEST_ARGS)

test-cov: $(STAMP_DEV)
	rm -f .coverage .coverage.*
	COVERAGE_PROCESS_START=$(abspath pyproject.toml) $(BIN)/python -m pytest -q -n 2 \
	  --cov=issue_core --cov-report=term --cov-fail-under=90 $(PYTEST_ARGS)

bench: $(STAMP_DEV)
	$(BIN)/python -m compileall -q issue_core > /dev/null
	$(BIN)/python bench/startup.py

issue-core-lint: $(STAMP_DEV)
	$(BIN)/ruff check issue_core tests bench
	$(BIN)/ruff format --check issue_core tests bench
	$(BIN)/mypy issue_core

lint: issue-core-lint

typecheck: $(STAMP_DEV)
	$(BIN)/mypy issue_core

format: $(STAMP_DEV)
	$(BIN)/ruff format issue_core tests bench
	$(BIN)/ruff check --fix issue_core tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .coverage* htmlcov
