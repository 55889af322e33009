"""Apache Spark reads the klogs datasets as they are and gets the totals `klogs query` gives.

Run by `make test-spark` (pyspark in local mode on Java 17). KLOGS_BIN names the klogs binary. Exits non-zero on the
first difference.
"""

import json
import os
import subprocess
import sys
import tempfile

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

KLOGS = os.environ.get("KLOGS_BIN", ".build/debug/klogs")


def klogs(*args):
    return subprocess.run([KLOGS, *map(str, args)], check=True, capture_output=True, text=True).stdout


def main():
    root = tempfile.mkdtemp(prefix="klogs-spark-")
    data = os.path.join(root, "data")
    for lines, seed, days in ((20000, 7, 5), (3000, 8, 2)):  # two runs: several files per partition
        log = os.path.join(root, f"gen-{seed}.log")
        klogs("generate", "--lines", lines, "--seed", seed, "--start", "2026-11-01", "--days", days, "--output", log)
        klogs("ingest", "-q", "--data", data, log)

    spark = (SparkSession.builder.master("local[2]").appName("klogs-test-spark")
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    failures = []

    def check(name, got, expected):
        status = "ok" if got == expected else "DIFFERENT"
        print(f"{status}: {name}")
        if got != expected:
            failures.append(name)
            print(f"  spark: {got}\n  klogs: {expected}")

    window = ["--from", "2026-11-01", "--to", "2026-11-05"]
    hits = spark.read.parquet(os.path.join(data, "hits"))  # partition discovery: a `date` column of type date
    check("hits has a date partition column", dict(hits.dtypes).get("date"), "date")
    spark_by_day = {str(r["date"]): (r["hits"], r["bytes"]) for r in
                    hits.where(~F.col("is_bot")).groupBy("date")
                    .agg(F.sum("hits").alias("hits"), F.sum("bytes").alias("bytes")).collect()}
    klogs_by_day = {r["day"]: (r["hits"], r["bytes"]) for r in
                    json.loads(klogs("query", "--data", data, *window, "--by", "day", "--metric", "hits,bytes",
                                     "--output", "json"))}
    check("hits and bytes by day (hits dataset)", spark_by_day, klogs_by_day)

    spark_paths = [(r["path"], r["hits"]) for r in
                   hits.where(~F.col("is_bot")).groupBy("path").agg(F.sum("hits").alias("hits"))
                   .orderBy(F.desc("hits"), F.asc("path")).limit(10).collect()]
    klogs_paths = [(r["path"], r["hits"]) for r in
                   json.loads(klogs("query", "--data", data, *window, "--by", "path", "--top", "10", "--output", "json"))]
    check("top 10 pages", spark_paths, klogs_paths)

    events = spark.read.parquet(os.path.join(data, "events"))
    spark_visitors = {str(r["date"]): (r["hits"], r["visitors"]) for r in
                      events.where(~F.col("is_bot")).groupBy("date")
                      .agg(F.count("*").alias("hits"), F.countDistinct("visitor").alias("visitors")).collect()}
    klogs_visitors = {r["day"]: (r["hits"], r["visitors"]) for r in
                      json.loads(klogs("query", "--data", data, *window, "--by", "day", "--metric", "hits,visitors",
                                       "--output", "json"))}
    check("requests and visitors by day (events dataset)", spark_visitors, klogs_visitors)

    all_hits = hits.agg(F.sum("hits")).collect()[0][0]
    klogs_all = json.loads(klogs("query", "--data", data, *window, "--bots", "include", "--output", "json"))[0]["hits"]
    check("total requests, bots included", all_hits, klogs_all)
    check("events and hits agree", events.count(), all_hits)

    spark.stop()
    if failures:
        sys.exit(f"{len(failures)} Spark check(s) differ from klogs query")
    print("Spark reads both datasets and agrees with klogs query.")


if __name__ == "__main__":
    main()
