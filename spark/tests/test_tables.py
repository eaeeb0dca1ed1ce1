import datetime as dt
import os

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from builders import DAY, at
from landfall_jobs import schemas, storage, tables

OTHER = DAY + dt.timedelta(days=1)
COLUMNS = [("k", T.StringType()), ("v", T.LongType()), ("region", T.StringType())]


def table_rows(spark, path):
    return sorted(tuple(r) for r in spark.read.parquet(path).select("date", "region", "k", "v").collect())


def test_write_day_replaces_only_its_day_including_vanished_subpartitions(spark, tmp_path):
    path = str(tmp_path / "t")

    def write(day, rows, extra=("region",)):
        df = spark.createDataFrame(rows, "k string, v bigint, region string").withColumn("date", F.lit(day))
        return tables.write_day(df, path, "date", day, COLUMNS, extra_partitions=extra)

    assert write(DAY, [("a", 1, "east"), ("b", 2, "west")]) == 2
    assert write(OTHER, [("c", 3, "west")]) == 1
    # re-run of DAY without any west row: DAY's west partition must disappear, OTHER stays
    assert write(DAY, [("a", 10, "east")]) == 1
    assert write(DAY, [("a", 10, "east")]) == 1  # and again: no duplicates
    assert table_rows(spark, path) == [(DAY, "east", "a", 10), (OTHER, "west", "c", 3)]
    assert sorted(os.listdir(f"{path}/date={DAY}")) == ["region=east"]
    # a day that now has no rows at all leaves nothing behind
    assert write(DAY, []) == 0
    assert table_rows(spark, path) == [(OTHER, "west", "c", 3)]


def test_empty_single_level_day_is_readable(spark, tmp_path):
    path = str(tmp_path / "t")
    df = spark.createDataFrame([], "k string, v bigint, region string").withColumn("date", F.lit(DAY))
    assert tables.write_day(df, path, "date", DAY, COLUMNS) == 0
    back = tables.read_checkpoint(spark, path, "date", DAY, COLUMNS, "test")
    assert back.count() == 0
    assert back.schema["date"].dataType == T.DateType()
    with pytest.raises(tables.MissingInput, match="run stage 'test'"):
        tables.read_checkpoint(spark, path, "date", OTHER, COLUMNS, "test")


def test_inputs_read_recursively_ignoring_extras_and_casting_compatible_types(spark, tmp_path):
    root = str(tmp_path / "in")
    # timestamps without time zone (what DuckDB's TIMESTAMP writes), INT32 order lines and
    # quantities, an upper-case name, other column orders and extra columns per file, nested
    # hive-style dirs, a non-Parquet file. (All files of a dataset must share physical types:
    # Spark 3.5 cannot read INT32 in one file and INT64 in another as one column.)
    spark.sql("""
        SELECT 'o1' AS ORDER_ID, 1 AS order_line, 'c1' AS customer_id,
               TIMESTAMP_NTZ'2026-11-23 23:30:00' AS order_ts, 'web' AS channel, CAST(NULL AS STRING) AS store_id,
               'p1' AS product_id, 2 AS quantity, CAST(1.5 AS DECIMAL(18,2)) AS unit_price,
               'x' AS dt, 42 AS source_version
    """).write.parquet(f"{root}/orders/dt=2026-11-23/a")
    spark.sql("""
        SELECT 'c1' AS customer_id, 'o2' AS order_id, 1 AS order_line, 'note' AS other_extra,
               TIMESTAMP_NTZ'2026-11-23 01:00:00' AS order_ts, 'web' AS channel, CAST(NULL AS STRING) AS store_id,
               'p1' AS product_id, 1 AS quantity, CAST(3 AS DECIMAL(18,2)) AS unit_price
    """).write.parquet(f"{root}/orders/deeper/dt=2026-11-23/b")
    with open(f"{root}/orders/notes.csv", "w") as fh:
        fh.write("ignored\n")
    df = tables.read_input(spark, root, "orders")
    assert df.columns == [n for n, _ in schemas.INPUTS["orders"]]
    assert df.schema == schemas.input_schema("orders")
    got = sorted((r["order_id"], r["order_line"], r["order_ts"], r["quantity"]) for r in df.collect())
    assert got == [("o1", 1, at("23:30:00"), 2), ("o2", 1, at("01:00:00"), 1)]

    with pytest.raises(tables.MissingInput, match="'events' not found"):
        tables.read_input(spark, root, "events")
    spark.sql("SELECT 'e1' AS event_id").write.parquet(f"{root}/events/x")
    with pytest.raises(tables.MissingInput, match="missing column.*customer_id"):
        tables.read_input(spark, root, "events")


def test_storage_helpers(spark, tmp_path):
    path = storage.join(str(tmp_path), "a/", "/b", "marker")
    assert path == f"{tmp_path}/a/b/marker"
    assert not storage.exists(spark, path)
    storage.write_text(spark, path, '{"x": 1}\n')
    assert storage.read_text(spark, path) == '{"x": 1}\n'
    assert storage.delete(spark, str(tmp_path / "a"))
    assert not storage.exists(spark, path)
    assert storage.normalize_root("s3://bucket/prefix/") == "s3://bucket/prefix"
    assert storage.normalize_root("rel/dir") == os.path.abspath("rel/dir")
