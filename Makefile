# Perception: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The app builds its links from BASE_URL, which defaults to http://127.0.0.1:$PORT: so the links that
# seed-demo prints point at the port `make run PORT=...` serves on.
export PORT

.PHONY: run test lint audit soak bench clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed
	bash scripts/test.sh

audit: $(VENV)/.dev-installed
	bash scripts/audit.sh

soak: $(VENV)/.dev-installed
	$(BIN)/python -m bench.soak --seconds $${SOAK_SECONDS:-600}

# Every bench/bench_*.py, one table, bench/results/latest.json (BENCH_ARGS="--quick" or "gap pages").
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts

# Customer-page languages (perception/web/i18n.py): re-extract the English strings, merge them into each
# language's catalogue, then compile. Translate the new entries in perception/translations/*/LC_MESSAGES/*.po.
translations: $(VENV)/.dev-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --sort-output --project Perception -o perception/translations/messages.pot .
	$(BIN)/pybabel update -i perception/translations/messages.pot -d perception/translations -D messages --no-fuzzy-matching
	$(BIN)/pybabel compile -d perception/translations -D messages --statistics
	$(BIN)/pybabel compile -d perception/translations -D items --statistics
