# Pårørendelinjen: two commands. `make run` starts the offline demo; `make test` runs lint, types and the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOTLINE_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export HOTLINE_TEST_POSTGRES_URL

HOTLINE_CHROMIUM ?= /usr/bin/chromium
export HOTLINE_CHROMIUM
CHROMIUM := $(HOTLINE_CHROMIUM)

.PHONY: run test test-fast test-browser lint typecheck pytest pytest-sqlite pytest-postgres bench bench-instructions bench-console bench-openloop bench-scale bench-reports clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed: set PYTHON=python3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(STAMP)

# The browser tests (tests/browser) drive Debian's Chromium through Playwright; `playwright install` is never run.
$(CHROMIUM):
	@command -v apt-get >/dev/null 2>&1 || { echo "make: $(CHROMIUM) is missing and there is no apt-get here: install Chromium (Debian package 'chromium') so that $(CHROMIUM) exists, or set HOTLINE_CHROMIUM to another Chromium binary" >&2; exit 1; }
	apt-get install -y chromium || { apt-get update && apt-get install -y chromium; } || { echo "make: could not install the Debian package 'chromium' (run as root, or: sudo apt-get install -y chromium)" >&2; exit 1; }
	@test -x $(CHROMIUM) || { echo "make: the Debian package 'chromium' is installed but $(CHROMIUM) is not there; set HOTLINE_CHROMIUM to the Chromium binary" >&2; exit 1; }

run: $(STAMP)
	$(BIN)/hotline serve

test: $(TEST_STAMP) lint typecheck pytest

# The pure core's tests alone (no app, no database) and the import rule: a loop of about 20 s while you work.
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests/routing tests/sms tests/ivr_flows tests/hotline/test_layers.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

pytest: pytest-sqlite pytest-postgres

# The browser walks alone (about 30 s): sign in, lock-out, sign out, a disabled advisor; axe-core; a screenshot
# in artifacts/.
test-browser: $(TEST_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q tests/browser

pytest-sqlite: $(TEST_STAMP) $(CHROMIUM)
	HOTLINE_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q

# Runs when PostgreSQL answers; with HOTLINE_REQUIRE_POSTGRES=1 (set by .ci/run) its absence fails the run.
pytest-postgres: $(TEST_STAMP) $(CHROMIUM)
	@$(BIN)/python -m tests.pgprobe; rc=$$?; \
	if [ $$rc -eq 0 ]; then HOTLINE_TEST_DATABASE=postgres $(BIN)/python -m pytest -q; \
	elif [ $$rc -ne 3 ]; then exit 1; fi

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/webhooks.py

# Instructions per request under valgrind's callgrind (repeatable on a noisy machine); about two minutes.
bench-instructions: $(TEST_STAMP)
	$(BIN)/python benchmarks/instructions.py

# The console's queue, inbox and a timeline beside /healthz on a seeded database (SQLite, PostgreSQL); ~2 minutes.
bench-console: $(TEST_STAMP)
	$(BIN)/python benchmarks/console.py

# Open-loop latency of a new call at a steady 100 calls/s (issue 12: p99 < 50 ms), SQLite, PostgreSQL, floor; ~3 min.
bench-openloop: $(TEST_STAMP)
	$(BIN)/python benchmarks/openloop.py

# A new call, the on-call chain, the queue and the purge at 1x, 10x, 100x data on PostgreSQL, with plans; ~2-3 minutes.
bench-scale: $(TEST_STAMP)
	$(BIN)/python benchmarks/scale.py

# The managers' reports on 2 years of data (1M calls, 200k callbacks, 500k texts) on PostgreSQL, with plans; ~5 min.
bench-reports: $(TEST_STAMP)
	$(BIN)/python benchmarks/reports.py

clean:
	rm -rf $(VENV) instance artifacts .pytest_cache .mypy_cache .ruff_cache
