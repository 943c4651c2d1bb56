# Two commands do everything on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3
export TRUSTPLANE_HOME ?= $(CURDIR)/.trustplane

.PHONY: demo test lint typecheck unit bench bench-ledger bench-policy bench-evidence clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.demo: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[demo]'
	touch $@

## demo: install (with scikit-learn), migrate the embedded SQLite database, seed tenant acme-bank
## with a governed release story through the API (docs/demo.md), print its tokens, serve on :8000.
## The seed is always local (TRUSTPLANE_URL cleared); run again, it keeps the data.
demo: $(VENV)/.demo
	$(BIN)/trustplane db upgrade
	TRUSTPLANE_URL= $(BIN)/trustplane demo seed
	@echo
	@echo "Trustplane is starting on http://127.0.0.1:8000  (API docs: http://127.0.0.1:8000/docs)"
	@echo "Try: curl -H \"Authorization: Bearer <admin token above>\" http://127.0.0.1:8000/api/v1/whoami"
	@echo
	$(BIN)/trustplane serve --host 127.0.0.1 --port 8000

## test: ruff (lint + format), mypy --strict, import contracts, pytest on SQLite and PostgreSQL
test: lint typecheck unit

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(VENV)/.dev
	$(BIN)/pytest

bench: $(VENV)/.dev
	$(PY) bench/api.py

## bench-ledger: ledger append, export, proof and offline-verify figures (BENCH_ARGS=--quick: a minute)
bench-ledger: $(VENV)/.dev
	$(PY) bench/ledger.py $(BENCH_ARGS)

## bench-policy: policy decision latency in process and over HTTP (BENCH_ARGS=--quick: under half a minute)
bench-policy: $(VENV)/.dev
	$(PY) bench/policy.py $(BENCH_ARGS)

## bench-evidence: evidence bundle build and verify time, 1,000 events in a 1M-event ledger (BENCH_ARGS=--quick)
bench-evidence: $(VENV)/.dev
	$(PY) bench/evidence.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .trustplane .mypy_cache .ruff_cache .pytest_cache
