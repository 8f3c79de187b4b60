# Two commands set everything up on a fresh machine with only Python 3.11 and make:
#   make run   - venv, install, migrate, demo data if empty, print a token, serve on 127.0.0.1:$(PORT)
#   make test  - venv if needed, then the whole suite
PYTHON ?= python3.11
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test smoke lint format install

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Local use: debug on (admin static files, readable errors) unless DEBUG is set.
run: export DEBUG ?= true
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty --port $(PORT)
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A live server on a fresh demo database, walked by a Moneybird-style client.
smoke: $(STAMP)
	bash scripts/smoke_live.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
