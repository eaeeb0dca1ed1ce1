from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from .. import storage


@dataclass(frozen=True)
class Roots:
    input_root: str
    checkpoint_root: str
    output_root: str

    @staticmethod
    def of(input_root: str, checkpoint_root: str, output_root: str) -> "Roots":
        return Roots(
            storage.normalize_root(input_root),
            storage.normalize_root(checkpoint_root),
            storage.normalize_root(output_root),
        )

    def checkpoint(self, stage: str, table: str) -> str:
        return storage.join(self.checkpoint_root, stage, table)

    def output(self, table: str) -> str:
        return storage.join(self.output_root, table)


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
