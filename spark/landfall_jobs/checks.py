"""Output checks on Spark: a job's checks run on its last stage's staged output before it is published.

The rules are not written here: the orchestration compiles them to Spark SQL (the same generator
as the DuckDB transform's, shared/core/checks/check-queries.ts) and hands this module a plan, a
JSON file of queries (--checks). This module stages the stage's output, registers the views the
queries read (`output`: the staged batch partition; each input relation; `landfall_previous`: the
partition as published now), runs the queries, writes what they measured beside the stage's
checkpoint (_landfall_checks.json, which the orchestration turns into results), and publishes
the staged partition only when no `error` check failed and every check could run.

A job writing several tables (the plan's `tables`, each under <output-root>/<table>/) has every
table staged; a check naming its `table` reads that table's staged batch partition as `output`
(and its published one as `landfall_previous`), and the tables are published all together or not
at all.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from . import storage
from .context import Roots, StageContext

RESULTS = "_landfall_checks.json"
# where the checked stage writes its output (under its checkpoint) until the checks pass
STAGED = "_landfall_staged"
OUTPUT_VIEW = "output"
PREVIOUS_VIEW = "landfall_previous"
SAMPLE_ROWS = 10
# JavaScript's exact integers: a larger count or value travels as text (as DuckDB's JSON gives a BIGINT)
SAFE_INTEGER = 2**53 - 1


class PlanError(ValueError):
    """The --checks file is not a plan of check queries."""


def read_plan(spark: SparkSession, uri: str) -> List[dict]:
    """The check queries of a plan file: [{name, severity, reads, kind, count, sample | facts, table?}]."""
    return read_full_plan(spark, uri)[0]


def read_full_plan(spark: SparkSession, uri: str) -> Tuple[List[dict], Optional[List[str]]]:
    """The check queries of a plan file, and the tables of a job writing several (None for one table)."""
    try:
        plan = json.loads(storage.read_text(spark, uri))
    except Exception as exc:
        raise PlanError(f"--checks {uri}: cannot read a JSON plan: {exc}") from exc
    queries = plan.get("checks") if isinstance(plan, dict) else None
    if not isinstance(queries, list) or not queries:
        raise PlanError(f"--checks {uri}: no check queries (a JSON object with a non-empty 'checks' list)")
    for i, query in enumerate(queries):
        kind = query.get("kind") if isinstance(query, dict) else None
        fields = ("count", "sample") if kind == "rows" else ("facts",) if kind == "facts" else None
        if fields is None or not all(isinstance(query.get(f), str) for f in fields) or not isinstance(query.get("reads"), dict):
            raise PlanError(f"--checks {uri}: checks[{i}] is not a check query: {json.dumps(query)[:200]}")
    tables = plan.get("tables")
    if tables is not None and (not isinstance(tables, list) or not tables or not all(isinstance(t, str) and t for t in tables)):
        raise PlanError(f"--checks {uri}: 'tables' is not a non-empty list of table names")
    for i, query in enumerate(queries):
        table = query.get("table")
        if (table is None) != (tables is None) or (table is not None and table not in tables):
            raise PlanError(f"--checks {uri}: checks[{i}] names table {table!r}, the plan's tables are {tables!r}")
    return queries, tables


def json_value(value):
    """A sampled value as DuckDB's JSON gives it: large integers and decimals as text, dates ISO."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if hasattr(value, "asDict"):
        return json_value(value.asDict(recursive=True))
    return str(value)


def _row(row) -> dict:
    return {k: json_value(v) for k, v in row.asDict(recursive=True).items()}


def _parquet_view(spark: SparkSession, name: str, path: str, partition: Sequence[Tuple[str, str]] = ()) -> Optional[List[str]]:
    """Every *.parquet under path as a temp view; its columns, or None when there is none. A
    partition field the files do not hold (a table written with Spark's layout keeps it in the
    directory name) is added with the batch's value, so a check can name it as the key does."""
    if not storage.exists(spark, path) or not any(f.endswith(".parquet") for f in storage.list_files(spark, path)):
        return None
    df = spark.read.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet").parquet(path)
    present = {c.lower() for c in df.columns}
    for key, value in partition:
        if key.lower() not in present:
            df = df.withColumn(key, F.lit(value))
    df.createOrReplaceTempView(name)
    return list(df.columns)


def register_inputs(spark: SparkSession, input_root: str) -> Dict[str, List[str]]:
    """Every input relation (a directory of the input root) as a view, and its columns."""
    columns: Dict[str, List[str]] = {}
    for relation in storage.list_names(spark, input_root):
        if relation in (OUTPUT_VIEW, PREVIOUS_VIEW):
            continue
        found = _parquet_view(spark, relation, storage.join(input_root, relation))
        if found is not None:
            columns[relation] = found
    return columns


def register_output(spark: SparkSession, output_path: str, published_path: str, partition: Sequence[Tuple[str, str]] = ()) -> Optional[List[str]]:
    """`output` (the staged batch partition) and `landfall_previous` (the published one; no rows
    when none) as views: the columns of `output`, or None when the stage wrote no Parquet there."""
    found = _parquet_view(spark, OUTPUT_VIEW, output_path, partition)
    if _parquet_view(spark, PREVIOUS_VIEW, published_path) is None:
        spark.sql("SELECT 1 AS landfall_none WHERE false").createOrReplaceTempView(PREVIOUS_VIEW)
    return found


def register_views(spark: SparkSession, output_path: str, input_root: str, published_path: str) -> Dict[str, List[str]]:
    """The views a check reads, and each one's columns: `output`, every input relation (a directory
    of the input root), and `landfall_previous` (the published partition; no rows when none)."""
    columns = register_inputs(spark, input_root)
    found = register_output(spark, output_path, published_path)
    if found is not None:
        columns[OUTPUT_VIEW] = found
    return columns


def _readable(query: dict, columns: Dict[str, List[str]]) -> bool:
    """Every relation and column the query names is there (which one is not, the orchestration says)."""
    return all(relation in columns and all(c in columns[relation] for c in names) for relation, names in query["reads"].items())


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]


def measure(spark: SparkSession, query: dict) -> Tuple[dict, bool]:
    """Runs one check query: what it measured ({failing, sample} or {facts}, or {error} when Spark
    cannot run it) and whether it failed."""
    try:
        if query["kind"] == "facts":
            facts = _row(spark.sql(query["facts"]).collect()[0])
            return {"facts": facts}, facts.get("failed") is True
        failing = int(spark.sql(query["count"]).collect()[0][0])
        sample = [_row(r) for r in spark.sql(query["sample"]).collect()[:SAMPLE_ROWS]] if failing else []
        return {"failing": failing, "sample": sample}, failing > 0
    except Exception as exc:  # AnalysisException, ParseException: the check's SQL, not the data
        return {"error": _first_line(exc)}, True


def run_checks(
    spark: SparkSession,
    queries: List[dict],
    columns: Dict[str, List[str]],
    bind: Optional[Callable[[str], Optional[List[str]]]] = None,
) -> Tuple[List[dict], bool]:
    """Each query's measure, in order, and whether the output may be published: every check could
    run and no `error` check failed (a failed `warn` check publishes). bind(table), for a job
    writing several tables, makes `output` that table's staged partition and returns its columns."""
    measures, publish = [], True
    bound: Optional[str] = None
    bound_columns: Optional[List[str]] = None
    for query in queries:
        seen = columns
        table = query.get("table")
        if bind is not None and table is not None:
            if table != bound:
                bound_columns, bound = bind(table), table
            seen = {k: v for k, v in columns.items() if k != OUTPUT_VIEW}
            if bound_columns is not None:
                seen[OUTPUT_VIEW] = bound_columns
        if not _readable(query, seen):
            measures.append({"name": query["name"], "unreadable": True})
            publish = False
            continue
        found_measure, failed = measure(spark, query)
        measures.append({"name": query["name"], **found_measure})
        if "error" in found_measure or (failed and query.get("severity") == "error"):
            publish = False
    return measures, publish


def staged_root(ctx: StageContext) -> str:
    return storage.join(ctx.roots.checkpoint_root, ctx.stage, STAGED)


def results_path(ctx: StageContext) -> str:
    return storage.join(ctx.roots.checkpoint_root, ctx.stage, RESULTS)


def _segments(ctx: StageContext) -> List[str]:
    return [f"{k}={v}" for k, v in ctx.partition]


def publish(spark: SparkSession, staged_leaf: str, leaf: str) -> List[str]:
    """Replaces the published batch partition with the staged one: the partition's directory
    removed, each staged file moved into place (on S3 a server-side copy). Returns the files."""
    files = storage.list_files(spark, staged_leaf)
    storage.delete(spark, leaf)
    for name in files:
        storage.move(spark, storage.join(staged_leaf, name), storage.join(leaf, name))
    return files


def _published(value, staged: str, output_root: str):
    """A path run() returned under the staged root, as it is once published."""
    if isinstance(value, str) and value.startswith(staged):
        return output_root + value[len(staged):]
    return value


def _leaves(ctx: StageContext, staged: str, tables: Optional[List[str]]) -> Dict[Optional[str], Tuple[str, str]]:
    """Each output's batch partition (None: the job's one table), staged and published."""
    segments = _segments(ctx)
    if not tables:
        return {None: (storage.join(staged, *segments), storage.join(ctx.roots.output_root, *segments))}
    return {t: (storage.join(staged, t, *segments), storage.join(ctx.roots.output_root, t, *segments)) for t in tables}


def run_checked(
    spark: SparkSession, run: Callable, ctx: StageContext, queries: List[dict], tables: Optional[List[str]] = None
) -> Tuple[Optional[dict], dict]:
    """Runs a stage whose output is checked: run() writes under the staged root (its ctx's
    output root), the checks run on the staged batch partition, their measures are written to
    <checkpoint-root>/<stage>/_landfall_checks.json, and the partition is published only when they
    allow it. Returns run()'s result with the published paths (None when nothing was published)
    and the report written. A re-run starts from nothing staged, so it gives the same measures.

    tables: a job writing several tables (<output-root>/<table>/...): each is staged, a check reads
    the table it names as `output`, and every table's batch partition is published, or none."""
    staged = staged_root(ctx)
    storage.delete(spark, staged)
    storage.delete(spark, results_path(ctx))
    if not ctx.partition:
        raise ValueError(f"stage {ctx.stage!r}: checks read the batch partition, so it needs --partition-by")
    result = run(spark, replace(ctx, roots=Roots(ctx.roots.input_root, ctx.roots.checkpoint_root, staged)))
    leaves = _leaves(ctx, staged, tables)
    columns = register_inputs(spark, ctx.roots.input_root)
    report: dict = {"stage": ctx.stage, "columns": columns}
    if not tables:
        # the one table's object holds its partition fields (write_object_partition): the view is the file
        found = register_output(spark, *leaves[None])
        if found is None:
            report.update(measures=[], published=False, invalid=f"stage {ctx.stage} wrote no Parquet under its batch partition {'/'.join(_segments(ctx))}: the checks have no output to read")
        else:
            columns[OUTPUT_VIEW] = found
            measures, allowed = run_checks(spark, queries, columns)
            report.update(measures=measures, published=allowed)
    else:
        table_columns: Dict[str, List[str]] = {}

        def bind(table: str) -> Optional[List[str]]:
            # a table written by write_day keeps the partition fields in its directory names only
            found = register_output(spark, *leaves[table], ctx.partition)
            if found is not None:
                table_columns[table] = found
            return found

        measures, allowed = run_checks(spark, queries, columns, bind)
        report.update(tables=table_columns, measures=measures, published=allowed)
    # the report first: a crash before the moves re-runs the stage, which writes it again
    storage.write_text(spark, results_path(ctx), json.dumps(report, sort_keys=True) + "\n")
    if report["published"]:
        for staged_leaf, leaf in leaves.values():
            publish(spark, staged_leaf, leaf)
    storage.delete(spark, staged)
    if not report["published"]:
        return None, report
    published = {k: v for k, v in result.items()}
    published["outputs"] = {table: _published(path, staged, ctx.roots.output_root) for table, path in result.get("outputs", {}).items()}
    return published, report
