# Two commands do all the set-up on a fresh machine with only python3 and make:
#   make demo   -- creates .venv, installs crmhub, runs the demo
#   make test   -- the test suite (PostgreSQL tests run when CRMHUB_TEST_PG_URL is set)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint fmt docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crmhub demo

test: $(STAMP)
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check hub connectors plugins tests
	$(VENV)/bin/ruff format --check hub connectors plugins tests
	$(VENV)/bin/mypy hub connectors plugins

fmt: $(STAMP)
	$(VENV)/bin/ruff format hub connectors plugins tests
	$(VENV)/bin/ruff check --fix hub connectors plugins tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache crmhub-demo

# Regenerate the references that tests keep in step with the code.
docs: $(STAMP)
	$(VENV)/bin/typer hub.cli utils docs --name crmhub --title "crmhub command line reference" --output docs/cli.md

# Benchmarks are not part of `make test`; figures go to docs/performance.md.
bench: $(STAMP)
	$(PY) -m bench.pull --customers 100000
	$(PY) -m bench.compare            # pull vs dlt and raw, memory at 100k and 1M, push, rate budget
