# mllint developer commands. Everything runs inside a local virtualenv (.venv).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test docs docs-check bench accuracy install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

## Lint the bundled example ML project and show the report.
demo: install
	$(BIN)/mllint check examples/ --exit-zero

## Install dev dependencies and run the whole test suite.
test: dev
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

## Regenerate docs/rules/ from the catalogue in rules/.
docs: install
	$(BIN)/python -m mllint.docs.rule_pages
	$(BIN)/python -m mllint.docs.fix_pages

docs-check: install
	$(BIN)/python -m mllint.docs.rule_pages --check
	$(BIN)/python -m mllint.docs.fix_pages --check

## Benchmark against flake8, ruff and dslinter on a pinned corpus (slow; downloads into ~/.cache/mllint-bench).
bench: install
	$(BIN)/python -m bench

## Measured precision per rule on real code (../shared/dev-corpus + pinned PyPI examples, downloaded into ~/.cache/mllint-bench/accuracy).
accuracy: install
	$(BIN)/python -m bench.accuracy

clean:
	rm -rf $(VENV) build dist .pytest_cache .mllint_cache
