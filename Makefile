# Two commands: `make run` serves Prodbug, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test setup static lint fmt bench clean

$(BIN)/.installed: pyproject.toml
	@py=$$(bin/find-python) && echo "Using $$py" && \
	  { [ -x $(BIN)/python ] || $$py -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/vendor/.built: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	rm -rf static/vendor/speedscope
	cp -r node_modules/speedscope/dist/release static/vendor/speedscope
	@touch $@

static: static/vendor/.built $(BIN)/.installed
	$(BIN)/python manage.py collectstatic --noinput -v 0

setup: $(BIN)/.installed static

run: setup
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py register_demo
	@echo "Prodbug: http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	$(BIN)/honcho start -f Procfile -p $(PORT)

# In `make test`, a local PostgreSQL/Redis is used when it answers (CI exports its own).
TEST_DATABASE_URL := $(or $(DATABASE_URL),$(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgres://postgres@127.0.0.1:5432/prodbug))
TEST_REDIS_URL := $(or $(REDIS_URL),$(shell redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG && echo redis://127.0.0.1:6379/15))

TEST_VAR_DIR ?= $(CURDIR)/var/test

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PRODBUG_VAR_DIR=$(TEST_VAR_DIR) DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  DJANGO_ALLOW_ASYNC_UNSAFE=true \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

fmt: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/session_page.py

clean:
	rm -rf $(VENV) node_modules static/vendor var
