# One command per job. `make test` is what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
# Use the uv on PATH, else bootstrap a private copy into .tools/ (only Python >= 3.11 needed).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup run test lint format bench-greeting bench-lambda clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

setup: $(UV) ## Install the locked dependencies into .venv
	$(UV) sync --locked --all-extras

run: setup ## Serve the API on http://$(HOST):$(PORT) with the SQLite store
	$(UV) run --no-sync uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT)

lint: setup ## ruff (lint + format check) and mypy --strict
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy

test: lint ## Lint, then the whole test suite
	$(UV) run --no-sync pytest

format: setup ## Apply ruff's fixes and formatting
	$(UV) run --no-sync ruff check --fix .
	$(UV) run --no-sync ruff format .

bench-greeting: setup ## 1,000 concurrent GET /hi (GREET_DELAY=3) against one uvicorn worker
	$(UV) run --no-sync python -m bench.greeting

bench-lambda: setup ## Warm Lambda invocations: the handler vs a minimal FastAPI+Mangum app
	$(UV) run --no-sync python -m bench.warm

clean: ## Remove local environments and caches (keeps var/ data)
	rm -rf .venv .tools .mypy_cache .pytest_cache .ruff_cache
