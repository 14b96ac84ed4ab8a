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

PARAMS ?= params/default.yaml

.PHONY: book test setup data notebooks html bench clean

book: data ## full build: set-up, data, every chapter on $(PARAMS), the HTML book in _build/<set>/html
	$(PY) -m intercity build --params $(PARAMS)

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

data: setup ## build (or reuse) the cached bundle and transfers
	$(PY) -m intercity data prepare --params $(PARAMS)

notebooks: data ## execute the chapters only (no HTML)
	$(PY) -m intercity build --params $(PARAMS) --no-html

html: setup ## render the staged chapters of $(PARAMS) again (refused if they mix parameter sets)
	$(PY) -m intercity html --params $(PARAMS)

test: setup ## unit tests, the ci book (_build/ci) built, validated by nbval and opened in a browser
	$(PY) -m pytest -q

bench: setup ## timings of the stages, written as JSON to benchmarks/results/
	$(PY) benchmarks/pipeline.py --params params/default.yaml --out benchmarks/results/pipeline.json
	$(PY) benchmarks/measurement.py --out benchmarks/results/measurement.json
	$(PY) benchmarks/models.py --params params/default.yaml --out benchmarks/results/models.json
	$(PY) benchmarks/multiverse.py --out benchmarks/results/multiverse.json

clean:
	rm -rf _build results data/processed book/*.ipynb book/figures _static/plotly.min.js
