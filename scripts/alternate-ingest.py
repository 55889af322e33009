#!/usr/bin/env python3
"""Times `klogs ingest` runs alternated with each other, so that a noisy machine slows every variant alike.

    scripts/alternate-ingest.py [--runs N] [--ratio | --against=ARGUMENT] INPUT BINARY [BINARY ...] [-- EXTRA INGEST ARGUMENTS]

Each round runs every binary once on INPUT, into a fresh data directory; with --ratio, each binary runs twice a
round, with and without `--skip-user-agent-classification`, and the ratio of the two medians is printed (issue 4's
figure: the throughput with classification against without); with --against=ARGUMENT, each binary also runs with
ARGUMENT added (the cost of `events`: `--against=--no-events`). Prints the median and fastest wall time and the
median CPU time (user + system) of each variant.

The README's before/after figures come from this: for example
`scripts/alternate-ingest.py --runs 11 /tmp/1m.log /tmp/klogs-before .build/release/klogs`, and
`scripts/alternate-ingest.py --runs 11 --ratio /tmp/1m.log .build/release/klogs -- --threads 1`.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(binary, input_path, extra, data):
    """Wall and CPU seconds of one ingest into the fresh directory `data`."""
    shutil.rmtree(data, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen([binary, "ingest", "--data", data, "--quiet", *extra, input_path])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{binary} ingest {' '.join(extra)} {input_path} failed (status {status})")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    arguments = sys.argv[1:]
    extra = []
    if "--" in arguments:
        cut = arguments.index("--")
        arguments, extra = arguments[:cut], arguments[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="rounds (default 9)")
    parser.add_argument("--ratio", action="store_true", help="also run without classification, print the ratio")
    parser.add_argument("--against", metavar="ARGUMENT",
                        help="also run each binary with this ingest argument added, e.g. --against=--no-events")
    parser.add_argument("input")
    parser.add_argument("binaries", nargs="+")
    options = parser.parse_args(arguments)

    variants = []
    for binary in options.binaries:
        variants.append((binary, extra))
        if options.ratio:
            variants.append((binary, extra + ["--skip-user-agent-classification"]))
        if options.against:
            variants.append((binary, extra + [options.against]))
    walls = {index: [] for index in range(len(variants))}
    cpus = {index: [] for index in range(len(variants))}
    with tempfile.TemporaryDirectory(prefix="klogs-alternate-") as work:
        for _ in range(options.runs):
            for index, (binary, arguments) in enumerate(variants):
                wall, cpu = run_once(binary, options.input, arguments, os.path.join(work, "data"))
                walls[index].append(wall)
                cpus[index].append(cpu)
    for index, (binary, arguments) in enumerate(variants):
        name = " ".join([binary, *arguments])
        print(f"{name}: wall median {statistics.median(walls[index]) * 1000:.1f} ms, "
              f"fastest {min(walls[index]) * 1000:.1f} ms, CPU median {statistics.median(cpus[index]) * 1000:.1f} ms")
    if options.ratio and not options.against:
        for index in range(0, len(variants), 2):
            with_rules, without = statistics.median(walls[index]), statistics.median(walls[index + 1])
            print(f"{variants[index][0]}: with classification at {without / with_rules * 100:.1f}% of the "
                  f"throughput without (medians)")


if __name__ == "__main__":
    main()
