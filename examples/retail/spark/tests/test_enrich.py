import datetime as dt

from pyspark.sql import types as T

from builders import DAY, at, event, events_df, frame, money, rows_of, with_day
from landfall_pipeline import schemas
from landfall_pipeline.enrich import enrich_events, enrich_orders


def reference(spark):
    products = frame(spark, schemas.INPUTS["products"], [
        dict(product_id="p1", product_name="Shoe", category="Shoes", list_price=money("5.00")),
        dict(product_id="p1", product_name="Shoe", category="Shoes", list_price=money("5.00")),  # duplicated row
        dict(product_id="p2", product_name="Bag", category="Bags", list_price=money("19.99")),
        dict(product_id=None, product_name="?", category="Junk"),
    ])
    customers = frame(spark, schemas.INPUTS["customers"], [
        dict(customer_id="c1", customer_name="Ann", segment="vip", home_region="east", signup_date=dt.date(2024, 1, 2)),
        dict(customer_id="c2", customer_name="Bob", segment="new", home_region="west", signup_date=dt.date(2026, 1, 1)),
    ])
    stores = frame(spark, schemas.INPUTS["stores"], [
        dict(store_id="s1", store_name="Main St", region="north", city="Springfield"),
    ])
    return products, customers, stores


def test_enrich_events_keeps_unknown_products_and_customers(spark):
    products, customers, _ = reference(spark)
    events = with_day(events_df(spark, [
        event("e1", "c1", at("10:00:00"), "view", "p1"),
        event("e2", "c1", at("10:01:00"), "view", "p-unknown"),
        event("e3", "c2", at("10:02:00"), "search", None),
        event("e4", "c-unknown", at("10:03:00"), "view", "p2"),
    ]), "event_date")
    out = enrich_events(events, products, customers)
    assert out.columns == [n for n, _ in schemas.ENRICH_EVENTS] + ["event_date"]
    got = [(r["event_id"], r["category"], r["segment"], r["home_region"], r["event_date"]) for r in rows_of(out, "event_id")]
    assert got == [
        ("e1", "Shoes", "vip", "east", DAY),
        ("e2", None, "vip", "east", DAY),
        ("e3", None, "new", "west", DAY),
        ("e4", "Bags", None, None, DAY),
    ]


def test_enrich_orders_computes_gmv_and_sales_region(spark):
    products, customers, stores = reference(spark)
    base = dict(order_line=1, order_ts=at("10:00:00"), quantity=3, unit_price=money("19.99"))
    orders = with_day(frame(spark, schemas.INPUTS["orders"], [
        dict(base, order_id="o1", customer_id="c1", channel="store", store_id="s1", product_id="p2"),
        dict(base, order_id="o2", customer_id="c1", channel="web", product_id="p1", quantity=1, unit_price=money("0.10")),
        dict(base, order_id="o3", customer_id="c2", channel="store", store_id="s-unknown", product_id="p-unknown"),
        dict(base, order_id="o4", customer_id="c-unknown", channel="mobile", product_id="p1",
             quantity=1_000_000, unit_price=money("12345.67")),
    ]), "order_date")
    out = enrich_orders(orders, products, customers, stores)
    assert out.schema["gmv"].dataType == T.DecimalType(18, 2)
    got = [(r["order_id"], r["category"], r["segment"], r["store_region"], r["gmv"], r["sales_region"]) for r in rows_of(out, "order_id")]
    assert got == [
        ("o1", "Bags", "vip", "north", money("59.97"), "north"),        # store: the store's region
        ("o2", "Shoes", "vip", None, money("0.10"), "east"),            # online: the customer's home region
        ("o3", None, "new", None, money("59.97"), None),                # store not in the reference data
        ("o4", "Shoes", None, None, money("12345670000.00"), None),
    ]
