"""enrich: left joins with the broadcast reference data. Writes enrich/events, enrich/orders."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from landfall_jobs import tables
from landfall_jobs.context import StageContext

from . import schemas
from .common import keep_first, the_day

EVENT_COLUMNS = [name for name, _ in schemas.ENRICH_EVENTS]
ORDER_COLUMNS = [name for name, _ in schemas.ENRICH_ORDERS]


def dimension(df: DataFrame, key: str, attributes) -> DataFrame:
    """A broadcast-ready lookup: one row per non-null key (duplicates resolved deterministically,
    so a duplicated reference row can never multiply facts)."""
    return F.broadcast(keep_first(df.where(F.col(key).isNotNull()), [key], list(attributes)))


def enrich_events(events: DataFrame, products: DataFrame, customers: DataFrame) -> DataFrame:
    p = dimension(products, "product_id", ["category"])
    c = dimension(customers, "customer_id", ["segment", "home_region"])
    return events.join(p, "product_id", "left").join(c, "customer_id", "left").select(*EVENT_COLUMNS, "event_date")


def enrich_orders(orders: DataFrame, products: DataFrame, customers: DataFrame, stores: DataFrame) -> DataFrame:
    p = dimension(products, "product_id", ["category"])
    c = dimension(customers, "customer_id", ["segment", "home_region"])
    s = dimension(stores.withColumnRenamed("region", "store_region"), "store_id", ["store_region"])
    return (
        orders.join(p, "product_id", "left")
        .join(c, "customer_id", "left")
        .join(s, "store_id", "left")
        .withColumn("gmv", (F.col("quantity") * F.col("unit_price")).cast(schemas.MONEY))
        .withColumn(
            "sales_region",
            F.when(F.col("channel") == F.lit("store"), F.col("store_region")).otherwise(F.col("home_region")),
        )
        .select(*ORDER_COLUMNS, "order_date")
    )


def run(spark: SparkSession, ctx: StageContext) -> dict:
    roots, day = ctx.roots, the_day(ctx)
    events = tables.read_checkpoint(spark, roots.checkpoint("clean", "events"), "event_date", day, schemas.CLEAN_EVENTS, "clean")
    orders = tables.read_checkpoint(spark, roots.checkpoint("clean", "orders"), "order_date", day, schemas.CLEAN_ORDERS, "clean")
    products = tables.read_input(spark, roots.input_root, "products", schemas.INPUTS["products"])
    customers = tables.read_input(spark, roots.input_root, "customers", schemas.INPUTS["customers"])
    stores = tables.read_input(spark, roots.input_root, "stores", schemas.INPUTS["stores"])
    events_path = roots.checkpoint("enrich", "events")
    orders_path = roots.checkpoint("enrich", "orders")
    rows = {
        "events": tables.write_day(enrich_events(events, products, customers), events_path, "event_date", day, schemas.ENRICH_EVENTS),
        "orders": tables.write_day(enrich_orders(orders, products, customers, stores), orders_path, "order_date", day, schemas.ENRICH_ORDERS),
    }
    return {"rows": rows, "outputs": {"events": events_path, "orders": orders_path}}
