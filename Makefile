# The two commands: `make run` (the whole system) and `make test` (the whole
# suite). Both install whatever is missing first: Debian packages (Redis,
# Java, Maven), the Python virtualenv from requirements.lock, and the jars
# from Maven Central into ~/.cache/im-stack.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: setup run down status logs test lint bench bench-stream bench-profile clean

setup: $(VENV)/.installed
	@$(PY) -m stack fetch

$(VENV)/.installed: requirements.lock requirements-runtime.lock constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -r requirements.lock -c constraints.txt
	@touch $@

run: setup
	$(PY) -m stack up

down:
	@$(PY) -m stack down

status:
	@$(PY) -m stack status

logs:
	@$(PY) -m stack logs

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy contract im streaming analytics stack dashboards alerts bench traffic monitor console

test: setup lint
	$(PY) -m pytest

# Benchmarks (bench/README.md): on a quiet machine; results go to bench/RESULTS.md.
bench: setup
	$(PY) -m bench

bench-stream: setup
	$(PY) -m bench.stream

# Where the IM server's CPU goes under fan-out load (py-spy): bench/PROFILE.md.
bench-profile: setup
	$(PY) -m bench.profile

clean: down
	rm -rf .stack .stack-test
