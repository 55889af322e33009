"""klogs ingest against the independent oracle, read back with DuckDB and pyarrow.

Every input is ingested once per compression setting (cached for the session); each test checks one property.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import oracle
from conftest import CORPUS, corpus_path, gzip_file, multi_member_gzip

CASES = ["elastic-apache", "hackers", "nasa-common", "generated", "generated-gzip", "generated-multigzip",
         "generated-common"]
EPOCH = dt.datetime(1970, 1, 1)


def _utc(milliseconds: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=milliseconds)


@pytest.fixture(scope="session")
def inputs(request, generated_dir):
    """name -> (input file, format); gzip variants are made lazily from the generated log."""
    cache = {}

    def get(name: str):
        if name in cache:
            return cache[name]
        if name in CORPUS:
            value = (corpus_path(name), CORPUS[name][1])
        elif name == "generated":
            value = (request.getfixturevalue("generated_log"), "combined")
        elif name == "generated-common":
            value = (request.getfixturevalue("generated_common_log"), "common")
        elif name == "generated-gzip":
            value = (gzip_file(get("generated")[0], generated_dir / "generated.log.gz"), "combined")
        elif name == "generated-multigzip":
            value = (multi_member_gzip(get("generated")[0], generated_dir / "generated-multi.log.gz"), "combined")
        else:
            raise KeyError(name)
        cache[name] = value
        return value

    return get


@pytest.fixture(scope="session")
def expected(inputs):
    cache = {}

    def get(name: str) -> oracle.Expected:
        if name not in cache:
            path, log_format = inputs(name)
            cache[name] = oracle.evaluate(oracle.read_input(path), log_format)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def ingested(klogs_bin, inputs, tmp_path_factory):
    """(name, compression) -> IngestRun, one ingest per pair for the whole session."""
    import subprocess

    from conftest import IngestRun

    cache = {}

    def get(name: str, compression: str | None = None) -> IngestRun:
        key = (name, compression)
        if key not in cache:
            path, log_format = inputs(name)
            base = tmp_path_factory.mktemp(f"ingest-{name}-{compression or 'default'}")
            data, summary = base / "data", base / "summary.json"
            args = [str(klogs_bin), "ingest", "--retention-days", "0", "--data", str(data), "--summary-json",
                    str(summary), "--format", log_format]
            if compression:
                args += ["--compression", compression]
            args.append(str(path))
            completed = subprocess.run(args, capture_output=True, timeout=600)
            cache[key] = IngestRun(completed.returncode, completed.stdout, completed.stderr, summary, data, args)
        return cache[key]

    return get


def parquet_files(data: Path, dataset: str) -> list[Path]:
    return sorted((data / dataset).glob("date=*/*.parquet"))


def duckdb_hits(data: Path) -> dict:
    rows = duckdb.sql(
        f"""select date, epoch_ms(hour), path, status, sum(hits)::BIGINT, sum(bytes)::BIGINT
            from read_parquet('{data}/hits/*/*.parquet', hive_partitioning=true)
            group by all""").fetchall()
    table = {}
    for date, hour_ms, path, status, hits, size in rows:
        when = _utc(hour_ms)
        assert when.minute == 0 and when.second == 0 and when.microsecond == 0, f"hour not on the hour: {when}"
        assert date.isoformat() == when.strftime("%Y-%m-%d"), f"partition {date} holds hour {when}"
        key = (when.strftime("%Y-%m-%d"), when.hour, path, status)
        previous = table.get(key, (0, 0))
        table[key] = (previous[0] + hits, previous[1] + size)
    return table


def describe_difference(actual: dict, wanted: dict, limit: int = 15) -> str:
    keys = sorted(set(actual) | set(wanted), key=repr)
    lines = []
    for key in keys:
        if actual.get(key) != wanted.get(key):
            lines.append(f"  {key}: klogs {actual.get(key)} oracle {wanted.get(key)}")
    head = "\n".join(lines[:limit])
    missing = sum(1 for key in wanted if key not in actual)
    extra = sum(1 for key in actual if key not in wanted)
    return (f"{len(lines)} keys differ ({missing} only in the oracle, {extra} only in klogs); "
            f"first ones (date, hour, path, status): (hits, bytes):\n{head}")


def assert_same_hits(actual: dict, wanted: dict) -> None:
    if actual != wanted:
        pytest.fail(describe_difference(actual, wanted), pytrace=False)


@pytest.mark.parametrize("name", CASES)
def test_ingest_succeeds_and_summary_counts_match_the_oracle(name, ingested, expected, inputs):
    run = ingested(name).check_ok()
    summary, wanted = run.summary, expected(name)
    for key in ("bytes_read", "lines_read", "lines_ingested", "lines_rejected", "rejected", "files_written",
                "elapsed_seconds", "lines_per_second"):
        assert key in summary, f"summary lacks {key}: {sorted(summary)}"
    assert summary["lines_read"] == wanted.lines
    assert summary["bytes_read"] == len(oracle.read_input(inputs(name)[0]))
    assert sum(summary["rejected"].values()) == summary["lines_rejected"]
    assert summary["lines_ingested"] + summary["lines_rejected"] + wanted.blank_lines == summary["lines_read"]
    assert (summary["lines_ingested"], summary["lines_rejected"]) == (wanted.accepted, wanted.rejected_total), (
        f"klogs rejected {summary['rejected']}, oracle rejected {dict(wanted.rejected)}")
    files = parquet_files(run.data, "hits") + parquet_files(run.data, "events")
    assert summary["files_written"] == len(files)


@pytest.mark.parametrize("name", CASES)
def test_hourly_hits_read_with_duckdb_match_the_oracle(name, ingested, expected):
    run = ingested(name).check_ok()
    assert_same_hits(duckdb_hits(run.data), expected(name).hits_table())


@pytest.mark.parametrize("name", CASES)
def test_hourly_hits_read_file_by_file_with_pyarrow_match_the_oracle(name, ingested, expected):
    run = ingested(name).check_ok()
    table = defaultdict(lambda: [0, 0])
    files = parquet_files(run.data, "hits")
    assert files, "no hits files"
    for path in files:
        date = path.parent.name.removeprefix("date=")
        content = pq.read_table(path)  # a single file: no partition column
        assert "date" not in content.column_names
        assert content.schema.field("hour").type == pa.timestamp("ms", tz="UTC"), content.schema
        columns = content.to_pydict()
        for hour, path_value, status, hits, size in zip(
                columns["hour"], columns["path"], columns["status"], columns["hits"], columns["bytes"]):
            hour = hour.replace(tzinfo=None)
            assert hour.strftime("%Y-%m-%d") == date, f"{path} holds hour {hour}"
            entry = table[(date, hour.hour, path_value, status)]
            entry[0] += hits
            entry[1] += size
    assert_same_hits({key: tuple(value) for key, value in table.items()}, expected(name).hits_table())


@pytest.mark.parametrize("name", CASES)
def test_hourly_hits_read_as_a_pyarrow_hive_dataset_match_the_oracle(name, ingested, expected):
    run = ingested(name).check_ok()
    partitioning = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")
    dataset = ds.dataset(run.data / "hits", format="parquet", partitioning=partitioning)
    content = dataset.to_table()
    assert content.schema.field("date").type == pa.date32()
    grouped = content.group_by(["date", "hour", "path", "status"]).aggregate([("hits", "sum"), ("bytes", "sum")])
    table = defaultdict(lambda: [0, 0])
    for row in grouped.to_pylist():
        hour = row["hour"].replace(tzinfo=None)
        assert row["date"] == hour.date()
        entry = table[(row["date"].isoformat(), hour.hour, row["path"], row["status"])]
        entry[0] += row["hits_sum"]
        entry[1] += row["bytes_sum"]
    assert_same_hits({key: tuple(value) for key, value in table.items()}, expected(name).hits_table())


@pytest.mark.parametrize("name", CASES)
def test_events_hold_one_row_per_ingested_line_at_the_right_time(name, ingested, expected):
    run = ingested(name).check_ok()
    wanted = expected(name)
    glob = f"{run.data}/events/*/*.parquet"
    count, total_bytes = duckdb.sql(
        f"select count(*), coalesce(sum(bytes), 0)::BIGINT from read_parquet('{glob}', hive_partitioning=true)"
    ).fetchall()[0]
    hits, hit_bytes = duckdb.sql(
        f"select sum(hits)::BIGINT, sum(bytes)::BIGINT from read_parquet('{run.data}/hits/*/*.parquet')").fetchall()[0]
    assert count == wanted.accepted == run.summary["lines_ingested"] == hits
    assert total_bytes == wanted.bytes_total == hit_bytes
    times = [row[0] for row in duckdb.sql(
        f"select epoch_ms(ts) from read_parquet('{glob}') order by 1").fetchall()]
    assert times == sorted(seconds * 1000 for seconds in wanted.timestamps), "event times differ from the oracle's"


@pytest.mark.parametrize("name", CASES)
def test_every_event_has_the_kind_the_oracle_gives_its_method_path_status_and_bot_flag(name, ingested):
    run = ingested(name).check_ok()
    groups = duckdb.sql(
        f"""select method, path, status, is_bot, kind, count(*)
            from read_parquet('{run.data}/events/*/*.parquet') group by all""").fetchall()
    wrong = [(method, path, status, is_bot, kind, oracle.request_kind(method, path, status, is_bot))
             for method, path, status, is_bot, kind, _ in groups
             if kind != oracle.request_kind(method, path, status, is_bot)]
    assert not wrong, f"{len(wrong)} groups differ (method, path, status, is_bot, klogs, oracle): {wrong[:10]}"
    kinds = {row[4] for row in groups}
    if name.startswith("generated"):
        assert kinds == {"page", "asset", "error", "other"}, kinds


@pytest.mark.parametrize("name", ["generated", "elastic-apache", "nasa-common"])
def test_hourly_hits_per_kind_read_with_pyarrow_equal_the_events_per_kind_read_with_duckdb(name, ingested):
    run = ingested(name).check_ok()
    partitioning = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")
    hits = ds.dataset(run.data / "hits", format="parquet", partitioning=partitioning).to_table()
    grouped = hits.group_by(["hour", "path", "status", "is_bot", "kind"]).aggregate([("hits", "sum")])
    from_hits = Counter()
    for row in grouped.to_pylist():
        key = (row["hour"].replace(tzinfo=None), row["path"], row["status"], row["is_bot"], row["kind"])
        from_hits[key] += row["hits_sum"]
    from_events = Counter()
    for hour, path, status, is_bot, kind, count in duckdb.sql(
            f"""select epoch_ms(date_trunc('hour', ts)), path, status, is_bot, kind, count(*)
                from read_parquet('{run.data}/events/*/*.parquet') group by all""").fetchall():
        from_events[(_utc(hour), path, status, is_bot, kind)] += count
    assert from_hits == from_events


def test_asset_extensions_option_replaces_the_list(generated_log, ingest):
    run = ingest([generated_log], "--asset-extensions", "css,JS").check_ok()
    groups = duckdb.sql(
        f"""select method, path, status, is_bot, kind from read_parquet('{run.data}/events/*/*.parquet')
            group by all""").fetchall()
    custom = frozenset({"css", "js"})
    wrong = [row for row in groups if row[4] != oracle.request_kind(*row[:4], asset_extensions=custom)]
    assert not wrong, wrong[:10]
    assert any(path.endswith(".png") and kind == "page" for _, path, _, _, kind in groups)


@pytest.mark.parametrize("dataset", ["events", "hits"])
@pytest.mark.parametrize("name", CASES)
def test_date_partition_is_the_utc_date_of_every_row(name, dataset, ingested):
    run = ingested(name).check_ok()
    column = "ts" if dataset == "events" else "hour"
    files = parquet_files(run.data, dataset)
    assert files, f"no {dataset} files"
    for path in files:
        date = path.parent.name.removeprefix("date=")
        values = pq.read_table(path, columns=[column]).column(column).to_pylist()
        wrong = [value for value in values if value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d") != date]
        assert not wrong, f"{path}: {len(wrong)} rows outside {date}, e.g. {wrong[:3]}"
    bad = duckdb.sql(
        f"""select count(*) from read_parquet('{run.data}/{dataset}/*/*.parquet', hive_partitioning=true)
            where date <> cast(timezone('UTC', {column}) as date)""").fetchall()[0][0]
    assert bad == 0


@pytest.mark.parametrize("name", CASES)
def test_every_string_value_is_valid_utf8(name, ingested):
    """Parquet's STRING annotation means UTF-8; pyarrow refuses to decode anything else."""
    run = ingested(name).check_ok()
    bad = []
    for path in parquet_files(run.data, "hits") + parquet_files(run.data, "events"):
        table = pq.read_table(path)
        for column_name in table.column_names:
            column = table.column(column_name)
            if not pa.types.is_string(column.type):
                continue
            for value in column.cast(pa.binary()).to_pylist():
                if value is None:
                    continue
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    bad.append(f"{path.parent.parent.name}.{column_name}: {value[:40]!r}")
    assert not bad, f"{len(bad)} STRING values are not UTF-8, e.g. {sorted(set(bad))[:5]}"


@pytest.mark.parametrize("name", CASES)
def test_every_column_chunk_is_lz4_raw_by_default(name, ingested):
    run = ingested(name).check_ok()
    rows = duckdb.sql(
        f"select file_name, path_in_schema, compression from parquet_metadata('{run.data}/*/*/*.parquet')"
    ).fetchall()
    assert rows
    other = [row for row in rows if row[2] != "LZ4_RAW"]
    assert not other, f"{len(other)} column chunks are not LZ4_RAW, e.g. {other[:3]}"


@pytest.mark.parametrize("name", ["generated", "nasa-common"])
def test_uncompressed_option_writes_uncompressed_chunks_with_the_same_content(name, ingested, expected):
    run = ingested(name, "uncompressed").check_ok()
    rows = duckdb.sql(f"select compression from parquet_metadata('{run.data}/*/*/*.parquet')").fetchall()
    assert rows and {row[0] for row in rows} == {"UNCOMPRESSED"}, Counter(row[0] for row in rows)
    assert_same_hits(duckdb_hits(run.data), expected(name).hits_table())


@pytest.mark.parametrize("name", CASES)
def test_every_file_carries_klogs_key_value_metadata(name, ingested):
    run = ingested(name).check_ok()
    files = parquet_files(run.data, "hits") + parquet_files(run.data, "events")
    assert files
    for path in files:
        metadata = pq.read_metadata(path).metadata or {}
        keys = {key.decode(): value.decode() for key, value in metadata.items() if key.startswith(b"klogs.")}
        assert {"klogs.version", "klogs.schema_version", "klogs.dataset", "klogs.ip_mode"} <= set(keys), (
            f"{path}: {keys}")
        assert keys["klogs.schema_version"] == "2"
        assert keys["klogs.dataset"] == path.parent.parent.name
        assert keys["klogs.ip_mode"] == "hash"
        assert keys["klogs.version"]


@pytest.mark.parametrize("name", ["generated", "hackers"])
def test_no_temporary_files_are_left_behind(name, ingested):
    run = ingested(name).check_ok()
    hidden = [path for path in run.data.rglob("*") if path.name.startswith(".")]
    assert not hidden, f"hidden temporary files left behind: {hidden[:5]}"


def test_no_events_writes_only_the_hits_with_the_same_sums(generated_log, ingest, expected):
    run = ingest([generated_log], "--no-events").check_ok()
    assert not parquet_files(run.data, "events"), "--no-events still wrote events files"
    assert_same_hits(duckdb_hits(run.data), expected("generated").hits_table())
    assert run.summary["files_written"] == len(parquet_files(run.data, "hits"))


@pytest.mark.parametrize("arguments", [[], ["-"]], ids=["no-file", "dash"])
def test_standard_input_gives_the_same_sums_as_the_file(arguments, generated_log, ingest, expected):
    run = ingest(arguments, stdin=generated_log.read_bytes()).check_ok()
    assert_same_hits(duckdb_hits(run.data), expected("generated").hits_table())


# Small real files with odd lines (see the corpus README): counts and sums must still agree with the oracle.
EDGE_FILES = [
    ("elastic-beats/apache-darwin-2.4.23.log", "common"),
    ("elastic-beats/apache-test.log", "combined"),
    ("elastic-beats/nginx-access.log", "combined"),
    ("elastic-beats/nginx-test.log", "combined"),
    ("lnav/logfile_access_log.0", "combined"),
    ("lnav/logfile_access_log.1", "combined"),
    ("lnav/logfile_bad_access_log.0", "combined"),
    ("lnav/logfile_shop_access_log.0", "combined"),
    ("lnav/logfile_syslog_with_access_log.0", "combined"),
    ("lnav/logfile_invalid_utf8.0", "combined"),
    ("lnav/textfile_invalid_utf8.0", "combined"),
    ("lnav/logfile_crlf.0", "combined"),
]


@pytest.mark.parametrize("relative,log_format", EDGE_FILES, ids=[item[0] for item in EDGE_FILES])
def test_edge_case_files_agree_with_the_oracle(relative, log_format, ingest):
    from conftest import CORPUS_LOGS

    path = CORPUS_LOGS / relative
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    wanted = oracle.evaluate(oracle.read_input(path), log_format)
    run = ingest([path], "--format", log_format).check_ok()
    summary = run.summary
    assert (summary["lines_read"], summary["lines_ingested"], summary["lines_rejected"]) == (
        wanted.lines, wanted.accepted, wanted.rejected_total), (
        f"klogs rejected {summary['rejected']}, oracle rejected {dict(wanted.rejected)}")
    actual = duckdb_hits(run.data) if parquet_files(run.data, "hits") else {}
    assert_same_hits(actual, wanted.hits_table())


EVENTS_SCHEMA = {
    "ts": pa.timestamp("ms", tz="UTC"), "visitor": pa.int64(), "client_net": pa.string(), "vhost": pa.string(),
    "method": pa.string(), "path": pa.string(), "status": pa.int32(), "bytes": pa.int64(),
    "referrer_host": pa.string(), "browser": pa.string(), "browser_major": pa.string(), "os": pa.string(),
    "os_major": pa.string(), "device": pa.string(), "is_bot": pa.bool_(), "kind": pa.string(),
}
HITS_SCHEMA = {
    "hour": pa.timestamp("ms", tz="UTC"), "vhost": pa.string(), "path": pa.string(), "status": pa.int32(),
    "browser": pa.string(), "os": pa.string(), "device": pa.string(), "is_bot": pa.bool_(), "hits": pa.int64(),
    "bytes": pa.int64(), "kind": pa.string(),
}
NEVER_NULL = {
    "events": ["ts", "method", "path", "status", "bytes", "browser", "os", "device", "is_bot", "kind"],
    "hits": ["hour", "path", "status", "browser", "os", "device", "is_bot", "hits", "bytes", "kind"],
}


@pytest.mark.parametrize("name", ["generated", "hackers", "nasa-common"])
def test_columns_types_and_nulls_follow_the_schema_document(name, ingested):
    run = ingested(name).check_ok()
    for dataset, schema in (("events", EVENTS_SCHEMA), ("hits", HITS_SCHEMA)):
        for path in parquet_files(run.data, dataset):
            table = pq.read_table(path)
            assert {field.name: field.type for field in table.schema} == schema, f"{path}: {table.schema}"
            for column in NEVER_NULL[dataset]:
                assert table.column(column).null_count == 0, f"{path}: {column} has nulls"
            devices = set(table.column("device").to_pylist())
            assert devices <= {"desktop", "mobile", "tablet", "bot", "other"}, devices


def test_generated_bot_share_is_about_what_the_generator_wrote(ingested):
    run = ingested("generated").check_ok()
    bots, total = duckdb.sql(
        f"select count(*) filter (where is_bot), count(*) from read_parquet('{run.data}/events/*/*.parquet')"
    ).fetchall()[0]
    assert 0.10 < bots / total < 0.22, f"{bots} of {total} events are bots; the generator writes about 15%"
