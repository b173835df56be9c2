# CloudPortal. `make run` serves the portal embedded; `make test` is what CI runs.
# The venv's interpreter: the system's Python 3.11 where it can make one (Debian's is
# linked statically; without its python3.11-venv package it cannot), else python3. A
# build that links libpython as a shared library (pyenv's default) spent about a
# quarter more CPU on every page here (README, "Production").
SYSTEM_PYTHON ?= /usr/bin/python3.11
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import ensurepip, venv' 2>/dev/null && echo $(SYSTEM_PYTHON) || echo python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= localhost
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint format messages bench backup restore clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo
	@echo "CloudPortal is at http://$(HOST):$(PORT)/  (staff: http://$(HOST):$(PORT)/admin/)"
	SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(VENV)/.dev-installed
	./scripts/ensure-services.sh
	$(MAKE) lint
	$(PY) manage.py makemigrations --check --dry-run --settings=cloudportal.settings.test
	$(VENV)/bin/pytest --create-db $(PYTEST_ARGS)

# Performance targets (SPEC §9), on databases of their own (cloudportal_bench*); see bench/run.py.
# BENCH=ingest, BENCH=logs, BENCH=notice, BENCH=scale (through PgBouncer beside direct) or
# BENCH=pages runs one; BENCH_ROWS=100000, BENCH_PAGES_SECONDS=3 etc. for a quick run;
# BENCH_SOAK=600 BENCH=pages is the 10-minute soak of the pages.
bench: $(VENV)/.dev-installed
	./scripts/ensure-services.sh
	$(PY) -m bench

# Backups (PostgreSQL): a pg_dump of DATABASE_URL into backups/; restore with
# `make restore FILE=backups/….dump`, which re-applies the erasure ledger afterwards.
backup:
	./scripts/backup.sh

restore:
	./scripts/restore.sh $(FILE)

# Catalogues: extract, then translate locale/fr/LC_MESSAGES/django.po, then compile.
messages: $(VENV)/.dev-installed
	$(PY) manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .local staticfiles
