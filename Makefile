# Two commands on a fresh machine with Python 3.11:  make book  and  make test
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# One BLAS thread: on this 2-vCPU machine threaded OpenBLAS makes small products ~10x slower.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test setup data notebooks html bench clean

book: notebooks html ## full build: set-up, data, notebooks (params/default.yaml), HTML book

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

data: setup ## build (or reuse) the cached full-scale bundle and transfers
	$(PY) -m intercity data prepare --params params/default.yaml

notebooks: data
	$(PY) -m intercity build --params params/default.yaml

html: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: setup ## unit tests, nbval on ci-scale notebooks, ci-scale book build
	$(PY) -m pytest -q

bench: setup ## timings of the stages, written as JSON to benchmarks/results/
	$(PY) benchmarks/pipeline.py --params params/default.yaml --out benchmarks/results/pipeline.json
	$(PY) benchmarks/measurement.py --out benchmarks/results/measurement.json
	$(PY) benchmarks/models.py --params params/default.yaml --out benchmarks/results/models.json

clean:
	rm -rf _build book/*.ipynb book/figures results data/processed _static/plotly.min.js
