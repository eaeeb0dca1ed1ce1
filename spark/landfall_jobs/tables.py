"""Reading inputs and checkpoints, and the idempotent per-date partition write."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Dict, Iterable, Optional, Sequence, Tuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import schemas, storage

MARKER = "_landfall_done"


class MissingInput(RuntimeError):
    """An input dataset or an earlier stage's checkpoint is not there."""


def parse_date(value: str) -> dt.date:
    try:
        parsed = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise ValueError(f"--date must be YYYY-MM-DD, got {value!r}")
    return parsed


def partition_dir(table: str, column: str, day: dt.date) -> str:
    return storage.join(table, f"{column}={day.isoformat()}")


def conform(df: DataFrame, columns: Sequence, what: str) -> DataFrame:
    """Select the contract's columns (by name, case-insensitively) cast to the contract's types.

    Extra columns are dropped; a missing one is an error that names it. Casting covers files whose
    physical types differ but are compatible (INT32 vs BIGINT, TIMESTAMP_NTZ vs TIMESTAMP: a
    timestamp without time zone is read as UTC, the session time zone).
    """
    present = {c.lower(): c for c in df.columns}
    missing = [name for name, _ in columns if name.lower() not in present]
    if missing:
        raise MissingInput(f"{what}: missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}")
    return df.select(*[F.col(f"`{present[name.lower()]}`").cast(dtype).alias(name) for name, dtype in columns])


def read_input(spark: SparkSession, input_root: str, dataset: str) -> DataFrame:
    """Every *.parquet file under <input-root>/<dataset>/, at any depth, with no partition discovery.

    The files' own schema is read (not imposed: an imposed schema fails on INT32-vs-BIGINT files),
    then conformed to the contract.
    """
    path = storage.join(input_root, dataset)
    if not storage.exists(spark, path):
        raise MissingInput(f"input dataset {dataset!r} not found at {path}")
    try:
        df = (
            spark.read.option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.parquet")
            .parquet(path)
        )
    except Exception as exc:  # AnalysisException "Unable to infer schema" on a directory with no files
        if "infer schema" in str(exc).lower():
            raise MissingInput(f"input dataset {dataset!r} at {path} has no Parquet files") from exc
        raise
    return conform(df, schemas.INPUTS[dataset], f"input {dataset} ({path})")


def read_checkpoint(
    spark: SparkSession, table: str, date_column: str, day: dt.date, columns: Sequence, stage_hint: str
) -> DataFrame:
    """One date partition of a table written by write_day, with the date column added back typed."""
    path = partition_dir(table, date_column, day)
    if not storage.exists(spark, path):
        raise MissingInput(f"checkpoint {path} not found: run stage {stage_hint!r} for {day} first")
    df = conform(spark.read.parquet(path), columns, f"checkpoint {path}")
    return df.withColumn(date_column, F.lit(day))


def write_day(
    df: DataFrame,
    table: str,
    date_column: str,
    day: dt.date,
    columns: Sequence,
    extra_partitions: Iterable[str] = (),
) -> int:
    """Replace the partition <table>/<date_column>=<day>/ with df; return its row count.

    df must hold only rows of that day. Idempotent: the day's directory is removed first, so a
    re-run leaves no stale rows or sub-partitions even when it now produces fewer (or no) rows; the
    write itself is a dynamic partition overwrite, which touches no other date. A single-level
    table whose day has no rows gets one empty file carrying the schema, so the next stage can
    tell "empty day" from "stage not run".
    """
    spark = df.sparkSession
    extra = list(extra_partitions)
    names = [name for name, _ in columns]
    data_columns = [c for c in names if c not in extra]
    path = partition_dir(table, date_column, day)

    storage.delete(spark, path)
    (
        df.select(*data_columns, *extra, date_column)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(date_column, *extra)
        .parquet(table)
    )
    if not storage.exists(spark, path):
        if extra:
            return 0
        empty_schema = schemas.struct([c for c in columns if c[0] in data_columns])
        spark.createDataFrame([], empty_schema).coalesce(1).write.mode("overwrite").parquet(path)
        return 0
    return spark.read.parquet(path).count()


# A partition value written into a path as is: no character Hive/Spark would escape, no "." or "..".
_SAFE_PARTITION_VALUE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


def write_partition(
    df: DataFrame,
    table: str,
    partition: Sequence[Tuple[str, str]],
    columns: Sequence,
) -> int:
    """Replace the leaf partition <table>/<c1>=<v1>/<c2>=<v2>/... with df; return its row count.

    The multi-level counterpart of write_day, for a table whose batch is several partition values
    (pos_daily_sales: dt and province): df must hold only rows whose partition columns (STRING)
    equal the given values. That one directory is removed first, then written with dynamic
    partition overwrite, so sibling partitions (another province of the same day) are never
    touched. The partition is written as one file (a batch's output is small: one file, like the
    DuckDB path's one object), rows in no particular order. When df has no rows the partition
    still gets an empty file carrying the schema.
    """
    spark = df.sparkSession
    partition_columns = [name for name, _ in partition]
    for name, value in partition:
        if not _SAFE_PARTITION_VALUE.match(value):
            raise ValueError(f"partition value {name}={value!r} is not a plain path segment")
    data_columns = [name for name, _ in columns if name not in partition_columns]
    path = storage.join(table, *[f"{name}={value}" for name, value in partition])

    storage.delete(spark, path)
    (
        df.select(*data_columns, *partition_columns)
        .repartition(1)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(*partition_columns)
        .parquet(table)
    )
    if not storage.exists(spark, path):
        empty_schema = schemas.struct([c for c in columns if c[0] in data_columns])
        spark.createDataFrame([], empty_schema).coalesce(1).write.mode("overwrite").parquet(path)
        return 0
    return spark.read.parquet(path).count()


def marker_path(checkpoint_root: str, stage: str) -> str:
    return storage.join(checkpoint_root, stage, MARKER)


def clear_marker(spark: SparkSession, checkpoint_root: str, stage: str) -> None:
    storage.delete(spark, marker_path(checkpoint_root, stage))


def write_marker(
    spark: SparkSession,
    checkpoint_root: str,
    stage: str,
    day: dt.date,
    rows: Dict[str, int],
    outputs: Dict[str, str],
    batch: Optional[Dict[str, str]] = None,
) -> dict:
    """batch: further batch key values besides the date (pos_daily_sales: {"province": "ON"})."""
    body = {
        "stage": stage,
        "date": day.isoformat(),
        **(batch or {}),
        "rows": rows,
        "outputs": outputs,
        "spark_version": spark.version,
        "written_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    storage.write_text(spark, marker_path(checkpoint_root, stage), json.dumps(body, sort_keys=True) + "\n")
    return body


def read_marker(spark: SparkSession, checkpoint_root: str, stage: str) -> Optional[dict]:
    path = marker_path(checkpoint_root, stage)
    if not storage.exists(spark, path):
        return None
    return json.loads(storage.read_text(spark, path))
