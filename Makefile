SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000

.PHONY: run test lint typecheck template-lint scan audit openapi unit integration e2e build bench bench-checks clean \
	forge-resource forge-validate forge-deploy
.PHONY: lock lock-check reproducible

# Every venv is installed from a hash-locked file that `make lock` writes (docs/SECURITY.md, "Supply
# chain"): pip refuses any file whose sha256 is not in the lock, and takes wheels only, so no unlocked
# build dependency runs either. --clear: the venv holds the lock's packages and nothing left over.
PIP_LOCKED := pip install --quiet --require-hashes --only-binary :all:

# $(call locked_venv,<venv>,<lock>): a fresh venv holding exactly the lock. The interpreter's bundled pip
# may be too old for the lock (pip 23.2, Python 3.11's, refuses aws-sam-cli's `boto3[crt]` under
# --require-hashes), so the pip the lock pins goes in first: its own lines of the same lock, hashes and all.
define locked_venv
	$(PYTHON) -m venv --clear $(1)
	awk '/^pip==/{p=1} p{print} p && !/\\$$/{exit}' $(2) > $(1)/pip.lock
	$(1)/bin/$(PIP_LOCKED) -r $(1)/pip.lock
	$(1)/bin/$(PIP_LOCKED) -r $(2)
	touch $(1)/bin/activate
endef

$(BIN)/activate: requirements-dev.lock
	$(call locked_venv,$(VENV),requirements-dev.lock)

## Start the local stack on http://127.0.0.1:$(PORT) (Ctrl-C stops it).
run: $(BIN)/activate
	PORT=$(PORT) $(BIN)/python -m local

## The whole suite: lint, types, template lint, security scanners, the Forge manifest, unit, integration and
## end-to-end tests.
test: lint typecheck template-lint scan forge-validate
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

$(SAM_VENV)/bin/activate: requirements-sam.lock
	$(call locked_venv,$(SAM_VENV),requirements-sam.lock)

## Lint template.yaml with cfn-lint, then let SAM transform and lint it (both run locally).
template-lint: $(BIN)/activate $(SAM_VENV)/bin/activate
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region us-east-1

# checkov gets a venv of its own too: it pins an older boto3 than the one the code is tested with.
CHECKOV_VENV := .venv-checkov

$(CHECKOV_VENV)/bin/activate: requirements-checkov.lock
	$(call locked_venv,$(CHECKOV_VENV),requirements-checkov.lock)

## Security scanners, all offline: bandit on the code (no medium or high finding may remain) and
## checkov on template.yaml (no failed check; each skip is justified in the resource's Metadata).
scan: $(BIN)/activate $(CHECKOV_VENV)/bin/activate
	$(BIN)/bandit --recursive layers functions local --severity-level medium --quiet
	@echo "bandit: no medium or high severity issue in layers/ functions/ local/"
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

## Known vulnerabilities in exactly what the locks pin: the layer (what ships) and the dev environment
## (pip-audit asks PyPI's JSON API, so this needs that network access). --strict: a dependency that
## could not be audited fails the run; it never passes silently. Not part of `make test`: see docs/SECURITY.md.
AUDITED_LOCKS := layers/shared/requirements.lock layers/shared/requirements-no-deps.lock requirements-dev.lock
audit: $(BIN)/activate
	$(BIN)/pip-audit --strict --progress-spinner off --disable-pip --require-hashes \
	  $(addprefix --requirement ,$(AUDITED_LOCKS)) \
	  || { echo "pip-audit FAILED: a known vulnerability, or a dependency that could not be audited (is https://pypi.org/pypi/<name>/<version>/json reachable?)" >&2; exit 1; }

# cyclonedx-bom has a venv of its own: its jsonschema format checkers would change the dev tools' validation.
SBOM_VENV := .venv-sbom

$(SBOM_VENV)/bin/activate: requirements-sbom.lock
	$(call locked_venv,$(SBOM_VENV),requirements-sbom.lock)

## Build the layer and functions for arm64 into .aws-sam/build (no Docker needed), then the layer's
## CycloneDX SBOM and license list next to it (.aws-sam/build/sbom.cdx.json, licenses.txt), and the
## tests that prove they name every distribution in the built layer at its exact, locked version.
build: $(SAM_VENV)/bin/activate $(SBOM_VENV)/bin/activate $(BIN)/activate
	export PYENV_VERSION=$(SAM_PYENV_VERSION); $(SAM) build --template template.yaml
	$(PYTHON) -m scripts.sbom --sbom-python $(SBOM_VENV)/bin/python .aws-sam/build
	$(BIN)/pytest tests/build -p no:cacheprovider

## Build the layer twice from the same locks into two scratch folders and compare every file's bytes.
reproducible:
	export PYENV_VERSION=$(SAM_PYENV_VERSION); $(PYTHON) -m scripts.reproducible

UV_VENV := .venv-uv

$(UV_VENV)/bin/activate: requirements-uv.lock
	$(call locked_venv,$(UV_VENV),requirements-uv.lock)

## Resolve every lock again after a requirements*.txt changed (uv pip compile --generate-hashes) and
## print each change as "package: old -> new". A pin that still fits stays; UPGRADE=all moves everything
## to the newest fitting versions, UPGRADE="name other" just those (README, "Dependencies").
lock: $(UV_VENV)/bin/activate
	$(PYTHON) -m scripts.locks lock --uv $(UV_VENV)/bin/uv \
	  $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach name,$(UPGRADE),--upgrade-package $(name)))

## Offline: fail when a lock no longer pins what its requirements file or pyproject.toml declares.
lock-check:
	$(PYTHON) -m scripts.locks check

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
	rm -rf $(VENV) $(CHECKOV_VENV) $(SBOM_VENV) $(UV_VENV) .aws-sam .bench .pytest_cache .mypy_cache .ruff_cache \
	  forge/node_modules forge/static

## After `sam deploy`: a read-only smoke check of the deployed stack (docs/DEPLOYMENT.md), with your AWS
## credentials and region: make smoke STACK=<stack name>
.PHONY: smoke
smoke: $(BIN)/activate
	@test -n "$(STACK)" || { echo "usage: make smoke STACK=<stack name>" >&2; exit 2; }
	$(BIN)/python -m scripts.smoke --stack "$(STACK)"
