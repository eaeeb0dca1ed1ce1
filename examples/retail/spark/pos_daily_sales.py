"""pos_daily_sales: the "Yummy Foods" POS daily sales of ONE province and ONE day, on Spark.

The same aggregation as the DuckDB transform examples/retail/sql/pos_daily_sales.v3.sql (v2
computes v1's rows faster, v3 is v2 with sums that cannot overflow; the SQL stays the reference: a
change of logic is a new SQL version, and this module follows it; tests compare the rows with every
version run by DuckDB, and the types with v3):

- pos rows of the batch (key_province = province, key_date = the date); of each store only its
  newest file counts: dense_rank() over (key_store, key_date) ordered by key_time DESC,
  source_key DESC, source_version_id DESC = 1 (files are cumulative; rows of the top file all stay);
- transaction codes 4 (sale), 5 (tax), 6 (discount) summed per (province, transaction_date,
  store_id, item_id), in and as DECIMAL(38,2), 0.00 when a code is absent; other codes are ignored
  (Spark's own sum of DECIMAL(18,2) is DECIMAL(28,2), and a cast back to (18,2) overflows to null
  without ANSI: two of the largest valid amounts would silently lose the day's sale);
- item master: one row per item_id, the batch date's rows first, then the newest key_date, then
  source_key DESC, source_version_id DESC, item_name, category (ASC), so the join never multiplies;
- LEFT JOIN on item_id: a sale of an unknown item keeps null item_name/category.

DuckDB sorts NULLs last in both directions (its default_null_order): every ordering here says so
explicitly, since Spark's ascending default is NULLS FIRST.

Writes the batch's one object <output-root>/<k>=<v>/.../data.parquet (the --partition-by keys:
the job's province,date gives curated/pos_daily_sales/province=ON/date=D/data.parquet), the key
and columns the DuckDB engine writes. The rows are those of the SQL; the order of rows in the file
is not guaranteed (the table is not meant to be read in file order).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from landfall_jobs import tables
from landfall_jobs.context import StageContext

from . import schemas

TABLE = "pos_daily_sales"
OUTPUT_COLUMNS = [name for name, _ in schemas.POS_DAILY_SALES]
AMOUNTS = (("sale_amount", 4), ("tax_amount", 5), ("discount_amount", 6))


FILE_KEY = ["key_store", "key_date", "key_time", "source_key", "source_version_id"]


def newest_files(pos: DataFrame, province: str, day: dt.date) -> DataFrame:
    """The batch's rows of each store's newest file for the day.

    Like the SQL's v2, the newest file is chosen among the batch's FILES (one row per file: a few
    per store) and its rows kept by a semi-join, rather than by ranking every row in a window
    partitioned by store (at most one task per store). The same rows as v1's dense_rank() = 1:
    the top file's rows are those whose file key equals the top one, null-safe as ranking peers.
    """
    batch = pos.where((F.col("key_province") == F.lit(province)) & (F.col("key_date") == F.lit(day.isoformat())))
    newest_first = Window.partitionBy("key_store", "key_date").orderBy(
        F.col("key_time").desc_nulls_last(),
        F.col("source_key").desc_nulls_last(),
        F.col("source_version_id").desc_nulls_last(),
    )
    newest = (
        batch.select(*FILE_KEY)
        .distinct()
        .withColumn("_file_rank", F.row_number().over(newest_first))
        .where(F.col("_file_rank") == F.lit(1))
        .select(*[F.col(c).alias(f"_newest_{c}") for c in FILE_KEY])
    )
    same_file = None
    for c in FILE_KEY:
        equal = F.col(c).eqNullSafe(F.col(f"_newest_{c}"))
        same_file = equal if same_file is None else same_file & equal
    # a few rows per store: always small enough to broadcast
    return batch.join(F.broadcast(newest), same_file, "left_semi")


def daily(newest: DataFrame) -> DataFrame:
    """Sale, tax and discount per (province, transaction_date, store_id, item_id)."""
    code = F.col("transaction_code")
    zero = F.lit(Decimal("0.00")).cast(schemas.MONEY_SUM)
    amount = F.col("amount").cast(schemas.MONEY_SUM)
    sums = [
        F.coalesce(F.sum(F.when(code == F.lit(value).cast("bigint"), amount)), zero).cast(schemas.MONEY_SUM).alias(name)
        for name, value in AMOUNTS
    ]
    return (
        newest.where(code.isin(*[F.lit(value).cast("bigint") for _, value in AMOUNTS]))
        .groupBy(F.col("key_province").alias("province"), "transaction_date", "store_id", "item_id")
        .agg(*sums)
    )


def items(item_master: DataFrame, day: dt.date) -> DataFrame:
    """One (item_id, item_name, category) per item_id, chosen deterministically."""
    preferred = Window.partitionBy("item_id").orderBy(
        (F.col("key_date") == F.lit(day.isoformat())).desc_nulls_last(),
        F.col("key_date").desc_nulls_last(),
        F.col("source_key").desc_nulls_last(),
        F.col("source_version_id").desc_nulls_last(),
        F.col("item_name").asc_nulls_last(),
        F.col("category").asc_nulls_last(),
    )
    return (
        item_master.withColumn("_item_rank", F.row_number().over(preferred))
        .where(F.col("_item_rank") == F.lit(1))
        .select("item_id", "item_name", "category")
    )


def pos_daily_sales(pos: DataFrame, item_master: DataFrame, province: str, day: dt.date) -> DataFrame:
    """pos and item_master with the input contracts' columns (schemas.INPUTS); the SQL's output
    columns in its order, dt (the date as 'YYYY-MM-DD') last."""
    sales = daily(newest_files(pos, province, day)).alias("d")
    names = items(item_master, day).alias("i")
    return sales.join(names, F.col("d.item_id") == F.col("i.item_id"), "left").select(
        F.col("d.province").alias("province"),
        F.col("d.transaction_date").alias("transaction_date"),
        F.col("d.store_id").alias("store_id"),
        F.col("d.item_id").alias("item_id"),
        F.col("i.item_name").alias("item_name"),
        F.col("i.category").alias("category"),
        F.col("d.sale_amount").alias("sale_amount"),
        F.col("d.tax_amount").alias("tax_amount"),
        F.col("d.discount_amount").alias("discount_amount"),
        F.lit(day.isoformat()).alias("dt"),
    )


def run(spark: SparkSession, ctx: StageContext) -> dict:
    """Reads every Parquet file under <input-root>/pos/ and <input-root>/item_master/ (the
    orchestration stages exactly the files the run claimed there, as for the DuckDB transform)."""
    province = ctx.batch.get("province")
    if province is None:
        raise ValueError(f"stage {ctx.stage!r} ({TABLE}) needs the batch key province, got {', '.join(ctx.batch)}")
    if not ctx.partition:
        raise ValueError(f"stage {ctx.stage!r} ({TABLE}) writes one object per batch partition: it needs --partition-by")
    pos = tables.read_input(spark, ctx.roots.input_root, "pos", schemas.INPUTS["pos"])
    item_master = tables.read_input(spark, ctx.roots.input_root, "item_master", schemas.INPUTS["item_master"])
    df = pos_daily_sales(pos, item_master, province, ctx.day)
    rows = tables.write_object_partition(df, ctx.roots.output_root, ctx.partition, schemas.POS_DAILY_SALES)
    return {"rows": {TABLE: rows}, "outputs": {TABLE: tables.object_path(ctx.roots.output_root, ctx.partition)}}
