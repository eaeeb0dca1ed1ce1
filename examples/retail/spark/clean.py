"""clean: dedupe, drop unusable rows, normalize, keep the day. Writes clean/events, clean/orders."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from landfall_jobs import tables
from landfall_jobs.context import StageContext

from . import schemas
from .common import day_start, keep_first, normalized, the_day

EVENT_COLUMNS = [name for name, _ in schemas.CLEAN_EVENTS]
ORDER_COLUMNS = [name for name, _ in schemas.CLEAN_ORDERS]

# Duplicates are resolved over [day - 1, day + 2) before the day is cut out, so a duplicate pair
# that straddles midnight (at-least-once producers retry within seconds) is kept on exactly one
# day, the day of its earliest copy, whichever day is processed first.
_LOOKBEHIND = dt.timedelta(days=1)
_LOOKAHEAD = dt.timedelta(days=2)


def clean_events(events: DataFrame, day: dt.date) -> DataFrame:
    usable = (
        events.where(F.col("event_id").isNotNull() & F.col("customer_id").isNotNull() & F.col("event_ts").isNotNull())
        .withColumn("event_type", normalized("event_type"))
        .withColumn("channel", normalized("channel"))
        .where((F.col("event_ts") >= day_start(day - _LOOKBEHIND)) & (F.col("event_ts") < day_start(day + _LOOKAHEAD)))
    )
    # earliest event_ts wins, then the smallest of the other columns
    order = ["event_ts", "customer_id", "event_type", "product_id", "channel", "region", "order_id"]
    deduped = keep_first(usable, ["event_id"], order)
    return (
        deduped.where((F.col("event_ts") >= day_start(day)) & (F.col("event_ts") < day_start(day + dt.timedelta(days=1))))
        .withColumn("event_date", F.lit(day))
        .select(*EVENT_COLUMNS, "event_date")
    )


def clean_orders(orders: DataFrame, day: dt.date) -> DataFrame:
    usable = (
        orders.where(F.col("order_id").isNotNull() & F.col("order_line").isNotNull() & F.col("order_ts").isNotNull())
        .withColumn("channel", normalized("channel"))
        .where((F.col("order_ts") >= day_start(day - _LOOKBEHIND)) & (F.col("order_ts") < day_start(day + _LOOKAHEAD)))
    )
    order = ["order_ts", "customer_id", "channel", "store_id", "product_id", "quantity", "unit_price"]
    deduped = keep_first(usable, ["order_id", "order_line"], order)
    return (
        deduped.where((F.col("order_ts") >= day_start(day)) & (F.col("order_ts") < day_start(day + dt.timedelta(days=1))))
        .withColumn("order_date", F.lit(day))
        .select(*ORDER_COLUMNS, "order_date")
    )


def run(spark: SparkSession, ctx: StageContext) -> dict:
    roots, day = ctx.roots, the_day(ctx)
    events = clean_events(tables.read_input(spark, roots.input_root, "events", schemas.INPUTS["events"]), day)
    orders = clean_orders(tables.read_input(spark, roots.input_root, "orders", schemas.INPUTS["orders"]), day)
    events_path = roots.checkpoint("clean", "events")
    orders_path = roots.checkpoint("clean", "orders")
    rows = {
        "events": tables.write_day(events, events_path, "event_date", day, schemas.CLEAN_EVENTS),
        "orders": tables.write_day(orders, orders_path, "order_date", day, schemas.CLEAN_ORDERS),
    }
    return {"rows": rows, "outputs": {"events": events_path, "orders": orders_path}}
