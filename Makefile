# Routine tasks. `make demo` and `make test` each create .venv when missing and
# install the project into it first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bgmix-installed
KERNELS := $(wildcard src/bgmix/_kernels/*.py)
COMPILED := $(VENV)/.bgmix-compiled

.PHONY: demo test test-fast lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	touch $(STAMP)

# Numba's cache checks only the file of each cached kernel, not the files of the
# kernels it calls (their machine code is copied into its own): after an edit of one
# kernel file another could keep running the old code. So when any kernel file
# changes, every cached kernel is dropped and compiled again.
$(COMPILED): $(STAMP) $(KERNELS)
	find src/bgmix/_kernels -name '*.nbi' -delete -o -name '*.nbc' -delete
	$(BIN)/python -m bgmix.precompile
	touch $(COMPILED)

demo: $(COMPILED)
	$(BIN)/bgmix demo -o out/demo --overwrite

test: $(COMPILED)
	$(BIN)/python -m pytest

test-fast: $(COMPILED)
	$(BIN)/python -m pytest -m "not slow and not realdata" -x -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(COMPILED)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf out build .pytest_cache src/*.egg-info
