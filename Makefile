# The front door. Two commands do all the set-up on a fresh machine that has
# Rust and Python 3:
#
#   make notebooks   execute every notebook, export .ipynb and HTML to build/notebooks/
#   make test        cargo test, then execute the notebooks under evcxr and check them
#
# Both install what is missing first: evcxr_jupyter (cargo install --locked,
# about 10 minutes the first time), Jupyter in .venv/, and the evcxr kernel
# registered inside .venv/, not in your home directory. `make test` also
# installs Debian's chromium, as root, for the browser test.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

EVCXR_VERSION := 0.22.0
VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
OUT := build/notebooks
# One stream output per cell, as Jupyter shows it live (a lone "\n" output
# would vanish from the HTML).
NBCONVERT := $(JUPYTER) nbconvert --CoalesceStreamsPreprocessor.enabled=True
KERNEL := $(VENV)/share/jupyter/kernels/rust/kernel.json
# The browser test's Chromium; another build of it can be named here.
export CHROMIUM ?= /usr/bin/chromium

# cargo install puts evcxr_jupyter here; Jupyter looks for kernels, config and
# runtime files inside the virtualenv.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
export JUPYTER_PATH := $(VENV)/share/jupyter
export JUPYTER_CONFIG_DIR := $(VENV)/etc/jupyter
export JUPYTER_DATA_DIR := $(VENV)/share/jupyter
export JUPYTER_RUNTIME_DIR := $(VENV)/share/jupyter/runtime

.PHONY: notebooks test setup browser lab refresh

notebooks: setup
	@mkdir -p $(OUT)
	@for notebook in notebooks/*.ipynb; do \
		name=$$(basename "$$notebook"); \
		echo "executing $$notebook"; \
		$(NBCONVERT) --to notebook --execute --ExecutePreprocessor.timeout=600 \
			--output-dir $(OUT) "$$notebook"; \
		$(NBCONVERT) --to notebook --inplace "$(OUT)/$$name"; \
		$(NBCONVERT) --to html --output-dir $(OUT) "$(OUT)/$$name"; \
	done
	@echo "Executed notebooks and their HTML are in $(OUT)/:"
	@ls -1 $(OUT)

# -rs: a skipped test says why at the end (the browser test without Chromium).
test: setup browser
	cargo test
	$(PYTHON) -m pytest -rs tests/notebooks

# Checked on every run, so that a missing evcxr_jupyter or kernel comes back.
setup: $(VENV)/installed
	@if ! command -v evcxr_jupyter >/dev/null; then \
		echo "installing evcxr_jupyter $(EVCXR_VERSION) (about 10 minutes on 2 cores)"; \
		cargo install --locked evcxr_jupyter --version $(EVCXR_VERSION); \
	fi
	@test -f $(KERNEL) || evcxr_jupyter --install

# The browser test drives Debian's Chromium (with Playwright, from .venv). As
# root, install it when it is missing; otherwise that test is skipped and says
# what to install.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium for the browser test"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -q; \
			apt-get install -y -q --no-install-recommends chromium; \
		else \
			echo "no $(CHROMIUM): the browser test will be skipped (install it with: apt-get install --no-install-recommends chromium)"; \
		fi; \
	fi

# Open the notebooks in JupyterLab, with the same environment (as root too).
lab: setup
	$(JUPYTER) lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

# Execute the notebooks in place, so that the committed outputs come from the
# current code (the tests compare a fresh run with them).
refresh: setup
	@for notebook in notebooks/*.ipynb; do \
		$(NBCONVERT) --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False \
			--ExecutePreprocessor.timeout=600 "$$notebook"; \
		$(NBCONVERT) --to notebook --inplace "$$notebook"; \
	done

$(VENV)/installed: notebooks/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r notebooks/requirements.txt
	touch $@
