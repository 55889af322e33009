# klogs: `make demo` runs the main job on a bundled sample; `make test` runs the whole test suite.
SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := zlib1g-dev libisal-dev liblz4-dev libpcre2-dev pkg-config uap-core python3-venv lz4 time
# Headless Chromium renders the HTML report in the tests (Tests/interop/test_query.py); Java runs make test-spark.
DEB_PACKAGES += chromium
DATA ?= ./klogs-data

.PHONY: all build release static demo test test-packaging deps venv clean bench compare report-sample test-spark \
	man completions install uninstall deb fuzz fuzz-build test-sanitize test-asan test-tsan test-hostile-asan

## Installation layout (`make install PREFIX=/usr DESTDIR=/tmp/root`).
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
DATAROOT = $(PREFIX)/share
UNITDIR ?= $(PREFIX)/lib/systemd/system
VERSION := $(shell sed -n 's/.*static let number = "\(.*\)".*/\1/p' Sources/KlogsIngest/Pipeline/KlogsVersion.swift)
## The shipped binary: release, Swift runtime and Foundation linked in, so a server needs no Swift toolchain.
RELEASE_FLAGS := -c release --static-swift-stdlib
RELEASE_BIN := .build/release/klogs
## Generated from the command definitions (never committed, so they cannot drift from the code).
GEN := .build/generated

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

## The release binary, with the git commit stamped into BuildInfo.swift for the build (and put back after it).
release: deps
	packaging/build-info.sh stamp; status=0; \
	$(SWIFT) build $(RELEASE_FLAGS) --product klogs || status=$$?; \
	packaging/build-info.sh restore; exit $$status

static: release
	@echo "$(RELEASE_BIN): $$(du -h $(RELEASE_BIN) | cut -f1); Swift libraries it needs at run time (none expected):"
	@ldd $(RELEASE_BIN) | grep -i swift || echo "  none"

demo: release
	rm -rf $(DATA)
	.build/release/klogs ingest --retention-days 0 --data $(DATA) fixtures/sample-access.log
	.build/release/klogs query --data $(DATA) --by day --metric hits,visitors,bytes
	.build/release/klogs query --data $(DATA) --by path --top 10
	.build/release/klogs query --data $(DATA) --by device,browser --top 8 --bots include

test: deps venv
	KLOGS_PYTHON=$(abspath $(PYTHON)) $(SWIFT) test
	$(SWIFT) build
	KLOGS_BIN=$(abspath .build/debug/klogs) $(PYTHON) -m pytest -q Tests/interop
	KLOGS_BIN=$(abspath .build/debug/klogs) $(PYTHON) -m pytest -q Tests/packaging/test_cli.py

clean:
	rm -rf .build $(VENV) $(DATA)

## The man page, from the command definitions through swift-argument-parser's generate-manual plugin (debug
## configuration: the help text is the same, and `make test` has usually built it already).
man: $(GEN)/klogs.1
$(GEN)/klogs.1: Package.swift $(wildcard Sources/klogs/*.swift) | deps
	$(SWIFT) package generate-manual --configuration debug \
	  --date "$$(git log -1 --format=%cs 2>/dev/null || date -u +%F)" --authors "klogs maintainers"
	mkdir -p $(GEN)
	# Blank lines inside help text (paragraph breaks) become mdoc paragraph macros, so `man` renders without warnings.
	sed 's/^$$/.Pp/' .build/plugins/GenerateManual/outputs/klogs/klogs.1 > $@

## Shell completions for bash, zsh and fish, from `klogs --generate-completion-script`.
completions: $(GEN)/completions/klogs.bash
$(GEN)/completions/klogs.bash: $(wildcard Sources/klogs/*.swift) | deps
	$(SWIFT) build --product klogs
	mkdir -p $(GEN)/completions
	.build/debug/klogs --generate-completion-script bash > $(GEN)/completions/klogs.bash
	.build/debug/klogs --generate-completion-script zsh > $(GEN)/completions/_klogs
	.build/debug/klogs --generate-completion-script fish > $(GEN)/completions/klogs.fish

## The example config: the project's own when it exists, else the commented placeholder in packaging/.
CONFIG_EXAMPLE := $(firstword $(wildcard docs/klogs.example.toml packaging/klogs.toml))

## Installs the release binary, man page, completions, example config and systemd units under $(DESTDIR)$(PREFIX).
## An existing $(SYSCONFDIR)/klogs/klogs.toml is kept. Does not enable the timer.
install: release man completions
	install -Dm755 $(RELEASE_BIN) $(DESTDIR)$(BINDIR)/klogs
	install -Dm644 $(GEN)/klogs.1 $(DESTDIR)$(MANDIR)/man1/klogs.1
	install -Dm644 $(GEN)/completions/klogs.bash $(DESTDIR)$(DATAROOT)/bash-completion/completions/klogs
	install -Dm644 $(GEN)/completions/_klogs $(DESTDIR)$(DATAROOT)/zsh/site-functions/_klogs
	install -Dm644 $(GEN)/completions/klogs.fish $(DESTDIR)$(DATAROOT)/fish/vendor_completions.d/klogs.fish
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DATAROOT)/doc/klogs/examples
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/systemd/klogs-ingest.service > $(DESTDIR)$(UNITDIR)/klogs-ingest.service
	install -m644 packaging/systemd/klogs-ingest.timer $(DESTDIR)$(UNITDIR)/klogs-ingest.timer
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/logrotate/nginx-klogs > $(DESTDIR)$(DATAROOT)/doc/klogs/examples/logrotate-nginx
	install -m644 $(CONFIG_EXAMPLE) $(DESTDIR)$(DATAROOT)/doc/klogs/examples/klogs.toml
	[ -e $(DESTDIR)$(SYSCONFDIR)/klogs/klogs.toml ] || install -Dm644 $(CONFIG_EXAMPLE) $(DESTDIR)$(SYSCONFDIR)/klogs/klogs.toml

## Removes what `make install` put there, except the config (yours) and the data (in /var/lib/klogs).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/klogs $(DESTDIR)$(MANDIR)/man1/klogs.1 \
	  $(DESTDIR)$(DATAROOT)/bash-completion/completions/klogs $(DESTDIR)$(DATAROOT)/zsh/site-functions/_klogs \
	  $(DESTDIR)$(DATAROOT)/fish/vendor_completions.d/klogs.fish \
	  $(DESTDIR)$(UNITDIR)/klogs-ingest.service $(DESTDIR)$(UNITDIR)/klogs-ingest.timer
	rm -rf $(DESTDIR)$(DATAROOT)/doc/klogs
	@[ ! -e $(DESTDIR)$(SYSCONFDIR)/klogs/klogs.toml ] || echo "kept $(DESTDIR)$(SYSCONFDIR)/klogs/klogs.toml"

## The Debian package, built with dpkg-deb from the release binary: .build/deb/klogs_$(VERSION)_<arch>.deb
deb: release man completions
	packaging/build-deb.sh $(VERSION) $(RELEASE_BIN) $(GEN) $(CONFIG_EXAMPLE)

## Packaging tests (slow: a static release build): the deb installs into a throwaway root and its klogs runs
## without the Swift toolchain; the man page renders; the completions load. Not part of `make test`.
test-packaging: deb venv
	KLOGS_DEB="$$(ls -t .build/deb/klogs_$(VERSION)_*.deb | head -1)" KLOGS_BIN=$(abspath $(RELEASE_BIN)) \
	  $(PYTHON) -m pytest -q Tests/packaging

## Benchmarks (a separate package, so `make test` never builds them). Figures go to the README.
bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

## klogs side by side with GoAccess and DuckDB on one generated log (LINES=1000000 RUNS=3 by default; the table
## goes to the README). `Benchmarks/compare.sh --install` first installs the peers that are missing.
compare: deps
	Benchmarks/compare.sh

## The sample report shown in the docs: docs/report-sample.png from fixtures/sample-access.log.
report-sample: build
	rm -rf /tmp/klogs-report-sample && mkdir -p /tmp/klogs-report-sample
	.build/debug/klogs ingest -q --retention-days 0 --data /tmp/klogs-report-sample/data fixtures/sample-access.log
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

## libFuzzer targets (the nested package Fuzz/, never built by `make test`), each run FUZZ_SECONDS in turn at low
## priority: `make fuzz FUZZ_SECONDS=600` is the real run. Seeds come from Fuzz/corpus/<target>/ (committed); new
## corpus entries, crash files and logs go to $(FUZZ_WORK)/<target>/ (git-ignored). Fails when any target crashed,
## leaked or hung; the input is in $(FUZZ_WORK)/<target>/crashes/. A unit counts as hung after 60 s of wall time:
## at nice 19 on a busy machine a 1 ms unit once took 11 s.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzInputReader FuzzParquetReader FuzzLineParser FuzzCustomFormat FuzzFormatCompiler FuzzUserAgent \
	FuzzConfig
FUZZ_WORK ?= fuzz-corpus-work
FUZZ_FLAGS := -c release -Xswiftc -sanitize=fuzzer,address -Xcxx -fsanitize=fuzzer-no-link,address
## Targets run without libFuzzer's leak check (none now: FuzzConfig needed it off while most inputs reached TOMLKit,
## which leaks on every parse; the grammar check in front of it made the suppressed re-checks rare).
FUZZ_NO_LEAK_CHECK :=
## Targets allowed 8 GB instead of 2 GB: TOMLKit leaks a few kilobytes on every parse (suppressed by name below; a
## klogs run parses its klogs.toml once), which FuzzConfig's millions of parses add up to gigabytes (2.6 GB after
## 4 million, in 5 minutes on the idle machine).
FUZZ_BIG_RSS := FuzzConfig
## Leaks of dependencies and the toolchain, each with its reason (the fuzzers and the ASan tests use the same list).
LSAN_SUPPRESSIONS := LSAN_OPTIONS=suppressions=$(abspath Tests/sanitizers/lsan-suppressions.txt)

fuzz-build: deps
	cd Fuzz && $(SWIFT) build $(FUZZ_FLAGS)

fuzz: fuzz-build
	@failed=""; for target in $(FUZZ_TARGETS); do \
	  work=$(FUZZ_WORK)/$$target; mkdir -p $$work/corpus $$work/crashes; \
	  case " $(FUZZ_NO_LEAK_CHECK) " in *" $$target "*) leaks=0;; *) leaks=1;; esac; \
	  case " $(FUZZ_BIG_RSS) " in *" $$target "*) rss=8192;; *) rss=2048;; esac; \
	  echo "== $$target: $(FUZZ_SECONDS) s, log in $$work/log"; \
	  $(LSAN_SUPPRESSIONS) nice -n 19 Fuzz/.build/release/$$target -max_total_time=$(FUZZ_SECONDS) -timeout=60 -rss_limit_mb=$$rss \
	    -print_final_stats=1 -detect_leaks=$$leaks -artifact_prefix=$$work/crashes/ $$work/corpus Fuzz/corpus/$$target > $$work/log 2>&1 \
	    || failed="$$failed $$target"; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|cov: .*ft: ' $$work/log | tail -4; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failures in$$failed (see $(FUZZ_WORK)/<target>/log)"; exit 1; fi

## The Swift test suite under AddressSanitizer and then ThreadSanitizer (the parallel pipeline must be race-free),
## each in its own build directory (.build-asan, .build-tsan; git-ignored by `.build*/`). SANITIZE_FILTER narrows
## the run to some suites, e.g. `make test-asan SANITIZE_FILTER='KlogsCoreTests|KlogsIngestTests'`. Slow: a build
## from scratch per sanitizer, and tests run 2-20 times slower. Not part of `make test`.
SANITIZE_FILTER ?=
SANITIZE_TEST = KLOGS_PYTHON=$(abspath $(PYTHON)) $(SWIFT) test $(if $(SANITIZE_FILTER),--filter '$(SANITIZE_FILTER)')

test-sanitize: test-asan test-tsan

test-asan: deps venv
	$(LSAN_SUPPRESSIONS) $(SANITIZE_TEST) --sanitize=address --scratch-path .build-asan

test-tsan: deps venv
	$(SANITIZE_TEST) --sanitize=thread --scratch-path .build-tsan

## The hostile-input tests (Tests/interop/test_hostile.py) on a klogs built with AddressSanitizer: every hostile
## input run by the real binary, with leak checking at its exit. Not part of `make test`.
test-hostile-asan: deps venv
	$(SWIFT) build --sanitize=address --scratch-path .build-asan --product klogs
	$(LSAN_SUPPRESSIONS) ASAN_OPTIONS=quarantine_size_mb=64 KLOGS_SANITIZER=address \
	  KLOGS_BIN=$(abspath .build-asan/debug/klogs) $(PYTHON) -m pytest -q Tests/interop/test_hostile.py
