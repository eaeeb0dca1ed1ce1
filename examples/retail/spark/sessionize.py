"""sessionize: 30-minute inactivity sessions per customer. Writes sessionize/events."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from landfall_jobs import tables
from landfall_jobs.context import StageContext

from . import schemas
from .common import the_day

EVENT_COLUMNS = [name for name, _ in schemas.SESSION_EVENTS]

# A new session starts when the gap to the customer's previous event is MORE than this;
# a gap of exactly 30:00.000000 stays in the same session. Compared in microseconds.
SESSION_GAP_MICROS = 30 * 60 * 1_000_000


def sessionize(events: DataFrame) -> DataFrame:
    """Expects one day of enriched events (event_date constant). session_id is
    <customer_id>-<yyyyMMdd>-<session_index>: unique across customers (the two dash-free trailing
    fields parse from the right) and across days."""
    ordered = Window.partitionBy("customer_id").orderBy("event_ts", "event_id")
    running = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    micros = F.expr("unix_micros(event_ts)")
    with_previous = events.withColumn("_gap", micros - F.lag(micros).over(ordered))
    starts = F.when(F.col("_gap").isNull() | (F.col("_gap") > F.lit(SESSION_GAP_MICROS)), F.lit(1)).otherwise(F.lit(0))
    flagged = with_previous.withColumn("_new_session", starts)
    indexed = flagged.withColumn("session_index", F.sum("_new_session").over(running).cast("int"))
    per_session = Window.partitionBy("customer_id", "session_index")
    return (
        indexed.withColumn(
            "session_id",
            F.concat_ws(
                "-",
                F.col("customer_id"),
                F.date_format(F.col("event_date"), "yyyyMMdd"),
                F.col("session_index").cast("string"),
            ),
        )
        .withColumn("session_start", F.min("event_ts").over(per_session))
        .withColumn("session_end", F.max("event_ts").over(per_session))
        .select(*EVENT_COLUMNS, "event_date")
    )


# Time buckets of the skew-robust variant: a customer's events are split by event_ts into buckets
# of this width, sessionized per (customer, bucket) in parallel, and the buckets stitched together.
BUCKET_MICROS = 60 * 60 * 1_000_000
# The bucket of events without event_ts: first, like the nulls in the (event_ts, event_id) order.
_NULL_BUCKET = -(2 ** 63)


def _session_id() -> Column:
    return F.concat_ws(
        "-",
        F.col("customer_id"),
        F.date_format(F.col("event_date"), "yyyyMMdd"),
        F.col("session_index").cast("string"),
    )


def sessionize_bucketed(events: DataFrame, bucket_micros: int = BUCKET_MICROS) -> DataFrame:
    """sessionize(), row for row, without a window partitioned by customer_id alone over the events
    (there, one customer's events all go to one task, however many they are).

    NOT used by run(): on the 2-core benchmark (spark/bench/skew.py) it is slower than sessionize,
    which it can only beat when the hot customer's task, not the total work, bounds the stage
    (many cores): it does more work (a second, narrow shuffle and sort of the events for the
    per-bucket table, a join back), and with 2 cores the hot task runs while the other core takes
    the rest, so the skew costs sessionize little wall time.

    Each customer's events are cut into time buckets (unix_micros(event_ts) div bucket_micros:
    equal timestamps share a bucket, so the (event_ts, event_id) order runs bucket by bucket), and
    each (customer, bucket) is a window partition of its own, processed in parallel: lag/lead give
    the session starts of all its rows but the first and the ends of all but the last ("inner"
    starts/ends), a running count of inner starts numbers the bucket's segments, a running max
    gives the latest inner start. One row per (customer, bucket) (first/last event_ts, inner start
    count, latest inner start, the inner ends in order: at most width / 30 minutes of them) is then
    stitched per customer in bucket order: does the bucket's first row start a session (gap to the
    previous bucket's last event over 30 minutes, in microseconds like sessionize), does its last
    row end one, how many sessions start before it, the latest start before it, the first end after
    it. A join back on (customer, bucket) gives session_index, session_start and session_end. Only
    running frames: Spark recomputes a frame up to the partition's end for every row (quadratic).
    Events without event_ts (out of the contract) come first and are one-event sessions with null
    bounds, and a null customer_id is a customer of its own, both as in sessionize.
    """
    if bucket_micros < 1:
        raise ValueError(f"bucket_micros must be >= 1, got {bucket_micros}")
    gap_limit = F.lit(SESSION_GAP_MICROS)
    us = F.col("_us")
    keyed = (
        events.withColumn("_us", F.expr("unix_micros(event_ts)"))
        # one non-null join key per customer_id, null included ("0" for null, "1" + the id otherwise)
        .withColumn(
            "_ckey",
            F.concat(
                F.when(F.col("customer_id").isNull(), F.lit("0")).otherwise(F.lit("1")),
                F.coalesce(F.col("customer_id"), F.lit("")),
            ),
        )
        .withColumn(
            "_bucket",
            F.coalesce(F.expr(f"unix_micros(event_ts) div {int(bucket_micros)}"), F.lit(_NULL_BUCKET).cast("bigint")),
        )
    )

    # per (customer, bucket), in (event_ts, event_id) order
    in_bucket = Window.partitionBy("_ckey", "_bucket").orderBy("event_ts", "event_id")
    before = in_bucket.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    one, zero = F.lit(1), F.lit(0)
    # pass 1 over the bucket: neighbours; starts of all rows but the bucket's first, ends of all
    # but its last (one Window operator: the expressions share their spec)
    neighbours = keyed.select(
        "*",
        F.row_number().over(in_bucket).alias("_pos"),
        F.lag(us).over(in_bucket).alias("_prev_us"),
        F.lead(us).over(in_bucket).alias("_next_us"),
        F.lead(one).over(in_bucket).isNotNull().alias("_has_next"),
    )
    gap_before = us - F.col("_prev_us")
    gap_after = F.col("_next_us") - us
    flagged = neighbours.select(
        *[c for c in neighbours.columns if c not in ("_prev_us", "_next_us")],
        F.when((F.col("_pos") > one) & (gap_before.isNull() | (gap_before > gap_limit)), one).otherwise(zero).alias("_inner_start"),
        F.when(F.col("_has_next") & (gap_after.isNull() | (gap_after > gap_limit)), one).otherwise(zero).alias("_inner_end"),
    )
    # pass 2 (same order, no new sort): the starts so far (the row's segment of the bucket: segments
    # are cut by the inner starts) and the latest of them. Only frames up to the current row: a
    # frame up to the partition's end is recomputed for every row in Spark (quadratic).
    rows = flagged.select(
        "*",
        F.sum("_inner_start").over(before).alias("_segment"),
        F.max(F.when(F.col("_inner_start") == one, F.col("event_ts"))).over(before).alias("_last_start"),
    )

    # one row per (customer, bucket), stitched in bucket order
    per_customer = Window.partitionBy("_ckey").orderBy("_bucket")
    earlier = per_customer.rowsBetween(Window.unboundedPreceding, -1)
    later = per_customer.rowsBetween(1, Window.unboundedFollowing)
    buckets = rows.groupBy("_ckey", "_bucket").agg(
        F.min("_us").alias("_first_us"),
        F.max("_us").alias("_last_us"),
        F.min("event_ts").alias("_first_ts"),
        F.max("event_ts").alias("_last_ts"),
        F.sum("_inner_start").alias("_inner_starts"),
        F.max(F.when(F.col("_inner_start") == one, F.col("event_ts"))).alias("_bucket_last_inner_start"),
        # the end of every segment but the last, in order: segment k ends at element k. Two inner
        # ends are more than 30 minutes apart, so a bucket has at most width / 30 minutes of them.
        F.sort_array(F.collect_list(F.when(F.col("_inner_end") == one, F.col("event_ts")))).alias("_inner_ends"),
    )
    first_gap = F.col("_first_us") - F.lag("_last_us").over(per_customer)
    last_gap = F.lead("_first_us").over(per_customer) - F.col("_last_us")
    stitched = (
        buckets.withColumn("_first_starts", F.when(first_gap.isNull() | (first_gap > gap_limit), one).otherwise(zero))
        .withColumn("_last_ends", F.when(last_gap.isNull() | (last_gap > gap_limit), one).otherwise(zero))
        .withColumn("_bucket_starts", F.col("_first_starts") + F.col("_inner_starts"))
        .withColumn(
            "_bucket_last_start",
            F.coalesce(F.col("_bucket_last_inner_start"), F.when(F.col("_first_starts") == one, F.col("_first_ts"))),
        )
        .withColumn(
            "_bucket_first_end",
            F.coalesce(F.get(F.col("_inner_ends"), 0), F.when(F.col("_last_ends") == one, F.col("_last_ts"))),
        )
        .select(
            "_ckey",
            "_bucket",
            "_first_starts",
            "_last_ends",
            "_first_ts",
            "_last_ts",
            "_inner_ends",
            F.coalesce(F.sum("_bucket_starts").over(earlier), F.lit(0).cast("bigint")).alias("_starts_before"),
            F.max("_bucket_last_start").over(earlier).alias("_carried_start"),
            F.min("_bucket_first_end").over(later).alias("_carried_end"),
        )
    )

    has_ts = F.col("event_ts").isNotNull()
    return (
        rows.join(stitched, ["_ckey", "_bucket"])
        .withColumn(
            "session_index",
            (F.col("_starts_before") + F.col("_first_starts") + F.col("_segment")).cast("int"),
        )
        .withColumn("session_id", _session_id())
        .withColumn(
            "session_start",
            F.when(
                has_ts,
                F.coalesce(
                    F.col("_last_start"),
                    F.when(F.col("_first_starts") == one, F.col("_first_ts")),
                    F.col("_carried_start"),
                ),
            ),
        )
        .withColumn(
            "session_end",
            F.when(
                has_ts,
                F.coalesce(
                    F.get(F.col("_inner_ends"), F.col("_segment").cast("int")),
                    F.when(F.col("_last_ends") == one, F.col("_last_ts")),
                    F.col("_carried_end"),
                ),
            ),
        )
        .select(*EVENT_COLUMNS, "event_date")
    )


def run(spark: SparkSession, ctx: StageContext) -> dict:
    roots, day = ctx.roots, the_day(ctx)
    events = tables.read_checkpoint(spark, roots.checkpoint("enrich", "events"), "event_date", day, schemas.ENRICH_EVENTS, "enrich")
    path = roots.checkpoint("sessionize", "events")
    rows = {"events": tables.write_day(sessionize(events), path, "event_date", day, schemas.SESSION_EVENTS)}
    return {"rows": rows, "outputs": {"events": path}}
