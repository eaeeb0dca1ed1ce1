"""Reading inputs and checkpoints, the idempotent partition writes, and the done markers."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import schemas, storage
from .context import BATCH_KEY, BATCH_VALUE

MARKER = "_landfall_done"
# the one object of a batch partition (write_object_partition), the name the DuckDB engine writes
OBJECT_NAME = "data.parquet"
# where write_object_partition writes before moving the file into place (under the output root)
TMP_DIR = "_landfall_tmp"


class MissingInput(RuntimeError):
    """An input dataset or an earlier stage's checkpoint is not there."""


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


def read_input(spark: SparkSession, input_root: str, relation: str, columns: Sequence) -> DataFrame:
    """Every *.parquet file under <input-root>/<relation>/, at any depth, with no partition
    discovery, conformed to the contract `columns` ([(name, type)]).

    The files' own schema is read (a schema given to the reader would fail on INT32-vs-BIGINT files),
    then conformed to the contract.
    """
    path = storage.join(input_root, relation)
    if not storage.exists(spark, path):
        raise MissingInput(f"input relation {relation!r} not found at {path}")
    try:
        df = (
            spark.read.option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.parquet")
            .parquet(path)
        )
    except Exception as exc:  # AnalysisException "Unable to infer schema" on a directory with no files
        if "infer schema" in str(exc).lower():
            raise MissingInput(f"input relation {relation!r} at {path} has no Parquet files") from exc
        raise
    return conform(df, columns, f"input {relation} ({path})")


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


def _segments(partition: Sequence[Tuple[str, str]]) -> List[str]:
    """<key>=<value> directory names; values are written into paths as is, so checked."""
    for name, value in partition:
        if not (BATCH_KEY.match(name) and BATCH_VALUE.match(value)):
            raise ValueError(f"partition {name}={value!r} is not a plain key and path segment")
    return [f"{name}={value}" for name, value in partition]


def write_partition(
    df: DataFrame,
    table: str,
    partition: Sequence[Tuple[str, str]],
    columns: Sequence,
) -> int:
    """Replace the leaf partition <table>/<c1>=<v1>/<c2>=<v2>/... with df; return its row count.

    The multi-level counterpart of write_day, for a table whose batch is several partition values:
    df must hold only rows whose partition columns (STRING) equal the given values. That one
    directory is removed first, then written with dynamic partition overwrite, so sibling
    partitions (another value of the first key) are never touched. The partition is written as one
    file (a batch's output is small), rows in no particular order, with the partition columns in
    the directory names only (Spark's layout; write_object_partition keeps them in the file). When
    df has no rows the partition still gets an empty file carrying the schema.
    """
    spark = df.sparkSession
    partition_columns = [name for name, _ in partition]
    segments = _segments(partition)
    data_columns = [name for name, _ in columns if name not in partition_columns]
    path = storage.join(table, *segments)

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


def object_path(output_root: str, partition: Sequence[Tuple[str, str]]) -> str:
    """<output_root>/<k1>=<v1>/.../data.parquet: where write_object_partition puts the object."""
    return storage.join(output_root, *_segments(partition), OBJECT_NAME)


def write_object_partition(
    df: DataFrame,
    output_root: str,
    partition: Sequence[Tuple[str, str]],
    columns: Sequence,
) -> int:
    """Replace the batch partition <output_root>/<k1>=<v1>/.../ with ONE zstd Parquet file,
    data.parquet, holding `columns` ([(name, type)], cast, in that order; partition-named columns
    stay in the file); return its row count.

    The layout of the DuckDB engine (one object per batch partition), so either engine's output
    reads the same. Spark writes a directory of part files, so df is written with coalesce(1) to
    <output_root>/_landfall_tmp/<uuid>/, the directory then emptied and the single part file
    moved into place (on S3: a server-side copy), the temporary directory removed: the partition
    ends up holding data.parquet and nothing else (no _SUCCESS, no .crc). No rows still give a
    file carrying the schema. A re-run replaces the object; sibling partitions are never touched.
    """
    if not partition:
        raise ValueError("write_object_partition needs a partition: its directory is replaced")
    spark = df.sparkSession
    leaf = storage.join(output_root, *_segments(partition))
    target = storage.join(leaf, OBJECT_NAME)
    tmp = storage.join(output_root, TMP_DIR, uuid.uuid4().hex)
    typed = df.select(*[F.col(f"`{name}`").cast(dtype).alias(name) for name, dtype in columns])
    try:
        typed.coalesce(1).write.mode("overwrite").option("compression", "zstd").parquet(tmp)
        parts = [n for n in storage.list_names(spark, tmp) if n.startswith("part-") and n.endswith(".parquet")]
        # one task writes one file, even with no rows (it then carries the schema alone)
        if len(parts) != 1:
            raise RuntimeError(f"expected one Parquet file in {tmp}, found {parts}")
        storage.delete(spark, leaf)
        storage.move(spark, storage.join(tmp, parts[0]), target)
    finally:
        storage.delete(spark, tmp)
        storage.delete_if_empty(spark, storage.join(output_root, TMP_DIR))
    return spark.read.parquet(target).count()


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
    """batch: the batch's key values (each --batch KEY=VALUE), written as fields of the marker."""
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
