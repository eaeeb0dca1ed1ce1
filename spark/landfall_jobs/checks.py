"""Output checks on Spark: a job's checks run on its last stage's staged output before it is published.

The rules are not written here: the orchestration compiles them to Spark SQL (the same generator
as the DuckDB transform's, shared/core/checks/check-queries.ts) and hands this module a plan, a
JSON file of queries (--checks). This module stages the stage's output, registers the views the
queries read (`output`: the staged batch partition; each input relation; `landfall_previous`: the
partition as published now), runs the queries, writes what they measured beside the stage's
checkpoint (_landfall_checks.json, which the orchestration turns into results), and publishes
the staged partition only when no `error` check failed and every check could run.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

from pyspark.sql import SparkSession

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
    """The check queries of a plan file: [{name, severity, reads, kind, count, sample | facts}]."""
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
    return queries


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


def _parquet_view(spark: SparkSession, name: str, path: str) -> Optional[List[str]]:
    """Every *.parquet under path as a temp view; its columns, or None when there is none."""
    if not storage.exists(spark, path) or not any(f.endswith(".parquet") for f in storage.list_files(spark, path)):
        return None
    df = spark.read.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet").parquet(path)
    df.createOrReplaceTempView(name)
    return list(df.columns)


def register_views(spark: SparkSession, output_path: str, input_root: str, published_path: str) -> Dict[str, List[str]]:
    """The views a check reads, and each one's columns: `output`, every input relation (a directory
    of the input root), and `landfall_previous` (the published partition; no rows when none)."""
    columns: Dict[str, List[str]] = {}
    for relation in storage.list_names(spark, input_root):
        found = _parquet_view(spark, relation, storage.join(input_root, relation))
        if found is not None and relation not in (OUTPUT_VIEW, PREVIOUS_VIEW):
            columns[relation] = found
    found = _parquet_view(spark, OUTPUT_VIEW, output_path)
    if found is not None:
        columns[OUTPUT_VIEW] = found
    if _parquet_view(spark, PREVIOUS_VIEW, published_path) is None:
        spark.sql("SELECT 1 AS landfall_none WHERE false").createOrReplaceTempView(PREVIOUS_VIEW)
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


def run_checks(spark: SparkSession, queries: List[dict], columns: Dict[str, List[str]]) -> Tuple[List[dict], bool]:
    """Each query's measure, in order, and whether the output may be published: every check could
    run and no `error` check failed (a failed `warn` check publishes)."""
    measures, publish = [], True
    for query in queries:
        if not _readable(query, columns):
            measures.append({"name": query["name"], "unreadable": True})
            publish = False
            continue
        found, failed = measure(spark, query)
        measures.append({"name": query["name"], **found})
        if "error" in found or (failed and query.get("severity") == "error"):
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


def run_checked(spark: SparkSession, run: Callable, ctx: StageContext, queries: List[dict]) -> Tuple[Optional[dict], dict]:
    """Runs a stage whose output is checked: run() writes under the staged root (its ctx's
    output root), the checks run on the staged batch partition, their measures are written to
    <checkpoint-root>/<stage>/_landfall_checks.json, and the partition is published only when they
    allow it. Returns run()'s result with the published paths (None when nothing was published)
    and the report written. A re-run starts from nothing staged, so it gives the same measures."""
    staged = staged_root(ctx)
    storage.delete(spark, staged)
    storage.delete(spark, results_path(ctx))
    if not ctx.partition:
        raise ValueError(f"stage {ctx.stage!r}: checks read the batch partition, so it needs --partition-by")
    result = run(spark, replace(ctx, roots=Roots(ctx.roots.input_root, ctx.roots.checkpoint_root, staged)))
    staged_leaf = storage.join(staged, *_segments(ctx))
    leaf = storage.join(ctx.roots.output_root, *_segments(ctx))
    columns = register_views(spark, staged_leaf, ctx.roots.input_root, leaf)
    report: dict = {"stage": ctx.stage, "columns": columns}
    if OUTPUT_VIEW not in columns:
        report.update(measures=[], published=False, invalid=f"stage {ctx.stage} wrote no Parquet under its batch partition {'/'.join(_segments(ctx))}: the checks have no output to read")
    else:
        measures, allowed = run_checks(spark, queries, columns)
        report.update(measures=measures, published=allowed)
    # the report first: a crash before the move re-runs the stage, which writes it again
    storage.write_text(spark, results_path(ctx), json.dumps(report, sort_keys=True) + "\n")
    if report["published"]:
        publish(spark, staged_leaf, leaf)
    storage.delete(spark, staged)
    if not report["published"]:
        return None, report
    published = {k: v for k, v in result.items()}
    published["outputs"] = {table: _published(path, staged, ctx.roots.output_root) for table, path in result.get("outputs", {}).items()}
    return published, report
