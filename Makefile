# klogs: `make demo` runs the main job on a bundled sample; `make test` runs the whole test suite.
SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := zlib1g-dev liblz4-dev libpcre2-dev pkg-config uap-core python3-venv
# Headless Chromium renders the HTML report in the tests (Tests/interop/test_query.py); Java runs make test-spark.
DEB_PACKAGES += chromium
DATA ?= ./klogs-data

.PHONY: all build release demo test deps venv clean bench report-sample test-spark

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
	.build/release/klogs query --data $(DATA) --by day --metric hits,visitors,bytes
	.build/release/klogs query --data $(DATA) --by path --top 10
	.build/release/klogs query --data $(DATA) --by device,browser --top 8 --bots include

test: deps venv
	KLOGS_PYTHON=$(abspath $(PYTHON)) $(SWIFT) test
	$(SWIFT) build
	KLOGS_BIN=$(abspath .build/debug/klogs) $(PYTHON) -m pytest -q Tests/interop

clean:
	rm -rf .build $(VENV) $(DATA)

## Benchmarks (a separate package, so `make test` never builds them). Figures go to the README.
bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

## The sample report shown in the docs: docs/report-sample.png from fixtures/sample-access.log.
report-sample: build
	rm -rf /tmp/klogs-report-sample && mkdir -p /tmp/klogs-report-sample
	.build/debug/klogs ingest -q --data /tmp/klogs-report-sample/data fixtures/sample-access.log
	.build/debug/klogs report --data /tmp/klogs-report-sample/data --from 2026-11-01 --to 2026-11-03 --top 8 \
	  --html docs/report-sample.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
	  --user-data-dir=/tmp/klogs-report-sample/profile --window-size=1280,2000 \
	  --screenshot=$(abspath docs/report-sample.png) file://$(abspath docs/report-sample.html)

## Apache Spark (pyspark from PyPI, local mode, on the installed Java 17) reads the datasets with partition discovery
## and must get the totals klogs query gives. Not part of `make test`: pyspark is large.
SPARK_VENV := .venv-spark
SPARK_PACKAGES := openjdk-17-jre-headless
$(SPARK_VENV)/.installed: Tests/spark/requirements.txt
	@dpkg -s $(SPARK_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SPARK_PACKAGES); }
	python3 -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install -q --disable-pip-version-check -r Tests/spark/requirements.txt
	touch $@

test-spark: build $(SPARK_VENV)/.installed
	KLOGS_BIN=$(abspath .build/debug/klogs) $(SPARK_VENV)/bin/python Tests/spark/spark_totals.py
