# qiangji — the two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= data
LANDING ?= $(HOME_DIR)/landing
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1

.PHONY: run test test-fast fuzz dev lint check-format manifest clean help bench

help:
	@echo "make run    set up .venv (runtime only), generate demo submissions if $(LANDING) is empty, run the pipeline"
	@echo "make test   add the dev and spark extras to .venv, run the whole test suite (as CI does)"
	@echo "make test-fast   the default suite without the slow tests (under 10 minutes on 2 cores)"
	@echo "make fuzz   the ingest fuzz harness with $(FUZZ_EXAMPLES) random examples (make test runs 40 fixed ones)"
	@echo "make dev    the Dagster UI on http://127.0.0.1:3000"
	@echo "make lint   ruff, and the dependency rule between packages (import-linter)"
	@echo "make bench  city-scale benchmark (minutes; not part of make test): bench/results/latest.json"

# Two set-ups of one venv, each redone when pyproject.toml changes: `make run` and `make dev` install
# what running needs (.venv/.runtime-installed); `make test`, `make lint` and `make fuzz` add the dev and
# spark extras (.venv/.dev-installed; it implies the runtime set-up, so `make run` after `make test`
# installs nothing). PIP_QUIET: pip says nothing unless something fails.
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
PIP := PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/pip install --quiet --quiet

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	@if [ $(DEV) -nt pyproject.toml ]; then echo "$(DEV) is newer: the runtime set-up is in it"; else \
		echo "installing qiangji's runtime dependencies into $(VENV) (a few minutes the first time)"; \
		$(PIP) -e . ; fi
	@touch $@

$(DEV): $(RUNTIME) pyproject.toml
	@echo "installing the dev and spark extras into $(VENV)"
	$(PIP) -e '.[dev,spark]'  # spark: tests/integration/test_spark.py
	@touch $@

# The dbt manifest is prepared at build time, never parsed when Dagster imports the definitions.
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml dbt_project/selectors.yml
dbt_project/target/manifest.json: $(RUNTIME) $(DBT_SOURCES)
	$(BIN)/qiangji prepare

manifest: dbt_project/target/manifest.json

# Demo files generated just now are whole: the run does not wait out the landing folder's quiet period
# for them (QIANGJI_LANDING_QUIET_SECONDS, which guards files still being uploaded).
run: $(RUNTIME) manifest
	@mkdir -p $(LANDING)
	@quiet=; if [ -z "$$(ls -A $(LANDING))" ]; then \
		echo "no submissions in $(LANDING): generating demo submissions"; \
		$(BIN)/qiangji generate --out $(LANDING) && quiet=QIANGJI_LANDING_QUIET_SECONDS=0 || exit 1; \
	fi; \
	echo "$(BIN)/qiangji run --home $(HOME_DIR) --landing $(LANDING) --demo"; \
	env $$quiet $(BIN)/qiangji run --home $(HOME_DIR) --landing $(LANDING) --demo

# Every test, the slow ones too (CI runs this). `make test-fast` leaves out those marked slow.
test: $(DEV) manifest
	$(BIN)/python -m pytest -q

test-fast: $(DEV) manifest
	$(BIN)/python -m pytest -q -m "not slow"

# Property-based fuzzing of the ingest (tests/fuzz): `make test` runs a few fixed examples, this runs
# FUZZ_EXAMPLES new ones (≈0.5 s each); failures are kept in tests/artifacts/hypothesis/ and replayed first.
FUZZ_EXAMPLES ?= 300
fuzz: $(DEV)
	QIANGJI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) QIANGJI_FUZZ_RANDOM=1 \
		$(BIN)/python -m pytest -q -m fuzz tests/fuzz -p no:cacheprovider --hypothesis-show-statistics

dev: $(RUNTIME) manifest
	$(BIN)/qiangji dev --home $(HOME_DIR) --landing $(LANDING) --demo

# The city-scale benchmark (docs/performance.md). Generated submissions are cached in bench/.cache/.
BENCH_ARGS ?= --scale 1.0 --runs 3
bench: $(DEV) manifest
	$(BIN)/python -m bench $(BENCH_ARGS)

# ruff, then the dependency rule of docs/architecture.md ([tool.importlinter] in pyproject.toml).
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf dbt_project/target dbt_project/logs
