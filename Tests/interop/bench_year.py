"""A year of hits data for the query benchmark (not a test): one generated, ingested day copied to 365 partitions.

    .build/release/klogs generate --lines 1000000 --seed 11 --start 2026-01-01 --days 1 --output /tmp/bench/day.log
    .build/release/klogs ingest -q --no-events --data /tmp/bench/base /tmp/bench/day.log
    .venv/bin/python Tests/interop/bench_year.py /tmp/bench/base /tmp/bench/year
    time .build/release/klogs query --data /tmp/bench/year --from 2026-06-01 --to 2026-06-30 --by path --top 20 --explain

Each copy has its `hour` column moved to its own day and is written by pyarrow (LZ4_RAW, 128 Ki-row groups), so the
benchmark also reads files from an independent writer.
"""

import datetime
import glob
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def main(base, out):
    files = glob.glob(f"{base}/hits/date=2026-01-01/*.parquet")
    table = pa.concat_tables([pq.read_table(f) for f in files])
    print("rows per day:", table.num_rows)
    hour_index = table.schema.get_field_index("hour")
    hours = table.column("hour").cast(pa.int64())
    start = datetime.date(2026, 1, 1)
    for offset in range(365):
        day = start + datetime.timedelta(days=offset)
        shifted = pc.add(hours, offset * 86_400_000).cast(pa.timestamp("ms", tz="UTC"))
        copy = table.set_column(hour_index, table.schema.field("hour"), shifted)
        target = f"{out}/hits/date={day.isoformat()}"
        os.makedirs(target, exist_ok=True)
        pq.write_table(copy, f"{target}/part-bench-{offset}.parquet", compression="lz4", coerce_timestamps="ms",
                       row_group_size=128 * 1024)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
