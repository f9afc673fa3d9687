# carepath's two commands: `make demo` and `make test` (plus `make bench`).
# Each creates .venv on first use and installs what it needs.

PYTHON ?= python3
VENV   := .venv
# The coverage floor of `make test`: 91% measured on a full run (2026-12-03); the floor leaves 1 point of slack.
COVERAGE_FLOOR ?= 90
BIN    := $(VENV)/bin

.PHONY: demo test test-fast lint typecheck docs pytest bench fuzz clean system-deps

# pip runs without --quiet so an install shows what it is doing (no minutes of silence).
PIP := $(BIN)/python -m pip install --progress-bar off --disable-pip-version-check

$(BIN)/python:
	@echo "== creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "== upgrading pip in $(VENV)"
	$(PIP) --upgrade pip

# The core plus the simulation extra the demo ends with.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	@echo "== installing carepath and its 'sim' extra into $(VENV) (about a minute)"
	$(PIP) -e '.[sim]'
	@touch $@
	@echo "== installed: $(VENV)/bin/python examples/demo.py runs the demo"

# Every extra and every development tool.
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	@echo "== installing carepath with every extra and the development tools into $(VENV)"
	@echo "   (tests, linters, docs; about two minutes on a fresh machine)"
	$(PIP) -e '.[all]' --group dev
	@touch $@ $(VENV)/.core
	@echo "== installed the development environment in $(VENV)"

demo: $(VENV)/.core
	$(BIN)/python examples/demo.py

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks examples type_tests
	$(BIN)/ruff format --check src tests benchmarks examples type_tests
	$(BIN)/lint-imports
	$(BIN)/python scripts/verifytypes.py --floor 95

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# NO_MKDOCS_2_WARNING=1 is Material for MkDocs' documented switch for its end-of-life
# banner (see docs/docs-build.md for what the project will do about it).
docs: $(VENV)/.dev system-deps
	@echo "== building the docs (strict; notebooks executed afresh) into $(VENV)/site"
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

# Debian packages the tests use for real: PostgreSQL (store tests), graphviz's `dot`
# (SVG diagrams, also drawn into the docs) and Chromium (screenshots of the pictures).
# Installed when missing and we are root; otherwise the tests that need them skip and
# say why.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
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
	CAREPATH_TEST_POSTGRES_URL="$$url" $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	scripts/postgres.sh stop "$(PGDIR)" >/dev/null 2>&1 || true; exit $$rc

# Coverage is printed by the full run; COVERAGE_FLOOR is the figure it must not fall below.
test: PYTEST_ARGS = --cov=carepath --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)
test: lint typecheck docs pytest

# The suite without the long tests (marked ``slow``): exhaustive checks, notebooks, scale-out.
test-fast: $(VENV)/.dev
	$(BIN)/pytest -q -m "not slow"

# The fuzzers and property tests of hostile input with the `fuzz` Hypothesis profile
# (2,000 examples each; CAREPATH_FUZZ_EXAMPLES=20000 make fuzz for more): every
# reader's fuzz test (HL7 and FHIR ones included when present), the damaged-row
# property test, strict JSON, and the planted-PHI test.
FUZZ_TESTS := $(sort $(wildcard tests/test_*fuzz*.py tests/test_*hostile*.py) \
	tests/test_store_damage.py tests/test_textio.py tests/test_no_echo.py)
fuzz: $(VENV)/.dev
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -p no:cacheprovider $(FUZZ_TESTS)

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_sim.py --patients 10000 --repeat 3
	$(BIN)/python benchmarks/bench_fast.py --repeat 3
	url=$$(scripts/postgres.sh start "$(PGDIR)-bench"); \
	$(BIN)/python benchmarks/bench_store.py --postgres-url "$$url"; rc=$$?; \
	scripts/postgres.sh stop "$(PGDIR)-bench"; exit $$rc

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
