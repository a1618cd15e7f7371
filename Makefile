# Two commands on a fresh machine:  make lab   and   make test
# Each sets up everything it needs: the .venv, Python packages, Graphviz, Chromium.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888

.PHONY: lab test bench notebooks system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch is the reference the tests compare against; 2.13.0 is the CPU wheel this machine carries.
	$(BIN)/python -m pip install -q -e '.[test,bench]' 'torch==2.13.0'
	touch $(STAMP)

system-deps:
	tools/system-deps.sh graphviz chromium

lab: $(STAMP) system-deps
	$(BIN)/jupyter lab --notebook-dir=chapters --port=$(PORT) \
	  --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

test: $(STAMP) system-deps
	$(BIN)/python -m pytest

bench: $(STAMP) system-deps
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m benchmarks

notebooks: $(STAMP) system-deps
	$(BIN)/python -m tools.run_notebooks

clean:
	rm -rf $(VENV) .pytest_cache
