# The front door. Two commands do all the set-up on a fresh machine that has
# Rust and Python 3:
#
#   make notebooks   execute every notebook, export .ipynb, HTML, PDF and Markdown to
#                    build/notebooks/
#   make test        the lints, cargo test, then execute the notebooks under evcxr and check them
#   make bench       time the notebook against the Python original (benches/bench.py)
#
# Both install what is missing first: the notebook's evcxr_jupyter, 0.22.0 with the
# patches in patches/ (tools/evcxr.py builds it once into ~/.cache/asyncio-rs/,
# about 10 minutes the first time; your own ~/.cargo/bin/evcxr_jupyter is left
# alone), the toolchain's rust-src (with rustup), Jupyter in .venv/, and the evcxr
# kernel registered inside .venv/, not in your home directory; the kernel starts through
# tools/kernel.py, which gives it a warm build slot of its own in .venv/evcxr/
# (`make slots` lists them, `make clean-slots` deletes them). As root, both also
# install Debian's chromium (the browser test; the PDF export) and `make test`
# poppler-utils (the PDF test reads the PDF with pdftotext and pdftoppm).
# Without Chromium, `make notebooks` skips the PDF and says so. On macOS nothing
# is installed: Chromium or Google Chrome is taken from /Applications.
# `make test` also type-checks the crate for macOS and Windows (check-targets).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
OUT := build/notebooks
# The Chromium that the browser test drives and that prints the PDF; another
# build of it can be named here. On macOS, Chromium's app or else Google Chrome's.
UNAME := $(shell uname -s)
ifeq ($(UNAME),Darwin)
MAC_CHROMIUM := /Applications/Chromium.app/Contents/MacOS/Chromium
export CHROMIUM ?= $(or $(shell for app in "$(MAC_CHROMIUM)" \
	"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; do \
	if [ -x "$$app" ]; then echo "$$app"; break; fi; done),$(MAC_CHROMIUM))
else
export CHROMIUM ?= /usr/bin/chromium
endif
ROUNDS := 3

# cargo and rustup, where rustup puts them; Jupyter looks for kernels, config and
# runtime files inside the virtualenv.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
export JUPYTER_PATH := $(VENV)/share/jupyter
export JUPYTER_CONFIG_DIR := $(VENV)/etc/jupyter
export JUPYTER_DATA_DIR := $(VENV)/share/jupyter
export JUPYTER_RUNTIME_DIR := $(VENV)/share/jupyter/runtime

.PHONY: notebooks test lint check-targets setup rust-src browser poppler lab refresh bench slots clean-slots

# Execute, coalesce each cell's streams into one output (as Jupyter shows them
# live) and export, in one Python process.
notebooks: setup browser
	$(PYTHON) tools/notebooks.py --out $(OUT) notebooks/*.ipynb
	@echo "Executed notebooks and their exports are in $(OUT)/:"
	@ls -1 $(OUT)

# -rs: a skipped test says why at the end (the browser and PDF tests without
# Chromium, the PDF tests without poppler-utils).
test: setup browser poppler lint
	cargo test
	@$(MAKE) --no-print-directory check-targets
	$(PYTHON) -m pytest -rs --durations=15 tests/notebooks

# Lints are part of the build (docs/testing.md#lints): rustfmt; clippy with warnings denied, on
# every target (it shares cargo's target directory, so only our crate is checked again);
# rustdoc's broken links (lib.rs's Layout names every module); ruff on the Python in tools/,
# benches/ and tests/ (pinned in notebooks/requirements.txt, settings in ruff.toml).
lint: $(VENV)/installed
	cargo fmt --check
	cargo clippy --all-targets --quiet -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
	$(VENV)/bin/ruff check --quiet tools benches tests

# The crate, its tests and examples type-checked for Apple's targets, warnings denied, with std
# built from the toolchain's rust-src (no Mac, no network); and for Windows, that the crate stops
# with its one error naming Windows (docs/platforms.md). Its own target directory, kept between
# runs: about 4 minutes the first time on 2 cores, a few seconds after.
APPLE_TARGETS := aarch64-apple-darwin x86_64-apple-darwin
CHECK := RUSTC_BOOTSTRAP=1 RUSTFLAGS="-D warnings" cargo check --quiet -Zbuild-std=std,panic_abort \
	--target-dir target/check-targets
check-targets: rust-src
	@library="$$(rustc --print sysroot)/lib/rustlib/src/rust/library"; \
	if [ ! -d "$$library" ]; then \
		echo "no rust-src in this toolchain: the macOS and Windows checks are skipped"; \
		exit 0; \
	fi; \
	echo "type-checking for $(APPLE_TARGETS)"; \
	$(CHECK) --all-targets $(APPLE_TARGETS:%=--target %); \
	echo "checking that x86_64-pc-windows-msvc stops with one error that names Windows"; \
	if windows="$$($(CHECK) --lib --target x86_64-pc-windows-msvc --message-format short 2>&1)"; then \
		echo "the crate compiled for Windows: expected its compile_error!"; exit 1; \
	fi; \
	if ! grep -q "due to 1 previous error" <<<"$$windows" || ! grep -q "not on Windows" <<<"$$windows"; then \
		echo "$$windows"; echo "expected exactly one error, naming Windows"; exit 1; \
	fi

# Checked on every run, so that a missing evcxr_jupyter or kernel comes back. The kernel starts
# through tools/kernel.py, which gives it a warm build slot of its own in .venv/evcxr/ (see
# docs/speed.md); `warm` fills the first slot, once, so that no reader's first kernel is cold.
setup: $(VENV)/installed rust-src
	@python3 tools/evcxr.py build
	@$(PYTHON) tools/kernel.py install
	@$(PYTHON) tools/kernel.py warm

# The standard library's sources, for the analyzer in the kernel: the types of a reader's untyped
# `let`s and Tab completion of std's items (docs/speed.md). rustup's default profile has no
# rust-src; without it, the kernel takes the types of untyped `let`s from rustc (patches/0004)
# but completes none of std. The checks for other targets build std from it too.
rust-src:
	@if [ ! -d "$$(rustc --print sysroot)/lib/rustlib/src/rust/library" ] && command -v rustup >/dev/null; then \
		echo "adding the toolchain's rust-src (rustup component add rust-src)"; \
		rustup component add rust-src; \
	fi

# The browser test and the PDF export drive Debian's Chromium (with Playwright,
# from .venv). As root, install it when it is missing; otherwise the browser
# and PDF tests are skipped, and the PDF export, each saying what to install.
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$(UNAME)" = Darwin ]; then \
			echo "no Chromium or Google Chrome in /Applications: the browser test and the PDF export will be skipped (install either, or name one with CHROMIUM=...)"; \
		elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium for the browser test"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -q; \
			apt-get install -y -q --no-install-recommends chromium; \
		else \
			echo "no $(CHROMIUM): the browser test and the PDF export will be skipped (install it with: apt-get install --no-install-recommends chromium)"; \
		fi; \
	fi

# The PDF test reads the PDF with poppler's pdftotext and pdftoppm; as root,
# install them when they are missing (otherwise that test is skipped, saying so).
poppler:
	@if ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null; then \
		if [ "$(UNAME)" = Darwin ]; then \
			echo "no pdftotext/pdftoppm: the PDF test will be skipped (install them with: brew install poppler)"; \
		elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's poppler-utils for the PDF test"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -q; \
			apt-get install -y -q --no-install-recommends poppler-utils; \
		else \
			echo "no pdftotext/pdftoppm: the PDF test will be skipped (install them with: apt-get install --no-install-recommends poppler-utils)"; \
		fi; \
	fi

# Open the notebooks in JupyterLab, with the same environment (as root too).
lab: setup
	$(JUPYTER) lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

# Execute the notebooks in place, so that the committed outputs come from the
# current code (the tests compare a fresh run with them).
refresh: setup
	$(PYTHON) tools/notebooks.py --inplace notebooks/*.ipynb

# The notebook against the Python original: see benches/bench.py and
# docs/speed.md. `make bench ROUNDS=5`;
# `make bench ARGS="--json build/bench/results.json"` keeps every run.
bench: setup
	$(PYTHON) benches/bench.py --rounds $(ROUNDS) $(ARGS)

$(VENV)/installed: notebooks/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r notebooks/requirements.txt
	$(PYTHON) -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

# The kernels' build slots in .venv/evcxr/: which are warm or taken, and their size; and
# deleting those no kernel holds (the next kernel compiles cold and warms one again).
slots: setup
	$(PYTHON) tools/kernel.py status

clean-slots:
	$(PYTHON) tools/kernel.py clean
