"""metrics: the day's reporting tables under --output-root, each partitioned by date only (the
batch's partition: the Glue tables project it, and the warehouse load replaces it).

gmv_daily          date | gmv DECIMAL(18,2), orders BIGINT, units BIGINT          (always 1 row)
gmv_hourly         date | hour INT, gmv, orders                                   (always 24 rows)
funnel             date | step STRING, step_order INT, sessions BIGINT, events BIGINT (always 5 rows)
channel_region     date | gmv, orders, region, channel                            (region = sales_region)
sessions_per_user  date | customer_id, sessions BIGINT, events BIGINT
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from landfall_jobs import tables
from landfall_jobs.context import StageContext

from . import schemas
from .common import the_day

FUNNEL_STEPS = ("view", "search", "add_to_cart", "checkout", "purchase")
UNKNOWN = "unknown"  # a null region/channel is reported as this value

GMV_DAILY = [("gmv", schemas.MONEY), ("orders", T.LongType()), ("units", T.LongType())]
GMV_HOURLY = [("hour", T.IntegerType()), ("gmv", schemas.MONEY), ("orders", T.LongType())]
FUNNEL = [("step", T.StringType()), ("step_order", T.IntegerType()), ("sessions", T.LongType()), ("events", T.LongType())]
CHANNEL_REGION = [("gmv", schemas.MONEY), ("orders", T.LongType()), ("region", T.StringType()), ("channel", T.StringType())]
SESSIONS_PER_USER = [("customer_id", T.StringType()), ("sessions", T.LongType()), ("events", T.LongType())]

TABLES = {
    "gmv_daily": (GMV_DAILY, ()),
    "gmv_hourly": (GMV_HOURLY, ()),
    "funnel": (FUNNEL, ()),
    "channel_region": (CHANNEL_REGION, ()),
    "sessions_per_user": (SESSIONS_PER_USER, ()),
}


def _money_sum(column: str):
    return F.coalesce(F.sum(column), F.lit(0)).cast(schemas.MONEY)


def _date(day: dt.date):
    return F.lit(day).alias("date")


def gmv_daily(orders: DataFrame, day: dt.date) -> DataFrame:
    return orders.agg(
        _money_sum("gmv").alias("gmv"),
        F.countDistinct("order_id").cast("bigint").alias("orders"),
        F.coalesce(F.sum("quantity"), F.lit(0)).cast("bigint").alias("units"),
    ).select(_date(day), "gmv", "orders", "units")


def gmv_hourly(orders: DataFrame, day: dt.date) -> DataFrame:
    spark = orders.sparkSession
    hours = spark.range(24).select(F.col("id").cast("int").alias("hour"))
    per_hour = orders.groupBy(F.hour("order_ts").cast("int").alias("hour")).agg(
        F.sum("gmv").alias("gmv"), F.countDistinct("order_id").alias("orders")
    )
    return hours.join(F.broadcast(per_hour), "hour", "left").select(
        _date(day),
        "hour",
        F.coalesce(F.col("gmv"), F.lit(0)).cast(schemas.MONEY).alias("gmv"),
        F.coalesce(F.col("orders"), F.lit(0)).cast("bigint").alias("orders"),
    )


def funnel(sessions: DataFrame, day: dt.date) -> DataFrame:
    spark = sessions.sparkSession
    steps = spark.createDataFrame(
        [(step, i + 1) for i, step in enumerate(FUNNEL_STEPS)], "step string, step_order int"
    )
    per_step = (
        sessions.where(F.col("event_type").isin(*FUNNEL_STEPS))
        .groupBy(F.col("event_type").alias("step"))
        .agg(F.countDistinct("session_id").alias("sessions"), F.count(F.lit(1)).alias("events"))
    )
    return steps.join(F.broadcast(per_step), "step", "left").select(
        _date(day),
        "step",
        "step_order",
        F.coalesce(F.col("sessions"), F.lit(0)).cast("bigint").alias("sessions"),
        F.coalesce(F.col("events"), F.lit(0)).cast("bigint").alias("events"),
    )


def channel_region(orders: DataFrame, day: dt.date) -> DataFrame:
    return (
        orders.groupBy(
            F.coalesce(F.col("channel"), F.lit(UNKNOWN)).alias("channel"),
            F.coalesce(F.col("sales_region"), F.lit(UNKNOWN)).alias("region"),
        )
        .agg(_money_sum("gmv").alias("gmv"), F.countDistinct("order_id").cast("bigint").alias("orders"))
        .select(_date(day), "channel", "region", "gmv", "orders")
    )


def sessions_per_user(sessions: DataFrame, day: dt.date) -> DataFrame:
    return (
        sessions.groupBy("customer_id")
        .agg(F.countDistinct("session_id").cast("bigint").alias("sessions"), F.count(F.lit(1)).cast("bigint").alias("events"))
        .select(_date(day), "customer_id", "sessions", "events")
    )


def run(spark: SparkSession, ctx: StageContext) -> dict:
    roots, day = ctx.roots, the_day(ctx)
    orders = tables.read_checkpoint(spark, roots.checkpoint("enrich", "orders"), "order_date", day, schemas.ENRICH_ORDERS, "enrich")
    sessions = tables.read_checkpoint(spark, roots.checkpoint("sessionize", "events"), "event_date", day, schemas.SESSION_EVENTS, "sessionize")
    frames = {
        "gmv_daily": gmv_daily(orders, day),
        "gmv_hourly": gmv_hourly(orders, day),
        "funnel": funnel(sessions, day),
        "channel_region": channel_region(orders, day),
        "sessions_per_user": sessions_per_user(sessions, day),
    }
    rows, outputs = {}, {}
    for name, frame in frames.items():
        columns, extra = TABLES[name]
        outputs[name] = roots.output(name)
        rows[name] = tables.write_day(frame, outputs[name], "date", day, columns, extra_partitions=extra)
    return {"rows": rows, "outputs": outputs}
