# colorcourse: the two set-up commands are `make course` and `make test`.
# Everything else here is a step they call, usable on its own.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
KERNEL := $(VENV)/share/jupyter/kernels/colorcourse/kernel.json
DATA   ?= data
PACK   := $(DATA)/coursepack/manifest.csv

.PHONY: course test env data browser models lab benchmark clean-build

# The course's main job: environment, course pack, every lesson executed headless at its
# default parameters (executed notebooks and HTML under build/course/).
course: env data
	$(BIN)/python -m colorcourse.lessons run --out build/course

# The whole test suite, lessons included (executed with their small CI parameters).
test: env data browser
	$(BIN)/python -m pytest

env: $(STAMP) $(LAB_SETTINGS) $(KERNEL)

# The lessons' own Jupyter kernel, "Python (colorcourse)": this environment's Python, so a hub
# or a JupyterLab with other environments opens the lessons in the one with colorcourse.
$(KERNEL): $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name colorcourse --display-name "Python (colorcourse)"

# JupyterLab settings of the course (jupyter/overrides.json): no "Jupyter news?" question over
# the lessons, no update check (the lessons run offline). JupyterLab reads them from the venv.
$(LAB_SETTINGS): jupyter/overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp jupyter/overrides.json $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# The offline course pack of real photographs (idempotent: reruns reuse what is there).
data: env
	$(BIN)/python data_scripts/build_course_pack.py --data $(DATA)

# Debian's chromium for the JupyterLab browser test (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }; \
	  else \
	    echo "chromium is not installed (sudo apt-get install chromium); the browser test will be skipped"; \
	  fi; }

# Retrain the default models shipped in models/ (seeded; writes to build/models unless --force).
models: env data
	$(BIN)/python -m colorcourse.train_defaults --out build/models

lab: env
	$(BIN)/jupyter lab build/course 2>/dev/null || $(BIN)/jupyter lab notebooks

benchmark: env
	$(BIN)/python benchmarks/run_all.py

clean-build:
	rm -rf build
