from pyspark.sql import types as T

from builders import DAY, at, event, frame, money, rows_of, session_events_df, with_day
from landfall_pipeline import schemas
from landfall_pipeline import metrics


def orders(spark):
    def line(order_id, order_line, ts, channel, region, quantity, price):
        return dict(order_id=order_id, order_line=order_line, customer_id="c1", order_ts=ts, channel=channel,
                    quantity=quantity, unit_price=money(price), gmv=money(price) * quantity, sales_region=region)
    return with_day(frame(spark, schemas.ENRICH_ORDERS, [
        line("o1", 1, at("09:15:00"), "web", "east", 2, "10.00"),
        line("o1", 2, at("09:15:00"), "web", "east", 1, "5.50"),
        line("o2", 1, at("09:45:00"), "store", "north", 1, "100.00"),
        line("o3", 1, at("23:59:59"), "mobile", None, 3, "1.25"),
    ]), "order_date")


def sessions(spark):
    def ev(i, customer, session, event_type):
        return dict(event(f"e{i}", customer, at("10:00:00"), event_type), session_id=session, session_index=1)
    return session_events_df(spark, [
        ev(1, "c1", "c1-20261123-1", "view"),
        ev(2, "c1", "c1-20261123-1", "view"),
        ev(3, "c1", "c1-20261123-1", "add_to_cart"),
        ev(4, "c1", "c1-20261123-1", "checkout"),
        ev(5, "c1", "c1-20261123-2", "view"),
        ev(6, "c1", "c1-20261123-2", "search"),
        ev(7, "c2", "c2-20261123-1", "view"),
        ev(8, "c2", "c2-20261123-1", "click"),  # not a funnel step
    ])


def test_gmv_daily_and_hourly(spark):
    df = orders(spark)
    daily = metrics.gmv_daily(df, DAY)
    assert daily.schema["gmv"].dataType == T.DecimalType(18, 2)
    assert [r.asDict() for r in daily.collect()] == [dict(date=DAY, gmv=money("129.25"), orders=3, units=7)]

    hourly = rows_of(metrics.gmv_hourly(df, DAY), "hour")
    assert [r["hour"] for r in hourly] == list(range(24))
    assert {r["hour"]: (r["gmv"], r["orders"]) for r in hourly if r["orders"]} == {
        9: (money("125.50"), 2),
        23: (money("3.75"), 1),
    }
    assert all(r["gmv"] == money("0.00") and r["date"] == DAY for r in hourly if r["hour"] not in (9, 23))

    empty = df.limit(0)
    assert [r.asDict() for r in metrics.gmv_daily(empty, DAY).collect()] == [dict(date=DAY, gmv=money("0.00"), orders=0, units=0)]


def test_channel_region(spark):
    got = rows_of(metrics.channel_region(orders(spark), DAY), "channel")
    assert got == [
        dict(date=DAY, channel="mobile", region="unknown", gmv=money("3.75"), orders=1),
        dict(date=DAY, channel="store", region="north", gmv=money("100.00"), orders=1),
        dict(date=DAY, channel="web", region="east", gmv=money("25.50"), orders=1),
    ]


def test_funnel_has_all_five_steps(spark):
    got = rows_of(metrics.funnel(sessions(spark), DAY), "step_order")
    assert got == [
        dict(date=DAY, step="view", step_order=1, sessions=3, events=4),
        dict(date=DAY, step="search", step_order=2, sessions=1, events=1),
        dict(date=DAY, step="add_to_cart", step_order=3, sessions=1, events=1),
        dict(date=DAY, step="checkout", step_order=4, sessions=1, events=1),
        dict(date=DAY, step="purchase", step_order=5, sessions=0, events=0),
    ]


def test_sessions_per_user(spark):
    got = rows_of(metrics.sessions_per_user(sessions(spark), DAY), "customer_id")
    assert got == [
        dict(date=DAY, customer_id="c1", sessions=2, events=6),
        dict(date=DAY, customer_id="c2", sessions=1, events=2),
    ]
