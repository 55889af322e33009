"""Page views, visits, bounce rate and visit duration (docs/METRICS.md): `klogs query --output json` against an
independent DuckDB query with window functions over the `events` of a generated log.

The SQL below is the definition in docs/METRICS.md written out; it shares nothing with klogs' code.
"""

import json
import math
import os
import subprocess

import duckdb
import pytest

KLOGS = os.environ.get("KLOGS_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/klogs"))


def klogs(*args, check=True):
    result = subprocess.run([KLOGS, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"klogs {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}")
    return result


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics")
    for lines, seed, days in ((30000, 11, 3), (4000, 12, 2)):  # two runs: partitions hold two files
        log = root / f"gen-{seed}.log"
        klogs("generate", "--lines", lines, "--seed", seed, "--start", "2026-11-01", "--days", days, "--output", log)
        klogs("ingest", "-q", "--retention-days", "0", "--data", root / "data", log)
    return root / "data"


# Visits: page views of one visitor on one UTC day, in (time, path) order; a gap over the timeout starts a new one.
VISITS_SQL = """
WITH views AS (
    SELECT visitor, epoch_ms(ts) AS t, epoch_ms(ts) // 86400000 AS day, path, referrer_host, device
    FROM read_parquet('{data}/events/*/*.parquet')
    WHERE kind = 'page' AND visitor IS NOT NULL AND NOT is_bot
      AND epoch_ms(ts) >= {start} AND epoch_ms(ts) < {end} AND {where}
),
marked AS (
    SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY day, visitor ORDER BY t, path) <= {timeout}
                   THEN 0 ELSE 1 END AS opens
    FROM views
),
numbered AS (
    SELECT *, sum(opens) OVER (PARTITION BY day, visitor ORDER BY t, path ROWS UNBOUNDED PRECEDING) AS visit
    FROM marked
),
visits AS (
    SELECT day, visitor, visit, count(*) AS views, (max(t) - min(t)) / 1000.0 AS duration,
           first(path ORDER BY t, path) AS entry_page, last(path ORDER BY t, path) AS exit_page,
           first(referrer_host ORDER BY t, path) AS referrer_host, first(device ORDER BY t, path) AS device,
           strftime(make_timestamp(day * 86400000000), '%Y-%m-%d') AS day_text
    FROM numbered GROUP BY day, visitor, visit
)
SELECT {group_select} count(*) AS visits, 100.0 * count(*) FILTER (WHERE views = 1) / count(*) AS bounce_rate,
       avg(duration) AS visit_duration, median(duration) AS median_visit_duration,
       sum(views) / count(*) AS views_per_visit, sum(views) AS pageviews
FROM visits {group_by}
"""

REQUESTS_SQL = """
SELECT count(*) FILTER (WHERE kind = 'page') AS pageviews, count(DISTINCT visitor) AS visitors
FROM read_parquet('{data}/events/*/*.parquet')
WHERE NOT is_bot AND epoch_ms(ts) >= {start} AND epoch_ms(ts) < {end} AND {where}
"""

VISIT_METRICS = ["visits", "bounce_rate", "visit_duration", "median_visit_duration", "views_per_visit"]
GROUP_COLUMN = {"entry_page": "entry_page", "exit_page": "exit_page", "referrer_host": "referrer_host",
                "device": "device", "day": "day_text", "path": "entry_page"}
START, END = 1793491200000, 1793491200000 + 3 * 86400000  # 2026-11-01 to 2026-11-03 inclusive


def duckdb_visits(data, by=None, where="true", timeout_minutes=30):
    group_select = f"{GROUP_COLUMN[by]} AS {by}, " if by else ""
    group_by = "GROUP BY 1" if by else ""
    sql = VISITS_SQL.format(data=data, start=START, end=END, where=where, timeout=timeout_minutes * 60000,
                            group_select=group_select, group_by=group_by)
    cursor = duckdb.connect().execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def query(data, *args):
    return json.loads(klogs("query", "--data", data, "--from", "2026-11-01", "--to", "2026-11-03",
                            "--output", "json", *args).stdout)


def assert_close(got, expected, key):
    if expected is None:
        assert got is None, key
    elif isinstance(expected, float) or not float(expected).is_integer():
        assert got is not None and math.isclose(got, float(expected), abs_tol=0.0006), (key, got, expected)
    else:
        assert got == expected, (key, got, expected)


@pytest.mark.parametrize("where,options", [
    ("true", []),
    ("starts_with(path, '/blog/')", ["--path", "/blog/"]),
])
def test_totals_equal_duckdb(data, where, options):
    (got,) = query(data, "--metric", "pageviews,visitors," + ",".join(VISIT_METRICS), *options)
    (expected,) = duckdb_visits(data, where=where)
    requests = duckdb.connect().execute(REQUESTS_SQL.format(data=data, start=START, end=END, where=where)).fetchone()
    assert expected["visits"] > 100
    assert got["pageviews"] == requests[0] and got["visitors"] == requests[1]
    for metric in VISIT_METRICS:
        assert_close(got[metric], expected[metric], metric)


@pytest.mark.parametrize("by", ["entry_page", "exit_page", "referrer_host", "device", "day", "path"])
def test_every_group_equals_duckdb(data, by):
    got = query(data, "--by", by, "--metric", ",".join(VISIT_METRICS))
    expected = duckdb_visits(data, by=by)
    assert len(got) == len(expected) > 1
    expected_by_key = {row[by]: row for row in expected}
    for row in got:
        want = expected_by_key[row[by]]
        for metric in VISIT_METRICS:
            assert_close(row[metric], want[metric], (by, row[by], metric))


def test_entry_pages_top_and_their_page_views_and_visitors(data):
    got = query(data, "--by", "entry_page", "--top", "10", "--metric", "visits,pageviews,visitors")
    expected = duckdb.connect().execute(f"""
        WITH v AS ({VISITS_SQL.format(data=data, start=START, end=END, where='true', timeout=1800000,
                                      group_select='entry_page, visitor, views, ', group_by='GROUP BY ALL')})
        SELECT entry_page, sum(visits), sum(views * visits), count(DISTINCT visitor) FROM v
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""").fetchall()
    assert [(r["entry_page"], r["visits"], r["pageviews"], r["visitors"]) for r in got] == [
        (page, int(visits), int(views), visitors) for page, visits, views, visitors in expected]


def test_a_shorter_visit_timeout_equals_duckdb(data):
    (got,) = query(data, "--metric", ",".join(VISIT_METRICS), "--visit-timeout", "10m")
    (expected,) = duckdb_visits(data, timeout_minutes=10)
    (default,) = duckdb_visits(data)
    assert expected["visits"] > default["visits"]
    for metric in VISIT_METRICS:
        assert_close(got[metric], expected[metric], metric)


def test_by_path_defaults_to_page_views_and_visitors(data):
    rows = query(data, "--by", "path", "--top", "5")
    assert list(rows[0]) == ["path", "pageviews", "visitors"]
    expected = duckdb.connect().execute(f"""
        SELECT path, count(*) FILTER (WHERE kind = 'page') AS pageviews, count(DISTINCT visitor)
        FROM read_parquet('{data}/events/*/*.parquet')
        WHERE NOT is_bot AND epoch_ms(ts) >= {START} AND epoch_ms(ts) < {END}
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5""").fetchall()
    assert [(r["path"], r["pageviews"], r["visitors"]) for r in rows] == expected


def test_page_views_come_from_the_hourly_hits_when_they_can(data):
    result = klogs("query", "--data", data, "--from", "2026-11-01", "--to", "2026-11-03", "--by", "day",
                   "--metric", "pageviews", "--explain", "--output", "json")
    assert "klogs query: hits:" in result.stderr
    hits = duckdb.connect().execute(f"""
        SELECT strftime(hour AT TIME ZONE 'UTC', '%Y-%m-%d'), sum(hits) FILTER (WHERE kind = 'page')
        FROM read_parquet('{data}/hits/*/*.parquet') WHERE NOT is_bot GROUP BY 1 ORDER BY 1""").fetchall()
    assert [(row["day"], row["pageviews"]) for row in json.loads(result.stdout)] == hits


def test_visits_are_refused_without_pseudonyms_and_requests_by_entry_page(data, tmp_path):
    log = tmp_path / "a.log"
    klogs("generate", "--lines", 500, "--seed", 3, "--start", "2026-11-01", "--output", log)
    klogs("ingest", "-q", "--retention-days", "0", "--ip-mode", "truncate", "--data", tmp_path / "data", log)
    refused = klogs("query", "--data", tmp_path / "data", "--metric", "visits", check=False)
    assert refused.returncode == 64 and "cannot be joined into visits" in refused.stderr
    fallback = klogs("query", "--data", tmp_path / "data", "--by", "path", "--output", "json")
    assert list(json.loads(fallback.stdout)[0]) == ["path", "pageviews"]
    assert "showing pageviews only" in fallback.stderr
    for args in (["--by", "entry_page", "--metric", "hits"], ["--visit-timeout", "soon"], ["--metric", "sessions"]):
        assert klogs("query", "--data", data, *args, check=False).returncode == 64, args
