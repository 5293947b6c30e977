# secondline: the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests drive for real, one per line with the tests that need each: deps/debian.txt.
APT_TEST := $(shell sed -e 's/\#.*//' deps/debian.txt)
PYTEST_ARGS ?=

.PHONY: run test test-fast fuzz reliability deps-system extension bench dist screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# setuptools says "Editable installation ... be careful with folders named like your package" on every
# `pip install -e`: information only, not a warning about this project.
$(VENV)/.installed $(VENV)/.installed-test .venv-gtk/.installed: export PYTHONWARNINGS = ignore:Editable installation

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,build]'
	touch $@ $(VENV)/.installed

## make run: install and start the demo (headless when there is no display); RUN_ARGS="--port N" etc.
RUN_ARGS ?=
run: $(VENV)/.installed
	$(BIN)/secondline run --demo $(RUN_ARGS)

## Debian packages for the tests: installed when missing and we are root (CI, a fresh machine).
## A postinst must not start system daemons (nagios4-common's starts nagios4, as the system user, on
## /etc/nagios4): without a policy-rc.d of the machine's own, a temporary one denies every start.
deps-system:
	@missing=$$(for p in $(APT_TEST); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: $$missing"; \
	    policy=/usr/sbin/policy-rc.d; own=; \
	    if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' > $$policy && chmod 755 $$policy && own=1; fi; \
	    grep -v '^#' deps/debconf-selections.txt | debconf-set-selections; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	    status=$$?; if [ -n "$$own" ]; then rm -f $$policy; fi; [ $$status = 0 ] || exit $$status; \
	  else \
	    echo "missing Debian packages (run as root to install them): $$missing"; exit 1; \
	  fi; \
	fi

extension/node_modules/.installed: extension/package.json extension/package-lock.json
	cd extension && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## make test: system packages, Python test extras, npm packages, then every test
test: deps-system $(VENV)/.installed-test extension/node_modules/.installed .venv-gtk/.installed
	cd extension && npm test --silent
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## make fuzz: the property-based (Hypothesis) tests with fresh random examples, FUZZ_RUNS times over.
## `make test` runs them derandomized, so CI answers the same on every machine; this is where new
## garbage that breaks a parser is looked for.
FUZZ_RUNS ?= 10
fuzz: $(VENV)/.installed-test
	@files=$$(grep -rl --include='*.py' '@given' tests); \
	for i in $$(seq $(FUZZ_RUNS)); do \
	  echo "fuzz run $$i of $(FUZZ_RUNS)"; \
	  SECONDLINE_HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -p no:cacheprovider $$files || exit 1; \
	done

## make reliability: the reliability suite, spread over the subjects it tests (fault matrix, fuzzing, blind,
## time, secrets, the endpoint attacked from outside, issue 18's probe, the reduced soak); the fault matrix and
## the soak's figures print at the end (tests/support/reliability.py). Figures: docs/reliability.md.
RELIABILITY_TESTS = tests/sources/test_fault_matrix.py tests/sources/test_fuzz.py tests/sources/test_blind.py \
  tests/engine/test_time.py tests/platform/test_secrets.py tests/outputs/http/test_endpoint_attacks.py \
  tests/outputs/http/test_adversarial_probe.py tests/app/test_soak.py
reliability: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q $(RELIABILITY_TESTS)

extension: extension/node_modules/.installed
	cd extension && npm run build --silent

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_all.py

dist: $(VENV)/.installed-test
	$(BIN)/pyinstaller --noconfirm --clean build.spec

## make screenshots: README pictures from the real code. The real GTK tray menu needs PyGObject,
## which only builds against the system's GObject: a second venv that sees Debian's python3-gi
## (deps/debian.txt). tests/packaging/test_screenshots.py takes that picture too.
.venv-gtk/.installed: pyproject.toml | deps-system
	/usr/bin/python3 -m venv --system-site-packages .venv-gtk
	.venv-gtk/bin/pip install --quiet -e .
	touch $@

screenshots: deps-system $(VENV)/.installed-test .venv-gtk/.installed extension/node_modules/.installed
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .venv-gtk build dist .pytest_cache extension/node_modules
