# smemu — two commands that work on a fresh machine with Python 3.11 and a C compiler:
#   make demo   set up .venv and run the demo
#   make test   set up .venv and run lint, types, the layer check and every test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROLES := protocols firmware devices hal hil tools

.PHONY: demo test lint typecheck pytest wheel-check clean

$(STAMP): pyproject.toml firmware/registers/_engine.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/smemu demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy cannot follow setuptools' editable-install finder, so it reads the package through a
# link tree that mirrors the installed layout (smemu/<role> -> <role>/).
# TC names the link tree, so that several checks can run side by side (make typecheck TC=.tc-a).
TC ?= .typecheck
typecheck: $(STAMP)
	rm -rf $(TC) && mkdir -p $(TC)/smemu
	for f in src/smemu/*; do ln -s ../../$$f $(TC)/smemu/; done
	for d in $(ROLES); do if [ -f $$d/__init__.py ]; then ln -s ../../$$d $(TC)/smemu/$$d; fi; done
	MYPYPATH=$(TC) $(BIN)/mypy --cache-dir $(TC)/.mypy_cache -p smemu

pytest: $(STAMP)
	$(BIN)/pytest

# Proves a plain (non-editable) install works: build the wheel, install it into a fresh
# venv, and run the installed command from outside the source tree.
wheel-check: $(STAMP)
	rm -rf build/wheel-check && mkdir -p build/wheel-check
	$(BIN)/python -m pip wheel --quiet --no-deps -w build/wheel-check/dist .
	$(PYTHON) -m venv build/wheel-check/venv
	build/wheel-check/venv/bin/python -m pip install --quiet build/wheel-check/dist/smemu-*.whl
	cd build/wheel-check && venv/bin/smemu --help >/dev/null && venv/bin/python -c \
	  "import smemu.protocols.gbcs, smemu.tools.cli, smemu.firmware.registers as r; \
	  assert r.IMPLEMENTATION == 'c', r.C_ERROR; print('wheel OK:', smemu.__file__, 'engine', r.IMPLEMENTATION)"

clean:
	rm -rf $(VENV) .typecheck build *.egg-info .mypy_cache .pytest_cache .ruff_cache
