# Two commands on a fresh machine:  make lab   and   make test
# Each one sets up what it needs: the .venv with the Python packages, Graphviz and Chromium.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

.PHONY: lab test fuzz bench notebooks system-deps proxy-deps classroom classroom-prestart classroom-stop classroom-load clean

# The classroom (JupyterHub): its state, and configurable-http-proxy from npm, live in .classroom/
CLASSROOM := .classroom
ADDRESS   ?= 127.0.0.1:8000
N         ?= 20
export ADDRESS

$(STAMP): pyproject.toml tools/lab/overrides.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch is the reference the tests compare against; 2.13.0 is a CPU wheel (never a CUDA build).
	# teacher: nbgrader, for the student edition (chapters DIR --student) and its tests.
	# classroom: JupyterHub, its idle culler and the smoke test's websocket client (make classroom, tests).
	$(BIN)/python -m pip install -q -e '.[test,bench,teacher,classroom]' 'torch==2.13.0'
	# JupyterLab without news or update pop-ups.
	mkdir -p $(LAB_SETTINGS) && cp tools/lab/overrides.json $(LAB_SETTINGS)/overrides.json
	touch $(STAMP)

system-deps:
	tools/system-deps.sh graphviz chromium

# JupyterHub's proxy, installed with npm into .classroom/node (never globally); node and npm from apt
proxy-deps:
	tools/system-deps.sh node
	tools/proxy-deps.sh $(CLASSROOM)/node

## make lab: open the chapters in JupyterLab (start with 01_automatic_differentiation.ipynb)
lab: $(STAMP) system-deps
	$(BIN)/jupyter lab --notebook-dir=chapters --ServerApp.port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root)

## make test: every suite: engine, printing, viz, magics, CLI, notebooks (nbval), browser
test: $(STAMP) system-deps proxy-deps
	$(BIN)/python -m pytest

## make fuzz: 30,000 small programs run on PyTorch and on the engine; fails on a new divergence
fuzz: $(STAMP)
	$(BIN)/python tools/fuzz.py

## make bench: our engine against hand-written numpy and PyTorch, single-threaded
bench: $(STAMP) system-deps
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m benchmarks

## make notebooks: re-execute the chapters and store their outputs
notebooks: $(STAMP) system-deps
	$(BIN)/python tools/run_notebooks.py chapters/*.ipynb

## make classroom: JupyterHub for a class on this machine, in the background on ADDRESS (default 127.0.0.1:8000).
## Needs ADNB_CLASS_PASSWORD (the learners' shared password); see README "Teaching a class".
classroom: $(STAMP) proxy-deps
	$(BIN)/python classroom/ctl.py start

## make classroom-prestart N=30: create learner01..learnerN and start their servers before the class
classroom-prestart: $(STAMP)
	$(BIN)/python classroom/ctl.py prestart $(N)

## make classroom-stop: stop every learner's server (API), then the hub, its proxy and culler (pid file)
classroom-stop: $(STAMP)
	$(BIN)/python classroom/ctl.py stop

## make classroom-load N=20: a private hub, N learners spawned at once, chapter 01 on each: p50/p95, PSS
classroom-load: $(STAMP) proxy-deps
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python classroom/load.py $(N)

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
