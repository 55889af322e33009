"""The visit metrics over a month of 1,000,000 requests a day (not a test): wall and CPU time of each query.

    .build/release/klogs generate --lines 30000000 --days 30 --seed 7 --output /tmp/bench/month.log   # 6.7 GB
    .build/release/klogs ingest -q --retention-days 0 --data /tmp/bench/month /tmp/bench/month.log     # a few minutes
    .venv/bin/python Tests/interop/bench_metrics.py .build/release/klogs /tmp/bench/month [runs]

Each query runs `runs` times (default 5); the script prints the best and worst wall time and the CPU time (user +
system, from the children's resource usage) of each. The target (issue 11) is under 2 seconds of wall time for the
month's headline metrics on the 2-core development machine. Delete /tmp/bench afterwards (about 9 GB).
"""

import resource
import subprocess
import sys
import time

RANGE = ["--from", "2026-11-01", "--to", "2026-11-30"]
METRICS = "visitors,visits,pageviews,bounce_rate,visit_duration,views_per_visit"
QUERIES = {
    "headline (visitors, visits, page views, bounce rate, durations, views per visit)": ["--metric", METRICS],
    "visit metrics only": ["--metric", "visits,bounce_rate,visit_duration,views_per_visit"],
    "visits, bounce rate by day": ["--by", "day", "--metric", "visits,bounce_rate,visit_duration"],
    "top 20 entry pages": ["--by", "entry_page", "--top", "20", "--metric", "visits,bounce_rate,visit_duration"],
    "top 20 pages (page views, visitors)": ["--by", "path", "--top", "20"],
}


def measure(klogs, data, options, runs):
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run([klogs, "query", "--data", data, *RANGE, *options, "--explain"],
                                capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return walls, cpus, peak_mb, result.stderr.strip()


def main(klogs, data, runs=5):
    with open("/proc/loadavg") as file:
        print("load average before:", file.read().split()[:3])
    for name, options in QUERIES.items():
        walls, cpus, peak_mb, explain = measure(klogs, data, options, runs)
        print(f"{name}: wall {min(walls):.2f}-{max(walls):.2f} s, CPU {min(cpus):.2f}-{max(cpus):.2f} s "
              f"({runs} runs; peak resident so far {peak_mb:.0f} MB)\n    {explain}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5)
