import datetime as dt

import pytest


def test_reads_dates_before_the_gregorian_cutover_as_written(spark, tmp_path):
    # Validation accepts any calendar date (DuckDB's proleptic Gregorian); the Parquet convert
    # writes must read back unchanged, or one old signup date would fail a whole day's run.
    duckdb = pytest.importorskip("duckdb")
    path = str(tmp_path / "ancient.parquet")
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES (DATE '1500-01-01', TIMESTAMP '1500-01-01 12:00:00'), (DATE '0001-01-01', TIMESTAMP '2026-11-23 10:00:00')) t(d, ts)) TO ? (FORMAT parquet)",
        [path],
    )
    con.close()
    rows = sorted(spark.read.parquet(path).collect(), key=lambda r: r.d)
    assert [r.d for r in rows] == [dt.date(1, 1, 1), dt.date(1500, 1, 1)]
    assert rows[1].ts == dt.datetime(1500, 1, 1, 12, 0, 0)


def test_reads_a_column_newer_files_add_as_null_in_older_ones(spark, tmp_path):
    # schemaPolicy additive: convert keeps a column a newer file's header adds; a job reading the
    # dataset's older and newer files together must see it, null where a file lacks it
    old = tmp_path / "day1.parquet"
    new = tmp_path / "day2.parquet"
    spark.createDataFrame([("a", 1)], "item string, qty long").write.parquet(str(old))
    spark.createDataFrame([("b", 2, "web")], "item string, qty long, channel string").write.parquet(str(new))
    rows = sorted(spark.read.parquet(str(old), str(new)).collect(), key=lambda r: r.item)
    assert [(r.item, r.qty, r.channel) for r in rows] == [("a", 1, None), ("b", 2, "web")]
