# Quickstart: `make run` serves the API on http://127.0.0.1:8000 (docs at /docs); `make test` runs every test.
# Both create .venv with the pinned dependencies and build the database from seeds/ when needed; running
# them again only redoes what changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps

.PHONY: run test check lint bench bench-quick lock clean

run: $(VENV)/.prod
	$(BIN)/python -m app serve

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: $(VENV)/.prod
	$(BIN)/python -m app check

bench: $(VENV)/.dev
	$(BIN)/python -m bench

bench-quick: $(VENV)/.dev
	$(BIN)/python -m bench --quick

$(VENV)/.created:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	touch $@

$(VENV)/.prod: $(VENV)/.created requirements/prod.txt pyproject.toml setup.py $(wildcard app/*.py)
	$(PIP) -r requirements/prod.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev: $(VENV)/.created requirements/dev.txt pyproject.toml setup.py $(wildcard app/*.py)
	$(PIP) -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.prod

# Regenerate the pinned requirements after changing dependencies in pyproject.toml.
lock: $(VENV)/.dev
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --universal --python-version 3.11 \
		--generate-hashes -q -o requirements/prod.txt --custom-compile-command "make lock"
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra dev --universal --python-version 3.11 \
		--generate-hashes -q -o requirements/dev.txt --custom-compile-command "make lock"

clean:
	rm -rf $(VENV) data build app/*.so app/compiled.json .pytest_cache .mypy_cache .ruff_cache test-artifacts
