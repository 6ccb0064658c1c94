# The two set-up commands of the README: `make demo` and `make test`. Each installs what it
# needs into .venv first, so a fresh clone needs nothing done by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench pg-up tools clean

# Programs the test suite drives from Debian's archive: hledger and ledger-cli (the plain-text
# export is checked by tools this project did not write), headless Chromium (the observatory's
# browser test), pdftotext (package poppler-utils: the tax receipts' PDFs are read back as text) and
# wrk (the HTTP load generator of `make bench`: bench/http_load.py).
# Installed once when missing; a machine without apt must install them by hand.
# Then the Node programs below (NODE_TOOLS).
TOOLS := hledger ledger chromium chromedriver pdftotext wrk
NODE_TOOLS := tools/node/node_modules/.package-lock.json
tools: $(NODE_TOOLS)
	@missing=""; for t in $(TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing from Debian's archive"; \
		pkgs=$$(echo "$$missing" | sed 's/chromedriver/chromium-driver/; s/pdftotext/poppler-utils/'); \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null) \
		|| { echo "could not install$$missing: install them with your package manager"; exit 1; }; \
	fi

# Node programs the suite runs on the app's OpenAPI document (tests/api/test_generated_clients.py):
# openapi-typescript and tsc (a generated TypeScript client must type-check), Redocly's and Spectral's
# linters. Versions pinned by tools/node/package-lock.json; `npm ci` installs exactly those, with no
# install scripts (none of them needs one; one dependency's would only send usage statistics).
# Reinstalled when either file changes (npm ci writes node_modules/.package-lock.json last).
$(NODE_TOOLS): tools/node/package.json tools/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 20 or later with npm"; exit 1; }
	npm ci --prefix tools/node --ignore-scripts --no-audit --no-fund

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/coopledger demo

# PostgreSQL is part of the test suite; on this machine's image it may need starting.
pg-up:
	@if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	fi

# ruff first: a lint or format finding fails CI like a failing test (rules in pyproject.toml).
# Then the suite, on TEST_WORKERS pytest-xdist workers (--dist loadgroup, pyproject.toml). Its tests
# wait on PostgreSQL, SQLite, child processes and a browser about as much as they compute: on the
# 2-core machine 3 workers finished first (5 min 24 s; 2 workers: 7 min 3 s; one process: about
# 15 min before the PostgreSQL schemas were reused, tests/conftest.py). `make test TEST_WORKERS=0`
# runs it in one process; `.venv/bin/pytest tests/x.py` runs a file in one process, as always.
# --max-worker-restart=0: a worker that crashes fails the run at once. Replacing it is what
# pytest-xdist would do, but under --dist loadgroup a replaced worker can leave the run waiting
# forever for work that never comes (pytest-xdist issues 1323, 1378): CI saw that happen.
TEST_WORKERS ?= 3
test: $(STAMP) pg-up tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --max-worker-restart=0

# Rebuild benchmark (rewrites docs/benchmarks.md), then the others (each adds its section); replicas and
# failover start a primary and standby of their own (tests/replication/cluster.py).
bench: $(STAMP) pg-up tools
	$(BIN)/python -m bench
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.whole
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.lag
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.feed
	$(BIN)/python -m bench.replicas
	$(BIN)/python -m bench.failover

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
