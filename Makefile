# kvsigner: `make run` starts the local stack, `make test` runs every test.
# Both bootstrap what they need through `make install` (idempotent, quick when unchanged).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install run test faults lint clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is required for the anvil node" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: install
	$(BIN)/kvsigner dev --api-port 8080 --workers 2 --keys 3 --data-dir .kvsigner

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fault suite alone (make test runs it too); CI runs it again to show it is not flaky.
faults: install
	$(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules .kvsigner .pytest_cache .mypy_cache .ruff_cache
