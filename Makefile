# One task runner for humans and CI. `make demo` and `make test` set up everything they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo-workspace
LEADS  ?= 20000

.PHONY: install demo test test-integration test-spark lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/leadjourney demo $(DEMO) --leads $(LEADS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src/leadjourney

# the suite without the heavy integration tests (real browser, LibreOffice, the connectors' API servers, thousands
# of generated leads, every command end to end; minutes); test-integration runs those (CI runs both). --dist
# loadfile keeps a module's fixtures in one process; workspaces generated for several modules are built once per
# run (tests/conftest.py). The type check runs beside the tests (the workers leave a core idle at times); either
# failing fails the target.
test: lint
	$(BIN)/mypy src/leadjourney > .mypy.out 2>&1 & checking=$$!; \
	$(BIN)/pytest -q -n auto --dist loadfile -m "not browser and not office and not slow and not servers and not spark"; \
	tested=$$?; wait $$checking; typed=$$?; cat .mypy.out; rm -f .mypy.out; test $$tested -eq 0 -a $$typed -eq 0

test-integration: $(STAMP)
	$(BIN)/pytest -q -n auto --dist loadfile -m "browser or office or slow or servers"

# the same analyses on a local Spark session and a throwaway Postgres server compared with DuckDB's (needs a JDK,
# pyspark, PostgreSQL and psycopg; .ci/run installs them)
test-spark: $(STAMP)
	$(BIN)/python -c "import pyspark, psycopg" 2>/dev/null || $(BIN)/python -m pip install -q -e '.[spark,postgres]'
	$(BIN)/pytest -q -m spark tests/test_engines.py tests/test_warehouse.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO) bench/.work .pytest_cache .ruff_cache .mypy_cache
