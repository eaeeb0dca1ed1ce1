import datetime as dt
import random

from builders import DAY, at, enriched_events_df, event, rows_of
from landfall_jobs.session import build_session
from landfall_pipeline.sessionize import BUCKET_MICROS, sessionize, sessionize_bucketed

def sessions_of(spark, rows, day=DAY):
    return sessionize(enriched_events_df(spark, rows, day))

def test_session_splits_exactly_at_the_30_minute_gap(spark):
    t0 = at("10:00:00")
    gaps = [
        dt.timedelta(minutes=29, seconds=59),            # same session
        dt.timedelta(minutes=30),                        # exactly 30:00 -> same session
        dt.timedelta(minutes=30, seconds=1),             # 30:01 -> new session
        dt.timedelta(minutes=30, microseconds=1),        # 30:00.000001 -> new session
        dt.timedelta(seconds=0),                         # same instant, ordered by event_id
    ]
    times = [t0]
    for gap in gaps:
        times.append(times[-1] + gap)
    rows = [event(f"e{i}", "c1", t) for i, t in enumerate(times)] + [event("z", "c2", t0)]
    out = rows_of(sessions_of(spark, rows), "customer_id", "event_ts", "event_id")
    got = [(r["customer_id"], r["event_id"], r["session_index"], r["session_id"], r["session_start"], r["session_end"]) for r in out]
    assert got == [
        ("c1", "e0", 1, "c1-20261123-1", times[0], times[2]),
        ("c1", "e1", 1, "c1-20261123-1", times[0], times[2]),
        ("c1", "e2", 1, "c1-20261123-1", times[0], times[2]),
        ("c1", "e3", 2, "c1-20261123-2", times[3], times[3]),
        ("c1", "e4", 3, "c1-20261123-3", times[4], times[5]),
        ("c1", "e5", 3, "c1-20261123-3", times[4], times[5]),
        ("c2", "z", 1, "c2-20261123-1", t0, t0),
    ]

def test_session_ids_unique_per_customer_and_date(spark):
    # customer ids that look like other customers' session ids must not collide
    rows = [
        event("a1", "a", at("01:00:00")),
        event("a2", "a", at("03:00:00")),
        event("b1", "a-20261123", at("01:00:00")),
        event("b2", "a-1", at("01:00:00")),
    ]
    today = sessions_of(spark, rows).select("customer_id", "session_index", "session_id").distinct().collect()
    tomorrow = sessions_of(spark, rows, DAY + dt.timedelta(days=1)).select("session_id").distinct().collect()
    ids = [r["session_id"] for r in today]
    assert len(ids) == len(set(ids)) == 4
    assert not set(ids) & {r["session_id"] for r in tomorrow}

def expected_sessions(rows):
    """Straightforward sessionization in plain Python: event_id -> (session_id, index, start, end)."""
    by_customer = {}
    for r in rows:
        by_customer.setdefault(r["customer_id"], []).append(r)
    out = {}
    for customer, evs in by_customer.items():
        evs.sort(key=lambda r: (r["event_ts"], r["event_id"]))
        index, assigned, bounds = 0, [], {}
        for i, r in enumerate(evs):
            if i == 0 or r["event_ts"] - evs[i - 1]["event_ts"] > dt.timedelta(minutes=30):
                index += 1
            assigned.append((r, index))
            lo, hi = bounds.get(index, (r["event_ts"], r["event_ts"]))
            bounds[index] = (min(lo, r["event_ts"]), max(hi, r["event_ts"]))
        for r, idx in assigned:
            out[r["event_id"]] = (f"{customer}-{DAY:%Y%m%d}-{idx}", idx, *bounds[idx])
    return out

def test_skewed_customer_gives_the_straightforward_sessions(spark):
    # the job's own session: AQE and skew-join handling on, dynamic partition overwrite, UTC
    job_session = build_session("landfall-test-skew")
    conf = job_session.conf
    assert conf.get("spark.sql.adaptive.enabled") == "true"
    assert conf.get("spark.sql.adaptive.skewJoin.enabled") == "true"
    assert conf.get("spark.sql.adaptive.coalescePartitions.enabled") == "true"
    assert conf.get("spark.sql.sources.partitionOverwriteMode").lower() == "dynamic"
    assert conf.get("spark.sql.session.timeZone") == "UTC"

    rnd = random.Random(7)
    second = 1_000_000  # clocks in microseconds: exact boundaries
    boundary_gaps = [30 * 60 * second - 1, 30 * 60 * second, 30 * 60 * second + 1, 31 * 60 * second]
    rows, clock = [], {}
    for i in range(5000):
        customer = "big" if rnd.random() < 0.8 else f"c{rnd.randrange(40)}"
        if customer == "big":  # bursts of sub-second to 2 s gaps, about 1 % of gaps at the boundary
            gap = rnd.choice(boundary_gaps) if rnd.random() < 0.01 else rnd.randrange(1, 2 * second)
        else:
            gap = rnd.choice([1, 59, 600, 1799, 1800, 1801, 3600]) * second
        clock[customer] = clock.get(customer, 0) + gap
        rows.append(event(f"e{i:05d}", customer, at("00:00:00") + dt.timedelta(microseconds=clock[customer])))
    rnd.shuffle(rows)
    assert all(r["event_ts"].date() == DAY for r in rows)
    big = sum(r["customer_id"] == "big" for r in rows)
    assert 0.75 * 5000 < big < 0.85 * 5000

    out = sessions_of(job_session, rows).select("event_id", "session_id", "session_index", "session_start", "session_end").collect()
    got = {r["event_id"]: (r["session_id"], r["session_index"], r["session_start"], r["session_end"]) for r in out}
    want = expected_sessions(rows)
    assert len(got) == 5000
    assert got == want
    assert len({v[0] for v in want.values() if v[0].startswith("big-")}) > 20  # the hot customer has many sessions


# --- the bucketed variant gives sessionize's rows exactly ---

MINUTE = 60 * 1_000_000


def both(spark, rows, bucket_micros, day=DAY):
    df = enriched_events_df(spark, rows, day)
    plain = rows_of(sessionize(df))
    bucketed = rows_of(sessionize_bucketed(df, bucket_micros))
    return plain, bucketed


def test_bucketed_equals_sessionize_on_the_edge_cases(spark):
    t0 = at("09:40:00")
    us = dt.timedelta(microseconds=1)
    rows = [
        # c1: buckets of 10 minutes start at :00, :10, ...; gaps across and at the boundaries
        event("a01", "c1", t0),
        event("a02", "c1", at("09:59:59.999999")),                     # last microsecond of a bucket
        event("a03", "c1", at("10:00:00")),                            # first microsecond of the next
        event("a04", "c1", at("10:30:00")),                            # exactly 30:00.000000 later, 2 buckets on
        event("a05", "c1", at("11:00:00") + us),                       # 30:00.000001: new session
        event("a06", "c1", at("11:30:00") + us),                       # exactly 30:00 again, across 3 boundaries
        event("a08", "c1", at("11:30:00") + us),                       # ties on event_ts: event_id order
        event("a07", "c1", at("11:30:00") + us),
        event("a09", "c1", at("12:00:00") + 2 * us),                   # 30:00.000001 after the ties
        event("a10", "c1", at("12:05:00")),
        event("a11", "c1", at("12:09:59.999999")),
        event("a12", "c1", at("12:40:00")),                            # 30:00.000001 across a boundary
        event("a13", "c1", at("23:59:59.999999")),                     # last microsecond of the day
        event("a14", "c1", at("00:00:00")),                            # first microsecond of the day
        # a session spanning many buckets without a gap over 30 minutes
        *[event(f"b{i:02d}", "c2", at("03:00:00") + dt.timedelta(minutes=29 * i)) for i in range(12)],
        # a single event; customer ids that look like other customers' session ids
        event("s1", "solo", at("17:17:17.171717")),
        event("x1", "a", at("01:00:00")), event("x2", "a-20261123", at("01:00:00")), event("x3", "a-1", at("01:00:00")),
        # out of the clean stage's contract, still handled like sessionize: no customer, no time
        event("n1", None, at("08:00:00")), event("n2", None, at("08:45:00")),
        event("t1", "c3", None), event("t2", "c3", None), event("t3", "c3", at("05:00:00")), event("t4", "c3", at("05:20:00")),
    ]
    for bucket_micros in (1, 999_999, 7 * MINUTE, 10 * MINUTE, 30 * MINUTE, 60 * MINUTE, 24 * 60 * MINUTE):
        plain, bucketed = both(spark, rows, bucket_micros)
        assert len(bucketed) == len(rows)
        assert bucketed == plain, f"bucket of {bucket_micros} us"
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "true")  # Spark 4's default
    try:
        assert both(spark, rows, 10 * MINUTE)[1] == plain
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    by_id = {r["event_id"]: r for r in plain}
    assert [by_id[e]["session_index"] for e in ("a14", "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09",
                                                  "a10", "a11", "a12", "a13")] == [1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 6]
    assert {by_id[f"b{i:02d}"]["session_index"] for i in range(12)} == {1}
    assert (by_id["s1"]["session_index"], by_id["s1"]["session_start"], by_id["s1"]["session_end"]) == (
        1, at("17:17:17.171717"), at("17:17:17.171717"))
    assert [(by_id[e]["session_index"], by_id[e]["session_start"]) for e in ("t1", "t2", "t3", "t4")] == [
        (1, None), (2, None), (3, at("05:00:00")), (3, at("05:00:00"))]


def test_bucketed_equals_sessionize_on_a_skewed_day(spark):
    rnd = random.Random(23)
    second = 1_000_000
    boundary = [30 * 60 * second - 1, 30 * 60 * second, 30 * 60 * second + 1]
    rows, clock = [], {}
    for i in range(4000):
        customer = "big" if rnd.random() < 0.7 else f"c{rnd.randrange(60)}"
        roll = rnd.random()
        if roll < 0.03:
            gap = rnd.choice(boundary)
        elif roll < 0.10:
            gap = 0  # ties on event_ts
        else:
            gap = rnd.randrange(1, 45 * second) if customer == "big" else rnd.randrange(1, 5400) * second
        clock[customer] = min(clock.get(customer, 0) + gap, 86_400 * second - 1)
        rows.append(event(f"e{i:05d}", customer, at("00:00:00") + dt.timedelta(microseconds=clock[customer])))
    rnd.shuffle(rows)
    want = expected_sessions(rows)
    for bucket_micros in (5 * MINUTE, BUCKET_MICROS):
        out = sessionize_bucketed(enriched_events_df(spark, rows), bucket_micros).collect()
        got = {r["event_id"]: (r["session_id"], r["session_index"], r["session_start"], r["session_end"]) for r in out}
        assert len(out) == len(rows) and got == want
    plain, bucketed = both(spark, rows, 17 * MINUTE)
    assert plain == bucketed
