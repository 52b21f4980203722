# The README's two commands: `make test` (whole suite) and `make run` (the product on local emulators).
# Every target installs what it needs first, so both work on a fresh clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: test lint typecheck unit proof run bench deps clean checkov

deps: $(VENV)/.stamp node_modules/.stamp

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .  # the aks-connector console script
	touch $@

# Azurite (Table Storage, AzureWebJobsStorage) comes from npm, pinned in package-lock.json.
node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The az CLI's SDK (azure-mgmt-servicelinker 1.2.0b3) cannot live beside 1.1.0 in .venv: the e2e tests drive it
# from this side virtualenv (tests/e2e/sdk_preview/driver.py); their fixture makes this target when needed.
SDK_PREVIEW_VENV := .venv-sdk-preview
$(SDK_PREVIEW_VENV)/.stamp: requirements-sdk-preview.txt
	test -x $(SDK_PREVIEW_VENV)/bin/python || $(PYTHON) -m venv $(SDK_PREVIEW_VENV)
	$(SDK_PREVIEW_VENV)/bin/python -m pip install --quiet -r requirements-sdk-preview.txt
	touch $@

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.stamp
	$(VENV)/bin/mypy connector
	$(VENV)/bin/mypy function_app.py triggers orchestrators activities telemetry
	$(VENV)/bin/mypy --strict aks_connector

# checkov scans infra/ from its own virtualenv (.venv-checkov: its pins would clash with the app's). The gate
# fails on a failed check, a file checkov could not parse, or a skip without its reason inline.
VENV_CHECKOV := .venv-checkov
$(VENV_CHECKOV)/.stamp: requirements-checkov.txt
	test -x $(VENV_CHECKOV)/bin/python || $(PYTHON) -m venv $(VENV_CHECKOV)
	$(VENV_CHECKOV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

checkov: $(VENV_CHECKOV)/.stamp
	$(VENV_CHECKOV)/bin/python tests/infra/checkov_gate.py $(VENV_CHECKOV)/bin/checkov infra

# The whole suite. Tests start the services they need (emulators in-process, Azurite by PID) themselves.
test: deps $(SDK_PREVIEW_VENV)/.stamp lint typecheck checkov
	$(PY) -m pytest $(PYTEST_ARGS)

# The reliability proofs' long form (tests/reliability at full scale: 20,000 schemathesis cases, 50 crash runs,
# 500 connections under throttling, ...); prints the figures the README's "Reliability" section quotes.
proof: deps
	PROOF_SCALE=full $(PY) -m pytest tests/reliability --timeout=3600 $(PYTEST_ARGS)

unit: $(VENV)/.stamp
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The product on this machine: Azurite, the ARM, kube and Service Bus emulators and devhost on 127.0.0.1:7071.
# Prints how to create a connection; Ctrl-C stops everything it started. RUN_ARGS=--fast skips emulated delays.
RUN_ARGS ?=
run: deps
	$(PY) scripts/run_local.py $(RUN_ARGS)

bench: deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(VENV_CHECKOV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
