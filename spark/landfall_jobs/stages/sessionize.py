"""sessionize: 30-minute inactivity sessions per customer. Writes sessionize/events."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .. import schemas, tables
from .common import Roots

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


def run(spark: SparkSession, roots: Roots, day: dt.date) -> dict:
    events = tables.read_checkpoint(spark, roots.checkpoint("enrich", "events"), "event_date", day, schemas.ENRICH_EVENTS, "enrich")
    path = roots.checkpoint("sessionize", "events")
    rows = {"events": tables.write_day(sessionize(events), path, "event_date", day, schemas.SESSION_EVENTS)}
    return {"rows": rows, "outputs": {"events": path}}
