import datetime as dt
import random

from builders import DAY, at, enriched_events_df, event, rows_of
from landfall_jobs.session import build_session
from landfall_jobs.stages.sessionize import sessionize

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
