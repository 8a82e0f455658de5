# myorisk — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
R_SCRIPTS := $(sort $(wildcard tests/results/*.R))

.PHONY: demo test test-fast bench r-refs venv lint clean kernels

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# after installing: compile the numba kernels ahead of time into the user cache (~15 s, once
# per change of kernel source, numba or Python; `myorisk kernels --build` does the same). A
# failure only means the slower JIT start, so it does not stop the install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	-$(BIN)/python -m myorisk.modeling._aot
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	-$(BIN)/python -m myorisk.modeling._aot
	touch $(STAMP) $@

venv: $(STAMP)

## kernels: (re)build the ahead-of-time compiled kernels if a kernel source changed (else a no-op)
kernels: $(STAMP)
	-$(BIN)/python -m myorisk.modeling._aot

## demo: set up .venv and run the main job on the bundled synthetic cohorts
demo: $(STAMP) kernels
	$(BIN)/myorisk demo --out myorisk-demo

## r-refs: regenerate every R reference file (R rms 6.5 / pROC 1.18 / brglm2 from Debian)
r-refs:
	bash scripts/ensure_r.sh
	@set -e; for s in $(R_SCRIPTS); do \
	  echo "Rscript $$s"; (cd tests/results && Rscript --vanilla $$(basename $$s) >/dev/null); \
	done

## test: set up .venv with test extras, install R if missing, regenerate R references, run pytest
test: $(TEST_STAMP) kernels r-refs
	bash scripts/ensure_browser.sh
	bash scripts/ensure_postgres.sh
	$(BIN)/python -m pytest -q

## test-fast: the quick subset (seconds to a minute): no slow, browser or R-parity tests
test-fast: $(TEST_STAMP) kernels
	$(BIN)/python -m pytest -q -m "not slow and not browser and not r_parity"

## bench: myorisk and R rms side by side in one run
bench: $(STAMP) kernels
	bash scripts/ensure_r.sh
	$(BIN)/python bench/run_bench.py
	$(BIN)/python bench/processes.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) myorisk-demo .pytest_cache
