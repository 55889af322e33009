"""`klogs query` checked against DuckDB over the same Parquet files, `klogs export` read back by DuckDB and
pyarrow, and the HTML report rendered by headless Chromium.

KLOGS_BIN names the klogs binary (`make test` sets it). Every dataset is small and generated once per session.
"""

import csv
import datetime
import io
import json
import os
import re
import shutil
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

KLOGS = os.environ.get("KLOGS_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/klogs"))


def klogs(*args, check=True, **kwargs):
    result = subprocess.run([KLOGS, *map(str, args)], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"klogs {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}")
    return result


def make_dataset(root, *ingest_options, runs=((20000, 7, 5), (3000, 8, 2))):
    """Two ingest runs (so partitions hold several files) of generated logs from 2026-11-01."""
    os.makedirs(root, exist_ok=True)
    for lines, seed, days in runs:
        log = os.path.join(root, f"gen-{seed}.log")
        klogs("generate", "--lines", lines, "--seed", seed, "--start", "2026-11-01", "--days", days, "--output", log)
        klogs("ingest", "-q", "--retention-days", "0", "--data", os.path.join(root, "data"), *ingest_options, log)
    return os.path.join(root, "data")


@pytest.fixture(scope="session")
def hashed(tmp_path_factory):
    return make_dataset(str(tmp_path_factory.mktemp("hashed")))


@pytest.fixture(scope="session")
def truncated(tmp_path_factory):
    return make_dataset(str(tmp_path_factory.mktemp("truncated")), "--ip-mode", "truncate", runs=((3000, 3, 2),))


@pytest.fixture(scope="session")
def hits_only(tmp_path_factory):
    return make_dataset(str(tmp_path_factory.mktemp("hitsonly")), "--no-events", runs=((3000, 3, 2),))


@pytest.fixture(scope="session")
def with_vhosts(hashed, tmp_path_factory):
    """The hashed dataset rewritten by pyarrow (an independent writer) with virtual hosts filled in."""
    root = str(tmp_path_factory.mktemp("vhosts"))
    for dataset in ("hits", "events"):
        for partition in sorted(os.listdir(os.path.join(hashed, dataset))):
            source = os.path.join(hashed, dataset, partition)
            target = os.path.join(root, dataset, partition)
            os.makedirs(target)
            for name in sorted(os.listdir(source)):
                table = pq.read_table(os.path.join(source, name))
                hosts = ["www.example.org", "shop.example.org", None]
                vhost = pa.array([hosts[(len(p) + i) % 3] for i, p in enumerate(table.column("path").to_pylist())])
                table = table.set_column(table.schema.get_field_index("vhost"), "vhost", vhost)
                pq.write_table(table, os.path.join(target, name), compression="lz4", row_group_size=700,
                               coerce_timestamps="ms")
    return root


DIMENSION_SQL = {
    "hits": {
        "day": "strftime(hour, '%Y-%m-%d')",
        "hour": "strftime(hour, '%Y-%m-%dT%H:00:00Z')",
    },
    "events": {
        "day": "strftime(ts, '%Y-%m-%d')",
        "hour": "strftime(date_trunc('hour', ts), '%Y-%m-%dT%H:00:00Z')",
    },
}
COMMON_SQL = {
    "path": "path", "vhost": "vhost", "status": "status", "status_class": "(status // 100)::VARCHAR || 'xx'",
    "browser": "browser", "os": "os", "device": "device", "referrer_host": "referrer_host",
}
METRIC_SQL = {
    "hits": {"hits": "sum(hits)", "bytes": "sum(bytes)"},
    "events": {"hits": "count(*)", "bytes": "sum(bytes)", "visitors": "count(DISTINCT visitor)"},
}


def ms(text):
    return f"epoch_ms(TIMESTAMP '{text}')"


def duckdb_rows(data, by, metrics, where, time_from, time_to, top=None):
    dataset = "events" if "visitors" in metrics or "referrer_host" in by else "hits"
    time_column = "ts" if dataset == "events" else "hour"
    keys = [DIMENSION_SQL[dataset].get(d) or COMMON_SQL[d] for d in by]
    selects = [f"{k} AS {d}" for k, d in zip(keys, by)] + [f"{METRIC_SQL[dataset][m]} AS {m}" for m in metrics]
    conditions = [f"epoch_ms({time_column}) >= {ms(time_from)}", f"epoch_ms({time_column}) < {ms(time_to)}"] + where
    sql = (f"SELECT {', '.join(selects)} FROM read_parquet('{data}/{dataset}/*/*.parquet', hive_partitioning=true) "
           f"WHERE {' AND '.join(conditions)}")
    if by:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(by)))
        key_order = ", ".join(f"{i + 1} ASC NULLS LAST" for i in range(len(by)))
        if top:
            sql += f" ORDER BY {len(by) + 1} DESC, {key_order} LIMIT {top}"
        else:
            sql += f" ORDER BY {key_order}"
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")  # strftime and date_trunc on TIMESTAMPTZ follow the session zone
    rows = connection.execute(sql).fetchall()
    names = by + metrics
    return [{n: (int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for n, v in zip(names, r)}
            for r in rows]


BOTS_SQL = {"exclude": "NOT is_bot", "only": "is_bot", "include": "true"}

# (--by, --metric, extra options, SQL conditions beyond the bot filter, bots)
CASES = [
    (["day"], ["hits"], [], [], "exclude"),
    (["hour"], ["hits", "bytes"], [], [], "exclude"),
    (["path"], ["hits"], ["--top", "10"], [], "exclude"),
    (["path"], ["bytes", "hits"], ["--top", "7", "--path", "/static/"], ["starts_with(path, '/static/')"], "exclude"),
    (["path"], ["hits"], ["--path", "/blog/*"], ["path GLOB '/blog/*'"], "exclude"),
    (["path"], ["hits"], ["--path", "*.[jc]s*", "--bots", "include"], ["path GLOB '*.[jc]s*'"], "include"),
    (["status"], ["hits", "bytes"], ["--bots", "include"], [], "include"),
    (["status_class"], ["hits"], ["--bots", "only"], [], "only"),
    (["status"], ["hits"], ["--status", "404,5xx"], ["(status = 404 OR status // 100 = 5)"], "exclude"),
    (["browser"], ["hits"], [], [], "exclude"),
    (["os", "device"], ["hits", "bytes"], ["--bots", "include"], [], "include"),
    (["device"], ["hits"], ["--device", "mobile,tablet"], ["device IN ('mobile', 'tablet')"], "exclude"),
    (["device"], ["hits"], ["--device", "bot"], ["device = 'bot'"], "include"),
    (["vhost"], ["hits"], [], [], "exclude"),
    (["referrer_host"], ["hits"], ["--top", "5"], [], "exclude"),
    (["path"], ["visitors", "hits"], ["--top", "10"], [], "exclude"),
    (["day", "device"], ["visitors"], ["--bots", "include"], [], "include"),
    ([], ["hits", "bytes", "visitors"], [], [], "exclude"),
    (["day", "status_class", "browser"], ["hits"], ["--status", "2xx"], ["status // 100 = 2"], "exclude"),
]


@pytest.mark.parametrize("by,metrics,options,where,bots", CASES, ids=lambda v: ",".join(v) if isinstance(v, list) else v)
@pytest.mark.parametrize("window", [("2026-11-01", "2026-11-05", "2026-11-01 00:00:00", "2026-11-06 00:00:00"),
                                    ("2026-11-02T06", "2026-11-03T18:00", "2026-11-02 06:00:00", "2026-11-03 18:00:00")])
def test_query_equals_duckdb(hashed, by, metrics, options, where, bots, window):
    from_text, to_text, sql_from, sql_to = window
    args = ["query", "--data", hashed, "--from", from_text, "--to", to_text, "--metric", ",".join(metrics),
            "--output", "json", *options]
    if by:
        args += ["--by", ",".join(by)]
    got = json.loads(klogs(*args).stdout)
    top = int(options[options.index("--top") + 1]) if "--top" in options else None
    expected = duckdb_rows(hashed, by, metrics, where + [BOTS_SQL[bots]], sql_from, sql_to, top)
    assert got == expected


@pytest.mark.parametrize("by,options,where", [
    (["vhost"], [], []),
    (["vhost", "status"], ["--vhost", "shop.example.org"], ["vhost = 'shop.example.org'"]),
    (["path"], ["--vhost", "www.example.org,shop.example.org", "--top", "5"], ["vhost IN ('www.example.org', 'shop.example.org')"]),
    (["referrer_host", "vhost"], ["--path", "/"], ["starts_with(path, '/')"]),
])
def test_vhosts_from_a_pyarrow_written_dataset(with_vhosts, by, options, where):
    args = ["query", "--data", with_vhosts, "--from", "2026-11-01", "--to", "2026-11-05", "--output", "json",
            "--by", ",".join(by), "--metric", "hits", *options]
    got = json.loads(klogs(*args).stdout)
    top = int(options[options.index("--top") + 1]) if "--top" in options else None
    expected = duckdb_rows(with_vhosts, by, ["hits"], where + ["NOT is_bot"], "2026-11-01 00:00:00",
                           "2026-11-06 00:00:00", top)
    assert got == expected


def test_csv_matches_json(hashed):
    common = ["query", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05", "--by", "status_class,device",
              "--metric", "hits,bytes"]
    rows = list(csv.DictReader(io.StringIO(klogs(*common, "--output", "csv").stdout)))
    as_json = json.loads(klogs(*common, "--output", "json").stdout)
    assert [{k: str(v) for k, v in r.items()} for r in as_json] == rows


def test_default_range_is_the_last_seven_days_of_data(hashed):
    everything = json.loads(klogs("query", "--data", hashed, "--output", "json").stdout)
    explicit = json.loads(klogs("query", "--data", hashed, "--from", "2026-10-30", "--to", "2026-11-05",
                                "--output", "json").stdout)
    assert everything == explicit
    assert everything[0]["hits"] > 0


def test_plain_date_to_includes_the_whole_day_and_datetime_to_excludes(hashed):
    def hits(*args):
        return json.loads(klogs("query", "--data", hashed, *args, "--output", "json").stdout)[0]["hits"]
    whole = hits("--from", "2026-11-02", "--to", "2026-11-02")
    assert whole == hits("--from", "2026-11-02", "--to", "2026-11-03T00:00")
    assert whole == hits("--from", "2026-11-02T00", "--to", "2026-11-02T12") + hits("--from", "2026-11-02T12:00",
                                                                                      "--to", "2026-11-03T00:00:00Z")


def test_only_the_partitions_in_range_are_read(hashed):
    result = klogs("query", "--data", hashed, "--from", "2026-11-03", "--to", "2026-11-03", "--explain")
    assert "1 partitions" in result.stderr


def test_visitors_are_refused_without_pseudonyms(truncated):
    result = klogs("query", "--data", truncated, "--metric", "visitors", check=False)
    assert result.returncode == 64
    assert "no visitor pseudonyms" in result.stderr
    assert klogs("query", "--data", truncated, "--by", "day").returncode == 0


def test_referrers_are_refused_without_events(hits_only):
    result = klogs("query", "--data", hits_only, "--by", "referrer_host", check=False)
    assert result.returncode == 64
    assert "no events dataset" in result.stderr
    spark_like = duckdb.connect().execute(
        f"SELECT sum(hits) FROM read_parquet('{hits_only}/hits/*/*.parquet') WHERE NOT is_bot").fetchone()[0]
    assert json.loads(klogs("query", "--data", hits_only, "--output", "json").stdout)[0]["hits"] == spark_like


def test_invalid_options_exit_64(hashed):
    for args in (["--by", "colour"], ["--metric", "clicks"], ["--from", "yesterday"], ["--status", "abc"],
                 ["--from", "2026-11-05", "--to", "2026-11-01"], ["--top", "0"], ["--visit-timeout", "0m"],
                 ["--by", "exit_page", "--metric", "bytes"]):
        assert klogs("query", "--data", hashed, *args, check=False).returncode == 64, args


GOLDEN = os.path.join(os.path.dirname(__file__), "../../fixtures/golden")


@pytest.mark.parametrize("command", ["query", "export", "report"])
def test_help_matches_its_golden_file(command):
    """`KLOGS_UPDATE_GOLDEN=1` rewrites the golden files instead of comparing."""
    text = klogs(command, "--help", env={**os.environ, "COLUMNS": "100"}).stdout
    path = os.path.join(GOLDEN, f"help-{command}.txt")
    if os.environ.get("KLOGS_UPDATE_GOLDEN") == "1":
        with open(path, "w") as file:
            file.write(text)
    with open(path) as file:
        assert text == file.read()


class Rows:
    """Query results as column names and dictionaries (the installed duckdb has no Arrow result method)."""

    def __init__(self, connection, sql):
        cursor = connection.execute(sql)
        self.column_names = [d[0] for d in cursor.description]
        self.rows = [dict(zip(self.column_names, r)) for r in cursor.fetchall()]
        self.num_rows = len(self.rows)

    def to_pylist(self):
        return self.rows


TIME = {"events": "ts", "hits": "hour"}


def duckdb_table(data, dataset, first_day, last_day):
    return Rows(duckdb.connect(),
        f"SELECT * EXCLUDE (date) REPLACE (epoch_ms({TIME[dataset]}) AS {TIME[dataset]}) FROM read_parquet('{data}/{dataset}/*/*.parquet', hive_partitioning=true) "
        f"WHERE date BETWEEN DATE '{first_day}' AND DATE '{last_day}' ORDER BY ALL")


@pytest.mark.parametrize("dataset", ["events", "hits"])
def test_parquet_export_holds_the_same_rows(hashed, tmp_path, dataset):
    target = tmp_path / "export.parquet"
    klogs("export", "--data", hashed, "--dataset", dataset, "--format", "parquet", "--from", "2026-11-02",
          "--to", "2026-11-03", "--output", target)
    exported = Rows(duckdb.connect(), f"SELECT * REPLACE (epoch_ms({TIME[dataset]}) AS {TIME[dataset]}) FROM read_parquet('{target}') ORDER BY ALL")
    expected = duckdb_table(hashed, dataset, "2026-11-02", "2026-11-03")
    assert exported.num_rows > 0
    assert exported.to_pylist() == expected.to_pylist()
    assert pq.read_metadata(target).metadata[b"klogs.dataset"] == dataset.encode()


@pytest.mark.parametrize("dataset", ["events", "hits"])
def test_csv_and_jsonl_exports_hold_the_same_rows(hashed, tmp_path, dataset):
    expected = duckdb_table(hashed, dataset, "2026-11-04", "2026-11-04")
    time_column = "ts" if dataset == "events" else "hour"

    def normalised(rows):
        result = []
        for row in rows:
            row = dict(row)
            if not isinstance(row[time_column], str):
                stamp = datetime.datetime.fromtimestamp(row[time_column] / 1000, datetime.timezone.utc)
                row[time_column] = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            result.append(tuple(("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
                                for v in row.values()))
        return sorted(result)

    csv_text = klogs("export", "--data", hashed, "--dataset", dataset, "--from", "2026-11-04", "--to", "2026-11-04").stdout
    csv_rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert list(csv_rows[0].keys()) == expected.column_names
    jsonl = klogs("export", "--data", hashed, "--dataset", dataset, "--format", "jsonl", "--from", "2026-11-04",
                  "--to", "2026-11-04", "-o", "-").stdout
    json_rows = [json.loads(line) for line in jsonl.splitlines()]
    want = normalised(expected.to_pylist())
    assert normalised(csv_rows) == want
    assert normalised(json_rows) == want


# --- The HTML report in a real browser -------------------------------------------------------------------------

def chromium_binary():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise AssertionError("Chromium is needed to check the HTML report: `make deps` installs Debian's chromium")


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
         "--force-device-scale-factor=1", "--no-first-run", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def decode_png(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG, with the standard library only."""
    import struct
    import zlib
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous, offset = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def page_facts(dom):
    import html as html_module
    import re
    facts = {}
    for name in ("data-rendered", "data-errors", "data-chart-boxes", "data-page-height", "data-page-width"):
        match = re.search(name + r'="([^"]*)"', dom)
        facts[name] = html_module.unescape(match.group(1)) if match else None
    return facts


EXPECTED_CHARTS = {"over-time", "bots", "pages", "entries", "referrers", "browsers", "oses", "devices", "statuses"}


def test_the_html_report_renders_in_chromium_with_every_chart_drawn(hashed, tmp_path):
    report = tmp_path / "report.html"
    klogs("report", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05", "--html", report)
    text = report.read_text()
    # Self-contained: nothing is loaded from anywhere.
    for needle in ("src=", "href=", "@import", "url(", "http://", "https://"):
        assert needle not in text, needle
    # Text alternatives and real tables.
    assert text.count('role="img"') == 2 and text.count("<desc id=") == 2
    assert text.count("<table") >= 2 + len(EXPECTED_CHARTS) - 2

    dom = chromium(tmp_path, "--window-size=1280,900", "--dump-dom", report.as_uri())
    facts = page_facts(dom)
    assert facts["data-rendered"] == "yes", "the inline script did not finish"
    assert facts["data-errors"] is None, facts["data-errors"]
    boxes = {box["id"]: box for box in json.loads(facts["data-chart-boxes"])}
    assert set(boxes) == EXPECTED_CHARTS
    for line in ("pageviews", "visitors", "visits"):
        assert dom.count(f'class="line {line}"') == 1, line
    assert dom.count('class="dot"') == 5
    # The headline leads: visitors, visits, page views, bounce rate, visit duration, each with its trend.
    headline = json.loads(klogs("query", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05", "--output",
                                "json", "--metric", "visitors,visits,pageviews,bounce_rate,visit_duration").stdout)[0]
    tiles = re.findall(r'<div class="headline"><dt>([^<]*)</dt><dd>([^<]*)</dd><dd class="trend"', dom)
    assert [name for name, _ in tiles] == ["Visitors", "Visits", "Page views", "Bounce rate", "Visit duration"]
    assert tiles[0][1] == f"{headline['visitors']:,}" and tiles[1][1] == f"{headline['visits']:,}"
    assert tiles[2][1] == f"{headline['pageviews']:,}"
    assert tiles[3][1] == f"{round(headline['bounce_rate'], 1):g}%"
    assert dom.index('class="headline"') < dom.index('id="over-time"') < dom.index('id="pages"')
    assert dom.index('id="pages"') < dom.index('id="entries"') < dom.index('id="referrers"')

    height = int(facts["data-page-height"])
    screenshot = tmp_path / "report.png"
    chromium(tmp_path, f"--window-size=1280,{height}", f"--screenshot={screenshot}", report.as_uri())
    width, image_height, channels, rows = decode_png(screenshot)
    assert width == 1280
    for name, box in boxes.items():
        assert box["w"] > 100 and box["h"] > 30, (name, box)
        assert box["y"] + box["h"] <= image_height, (name, box)
        inked = total = 0
        for y in range(box["y"], box["y"] + box["h"], 2):
            row = rows[y]
            for x in range(box["x"], box["x"] + box["w"], 2):
                pixel = row[x * channels:x * channels + 3]
                total += 1
                if max(pixel) - min(pixel) > 40 or max(pixel) < 200:
                    inked += 1
        assert inked / total > 0.02, f"chart {name} looks blank: {inked} of {total} sampled pixels drawn"


def test_the_html_report_fits_a_phone_screen(hashed, tmp_path):
    report = tmp_path / "report.html"
    klogs("report", "--data", hashed, "--from", "2026-11-02", "--to", "2026-11-03", "--html", report)
    # 500 pixels is the narrowest window headless Chromium makes; the layout is the phone one below 520.
    facts = page_facts(chromium(tmp_path, "--window-size=500,900", "--dump-dom", report.as_uri()))
    assert facts["data-rendered"] == "yes" and facts["data-errors"] is None
    assert int(facts["data-page-width"]) <= 500, "the page scrolls sideways on a phone"
    boxes = {box["id"]: box for box in json.loads(facts["data-chart-boxes"])}
    assert boxes["pages"]["x"] == boxes["referrers"]["x"], "the rankings should stack in one column"
    assert boxes["referrers"]["y"] > boxes["pages"]["y"]


def test_the_markdown_report_matches_the_html_totals(hashed):
    markdown = klogs("report", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05", "--top", "3").stdout
    total = json.loads(klogs("query", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05",
                             "--output", "json").stdout)[0]["hits"]
    assert f"| Requests (without bots) | {total:,} | |" in markdown
    pageviews = json.loads(klogs("query", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05",
                                 "--output", "json", "--metric", "pageviews").stdout)[0]["pageviews"]
    assert re.search(rf"\| Page views \| {pageviews:,} \| [+-][0-9.]+% \|", markdown), markdown[:600]
    assert markdown.count("\n## ") == 8
    assert markdown.index("## Top pages") < markdown.index("## Entry pages") < markdown.index("## Referrer hosts")


def test_the_html_report_prints(hashed, tmp_path):
    report = tmp_path / "report.html"
    klogs("report", "--data", hashed, "--from", "2026-11-01", "--to", "2026-11-05", "--html", report)
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2, "the report should span printed pages"


def test_a_query_reads_the_committed_snapshot_not_the_files_of_a_commit_in_progress(tmp_path):
    data = make_dataset(str(tmp_path), runs=((2000, 11, 2),))
    args = ("query", "--data", data, "--from", "2026-11-01", "--to", "2026-11-03", "--metric", "hits,visitors",
            "--output", "json")
    before = json.loads(klogs(*args).stdout)
    assert before[0]["hits"] > 0
    # A commit between its renames and its new ledger: a part file is in place that the ledger does not list yet
    # (without the snapshot, these rows would count twice).
    for dataset in ("events", "hits"):
        partition = os.path.join(data, dataset, "date=2026-11-01")
        shutil.copy(os.path.join(partition, sorted(os.listdir(partition))[0]),
                    os.path.join(partition, "part-in-progress.parquet"))
    assert json.loads(klogs(*args).stdout) == before
    # A compaction or purge that deletes a listed file while a query runs: an error naming it, never an answer
    # from part of the data.
    partition = os.path.join(data, "events", "date=2026-11-01")
    listed = sorted(name for name in os.listdir(partition) if name != "part-in-progress.parquet")[0]
    os.remove(os.path.join(partition, listed))
    failed = klogs(*args, check=False)
    assert failed.returncode != 0 and listed in failed.stderr and failed.stdout == ""
