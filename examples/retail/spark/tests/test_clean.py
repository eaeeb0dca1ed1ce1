import datetime as dt

from builders import DAY, at, event, events_df, frame, money, rows_of
from landfall_pipeline import schemas
from landfall_pipeline.clean import clean_events, clean_orders

PREV = DAY - dt.timedelta(days=1)


def test_duplicate_events_removed_deterministically(spark):
    rows = [
        # e1: two copies, different times -> the earliest wins
        event("e1", "c1", at("10:05:00"), "view", "p9", "web", "east"),
        event("e1", "c1", at("10:00:00"), "view", "p1", "web", "east"),
        # e2: same time, differing only in region -> the smallest region wins
        event("e2", "c1", at("11:00:00"), "view", "p1", "web", "west"),
        event("e2", "c1", at("11:00:00"), "view", "p1", "web", "east"),
        # e3: differing only by case/blanks -> one row after normalization
        event("e3", "c2", at("12:00:00"), " VIEW ", "p1", "Web", "east"),
        event("e3", "c2", at("12:00:00"), "view", "p1", "web ", "east"),
        # e4: three copies, one with a null event_ts (dropped before dedupe)
        event("e4", "c2", None),
        event("e4", "c2", at("13:00:00"), "search", None, "mobile", "east"),
        event("e4", "c2", at("13:00:00"), "search", "p1", "mobile", "east"),  # nulls sort first: product_id null wins
        # unusable
        event(None, "c1", at("10:00:00")),
        event("e5", None, at("10:00:00")),
    ]
    df = events_df(spark, rows)
    expected = [
        dict(event_id="e1", customer_id="c1", event_type="view", product_id="p1", event_ts=at("10:00:00"), channel="web", region="east", order_id=None, event_date=DAY),
        dict(event_id="e2", customer_id="c1", event_type="view", product_id="p1", event_ts=at("11:00:00"), channel="web", region="east", order_id=None, event_date=DAY),
        dict(event_id="e3", customer_id="c2", event_type="view", product_id="p1", event_ts=at("12:00:00"), channel="web", region="east", order_id=None, event_date=DAY),
        dict(event_id="e4", customer_id="c2", event_type="search", product_id=None, event_ts=at("13:00:00"), channel="mobile", region="east", order_id=None, event_date=DAY),
    ]
    assert rows_of(clean_events(df, DAY), "event_id") == expected
    # the same answer whatever the input order and partitioning
    shuffled = events_df(spark, list(reversed(rows))).repartition(3)
    assert rows_of(clean_events(shuffled, DAY), "event_id") == expected


def test_events_kept_only_for_their_utc_day(spark):
    df = events_df(spark, [
        event("a", "c1", at("23:59:59.999999", PREV)),
        event("b", "c1", at("00:00:00")),
        event("c", "c1", at("23:59:59.999999")),
        event("d", "c1", at("00:00:00", DAY + dt.timedelta(days=1))),
        # a duplicate that straddles midnight belongs to the day of its earliest copy, on both days
        event("x", "c1", at("23:59:58", PREV)),
        event("x", "c1", at("00:00:02")),
    ])
    assert [r["event_id"] for r in rows_of(clean_events(df, DAY), "event_id")] == ["b", "c"]
    prev_rows = rows_of(clean_events(df, PREV), "event_id")
    assert [(r["event_id"], r["event_ts"], r["event_date"]) for r in prev_rows] == [
        ("a", at("23:59:59.999999", PREV), PREV),
        ("x", at("23:59:58", PREV), PREV),
    ]


def test_orders_deduplicated_by_order_and_line(spark):
    line = dict(order_id="o1", order_line=1, customer_id="c1", order_ts=at("10:00:00"), channel=" Store ", store_id="s1",
                product_id="p1", quantity=2, unit_price=money("3.50"))
    df = frame(spark, schemas.INPUTS["orders"], [
        line,
        dict(line),                                   # exact duplicate
        dict(line, order_ts=at("10:30:00"), quantity=5),  # later copy of the same line: dropped
        dict(line, order_line=2, quantity=1),
        dict(line, order_id="o2", order_ts=at("23:00:00", PREV)),  # another day
        dict(line, order_id=None),
        dict(line, order_id="o3", order_line=None),
    ])
    out = rows_of(clean_orders(df, DAY), "order_id", "order_line")
    assert [(r["order_id"], r["order_line"], r["quantity"], r["channel"], r["order_date"]) for r in out] == [
        ("o1", 1, 2, "store", DAY),
        ("o1", 2, 1, "store", DAY),
    ]
