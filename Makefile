# Norðurbúð: the two commands a newcomer needs are `make run` and `make test`.
#
# Everything runs from a virtualenv in .venv, created with python3 when it is missing.
# Requirements are installed again only when requirements*.txt change (a stamp file records
# the last install), so the targets are quick to run over and over.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed-requirements
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run run-no test lint format messages migrate seed worker beat bench clean

help:
	@echo "make run      serve the demo shop at http://$(HOST):$(PORT) (SQLite, tasks in-process, e-mail to the console); PORT=8001, HOST=0.0.0.0 to change"
	@echo "make run-no   the Norwegian demo: prices in NOK (kroner and øre), its own database db-no.sqlite3"
	@echo "make test     run the whole test suite"
	@echo "make lint     ruff and a check for missing migrations"
	@echo "make worker   a Celery worker (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)"
	@echo "make beat     the Celery beat scheduler (same)"
	@echo "make bench    the chain-scale benchmark (PostgreSQL and Redis; README, Benchmark); ARGS=--small for a quick run"
	@echo "make clean    remove the virtualenv, the local databases (db.sqlite3, db-no.sqlite3), uploaded media and lighthouse/node_modules"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Compiled translations; skipped (with a note) when there are none or gettext is not installed.
messages: $(INSTALLED)
	@if [ -d locale ] && command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --verbosity 0 --ignore "$(VENV)"; \
	elif [ -d locale ]; then \
		echo "gettext's msgfmt is not installed: pages stay in English (apt-get install gettext)"; \
	fi

migrate: $(INSTALLED)
	$(PY) manage.py migrate --no-input

# The demo, migrated and seeded with DEBUG on: with DEBUG off the shop refuses the development
# SECRET_KEY and a cache in each process's memory (o2o_site/checks.py).
seed: export DEBUG = true
seed: export ENV_FILE =
seed: migrate
	$(PY) manage.py seed_demo

# The embedded defaults: no DATABASE_URL (SQLite in db.sqlite3), no CELERY_BROKER_URL (tasks run
# in-process), no EMAIL_URL (e-mails are printed here). DEBUG=true is for this target only.
run: export DEBUG = true
# The demo never reads .env (a production file: .env.example); DEBUG_PAGES=true for Django's debug pages.
run: export ENV_FILE =
# Links in e-mails (order page, check-in) point at the address and port the demo is served on;
# served on every address (HOST=0.0.0.0), at this machine's first one, so a phone on the same
# network opens them (127.0.0.1 where `hostname -I` does not exist, as on macOS).
LINK_HOST = $(if $(filter 0.0.0.0,$(HOST)),$(or $(firstword $(shell hostname -I 2>/dev/null)),127.0.0.1),$(HOST))
run: export SITE_URL ?= http://$(LINK_HOST):$(PORT)
# The names the demo answers to: any, when served on every address (another machine uses this
# one's address, unknown here); else HOST's. DEBUG's demo only: production sets ALLOWED_HOSTS.
run: export ALLOWED_HOSTS ?= $(if $(filter 0.0.0.0,$(HOST)),*,$(HOST),localhost)
run: seed messages
	$(PY) manage.py runserver $(HOST):$(PORT)

# The Norwegian demo: SHOP_CURRENCY=NOK (seed_demo then seeds Norwegian prices) in a database of
# its own, so it never mixes with the Icelandic demo's krónur in db.sqlite3.
run-no: export SHOP_CURRENCY = NOK
run-no: export DATABASE_URL = sqlite:///$(CURDIR)/db-no.sqlite3
run-no: run

# Lighthouse for its test (storefront/tests/test_lighthouse_browser.py), the version pinned in
# lighthouse/package-lock.json; installed again only when that file changes. Without npm the test
# is skipped with the reason (and fails under O2O_REQUIRE_SERVICES=1, as in CI).
LIGHTHOUSE := lighthouse/node_modules/.package-lock.json
$(LIGHTHOUSE): lighthouse/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix lighthouse --no-audit --no-fund --loglevel error; \
	else \
		echo "npm is not installed: the Lighthouse test is skipped (apt-get install nodejs npm)"; \
	fi

test: $(INSTALLED) messages $(LIGHTHOUSE)
	$(PY) -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(INSTALLED)
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) and DATABASE_URL first: without a broker tasks already run inside the web process." >&2; exit 1; }
	$(BIN)/celery -A o2o_site worker --loglevel INFO

beat: $(INSTALLED)
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) first." >&2; exit 1; }
	$(BIN)/celery -A o2o_site beat --loglevel INFO --schedule $(VENV)/celerybeat-schedule

# The chain-scale benchmark: its own database o2o_bench and Redis databases 13-15 (README, "Benchmark").
bench: $(INSTALLED)
	bench/run $(ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db-no.sqlite3 media staticfiles lighthouse/node_modules
