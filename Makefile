SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000

.PHONY: run test lint typecheck template-lint unit integration e2e build clean bench bench-checks

$(BIN)/activate: requirements-dev.txt layers/shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

## Start the local stack on http://127.0.0.1:$(PORT) (Ctrl-C stops it).
run: $(BIN)/activate
	PORT=$(PORT) $(BIN)/python -m local

## The whole suite: lint, types, template lint, unit, integration and end-to-end tests.
test: lint typecheck template-lint
	$(BIN)/pytest

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/activate
	$(BIN)/mypy

# aws-sam-cli gets a venv of its own: its pins clash with the dev tools in $(VENV).
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# sam build needs python3.13 (the Lambda runtime); this selects it where pyenv provides it and is
# ignored elsewhere. Applied to sam's recipes only, so $(VENV) keeps $(PYTHON).
SAM_PYENV_VERSION ?= 3.13.0:3.11.7

$(SAM_VENV)/bin/activate:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==1.148.0
	touch $(SAM_VENV)/bin/activate

## Lint template.yaml with cfn-lint, then let SAM transform and lint it (both run locally).
template-lint: $(BIN)/activate $(SAM_VENV)/bin/activate
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region us-east-1

## Build the layer and functions for arm64 into .aws-sam/build (no Docker needed).
build: $(SAM_VENV)/bin/activate
	export PYENV_VERSION=$(SAM_PYENV_VERSION); $(SAM) build --template template.yaml

## Benchmarks (not tests: they take minutes and print figures; see docs/PERFORMANCE.md).
bench: bench-checks

## 10,000 tenants through the check dispatcher and worker, over moto, Atlassian simulated at +100 ms.
bench-checks: $(BIN)/activate
	$(BIN)/python -m bench.checks

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
