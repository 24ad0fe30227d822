SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000

.PHONY: run test lint typecheck template-lint scan audit openapi unit integration e2e build bench bench-checks clean \
	forge-resource forge-validate forge-deploy

$(BIN)/activate: requirements-dev.txt layers/shared/requirements.txt layers/shared/requirements-no-deps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

## Start the local stack on http://127.0.0.1:$(PORT) (Ctrl-C stops it).
run: $(BIN)/activate
	PORT=$(PORT) $(BIN)/python -m local

## The whole suite: lint, types, template lint, security scanners, the Forge manifest, unit, integration and
## end-to-end tests.
test: lint typecheck template-lint scan forge-validate
	$(BIN)/pytest

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

# The Forge side (forge/) has its own npm packages: @forge/manifest, @forge/bridge, esbuild. npm writes
# node_modules/.package-lock.json on every install, so it stands for "installed from this lock file".
FORGE_DEPS := forge/node_modules/.package-lock.json

$(FORGE_DEPS): forge/package.json forge/package-lock.json
	cd forge && npm ci --ignore-scripts --no-audit --no-fund

## The Forge Custom UI resource, forge/static/api-information: local/page/ plus @forge/bridge bundled by esbuild.
forge-resource: $(FORGE_DEPS)
	cd forge && node build.mjs

## forge/manifest.yml through Atlassian's validator (@forge/manifest: schema, modules, resource paths, the
## scopes its tokens need) and its scopes against the service's Jira calls (forge/service-calls.json).
forge-validate: forge-resource
	cd forge && node validate.mjs

# The stack whose ApiUrl output becomes the remote's baseUrl, and the Forge environment to deploy to.
STACK_NAME ?= flexible-user-license-api-info
FORGE_ENV ?= development

## Deploy the Forge app (needs the forge CLI, logged in, and AWS credentials that can read the stack).
forge-deploy: forge-validate
	@url=$$(aws cloudformation describe-stacks --stack-name $(STACK_NAME) \
	  --query "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue" --output text) && \
	  case "$$url" in https://*) ;; *) echo "no ApiUrl output on stack $(STACK_NAME)" >&2; exit 1;; esac && \
	  echo "remote api-info -> $$url" && \
	  cd forge && API_INFO_BASE_URL="$$url" forge deploy --environment $(FORGE_ENV) --non-interactive

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .bench .pytest_cache .mypy_cache .ruff_cache forge/node_modules forge/static

## After `sam deploy`: a read-only smoke check of the deployed stack (docs/DEPLOYMENT.md), with your AWS
## credentials and region: make smoke STACK=<stack name>
.PHONY: smoke
smoke: $(BIN)/activate
	@test -n "$(STACK)" || { echo "usage: make smoke STACK=<stack name>" >&2; exit 2; }
	$(BIN)/python -m scripts.smoke --stack "$(STACK)"
