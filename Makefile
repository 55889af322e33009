# klogs: `make demo` runs the main job on a bundled sample; `make test` runs the whole test suite.
SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := zlib1g-dev liblz4-dev libpcre2-dev pkg-config uap-core python3-venv
DATA ?= ./klogs-data

.PHONY: all build release demo test deps venv clean

all: build

## Debian packages: installed only when missing; the package lists are refreshed first when one is.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## Python test tools (pyarrow, duckdb, pytest) in a git-ignored virtual environment.
venv: $(VENV)/.installed
$(VENV)/.installed: Tests/interop/requirements.txt | deps
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/interop/requirements.txt
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: release
	rm -rf $(DATA)
	.build/release/klogs ingest --data $(DATA) fixtures/sample-access.log
	.build/release/klogs show --data $(DATA)

test: deps venv
	KLOGS_PYTHON=$(abspath $(PYTHON)) $(SWIFT) test
	$(SWIFT) build
	KLOGS_BIN=$(abspath .build/debug/klogs) $(PYTHON) -m pytest -q Tests/interop

clean:
	rm -rf .build $(VENV) $(DATA)

## Benchmarks (a separate package, so `make test` never builds them). Figures go to the README.
bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress
