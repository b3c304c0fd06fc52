# The two commands: `make run` (the product with demo data) and `make test` (the whole suite).
# Both set up the virtual environment themselves on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test check lint format migrations-check demo graph clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

## make run: install, migrate, load the demo data and serve on 127.0.0.1:$(PORT) (admin at /admin/)
run: $(VENV)/.run-installed
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py demo
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## make test: install what the tests need and run them (SQLite, or DATABASE_URL/CELERY_BROKER_URL)
test: $(VENV)/.test-installed
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

## make check: lint, format and missing migrations
check: lint migrations-check

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(VENV)/.test-installed
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

graph: $(VENV)/.run-installed
	DEBUG=true $(BIN)/python manage.py graph_transitions replenish.ArrearsCase notices.Notice > docs/state-machine.dot

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var
