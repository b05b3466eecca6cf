# The two commands of the README: `make demo` and `make test`.  Each sets up
# what it needs on a fresh machine (a virtualenv in .venv, Debian's chromium).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= .demo/mfxdemo0125
PORT ?= 5006

.PHONY: demo test chromium lint

$(BIN)/lute-dashboard: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

demo: $(BIN)/lute-dashboard
	$(BIN)/lute-dashboard demo $(DEMO_DIR) --serve --port $(PORT)

test: $(BIN)/lute-dashboard chromium
	$(BIN)/ruff check lute_model dashboard tests bench
	$(BIN)/python -m pytest

lint: $(BIN)/lute-dashboard
	$(BIN)/ruff check lute_model dashboard tests bench
