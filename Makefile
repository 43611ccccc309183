# funrun: two set-up commands (`make run`, `make test`) plus helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint format migration services-start services-stop clean bench bench-ocr bench-rush bench-faults fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/funrun migrate
	$(BIN)/funrun demo --if-empty
	$(BIN)/funrun serve

test: $(TEST_STAMP)
	@dir=$$(mktemp -d /tmp/funrun-test.XXXXXX); \
	trap 'scripts/services.sh stop '"$$dir" EXIT INT TERM; \
	scripts/services.sh start "$$dir" && . "$$dir/env" && \
	APP_ENV=test $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migration: $(STAMP)
	scripts/regen_initial_migration.sh

bench: $(TEST_STAMP)
	@dir=$$(mktemp -d /tmp/funrun-bench.XXXXXX); \
	trap 'scripts/services.sh stop '"$$dir" EXIT INT TERM; \
	scripts/services.sh start "$$dir" && . "$$dir/env" && \
	APP_ENV=test $(BIN)/python bench/run_all.py

bench-ocr: $(TEST_STAMP)
	APP_ENV=test $(BIN)/python -m bench.ocr

# The tests/fuzz targets with a long budget (FUZZ_EXAMPLES per target, 2000 by default), and the
# registration-flow properties with twenty times their `make test` examples.
fuzz: $(TEST_STAMP)
	@dir=$$(mktemp -d /tmp/funrun-fuzz.XXXXXX); \
	trap 'scripts/services.sh stop '"$$dir" EXIT INT TERM; \
	scripts/services.sh start "$$dir" && . "$$dir/env" && \
	HYPOTHESIS_PROFILE=fuzz APP_ENV=test $(BIN)/python -m pytest -q tests/fuzz tests/e2e/test_registration_flow_property.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache

# The opening minute through the real webhooks (bench/rush.py): RUSH_ARGS="--runners 300 --modes open,limited"
RUSH_ARGS ?= --modes open,limited --write
bench-rush: $(TEST_STAMP)
	@dir=$$(mktemp -d /tmp/funrun-bench.XXXXXX); \
	trap 'scripts/services.sh stop '"$$dir" EXIT INT TERM; \
	scripts/services.sh start "$$dir" && . "$$dir/env" && \
	APP_ENV=test $(BIN)/python -m bench.rush $(RUSH_ARGS) && \
	APP_ENV=test $(BIN)/python -m bench.webhook_ack

# One fault at a time during a steady stream of registrations (bench/faults.py); results in
# docs/BENCHMARKS.md. Shorter: FAULT_ARGS="--scenarios worker-kill,redis-stop --duration 10 --write"
# media-full mounts a tmpfs (root); scheduler-stop waits --scheduler-window s (600 by default).
FAULT_ARGS ?= --write
bench-faults: $(TEST_STAMP)
	@dir=$$(mktemp -d /tmp/funrun-bench.XXXXXX); \
	trap 'scripts/services.sh stop '"$$dir" EXIT INT TERM; \
	scripts/services.sh start "$$dir" && . "$$dir/env" && \
	APP_ENV=test $(BIN)/python -m bench.faults $(FAULT_ARGS)
