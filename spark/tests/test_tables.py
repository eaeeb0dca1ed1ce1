import datetime as dt
import os
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from landfall_jobs import schemas, storage, tables
from util import DAY, at

OTHER = DAY + dt.timedelta(days=1)
COLUMNS = [("k", T.StringType()), ("v", T.LongType()), ("region", T.StringType())]
# contracts as a pipeline declares them (the reader takes them from its caller)
ORDERS = [
    ("order_id", T.StringType()),
    ("order_line", T.LongType()),
    ("customer_id", T.StringType()),
    ("order_ts", T.TimestampType()),
    ("channel", T.StringType()),
    ("store_id", T.StringType()),
    ("product_id", T.StringType()),
    ("quantity", T.LongType()),
    ("unit_price", T.DecimalType(18, 2)),
]
EVENTS = [("event_id", T.StringType()), ("customer_id", T.StringType())]


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
    df = tables.read_input(spark, root, "orders", ORDERS)
    assert df.columns == [n for n, _ in ORDERS]
    assert df.schema == schemas.struct(ORDERS)
    got = sorted((r["order_id"], r["order_line"], r["order_ts"], r["quantity"]) for r in df.collect())
    assert got == [("o1", 1, at("23:30:00"), 2), ("o2", 1, at("01:00:00"), 1)]

    with pytest.raises(tables.MissingInput, match="'events' not found"):
        tables.read_input(spark, root, "events", EVENTS)
    spark.sql("SELECT 'e1' AS event_id").write.parquet(f"{root}/events/x")
    with pytest.raises(tables.MissingInput, match="missing column.*customer_id"):
        tables.read_input(spark, root, "events", EVENTS)


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


def test_write_partition_replaces_only_its_leaf(spark, tmp_path):
    path = str(tmp_path / "t")
    columns = [("k", T.StringType()), ("v", T.LongType()), ("dt", T.StringType()), ("region", T.StringType())]

    def write(region, rows):
        df = spark.createDataFrame(rows, "k string, v bigint").withColumn("dt", F.lit(DAY.isoformat())).withColumn("region", F.lit(region))
        return tables.write_partition(df, path, [("dt", DAY.isoformat()), ("region", region)], columns)

    assert write("east", [("a", 1), ("b", 2)]) == 2
    assert write("west", [("c", 3)]) == 1
    assert write("east", [("a", 10)]) == 1  # re-run: fewer rows, no duplicates, west stays
    back = spark.read.parquet(path)
    assert back.columns[-2:] == ["dt", "region"]  # partition columns last, from the directories
    assert sorted((r["region"], r["k"], r["v"]) for r in back.collect()) == [("east", "a", 10), ("west", "c", 3)]
    leaf = tmp_path / "t" / f"dt={DAY}" / "region=east"
    assert len(list(leaf.glob("*.parquet"))) == 1  # one file per batch
    assert write("north", []) == 0  # no rows: still a partition carrying the schema
    assert spark.read.parquet(str(tmp_path / "t" / f"dt={DAY}" / "region=north")).columns == ["k", "v"]
    with pytest.raises(ValueError, match="not a plain key and path segment"):
        write("../x", [])


OBJECT_COLUMNS = [("name", T.StringType()), ("day", T.DateType()), ("amount", T.DecimalType(38, 2)),
                  ("region", T.StringType()), ("date", T.StringType())]


def object_df(spark, rows, region="east", date=DAY.isoformat()):
    """Rows of (name, day as 'YYYY-MM-DD', amount as int): the writer casts them to the contract,
    drops the extra column and orders them as the contract says."""
    return spark.createDataFrame(rows, "extra string, amount int, day string, name string") \
        .withColumn("region", F.lit(region)).withColumn("date", F.lit(date))


def test_write_object_partition_writes_one_object(spark, tmp_path):
    root = str(tmp_path / "out")
    east = [("region", "east"), ("date", DAY.isoformat())]
    west = [("region", "west"), ("date", DAY.isoformat())]
    leaf = tmp_path / "out" / "region=east" / f"date={DAY}"

    rows = [("x", 1, DAY.isoformat(), "a"), ("x", 2, DAY.isoformat(), "b"), ("x", 3, DAY.isoformat(), "c")]
    assert tables.write_object_partition(object_df(spark, rows).repartition(3), root, east, OBJECT_COLUMNS) == 3
    assert sorted(os.listdir(leaf)) == ["data.parquet"]  # nothing else: no _SUCCESS, part-*, .crc
    assert sorted(os.listdir(tmp_path / "out")) == ["region=east"]  # no temporary directory left
    back = spark.read.parquet(str(leaf / "data.parquet"))
    assert [(f.name, f.dataType) for f in back.schema.fields] == OBJECT_COLUMNS  # order and types
    assert sorted(tuple(r) for r in back.collect()) == [
        (n, DAY, Decimal(a), "east", DAY.isoformat()) for a, n in ((1, "a"), (2, "b"), (3, "c"))]

    assert tables.write_object_partition(object_df(spark, [("x", 9, DAY.isoformat(), "w")], "west"), root, west, OBJECT_COLUMNS) == 1
    west_file = tmp_path / "out" / "region=west" / f"date={DAY}" / "data.parquet"
    west_bytes, west_mtime = west_file.read_bytes(), west_file.stat().st_mtime_ns

    # a re-run with fewer rows replaces the object; the sibling is not touched
    assert tables.write_object_partition(object_df(spark, rows[:1]), root, east, OBJECT_COLUMNS) == 1
    assert sorted(os.listdir(leaf)) == ["data.parquet"]
    assert [r["name"] for r in spark.read.parquet(str(leaf / "data.parquet")).collect()] == ["a"]
    # no rows: still the one object, carrying the schema
    assert tables.write_object_partition(object_df(spark, []), root, east, OBJECT_COLUMNS) == 0
    assert sorted(os.listdir(leaf)) == ["data.parquet"]
    empty = spark.read.parquet(str(leaf / "data.parquet"))
    assert empty.count() == 0 and [(f.name, f.dataType) for f in empty.schema.fields] == OBJECT_COLUMNS
    assert (west_file.read_bytes(), west_file.stat().st_mtime_ns) == (west_bytes, west_mtime)
    assert sorted(os.listdir(tmp_path / "out")) == ["region=east", "region=west"]
    assert sorted(os.listdir(tmp_path / "out" / "region=west" / f"date={DAY}")) == ["data.parquet"]

    # zstd, as DuckDB writes it (DuckDB reads the object's footer)
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    codecs = {c for (c,) in con.execute("SELECT DISTINCT compression FROM parquet_metadata(?)", [str(west_file)]).fetchall()}
    types = con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false))", [str(west_file)]).fetchall()
    con.close()
    assert codecs == {"ZSTD"}
    assert types == [("name", "VARCHAR"), ("day", "DATE"), ("amount", "DECIMAL(38,2)"), ("region", "VARCHAR"), ("date", "VARCHAR")]


def test_write_object_partition_stale_files_and_bad_partitions(spark, tmp_path):
    root = str(tmp_path / "out")
    leaf = tmp_path / "out" / "k=v"
    leaf.mkdir(parents=True)
    for stale in ("part-00000-old.parquet", "_SUCCESS", ".data.parquet.crc"):
        (leaf / stale).write_text("stale")
    assert tables.write_object_partition(object_df(spark, [("x", 1, DAY.isoformat(), "a")]), root, [("k", "v")], OBJECT_COLUMNS) == 1
    assert os.listdir(leaf) == ["data.parquet"]
    assert tables.object_path(root, [("k", "v")]) == f"{root}/k=v/data.parquet"
    for partition, message in (([], "needs a partition"), ([("k", "../x")], "not a plain"), ([("K", "v")], "not a plain"),
                               ([("k", "")], "not a plain")):
        with pytest.raises(ValueError, match=message):
            tables.write_object_partition(object_df(spark, []), root, partition, OBJECT_COLUMNS)
    assert sorted(os.listdir(tmp_path / "out")) == ["k=v"]


def test_markers(spark, tmp_path):
    root = str(tmp_path / "cp")
    assert tables.read_marker(spark, root, "s") is None
    body = tables.write_marker(spark, root, "s", DAY, {"t": 3}, {"t": "/x/t"}, batch={"region": "east", "date": DAY.isoformat()})
    assert tables.read_marker(spark, root, "s") == body
    assert set(body) == {"stage", "date", "region", "rows", "outputs", "spark_version", "written_at"}
    assert (body["stage"], body["date"], body["region"], body["rows"], body["outputs"]) == ("s", DAY.isoformat(), "east", {"t": 3}, {"t": "/x/t"})
    assert (tmp_path / "cp" / "s" / "_landfall_done").is_file()
    tables.clear_marker(spark, root, "s")
    assert tables.read_marker(spark, root, "s") is None
    tables.clear_marker(spark, root, "s")  # nothing to clear: fine


class FakeStore:
    """An object store as storage.move sees it through Hadoop's API (scheme s3)."""

    def __init__(self, needs_parent):
        self.needs_parent, self.calls, self.dirs = needs_parent, [], set()

    def getUri(self):
        class Uri:
            def getScheme(self):
                return "s3"
        return Uri()

    def exists(self, path):
        return str(path) in self.dirs

    def mkdirs(self, path):
        self.calls.append(("mkdirs", str(path)))
        self.dirs.add(str(path))
        return True

    def rename(self, src, dst):
        self.calls.append(("rename", str(src), str(dst)))
        return not self.needs_parent or str(dst).rsplit("/", 1)[0] in self.dirs


def test_move_on_an_object_store_creates_no_directory_unless_needed(spark, monkeypatch):
    class P(str):
        def getParent(self):
            return P(self.rsplit("/", 1)[0])

    for needs_parent, calls in (
        (False, [("rename", "s3://b/t/_tmp/part", "s3://b/t/k=v/data.parquet")]),
        (True, [("rename", "s3://b/t/_tmp/part", "s3://b/t/k=v/data.parquet"), ("mkdirs", "s3://b/t/k=v"),
                ("rename", "s3://b/t/_tmp/part", "s3://b/t/k=v/data.parquet")]),
    ):
        store = FakeStore(needs_parent)
        monkeypatch.setattr(storage, "_fs", lambda spark, path: (store, P(path)))
        storage.move(spark, "s3://b/t/_tmp/part", "s3://b/t/k=v/data.parquet")
        assert store.calls == calls
    store.needs_parent, store.dirs = True, {"s3://b/t/k=v"}
    store.rename = lambda src, dst: False
    with pytest.raises(IOError, match="could not move"):
        storage.move(spark, "s3://b/t/_tmp/part", "s3://b/t/k=v/data.parquet")
