# One task runner for humans and CI. `make demo` and `make test` set up everything they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo-workspace
LEADS  ?= 20000

.PHONY: install demo test test-integration lint typecheck bench clean

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

# the suite without the heavy integration tests (real browser, LibreOffice, thousands of generated leads, every
# command end to end; minutes); test-integration runs those (CI runs both). --dist loadfile keeps a module's
# fixtures in one process; workspaces generated for several modules are built once per run (tests/conftest.py)
test: lint typecheck
	$(BIN)/pytest -q -n auto --dist loadfile -m "not browser and not office and not slow"

test-integration: $(STAMP)
	$(BIN)/pytest -q -n auto --dist loadfile -m "browser or office or slow"

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO) bench/.work .pytest_cache .ruff_cache .mypy_cache
