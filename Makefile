# Two commands do all the set-up (see README):
#   make demo   create/reuse .venv, install, train the built-in demo
#   make test   create/reuse .venv, install, lint (ruff, mypy), run the tests
SHELL := /bin/bash
PYTHON_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Reinstall only when a requirements file or setup.py changes.
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt setup.py | sha1sum | cut -c1-12)

.PHONY: install demo test test-slow lint clean-venv

$(PY):
	$(PYTHON_SYS) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) requirements/runtime.txt requirements/tests.txt requirements/serve.txt setup.py
	@start=$$(date +%s); \
	$(PIP) install --quiet -r requirements/runtime.txt -r requirements/tests.txt -r requirements/serve.txt && \
	$(PIP) install --quiet --no-deps mmagic==1.2.0 && \
	$(PIP) install --quiet --no-deps -e . && \
	rm -f $(VENV)/.installed-* && touch $@ && \
	echo "Installed in $$(( $$(date +%s) - start )) s; venv size $$(du -sh $(VENV) | cut -f1)"

install: $(STAMP)

demo: install
	$(PY) tools/train.py configs/cyclegan_demo.py --overwrite

lint: install
	$(PY) -m ruff check mm_cyclegan tests tools configs benchmarks setup.py
	$(PY) -m mypy mm_cyclegan

test: lint
	$(PY) -m pytest

# Tests marked slow (minutes each; see docs/development.md). Exit 5,
# "nothing collected", is ok here, unlike in `make test`.
test-slow: install
	$(PY) -m pytest -m slow -o addopts="" || [ $$? -eq 5 ]

clean-venv:
	rm -rf $(VENV)
