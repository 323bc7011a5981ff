# courseflow: every command people, the README and CI use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COURSEFLOW := $(BIN)/courseflow
PYTEST_ARGS ?=

.PHONY: help
help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: venv
venv: $(STAMP) ## Create the virtualenv and install courseflow with its dev tools

.PHONY: lint
lint: $(STAMP) ## Ruff and mypy (strict)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: up
up: $(STAMP) ## Start local Kafka and PostgreSQL (cached under .local/)
	$(COURSEFLOW) stack up

.PHONY: down
down: $(STAMP) ## Stop everything started by make run/up (no process is left behind)
	$(COURSEFLOW) stack down

.PHONY: status
status: $(STAMP) ## Show what the local stack is running
	$(COURSEFLOW) stack status

.PHONY: tools
tools: ## Debian's docker-compose and prometheus (promtool): compose and alert checks (installed when root)
	@tools/ensure-docker-compose.sh
	@tools/ensure-prometheus.sh

.PHONY: test
test: lint tools ## The full test suite against real Kafka and PostgreSQL (starts and stops them)
	status=0; $(COURSEFLOW) stack up && $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	  $(COURSEFLOW) stack down; exit $$status

.PHONY: test-unit
test-unit: $(STAMP) ## Only the pure, fast unit tests (no Kafka, no PostgreSQL)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

.PHONY: test-faults
test-faults: lint ## The long fault suite: replicas killed/paused, broker loss, database crash, group reset, poison
	status=0; $(COURSEFLOW) stack up && COURSEFLOW_FAULTS=long $(BIN)/pytest tests/faults -s $(PYTEST_ARGS) \
	  || status=$$?; $(COURSEFLOW) stack down; exit $$status

# The workload of every bench run; `make bench BENCH_WORKLOAD="--patients 200 --events 2000"`
# for a quick one. BENCH_ARGS: the phases of `make bench` (see docs/performance.md); the
# capacity runs with and without rosters, in turn, are the harness's default (--roster-rounds 2).
BENCH_WORKLOAD ?= --patients 1000 --events 10000
BENCH_ARGS ?= --rate 1000:30 --rate 5:60 --idle-seconds 60
BENCH := $(BIN)/python -m bench.pipeline $(BENCH_WORKLOAD)

.PHONY: bench
bench: $(STAMP) ## Issues 13/14's figures: capacity vs pass-through, with rosters vs without, p99 at 1,000/s and 5/s, idle CPU, CPU/event, RSS
	status=0; $(COURSEFLOW) stack up && $(BENCH) $(BENCH_ARGS) \
	  || status=$$?; $(COURSEFLOW) stack down; exit $$status

.PHONY: bench-variants
bench-variants: $(STAMP) ## The capacity run with two replicas of each service, then on a durable database
	status=0; $(COURSEFLOW) stack up && { $(BENCH) --capacity-only --roster-rounds 0 --replicas 2 \
	  || status=$$?; $(BENCH) --capacity-only --roster-rounds 0 --durable || status=$$?; } \
	  || status=$$?; \
	  $(COURSEFLOW) stack down; exit $$status

.PHONY: soak
soak: $(STAMP) ## Soak: 30 minutes at 370 events/s; lag and memory must stay flat
	status=0; $(COURSEFLOW) stack up && $(BIN)/python -m bench.pipeline --soak-minutes 30 --rate 370 \
	  || status=$$?; $(COURSEFLOW) stack down; exit $$status

.PHONY: run
run: $(STAMP) ## The whole system with a demo and Prometheus (Ctrl-C stops it cleanly)
	@tools/ensure-prometheus.sh
	$(COURSEFLOW) demo

.PHONY: schemas
schemas: $(STAMP) ## Regenerate the JSON Schema and AsyncAPI documents in schemas/
	$(COURSEFLOW) schemas generate

.PHONY: clean
clean: down ## Stop the stack and remove .local/ (the Kafka jars are fetched again)
	rm -rf .local
