# The two commands: `make run` (the product with demo data) and `make test` (the whole suite).
# Both set up the virtual environment themselves on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run serve smoke load test check lint imports types format migrations-check demo graph messages clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

## make run: install, migrate, load the demo data, start a Celery worker and the scheduler, and
## serve on 127.0.0.1:$(PORT) (admin at /admin/). Without CELERY_BROKER_URL the worker uses the
## embedded filesystem broker under var/celery, so no server is needed.
run: export DEBUG ?= true
run: export CELERY_BROKER_URL ?= filesystem://
run: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo
	mkdir -p var
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 --logfile=var/worker.log & \
	worker=$$!; \
	$(BIN)/celery -A config beat --loglevel=INFO --logfile=var/beat.log & \
	beat=$$!; \
	trap 'kill $$worker $$beat 2>/dev/null' EXIT INT TERM; \
	echo "worker (pid $$worker) and scheduler (pid $$beat) started; logs in var/"; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## make serve: the production stack on one machine, from the Procfile (honcho): gunicorn with
## WEB_CONCURRENCY workers on GUNICORN_BIND, CELERY_WORKERS Celery workers, one beat. Needs
## DATABASE_URL (PostgreSQL), CELERY_BROKER_URL and CACHE_URL (Redis), SECRET_KEY, ALLOWED_HOSTS.
serve: export WEB_CONCURRENCY ?= 2
serve: export GUNICORN_BIND ?= 127.0.0.1:$(PORT)
CELERY_WORKERS ?= 2
serve: $(VENV)/.run-installed
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make serve: set DATABASE_URL=postgres://…" >&2; exit 1;; esac
	@case "$$CELERY_BROKER_URL" in redis*) ;; *) echo "make serve: set CELERY_BROKER_URL=redis://…" >&2; exit 1;; esac
	@case "$$CACHE_URL" in redis*) ;; *) echo "make serve: set CACHE_URL=redis://…" >&2; exit 1;; esac
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input -v0
	$(BIN)/honcho start -f Procfile -c web=1,worker=$(CELERY_WORKERS),beat=1

## make smoke: the production smoke test (.ci/smoke) on the machine's PostgreSQL and Redis
smoke: $(VENV)/.run-installed
	$(BIN)/python .ci/smoke

## make load: the load test (locust, loopback, 16 clients, a minute a page) on a region built by
## the bench (BENCH_SIZE, default small); results in docs/benchmarks.md
load: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
load: export BENCH_SIZE ?= small
load: $(VENV)/.test-installed
	$(BIN)/python -m bench.load

# The browser tests drive Debian's Chromium; `make test` installs it when it is missing.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "The browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; \
	fi

## make test: install what the tests need and run them (SQLite, or DATABASE_URL/CELERY_BROKER_URL)
test: $(VENV)/.test-installed $(CHROMIUM)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

## make check: lint, format, the import layers, missing migrations and the types
check: lint imports migrations-check types

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

imports: $(VENV)/.test-installed
	$(BIN)/lint-imports

## make types: mypy with django-stubs (pyproject.toml: strict on the kernel and the services)
types: $(VENV)/.test-installed
	DEBUG=true $(BIN)/mypy

migrations-check: $(VENV)/.test-installed
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

graph: $(VENV)/.run-installed
	DEBUG=true $(BIN)/python manage.py state_diagram > docs/state-machines.md

## make messages: extract the notices' strings and the project's other strings into their .po files
## and compile the .mo files (all committed; needs GNU gettext, Debian's package gettext)
messages: $(VENV)/.run-installed
	DEBUG=true $(BIN)/python manage.py makemessages -l zh_Hans --no-location -i notices -i enforcement -i .venv -i tests -i bench -i docs -i var
	DEBUG=true $(BIN)/python manage.py compilemessages -l zh_Hans -i notices -i enforcement -i .venv -i tests
	cd notices && DEBUG=true ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-location
	cd notices && DEBUG=true ../$(BIN)/python ../manage.py compilemessages -l zh_Hans
	cd portal && DEBUG=true ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-location
	cd portal && DEBUG=true ../$(BIN)/python ../manage.py compilemessages -l zh_Hans
	cd enforcement && DEBUG=true ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-location
	cd enforcement && DEBUG=true ../$(BIN)/python ../manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var

## make bench: every workload of issue 7 against a baseline measured in the same run, on the
## PostgreSQL server of DATABASE_URL (it creates and drops databases $BENCH_DB_PREFIX_*, default
## bench_*). BENCH_SIZE=small (default, 1/20 of the region, about a minute) or full (1,000,000
## arrears lines, about 10 minutes). docs/benchmarks.md
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench: export BENCH_SIZE ?= small
bench: $(VENV)/.run-installed
	$(BIN)/python -m bench.run
