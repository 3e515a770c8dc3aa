# HueGIS: `make run` installs what is missing and serves the platform; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSTEM_PACKAGES := gdal-bin chromium wrk python3-qgis qgis-providers

.PHONY: help install system venv run setup test lint typecheck bench scale-bench clean

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: system venv  ## Install system packages (as root) and the Python environment

system:  ## PostgreSQL + PostGIS and GDAL from Debian/Ubuntu packages (prints the command when not root)
	@bash .ci/install-system.sh $(SYSTEM_PACKAGES)

venv: $(STAMP)  ## The virtualenv with HueGIS and its dependencies

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: install  ## Start PostGIS, migrate, load Huế's layers, generate pygeoapi's OpenAPI document
	$(BIN)/huegis setup

run: install  ## Install what is missing, load the data and serve on http://127.0.0.1:8000
	$(BIN)/huegis serve

test: install lint  ## Lint, then run the test suite against a real PostGIS (a throwaway database)
	$(BIN)/python -m pytest

lint: venv  ## Ruff, mypy and the import contracts (cli > api > tiles > layers > geo; no web below api)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install  ## Benchmark against tipg, pygeoapi and raw SQL (BENCH_ARGS="--duration 20"; docs/benchmarks.md)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

scale-bench: install  ## The 0.2 M / 2 M report curve, one database each (SCALE_ARGS="--sizes 200000,2000000,20000000"; docs/scaling.md)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

clean:  ## Stop the local cluster and delete it with the virtualenv
	-$(BIN)/huegis db stop
	rm -rf .data $(VENV)
