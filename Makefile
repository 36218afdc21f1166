# Everything a fresh machine needs: `make demo` and `make test` set themselves up.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup dot browser demo test lint bench lesson pictures notebooks docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test,docs]'
	touch $(STAMP)

dot:
	@bash scripts/ensure-dot.sh

browser:
	@bash scripts/ensure-chromium.sh

demo: setup dot
	$(PY) -m lstm demo

lint: setup
	$(PY) -m ruff check .

test: setup dot browser lint
	$(PY) -m pytest -q

pictures: setup dot browser
	PY=$(PY) bash scripts/docs-pictures.sh

notebooks: setup dot
	$(PY) scripts/run-notebooks.py

# numpy on its native OpenBLAS kernel, as ../shared/bench/peers.py measures it
bench: setup
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 \
		$(PY) -m benchmarks.run

# docs/fusion.md: the compiler's passes one at a time, each with its plan's diff and times
lesson: setup
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 \
		$(PY) -m benchmarks.fusion_lesson

# the site, strict, into site/ (Material's notice about its successor is not about this site)
docs: setup dot
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis demo-output site
