# The two commands of the README: `make demo` and `make test`.  Each sets up
# what it needs on a fresh machine (a virtualenv in .venv, Debian's chromium),
# with the versions pinned in constraints.txt: the set the tests last passed
# with, so a machine set up next year installs that set, not that year's
# releases.  `make constraints` pins what .venv holds after a tested upgrade.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= .demo/mfxdemo0125
PORT ?= 5006

.PHONY: demo test chromium lint constraints

LINTED := lute_model lute_writers lute_demo dashboard tests bench

$(BIN)/lute-dashboard: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

demo: $(BIN)/lute-dashboard
	$(BIN)/lute-dashboard demo $(DEMO_DIR) --serve --port $(PORT)

test: $(BIN)/lute-dashboard chromium
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest

lint: $(BIN)/lute-dashboard
	$(BIN)/ruff check $(LINTED)

# No prerequisite: it reads the .venv as it is (rebuilding it first would install the old pins).
constraints:
	{ echo "# Written by \`make constraints\` from a .venv the tests passed with; \`make\` installs"; \
	  echo "# with -c constraints.txt.  Upgrade: pip install -U in .venv, make test, make constraints."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt
	touch $(BIN)/lute-dashboard  # .venv holds what the new pins say
