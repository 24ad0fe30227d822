SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000

.PHONY: run test lint typecheck template-lint scan audit openapi unit integration e2e build bench bench-checks clean

$(BIN)/activate: requirements-dev.txt layers/shared/requirements.txt layers/shared/requirements-no-deps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

## Start the local stack on http://127.0.0.1:$(PORT) (Ctrl-C stops it).
run: $(BIN)/activate
	PORT=$(PORT) $(BIN)/python -m local

## The whole suite: lint, types, template lint, security scanners, unit, integration and end-to-end tests.
test: lint typecheck template-lint scan
	$(BIN)/pytest

## Least privilege's teeth: take each grant of the functions' roles (and of the key policy) out in
## turn and show which flows of tests/iam then fail; a grant no flow needs fails the run. Several
## minutes, so not part of `make test`; its table is in docs/SECURITY.md.
.PHONY: iam-ablation
iam-ablation: $(BIN)/activate
	PYTHONPATH=layers/shared:. $(BIN)/python -m tests.iam.ablation

## Only the end-to-end tests: the whole stack over HTTP, the settings page in Chromium, schemathesis.
e2e: $(BIN)/activate
	$(BIN)/pytest tests/e2e

## Regenerate docs/openapi.json from the functions' resolvers (a test fails while it is stale).
openapi: $(BIN)/activate
	$(BIN)/python -m scripts.openapi

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

# checkov gets a venv of its own too: it pins an older boto3 than the one the code is tested with.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/bin/activate:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV_VENV)/bin/activate

## Security scanners, all offline: bandit on the code (no medium or high finding may remain) and
## checkov on template.yaml (no failed check; each skip is justified in the resource's Metadata).
scan: $(BIN)/activate $(CHECKOV_VENV)/bin/activate
	$(BIN)/bandit --recursive layers functions local --severity-level medium --quiet
	@echo "bandit: no medium or high severity issue in layers/ functions/ local/"
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

## Known vulnerabilities in the pinned dependencies (pip-audit asks PyPI's JSON API, so this needs
## that network access). --strict: a dependency that could not be audited fails the run; it never
## passes silently. Not part of `make test`: see docs/SECURITY.md.
audit: $(BIN)/activate
	$(BIN)/pip-audit --strict --progress-spinner off --requirement requirements-dev.txt \
	  || { echo "pip-audit FAILED: a known vulnerability, or a dependency that could not be audited (is https://pypi.org/pypi/<name>/<version>/json reachable?)" >&2; exit 1; }

## Build the layer and functions for arm64 into .aws-sam/build (no Docker needed).
build: $(SAM_VENV)/bin/activate
	export PYENV_VERSION=$(SAM_PYENV_VERSION); $(SAM) build --template template.yaml

## Performance figures of docs/PERFORMANCE.md, from one run on this machine: cold init and warm
## handler time against their baselines, calls per request, footprint after sam build (a few minutes).
bench: $(BIN)/activate $(SAM_VENV)/bin/activate
	export PYENV_VERSION=$(SAM_PYENV_VERSION); SAM=$(SAM_VENV)/bin/sam $(BIN)/python -m bench.run

## 10,000 tenants through the check dispatcher and worker, over moto, Atlassian simulated at +100 ms.
bench-checks: $(BIN)/activate
	$(BIN)/python -m bench.checks

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .bench .pytest_cache .mypy_cache .ruff_cache
