"""Helpers of the clickstream stages. Each stage module has pure DataFrame -> DataFrame functions
(tested directly) and a run(spark, ctx) that reads the previous checkpoint, writes its own and
returns row counts."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as F

from landfall_jobs.context import StageContext


def the_day(ctx: StageContext) -> dt.date:
    """The batch's date, for the clickstream stages: their checkpoints and outputs are partitioned
    by date alone, so a batch with another key (two batches of one day) would overwrite each other's."""
    others = [key for key in ctx.batch if key != ctx.date_field]
    if others:
        raise ValueError(f"stage {ctx.stage!r} runs per date only; the batch also has {', '.join(others)}")
    return ctx.day


def day_start(day: dt.date) -> Column:
    """Midnight UTC of day as a TIMESTAMP (DATE -> TIMESTAMP casts in the session time zone, UTC)."""
    return F.lit(day).cast("timestamp")


def normalized(column: str) -> Column:
    return F.lower(F.trim(F.col(column)))


def keep_first(df, keys, order_columns):
    """One row per key: the smallest (order_columns...) tuple, nulls first. Deterministic: rows that
    tie on every column are identical. A min() over a struct aggregates map-side (no full sort of
    every duplicate group, and a hot key is pre-aggregated per task)."""
    value_columns = [c for c in order_columns if c not in keys]
    return (
        df.groupBy(*keys)
        .agg(F.min(F.struct(*value_columns)).alias("_keep"))
        .select(*keys, *[F.col(f"_keep.{c}").alias(c) for c in value_columns])
    )
