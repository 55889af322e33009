#!/usr/bin/env python3
"""Measures how much core time a `klogs ingest` run leaves idle, and when: at its start, in the middle, at its end.

    scripts/core-idle.py [--runs N] [--edge MS] [--with=ARGUMENT ...] INPUT BINARY [BINARY ...]

Each round runs every binary once on INPUT, into a fresh data directory, under
`perf record -a -e sched:sched_switch,...` (the whole machine's scheduler events, so root or
`kernel.perf_event_paranoid = -1`; Debian package `linux-perf`). An idle core is one running the kernel's idle task
(`swapper`) while the ingest process lives. The idle core time is split into the first and last `--edge`
milliseconds of the run (default 60: the set-up before the pipeline starts, and the last row groups, the hits and
the commit's fsyncs) and the middle, where an idle core means the pipeline starved (a worker without a chunk, the
reader without a free batch, the sequencer waiting for the next chunk). Prints the medians per binary.

On a machine with other work, their time shows as busy, not idle: run it on a quiet machine. The idle figures in
docs/DESIGN.md (eighteenth session, medians of eleven runs) were measured this way; to repeat them:
`scripts/core-idle.py --runs 11 /tmp/1m.log.gz .build/release/klogs` (with `klogs generate --lines 1000000
--seed 42` gzipped).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

EVENTS = "sched:sched_switch,sched:sched_process_exec,sched:sched_process_exit"
LINE = re.compile(r"\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)")


def record(binary, input_path, extra, work):
    """Runs one ingest under perf; returns the path of the recorded events."""
    data = os.path.join(work, "data")
    events = os.path.join(work, "perf.data")
    shutil.rmtree(data, ignore_errors=True)
    command = ["perf", "record", "-q", "-a", "-e", EVENTS, "-o", events, "--",
               binary, "ingest", "--data", data, "--quiet", *extra, input_path]
    if subprocess.run(command, stderr=subprocess.DEVNULL).returncode != 0:
        sys.exit(f"{' '.join(command)} failed (is perf installed, and may it trace the scheduler?)")
    return events


def idle_split(events, binary, edge):
    """The run's wall time and its idle core time (start, middle, end), in seconds."""
    script = subprocess.run(["perf", "script", "-i", events, "-F", "comm,tid,cpu,time,event,trace"],
                            capture_output=True, text=True, check=True).stdout
    name = os.path.basename(binary)[:15]  # the kernel keeps 15 characters of a command name
    start = end = None
    switches = []
    for line in script.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        comm, _, cpu, stamp, event, trace = match.groups()
        stamp = float(stamp)
        if event == "sched:sched_process_exec" and start is None and name in trace:
            start = stamp
        elif event == "sched:sched_process_exit" and start is not None and comm.startswith(("klogs", name)):
            end = stamp
        elif event == "sched:sched_switch":
            switches.append((cpu, stamp, trace))
    if start is None or end is None:
        sys.exit(f"no exec or exit of {binary} in the recorded events")
    windows = [(start, start + edge), (start + edge, end - edge), (end - edge, end)]
    idle = [0.0, 0.0, 0.0]
    since = {}

    def add(low, high):
        for index, (window_low, window_high) in enumerate(windows):
            overlap = min(high, window_high) - max(low, window_low)
            if overlap > 0:
                idle[index] += overlap

    for cpu, stamp, trace in switches:
        if "next_comm=swapper" in trace:
            since[cpu] = stamp
        elif "prev_comm=swapper" in trace and cpu in since:
            add(since.pop(cpu), stamp)
    for stamp in since.values():
        add(stamp, end)
    return end - start, idle


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--edge", type=float, default=60, help="milliseconds counted as start and end (default 60)")
    parser.add_argument("--with", dest="extra", action="append", default=[], metavar="ARGUMENT",
                        help="an ingest argument added to every run, e.g. --with=--threads=1 (repeatable)")
    parser.add_argument("input")
    parser.add_argument("binaries", nargs="+")
    options = parser.parse_args()
    extra = options.extra
    if shutil.which("perf") is None:
        sys.exit("core-idle.py needs perf (Debian package linux-perf)")

    results = {binary: [] for binary in options.binaries}
    with tempfile.TemporaryDirectory(prefix="klogs-idle-") as work:
        for _ in range(options.runs):
            for binary in options.binaries:
                events = record(binary, options.input, extra, work)
                results[binary].append(idle_split(events, binary, options.edge / 1000))
                time.sleep(0.2)  # perf's own writing settles
    for binary, runs in results.items():
        wall = statistics.median(run[0] for run in runs)
        parts = [statistics.median(run[1][index] for run in runs) * 1000 for index in range(3)]
        total = statistics.median(sum(run[1]) for run in runs) * 1000
        print(f"{binary}: wall {wall * 1000:.1f} ms; idle core time {total:.1f} ms: start {parts[0]:.1f}, "
              f"middle {parts[1]:.1f}, end {parts[2]:.1f} (medians of {len(runs)})")


if __name__ == "__main__":
    main()
