# GlueLLM developer commands. Needs only python3 (3.11+), pip, git and make:
# uv is installed into .tools/ on first use, and the workspace into .venv/.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
CORE_VENV := .venv-core
export UV_PYTHON_DOWNLOADS := never
# Trust the platform's certificate store (as pip does), not only uv's bundled roots:
# needed behind TLS-inspecting proxies, harmless elsewhere. Older uv reads UV_NATIVE_TLS.
export UV_SYSTEM_CERTS := 1
export UV_NATIVE_TLS := 1
export UV_PYTHON := $(PYTHON)
# Every workspace member's sources: core, plugins/*, and the top-level gluellm_plugins_*.
MYPY_PATHS := core/src $(wildcard plugins/*/src) $(wildcard gluellm_plugins_*/src)
# MLflow (the telemetry tests' tracking server) in a venv of its own, cached under .tools/.
MLFLOW_VENV := $(TOOLS)/mlflow
MLFLOW_SPEC := mlflow>=3.6,<4

.PHONY: demo test test-all test-core lint docs docs-serve format sync bench clean mlflow-venv

demo: $(VENV)/.synced ## Run the offline demo (uses a real model when an API key is set)
	$(VENV)/bin/gluellm demo

test: test-all test-core ## The whole test suite: everything installed, then core alone

# Shuffled (pytest-randomly prints its seed; replay an order with --randomly-seed=N)
# and in parallel (pytest-xdist): a test that needs another's leftovers fails here.
PYTEST_ORDER := -p randomly -n 2

test-all: $(VENV)/.synced $(MLFLOW_VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ORDER)

# tests/core must pass with only the core distribution installed.
test-core: $(CORE_VENV)/.synced
	$(CORE_VENV)/bin/pytest tests/core -p no:cacheprovider $(PYTEST_ORDER)

lint: $(VENV)/.synced ## ruff (lint + format check), mypy --strict on the sources, docs build
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(MYPY_PATHS)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Material for MkDocs prints an end-of-life banner on every build; the build is what matters.
docs: export NO_MKDOCS_2_WARNING := 1
docs: $(VENV)/.synced ## Build the docs site strictly (API reference from the docstrings) into site/
	$(VENV)/bin/mkdocs build --strict

docs-serve: export NO_MKDOCS_2_WARNING := 1
docs-serve: $(VENV)/.synced ## Serve the docs site with live reload on http://127.0.0.1:8000
	$(VENV)/bin/mkdocs serve

format: $(VENV)/.synced
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

sync: $(UV) ## Re-lock after changing dependencies, and install
	$(UV) lock
	$(UV) sync --all-packages
	touch $(VENV)/.synced

bench: $(VENV)/.synced ## Benchmarks (not part of the test suite)
	$(VENV)/bin/python benchmarks/run.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml core/pyproject.toml $(wildcard plugins/*/pyproject.toml) $(wildcard gluellm_plugins_*/pyproject.toml) $(wildcard docs/examples/*/pyproject.toml)
	$(UV) sync --all-packages --locked
	touch $@

mlflow-venv: $(MLFLOW_VENV)/.installed ## MLflow server for the telemetry tests (~2 min, ~850 MB, once)

$(MLFLOW_VENV)/.installed:
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check "$(MLFLOW_SPEC)"
	touch $@

$(CORE_VENV)/.synced: $(UV) uv.lock core/pyproject.toml
	UV_PROJECT_ENVIRONMENT=$(CORE_VENV) $(UV) sync --locked --package gluellm --group test
	touch $@

clean:
	rm -rf $(VENV) $(CORE_VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
