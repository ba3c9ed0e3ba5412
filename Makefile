# CountyOS developer commands. The two that matter: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup assets lint serve i18n clean

$(BIN)/countyos: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

assets: node_modules/.package-lock.json $(BIN)/countyos
	$(BIN)/python scripts/vendor_assets.py

setup: $(BIN)/countyos assets

## Build the demonstration county (SQLite, no other services) and serve it at http://127.0.0.1:8000
demo: setup
	$(BIN)/countyos demo

## Run the whole test suite: installs what it needs, runs on SQLite and PostgreSQL, with browser tests
test:
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

i18n: setup
	$(BIN)/python scripts/i18n.py update

clean:
	rm -rf $(VENV) node_modules src/countyos/web/static/vendor var build
