# The two commands: `make run` (the embedded stack) and `make test` (the whole suite).
# Each one bootstraps .venv with the pinned dependencies and the system packages the PDFs need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-noto-cjk curl jq chromium

.PHONY: run test bench reliability screenshots system-packages bytecode clean

# The project's own modules compiled ahead (only what changed since): the workflow sandbox re-imports the workflow
# modules for every case it starts, and without their bytecode (PYTHONDONTWRITEBYTECODE) compiles them each time.
PACKAGES := api core demo documents domain models workflows bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing system packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j0 $(PACKAGES) cli.py >/dev/null

run: $(STAMP) system-packages bytecode
	$(BIN)/mediation run

# The suite in parallel, a worker process per core (pytest-xdist); a file's tests stay in one worker, which
# starts its own Temporal dev server (and, on PostgreSQL, its own database).
TEST_WORKERS ?= auto

test: $(STAMP) system-packages bytecode
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The console's screenshots in docs/screenshots (each role's landing page and the case page), taken by its browser
# tests in Chromium against a fresh embedded stack.
screenshots: $(STAMP) system-packages bytecode
	CONSOLE_SCREENSHOTS=$(abspath docs/screenshots) $(BIN)/pytest -q -p no:cacheprovider -n 1 tests/console

BENCH_CASES ?= 10000

bench: $(STAMP) system-packages bytecode
	$(BIN)/python -m bench.round_trip
	$(BIN)/python -m bench.recompute --cases $(BENCH_CASES)
	$(BIN)/python -m bench.draw --with-database
	$(BIN)/python -m bench.case_file
	$(BIN)/python -m bench.documents
	$(BIN)/python -m bench.case_list
	$(BIN)/python -m bench.statistics
	$(BIN)/python -m bench.upload

# The load-and-fault suite in its long form (make test runs a bounded one): crash faults, a database stall, 100
# actions at once, an unbounded body, timeouts; then every operation fuzzed with three seeds. On SQLite, and on
# PostgreSQL too when TEST_DATABASE_URL is set. The figures: reliability.jsonl, and the table printed at the end.
RELIABILITY_REPORT ?= reliability.jsonl

reliability: $(STAMP) system-packages bytecode
	rm -f $(RELIABILITY_REPORT)
	RELIABILITY_SCALE=full RELIABILITY_REPORT=$(abspath $(RELIABILITY_REPORT)) $(BIN)/pytest -q -s -p no:cacheprovider tests/reliability
	for backend in sqlite $${TEST_DATABASE_URL:+postgresql}; do for seed in 1 2 3; do \
	  STACK_DATABASE=$$backend SCHEMATHESIS_SEED=$$seed RELIABILITY_REPORT=$(abspath $(RELIABILITY_REPORT)) \
	    $(BIN)/pytest -q -p no:cacheprovider tests/e2e/test_no_server_errors.py || exit 1; \
	done; done
	$(BIN)/python -m tests.reliability.report $(RELIABILITY_REPORT)

clean:
	rm -rf $(VENV) data reliability.jsonl
	find $(PACKAGES) -name __pycache__ -type d -prune -exec rm -rf {} +
