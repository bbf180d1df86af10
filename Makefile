# Supervision Ledger — every entry point a person or CI needs.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench mutation redaction-model infra-up infra-down clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

## Start the whole system on its embedded defaults (SQLite log, SQLite stores).
run: $(STAMP)
	$(BIN)/python -m shared.run

## Run every test: starts the real Kafka broker and MongoDB-protocol server it needs, stops them after.
test: $(STAMP)
	bash tests/infra/with-infra.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check shared services tests
	$(BIN)/ruff format --check shared services tests
	$(BIN)/mypy shared services

## Benchmarks: one table per run, each row beside the raw limit measured in the same run.
bench: $(STAMP)
	bash tests/infra/with-infra.sh $(BIN)/python -m tests.bench.run $(BENCH_ARGS)

## Mutation testing of the core (slow; not part of `make test`). Report: var/mutation/last.json.
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation.run $(MUTATION_ARGS)

## Retrain the redaction tagger on the tuning halves of the labelled set (about a minute);
## CHECK=heldout8 instead trains without that tuning half and scores the tagger on it.
redaction-model: $(STAMP)
	$(BIN)/python -m tests.data.redaction.train_tagger $(if $(CHECK),--check $(CHECK))

clean:
	rm -rf $(VENV) var/test var/bench
