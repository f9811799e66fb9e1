# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: demo demo-headless test lint bench bench-quick wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Stamp files so a second `make` does not reinstall; they go stale when pyproject.toml changes.
$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(PIP) install -q -e '.[test]'
	@touch $@

demo: $(VENV)/.runtime
	$(BIN)/vvtui demo

demo-headless: $(VENV)/.runtime
	$(BIN)/vvtui demo --headless --out vvtui-demo.json

test: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.test
	$(BIN)/python -m benchmarks

bench-quick: $(VENV)/.test
	$(BIN)/python -m benchmarks --quick

wheel: $(VENV)/.test
	$(PIP) install -q build
	$(BIN)/python -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache
