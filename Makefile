# OpenGGZY — the two commands: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PG_URL  ?= postgres://postgres@127.0.0.1:5432/ggzy
# pytest-xdist workers (each gets its own test database); 0 runs in one process
TEST_WORKERS ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres check lint format typecheck openapi bench bench-ledger bench-surge bench-opening bench-search bench-supervision demo migrate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

## make run: set up, migrate the embedded SQLite database, load the demo world, serve on :8000
run: $(STAMP)
	$(BIN)/ggzy migrate --noinput
	$(BIN)/ggzy demo
	$(BIN)/ggzy serve 127.0.0.1:8000

migrate: $(STAMP)
	$(BIN)/ggzy migrate --noinput

demo: $(STAMP)
	$(BIN)/ggzy demo

## make test: the whole suite on SQLite, then on PostgreSQL when a server answers (or GGZY_TEST_POSTGRES=1)
test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	@if [ "$$GGZY_TEST_POSTGRES" = "1" ] || $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: PostgreSQL run skipped"; fi

test-sqlite: $(STAMP)
	@echo "=== test suite on SQLite ==="
	env -u DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS)

test-postgres: $(STAMP)
	@echo "=== test suite on PostgreSQL ==="
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n $(TEST_WORKERS)

## make check: lint, format, types, Django checks, migrations, OpenAPI diff, tests
check: $(STAMP) lint typecheck openapi-check
	$(BIN)/ggzy check --fail-level WARNING
	$(BIN)/ggzy makemigrations --check --dry-run
	$(MAKE) --no-print-directory test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/ggzy export_openapi docs/openapi.json

openapi-check: $(STAMP)
	$(BIN)/ggzy export_openapi --check docs/openapi.json

## make bench: every benchmark; results go to docs/benchmarks.md by hand with the command and date
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## make bench-surge / bench-opening: the bidding numbers (docs/benchmarks.md §7)
bench-surge: $(STAMP)
	$(BIN)/python bench/bid_surge.py

bench-opening: $(STAMP)
	$(BIN)/python bench/opening.py

## make bench-search / bench-supervision: search (§11); screens, red flags, network (§13–15)
bench-search: $(STAMP)
	$(BIN)/python bench/search.py

bench-supervision: $(STAMP)
	flock /tmp/bench.lock $(BIN)/python bench/screens.py
	flock /tmp/bench.lock $(BIN)/python bench/redflags.py
	flock /tmp/bench.lock $(BIN)/python bench/network.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
