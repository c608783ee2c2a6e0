# One command per job. `make test` is what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
# Use the uv on PATH, else bootstrap a private copy into .tools/ (only Python >= 3.11 needed).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
# Children (the CDK app's bundler, benchmarks, tests) run this uv too, even when it is not on PATH.
export UV
HOST ?= 127.0.0.1
PORT ?= 8000
MOTO_PORT ?= 5000
GATEWAY_PORT ?= 3000
# uv never downloads an interpreter for make's commands. The user's own setting is kept for
# `make gateway`, which offers `uv python install 3.13` only where uv may download one.
export USER_UV_PYTHON_DOWNLOADS := $(UV_PYTHON_DOWNLOADS)
export UV_PYTHON_DOWNLOADS := never
# Write bytecode caches (.venv/ and __pycache__/, git-ignored) even where the environment sets
# PYTHONDONTWRITEBYTECODE, as many container images do: without them every process compiles all
# it imports again, each test worker and server the suite starts (collection: 23 s → 9 s).
unexport PYTHONDONTWRITEBYTECODE
STAGE ?= dev
# More CDK knobs for synth/deploy/destroy, the preflight and gateway, e.g. CONTEXT="-c reserved-concurrency=50".
CONTEXT ?=
TEST_WORKERS ?= 2
CDK := npx --no-install cdk

.PHONY: help setup setup-serve check run gateway smoke verify load capacity test fuzz lint format token openapi bench bench-greeting bench-dynamodb bench-lambda bench-runtime bench-cost moto dynamodb-table clean synth deploy destroy npm-ci

# Variables that the help texts below name, such as $(PORT): `make help` shows their values in
# the text and names each knob after it ("… [PORT=8000]"): `make run PORT=8001` moves it.
HELP_VARS = $(sort $(shell grep -ohE '## .*' $(MAKEFILE_LIST) | grep -oE '\$$\([A-Z_]+\)' | tr -d '$$()'))

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | $(foreach v,$(HELP_VARS),$(v)='$($(v))') awk -F':.*## ' \
		'{ text = $$2; knobs = ""; \
		   while (match(text, /\$$\([A-Z_]+\)/)) { name = substr(text, RSTART + 2, RLENGTH - 3); \
		     if (index(knobs, " " name "=") == 0) knobs = knobs " " name "=" ENVIRON[name]; \
		     text = substr(text, 1, RSTART - 1) ENVIRON[name] substr(text, RSTART + RLENGTH) } \
		   if (knobs != "") text = text " [" substr(knobs, 2) "]"; \
		   printf "  make %-16s %s\n", $$1, text }'

# On stderr, so that what a command prints on stdout (`make token`) stays its answer alone.
$(CURDIR)/.tools/bin/uv:
	@echo "installing uv $(UV_VERSION) into .tools/ (none on PATH)" >&2
	@$(PYTHON) -m venv $(CURDIR)/.tools >&2
	@$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" >&2

setup: $(UV) ## Install everything (app, tests, lint, CDK) into .venv, as locked
	$(UV) sync --locked --all-extras

# Serving needs the app and its extras only; --inexact keeps what `make setup` added.
SYNC_SERVE := $(UV) sync --locked --inexact --all-extras --no-default-groups
setup-serve: $(UV)
	$(SYNC_SERVE)

# Servers run from the environment's own interpreter, not under `uv run`: a terminal's Ctrl-C
# reaches the whole process group and `uv run` forwards it once more, which uvicorn takes for a
# second Ctrl-C ("force quit"). With `exec` the server is the one process make waits for.
VENV_PYTHON := $(or $(UV_PROJECT_ENVIRONMENT),$(CURDIR)/.venv)/bin/python

run: setup-serve ## Serve the API on http://$(HOST):$(PORT) (store: STORE_URL, default SQLite)
	exec $(VENV_PYTHON) -m app.server --host $(HOST) --port $(PORT)

GATEWAY_ARGS ?=
# STAGE picks the stack (--stage); make would also hand it to the gateway's environment, where the
# app would take it for its own stage (and refuse the development issuer's local keys in prod).
# The local Lambda runtime reads the function from the synthesized stack, and the CDK's jsii runs
# on the pinned Node (npm-ci); the handler in the gateway's process (--in-process) needs neither.
gateway: setup $(if $(filter --in-process,$(GATEWAY_ARGS)),,npm-ci) ## API Gateway → local Lambda runtime (needs CPython 3.13) on http://$(HOST):$(GATEWAY_PORT), the $(STAGE) stack with CONTEXT's knobs (CPU scaled to memory-mb where cgroups allow); GATEWAY_ARGS=--in-process: the handler in this process instead; JWT: make token
	exec env -u STAGE $(VENV_PYTHON) -m devtools.gateway --host $(HOST) --port $(GATEWAY_PORT) --stage $(STAGE) $(CONTEXT) $(GATEWAY_ARGS)

# BASE_URL and TOKEN (given on make's command line or in the environment) reach pytest through the
# environment: the bearer token never appears in a line that make echoes.
smoke: setup ## Black-box end-to-end suite against BASE_URL=<url> [TOKEN=<jwt>] (any running instance)
	@test -n "$$BASE_URL" || { echo 'set BASE_URL=<url of a running instance> (and TOKEN=<jwt> if it needs one)'; exit 2; }
	@echo "BASE_URL=$$BASE_URL TOKEN=$${TOKEN:+<hidden>} $(UV) run --no-sync pytest -p no:cacheprovider smoke"
	@$(UV) run --no-sync pytest -p no:cacheprovider smoke

# TOKEN (command line or environment) reaches the check through the environment, as for smoke.
CREATE_USER ?=
verify: setup ## Prove the deployed $(STAGE) stack works: outputs, public routes, 401, TOKEN=<jwt> or CREATE_USER=1 (a test user, deleted after), smoke suite, an alarm's mail
	@$(UV) run --no-sync python -m infra.verify -c stage=$(STAGE) $(CONTEXT) $(if $(CREATE_USER),--create-user)

# The load harness (devtools/load, docs/load.md). TOKEN, like smoke's, reaches it through the
# environment and never appears in an echoed line; without one, a local target gets a token from
# the development issuer. A URL that is not a loopback address needs REMOTE=1.
URL ?= http://$(HOST):$(PORT)
RATE ?= 50
SECONDS ?= 10
MIX ?=
REMOTE ?=
LOAD_ARGS ?=
load: setup-serve ## Open-loop load on $(URL) at $(RATE) req/s for $(SECONDS) s (MIX=hi:1,get:5,… TOKEN=<jwt> REMOTE=1 LOAD_ARGS=--help): var/load/report.{json,md} + chart.svg; exit 0/1 SLO met/missed, 2 invalid or refused
	$(VENV_PYTHON) -m devtools.load "$(URL)" --rate "$(RATE)" --seconds "$(SECONDS)" $(if $(MIX),--mix "$(MIX)") $(if $(REMOTE),--remote) $(LOAD_ARGS)

LINT := $(UV) run --no-sync ruff check . && $(UV) run --no-sync ruff format --check . \
	&& $(UV) run --no-sync mypy

lint: setup ## ruff (lint + format check) and mypy --strict
	$(LINT)

# The lint runs beside the tests: mypy keeps one core busy for about 30 s on a fresh clone while
# the tests mostly wait on servers and subprocesses. Its report is printed when the tests end;
# either failing fails `make test`.
test: setup npm-ci ## Lint and the whole test suite side by side, $(TEST_WORKERS) pytest workers (what CI runs)
	@mkdir -p var
	@echo "lint (ruff, mypy --strict) → var/lint.log, beside: pytest -n $(TEST_WORKERS) --dist loadgroup"
	@( $(LINT) ) > var/lint.log 2>&1 & lint=$$!; \
	$(UV) run --no-sync pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15; tests=$$?; \
	wait $$lint; linted=$$?; \
	echo "== lint (ruff, mypy --strict):"; cat var/lint.log; \
	[ $$linted -eq 0 ] || echo "make test: lint failed (above)"; \
	[ $$tests -eq 0 ] && [ $$linted -eq 0 ]

# --no-header, not -q: with -q and output that is not a terminal, xdist prints "bringing up
# nodes..." twice, where without it prints how many workers and tests.
check: lint ## Edit loop: lint, then the fast tests in one store/transport cell (< 60 s)
	TEST_CELLS=sqlite-asgi $(UV) run --no-sync pytest --no-header -n $(TEST_WORKERS) -m "not slow"

SUB ?= dev-user
# Prints the token and nothing else (TOKEN=$$(make token) works): the sync is quiet.
token: $(UV) ## Print a 15-minute bearer token from the local development issuer for $(SUB)
	@$(SYNC_SERVE) --quiet
	@$(VENV_PYTHON) -m devtools.dev_issuer --sub "$(SUB)"
# The deployed API's document, for client generators (docs/clients.md); a test keeps it current.
openapi: setup ## Write the OpenAPI document to docs/openapi.json and docs/openapi.yaml
	$(UV) run --no-sync python -m devtools.openapi

fuzz: setup ## Deep schemathesis run (many examples, every store and transport)
	FUZZ_PROFILE=deep FULL_MATRIX=1 $(UV) run --no-sync pytest -s tests/e2e/test_fuzz.py

format: setup ## Apply ruff's fixes and formatting
	$(UV) run --no-sync ruff check --fix .
	$(UV) run --no-sync ruff format .

bench: $(UV) npm-ci ## Every benchmark vs its baseline: table, var/bench/report.md + chart.png (minutes)
	$(UV) sync --locked --all-extras --group bench
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
		|| echo "wrk not installed: throughput load comes from aiohttp (a lower bound)"
	$(UV) run --no-sync python -m bench

bench-greeting: setup ## 1,000 concurrent GET /hi (GREET_DELAY=3) against one uvicorn worker
	$(UV) run --no-sync python -m bench.greeting

bench-dynamodb: setup ## Store latency per operation against moto, import cost of aiodynamo+httpcore
	$(UV) run --no-sync python -m bench.dynamodb_store

moto: setup ## Serve moto's DynamoDB emulator on http://127.0.0.1:$(MOTO_PORT) (in-memory)
	exec $(VENV_PYTHON) -m moto.server -H 127.0.0.1 -p $(MOTO_PORT)

dynamodb-table: setup ## Create the table a dynamodb:// STORE_URL names (idempotent)
	@test -n "$$STORE_URL" || { echo 'set STORE_URL=dynamodb://<table>?endpoint=...'; exit 2; }
	$(UV) run --no-sync python -m app.store.dynamodb.admin create --url "$$STORE_URL"

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

npm-ci: node_modules/.package-lock.json ## Install the pinned CDK CLI and the Node it runs on (npm ci)

synth: setup npm-ci ## Synthesize the $(STAGE) stack's CloudFormation template into cdk.out/ (offline; STAGE=dev|prod)
	$(CDK) synth -c stage=$(STAGE) $(CONTEXT) --quiet

deploy: setup npm-ci ## Deploy the $(STAGE) stack with your AWS credentials (STAGE=dev|prod)
	@$(UV) run --no-sync python -m infra.preflight deploy -c stage=$(STAGE) $(CONTEXT)
	$(CDK) deploy -c stage=$(STAGE) $(CONTEXT) --require-approval broadening

destroy: setup npm-ci ## Delete the $(STAGE) stack (STAGE=dev|prod; prod: termination-protected; keeps table, logs, user pool, alarm key)
	@$(UV) run --no-sync python -m infra.preflight destroy -c stage=$(STAGE) $(CONTEXT)
	$(CDK) destroy -c stage=$(STAGE) $(CONTEXT)

# The traffic scenario of `make capacity`: RATE and MIX as `make load`'s (RATE the mean requests
# a second; MIX empty: the model's default mix); more in CAPACITY_ARGS (--peak, --owner-share,
# --store-ms, --arrival; see `python -m devtools.capacity --help`).
CAPACITY_ARGS ?=
capacity: setup npm-ci ## Capacity and monthly cost at $(RATE) req/s of MIX on the $(STAGE) stack (+CONTEXT), from var/load/report.json if any → var/capacity/report.json
	$(UV) run --no-sync python -m devtools.capacity --rate "$(RATE)" $(if $(MIX),--mix "$(MIX)") \
		--stage $(STAGE) --context "$(CONTEXT)" $(CAPACITY_ARGS)

bench-runtime: setup npm-ci ## Init, restore and warm invocations through the local Lambda runtime vs in-process
	$(UV) run --no-sync python -m bench.runtime

bench-cost: setup npm-ci ## Warm CPU, billed duration, memory and cost per request vs Powertools+boto3 (local runtime)
	$(UV) run --no-sync python -m bench.warm_cost

bench-lambda: setup ## Warm Lambda invocations: the handler vs a minimal FastAPI+Mangum app
	$(UV) run --no-sync python -m bench.warm

clean: ## Remove local environments and caches (keeps var/ data)
	rm -rf .venv .tools .mypy_cache .pytest_cache .ruff_cache node_modules cdk.out
