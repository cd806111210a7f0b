# Medicen Portal — every developer and CI task. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
MANAGE := $(BIN)/python manage.py

.PHONY: help install run serve test lint audit format messages pytest e2e screenshots load faults bench migrate clean

help:
	@echo "make run     set up (.venv, migrate, seed) and start web + worker + beat on http://127.0.0.1:8000"
	@echo "make test    lint, then the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)"
	@echo "make serve   production mode: gunicorn + whitenoise, worker, beat (needs the production variables)"
	@echo "make lint    ruff, formatting, migrations, import cycles, translations, bandit and pip-audit"
	@echo "make format  apply ruff's fixes and formatting"
	@echo "make e2e     browser journeys (Playwright + Chromium) against gunicorn, PostgreSQL, Redis, a worker and an SMTP sink"
	@echo "make screenshots  the README's screenshots (home, directory, a proposal) into docs/screenshots/"
	@echo "make load    locust: 50 users for 60 s against 100,000 organisations and 10,000 proposals"
	@echo "make faults  Redis down, worker SIGKILL, PostgreSQL restart, SMTP 4xx: owed / delivered / lost / duplicated"
	@echo "make bench   every benchmark in bench/, figures written to docs/performance.md"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_medicen

# Development: DEBUG on unless set; SQLite and the embedded broker unless DATABASE_URL / REDIS_URL are set.
run: export DEBUG ?= true
run: migrate
	$(MANAGE) seed_demo --if-empty
	@echo
	@echo "  Medicen Portal: http://127.0.0.1:8000   (admin: http://127.0.0.1:8000/admin/)   Ctrl-C stops everything."
	@echo
	PATH="$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

# Production: gunicorn + whitenoise, a worker and beat, against PostgreSQL and Redis.
serve: install
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" -a -n "$$SECRET_KEY" -a -n "$$ALLOWED_HOSTS" || \
		{ echo "make serve needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS (see README)"; exit 1; }
	DEBUG=false $(MANAGE) check --deploy
	DEBUG=false $(MANAGE) collectstatic --no-input --verbosity 0
	DEBUG=false $(MANAGE) migrate --no-input
	DEBUG=false $(MANAGE) seed_medicen
	DEBUG=false PATH="$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.prod

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	@# No two modules import each other, directly or round a circle (about a second; docs/architecture.md).
	$(BIN)/python -m medicen_portal.import_cycles
	$(MAKE) --no-print-directory audit
	@# Each compiled catalogue (committed, so `make run` needs no gettext) must match its .po.
	@if command -v msgfmt >/dev/null; then \
		for po in $$(find . -path ./.venv -prune -o -name django.po -print); do \
			msgfmt --check-format -o var/check.mo "$$po" || exit 1; \
			$(BIN)/python -c "import gettext, sys; c = lambda p: gettext.GNUTranslations(open(p, 'rb'))._catalog; \
				sys.exit(0 if c(sys.argv[1]) == c(sys.argv[2]) else 'stale ' + sys.argv[2] + ': run make messages')" \
				var/check.mo "$${po%.po}.mo" || exit 1; \
		done; \
	fi

# Security: bandit (every finding reviewed: fixed, or marked `# nosec <id> - reason`) and
# pip-audit (fails on a known vulnerability; says so when its database is unreachable).
audit: install
	$(BIN)/bandit -q -c pyproject.toml -r common outbox calls committees medicen_portal members das meetings projects
	@mkdir -p var; $(BIN)/pip-audit --skip-editable --progress-spinner off > var/pip-audit.txt 2>&1; \
		status=$$?; grep -v "could not be audited" var/pip-audit.txt | grep -v "^[- ]*$$" | grep -v "Skip Reason"; \
		skipped=$$(grep -c "could not be audited" var/pip-audit.txt); \
		if [ "$$skipped" -gt 0 ]; then echo "pip-audit: WARNING $$skipped packages could not be checked: the vulnerability database (PyPI JSON API) is unreachable from here"; fi; \
		exit $$status

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	DEBUG=true $(MANAGE) makemessages -l fr --ignore=.venv --ignore=var --no-obsolete
	DEBUG=true $(MANAGE) compilemessages --ignore=.venv

pytest: install
	$(BIN)/pytest

test: lint pytest

# The proof under real use (issue 7): each starts its own throwaway PostgreSQL, Redis and
# SMTP sink (bench/harness.py) and leaves the machine's services alone.
e2e: install
	$(BIN)/pytest -m e2e tests/e2e

# The README's three screenshots, from a throwaway stack with the demo data (tests/e2e/screenshots.py).
screenshots: install
	$(BIN)/python -m tests.e2e.screenshots

load: install
	$(BIN)/python bench/load.py

faults: install
	$(BIN)/python bench/faults.py

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var/test .pytest_cache .ruff_cache
