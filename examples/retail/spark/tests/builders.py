"""Hand-made test data, and how the stages are run."""
import datetime as dt
from decimal import Decimal

from pyspark.sql import functions as F

from landfall_jobs.context import StageContext
from landfall_jobs.local import SPARK_SUBMIT_CONF as LOCAL_CONF, spark_submit, submit_env  # noqa: F401
from landfall_pipeline import schemas

DAY = dt.date(2026, 11, 23)
# the clickstream job's stages, in run order (one batch = one date)
STAGES = ("clean", "enrich", "sessionize", "metrics")


def day_context(stage, roots, day=DAY):
    """The clickstream job's batch, as the orchestration submits it: --batch date=D --date-field
    date --partition-by date."""
    return StageContext.of(stage, roots, {"date": day.isoformat()}, "date", ["date"])


def ts(text: str) -> dt.datetime:
    """'2026-11-23 10:00:00[.ffffff]' as a naive datetime (UTC: the tests run with TZ=UTC)."""
    return dt.datetime.fromisoformat(text)


def at(hms: str, day: dt.date = DAY) -> dt.datetime:
    return ts(f"{day.isoformat()} {hms}")


def money(text: str) -> Decimal:
    return Decimal(text)


def frame(spark, columns, rows):
    """rows: dicts; missing keys are null. columns: [(name, type)] from landfall_pipeline.schemas."""
    names = [n for n, _ in columns]
    unknown = {k for r in rows for k in r} - set(names)
    assert not unknown, unknown
    return spark.createDataFrame([tuple(r.get(n) for n in names) for r in rows], schemas.struct(columns))


def event(event_id, customer_id, event_ts, event_type="view", product_id="p1", channel="web", region="east", order_id=None):
    return dict(event_id=event_id, customer_id=customer_id, event_type=event_type, product_id=product_id,
                event_ts=event_ts, channel=channel, region=region, order_id=order_id)


def events_df(spark, rows):
    return frame(spark, schemas.INPUTS["events"], rows)


def enriched_events_df(spark, rows, day=DAY):
    """Events as the enrich stage writes them (reference columns null unless given)."""
    return with_day(frame(spark, schemas.ENRICH_EVENTS, rows), "event_date", day)


def session_events_df(spark, rows, day=DAY):
    """Events as the sessionize stage writes them."""
    return with_day(frame(spark, schemas.SESSION_EVENTS, rows), "event_date", day)


def rows_of(df, *order):
    """Collected rows as dicts, sorted (by the given columns, else all of them)."""
    data = [r.asDict() for r in df.collect()]
    keys = list(order) or (list(data[0].keys()) if data else [])
    return sorted(data, key=lambda d: tuple((d[k] is not None, d[k]) for k in keys))


def with_day(df, column, day=DAY):
    return df.withColumn(column, F.lit(day))


def write_inputs(spark, root, day=DAY):
    """A tiny but complete input root: events (duplicates, an extra column, files at two depths,
    a non-Parquet file), orders, customers, products, stores."""
    prev = day - dt.timedelta(days=1)
    d = day.isoformat()
    ev = [
        # c1: a session of 4 events, then a 45 min gap, then a purchase session
        event("e01", "c1", at("09:00:00", day), "view", "p1", "web", "east"),
        event("e02", "c1", at("09:10:00", day), "view", "p2", "web", "east"),
        event("e03", "c1", at("09:20:00", day), " Add_To_Cart ", "p2", " WEB ", "east"),
        event("e04", "c1", at("09:25:00", day), "checkout", "p2", "web", "east"),
        event("e05", "c1", at("10:10:00", day), "purchase", "p2", "web", "east", order_id="o1"),
        # c2: search, view of an unknown product
        event("e06", "c2", at("12:00:00", day), "search", None, "mobile", "west"),
        event("e07", "c2", at("12:30:00", day), "view", "p404", "mobile", "west"),
        event("e08", "c2", at("13:00:01", day), "view", "p1", "mobile", "west"),
        # c3 in a store, unknown customer c9
        event("e09", "c3", at("15:00:00", day), "purchase", "p3", "store", "north", order_id="o2"),
        event("e10", "c9", at("23:59:59", day), "view", "p1", "web", "east"),
        # duplicates: e01 again later (dropped), e06 again at the same time with another region
        event("e01", "c1", at("09:05:00", day), "view", "p1", "web", "east"),
        event("e06", "c2", at("12:00:00", day), "search", None, "mobile", "zz-later"),
        # not this day / unusable
        event("e11", "c1", at("23:59:59", prev), "view", "p1", "web", "east"),
        event("e12", None, at("11:00:00", day)),
        event(None, "c1", at("11:00:00", day)),
    ]
    events = events_df(spark, ev).withColumn("ingest_note", F.lit("extra column, ignored"))
    events.where("event_id <= 'e06'").coalesce(1).write.mode("overwrite").parquet(f"{root}/events/dt={d}")
    events.where("event_id > 'e06' or event_id is null").coalesce(1).write.mode("overwrite").parquet(f"{root}/events/late/dt={d}/part")
    with open(f"{root}/events/README.txt", "w") as fh:
        fh.write("not parquet: must be ignored\n")

    orders = frame(spark, schemas.INPUTS["orders"], [
        dict(order_id="o1", order_line=1, customer_id="c1", order_ts=at("10:10:00", day), channel="web", product_id="p2", quantity=2, unit_price=money("19.99")),
        dict(order_id="o1", order_line=2, customer_id="c1", order_ts=at("10:10:00", day), channel="web", product_id="p1", quantity=1, unit_price=money("5.00")),
        dict(order_id="o1", order_line=2, customer_id="c1", order_ts=at("10:10:00", day), channel="web", product_id="p1", quantity=1, unit_price=money("5.00")),
        dict(order_id="o2", order_line=1, customer_id="c3", order_ts=at("15:00:00", day), channel=" Store", store_id="s1", product_id="p3", quantity=3, unit_price=money("10.00")),
        dict(order_id="o3", order_line=1, customer_id="c2", order_ts=at("15:30:00", day), channel="mobile", product_id="p404", quantity=1, unit_price=money("7.50")),
        dict(order_id="o0", order_line=1, customer_id="c2", order_ts=at("22:00:00", prev), channel="web", product_id="p1", quantity=9, unit_price=money("1.00")),
    ])
    orders.coalesce(1).write.mode("overwrite").parquet(f"{root}/orders/dt={d}")

    frame(spark, schemas.INPUTS["customers"], [
        dict(customer_id="c1", customer_name="Ann", segment="vip", home_region="east", signup_date=dt.date(2024, 1, 2)),
        dict(customer_id="c2", customer_name="Bob", segment="new", home_region="west", signup_date=dt.date(2026, 11, 1)),
        dict(customer_id="c3", customer_name="Cy", segment="regular", home_region="south", signup_date=dt.date(2025, 5, 5)),
    ]).coalesce(1).write.mode("overwrite").parquet(f"{root}/customers/{d}")
    frame(spark, schemas.INPUTS["products"], [
        dict(product_id="p1", product_name="Shoe", category="Shoes", list_price=money("5.00")),
        dict(product_id="p2", product_name="Bag", category="Bags", list_price=money("19.99")),
        dict(product_id="p3", product_name="Hat", category="Hats", list_price=money("10.00")),
    ]).coalesce(1).write.mode("overwrite").parquet(f"{root}/products/{d}")
    frame(spark, schemas.INPUTS["stores"], [
        dict(store_id="s1", store_name="Main St", region="north", city="Springfield"),
    ]).coalesce(1).write.mode("overwrite").parquet(f"{root}/stores/{d}")
    return root


# What write_inputs' day must produce (hand-computed).
EXPECTED_GMV_DAILY = dict(gmv=money("82.48"), orders=3, units=7)  # 2*19.99 + 5.00 + 3*10.00 + 7.50
EXPECTED_CLEAN_EVENT_IDS = ["e01", "e02", "e03", "e04", "e05", "e06", "e07", "e08", "e09", "e10"]
