# carepath's two commands: `make demo` and `make test` (plus `make bench`).
# Each creates .venv on first use and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck docs pytest bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The core plus the simulation extra the demo ends with.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[sim]'
	touch $@

# Every extra and every development tool.
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[all]' --group dev
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/python examples/demo.py

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks examples type_tests
	$(BIN)/ruff format --check src tests benchmarks examples type_tests
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy

docs: $(VENV)/.dev
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

# Debian packages the tests use for real: PostgreSQL (store tests) and graphviz's `dot`
# (SVG diagrams). Installed when missing and we are root; otherwise the tests that need
# them skip and say why.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" -eq 0 ]; then \
	  echo "installing$$missing from Debian's packages"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
	  || echo "could not install$$missing; the tests that need them will skip"; \
	fi

# A throwaway PostgreSQL cluster on 127.0.0.1 for the store tests, stopped afterwards.
PGDIR := $(or $(TMPDIR),/tmp)/carepath-pg-test
pytest: $(VENV)/.dev system-deps
	@url=$$(scripts/postgres.sh start "$(PGDIR)" || true); \
	CAREPATH_TEST_POSTGRES_URL="$$url" $(BIN)/pytest; rc=$$?; \
	scripts/postgres.sh stop "$(PGDIR)" >/dev/null 2>&1 || true; exit $$rc

test: lint typecheck docs pytest

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_sim.py --patients 10000 --repeat 3
	$(BIN)/python benchmarks/bench_fast.py --repeat 3
	url=$$(scripts/postgres.sh start "$(PGDIR)-bench"); \
	$(BIN)/python benchmarks/bench_store.py --postgres-url "$$url"; rc=$$?; \
	scripts/postgres.sh stop "$(PGDIR)-bench"; exit $$rc

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
