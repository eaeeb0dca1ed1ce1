"""Output checks on Spark: the plan the orchestration compiles (fixtures/checks-plan.json, kept equal
to the TypeScript generator's by test/unit/spark-checks.test.ts) run on a staged output, published
only when no error check failed."""
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import types as T

from landfall_jobs import checks, cli, storage, tables
from landfall_jobs.context import Roots, StageContext
from util import DAY

PLAN = Path(__file__).resolve().parent / "fixtures" / "checks-plan.json"
COLUMNS = [("store_id", T.StringType()), ("item_id", T.StringType()), ("category", T.StringType()), ("amount", T.DecimalType(18, 2))]
GOOD = [("S1", "I1", "A", Decimal("10.00")), ("S1", "I2", "it's", Decimal("5.00")), ("S2", "I1", "B", Decimal("2.50")), ("S2", "I2", None, Decimal("-1.00"))]
SALES = [("S1", "I1", Decimal("10.00")), ("S1", "I2", Decimal("4.00")), ("S2", "I1", Decimal("2.50")), ("S2", "I2", Decimal("-1.00"))]


@pytest.fixture
def job(spark, tmp_path):
    """Roots with the input `sales` staged, a context for the batch date=DAY, the plan's queries."""
    roots = Roots.of(str(tmp_path / "in"), str(tmp_path / "ck"), str(tmp_path / "out"))
    spark.createDataFrame(SALES, "store_id string, item_id string, amount decimal(18,2)").coalesce(1).write.parquet(storage.join(roots.input_root, "sales", "00000"))
    ctx = StageContext.of("copy", roots, [("date", DAY.isoformat())], "date", ["date"])
    return ctx, checks.read_plan(spark, str(PLAN))


def stage_writing(rows):
    """A stage writing rows as the batch's one object."""

    def run(spark, ctx):
        df = spark.createDataFrame(rows, "store_id string, item_id string, category string, amount decimal(18,2)")
        n = tables.write_object_partition(df, ctx.roots.output_root, ctx.partition, COLUMNS)
        return {"rows": {"t": n}, "outputs": {"t": tables.object_path(ctx.roots.output_root, ctx.partition)}}

    return run


def report_of(spark, ctx):
    return json.loads(storage.read_text(spark, checks.results_path(ctx)))


def by_name(report):
    return {m["name"]: m for m in report["measures"]}


def test_warnings_publish_and_every_measure_is_reported(spark, job):
    ctx, queries = job
    marker = cli.run_stage(spark, stage_writing(GOOD), ctx, queries)
    target = tables.object_path(ctx.roots.output_root, ctx.partition)
    assert marker["outputs"] == {"t": target} and marker["rows"] == {"t": 4}
    assert sorted(tuple(r) for r in spark.read.parquet(target).collect()) == sorted(GOOD)
    report = report_of(spark, ctx)
    assert report["published"] is True
    assert report["columns"]["output"] == ["store_id", "item_id", "category", "amount"]
    m = by_name(report)
    assert m["unique key"] == {"name": "unique key", "failing": 0, "sample": []}
    assert m["category set"]["failing"] == 1 and m["category set"]["sample"][0]["amount"] == "-1.00"
    # 'it''s' is accepted: the literal escaped for Spark's parser
    assert m["known categories"]["failing"] == 1 and m["known categories"]["sample"][0]["category"] == "B"
    assert m["items sold"]["failing"] == 0
    assert m["rows"]["facts"] == {"rows": 4, "previousRows": 0, "inputRows": 4, "failed": False}
    assert m["amounts add up"]["facts"] == {"output_total": 16.5, "input_total": 16.5, "difference": 0.0, "failed": False}
    assert m["no negative amounts"]["sample"] == [{"store_id": "S2", "item_id": "I2", "amount": "-1.00"}]
    # the staged output is gone, the published partition holds the object alone
    assert not storage.exists(spark, checks.staged_root(ctx))
    assert storage.list_files(spark, storage.join(ctx.roots.output_root, f"date={DAY}")) == ["data.parquet"]


def test_an_error_check_keeps_the_previous_partition_and_writes_no_marker(spark, job):
    ctx, queries = job
    cli.run_stage(spark, stage_writing(GOOD), ctx, queries)
    target = tables.object_path(ctx.roots.output_root, ctx.partition)
    before = Path(target.replace("file:", "")).read_bytes()
    duplicated = GOOD + [("S1", "I1", "A", Decimal("0.00"))]
    for _ in range(2):  # a re-run measures the same
        assert cli.run_stage(spark, stage_writing(duplicated), ctx, queries) is None
        assert tables.read_marker(spark, ctx.roots.checkpoint_root, ctx.stage) is None
        assert Path(target.replace("file:", "")).read_bytes() == before
        report = report_of(spark, ctx)
        assert report["published"] is False
        m = by_name(report)
        assert m["unique key"] == {"name": "unique key", "failing": 1, "sample": [{"store_id": "S1", "item_id": "I1", "copies": 2}]}
        # the previous partition is the published one: 4 rows
        assert m["rows"]["facts"] == {"rows": 5, "previousRows": 4, "inputRows": 4, "failed": False}
        assert not storage.exists(spark, checks.staged_root(ctx))


def test_a_row_count_drop_against_the_published_partition_fails(spark, job):
    ctx, queries = job
    cli.run_stage(spark, stage_writing(GOOD), ctx, queries)
    assert cli.run_stage(spark, stage_writing(GOOD[:1]), ctx, queries) is None
    assert by_name(report_of(spark, ctx))["rows"]["facts"] == {"rows": 1, "previousRows": 4, "inputRows": 4, "failed": True}


def test_checks_that_cannot_run_publish_nothing(spark, job):
    ctx, queries = job
    no_category = [dict(q) for q in queries]
    assert cli.run_stage(spark, stage_writing([r for r in GOOD]), ctx, [dict(queries[0], reads={"output": ["nope"]})]) is None
    assert by_name(report_of(spark, ctx))["unique key"] == {"name": "unique key", "unreadable": True}
    bad_sql = dict(queries[6], count="SELECT count(*) FROM output WHERE amout < 0", sample="SELECT 1")
    assert cli.run_stage(spark, stage_writing(GOOD), ctx, no_category[:1] + [bad_sql]) is None
    measured = by_name(report_of(spark, ctx))["no negative amounts"]
    assert "amout" in measured["error"]
    assert not storage.exists(spark, tables.object_path(ctx.roots.output_root, ctx.partition))


def test_a_stage_writing_no_batch_partition_has_nothing_to_check(spark, job):
    ctx, queries = job
    assert cli.run_stage(spark, lambda s, c: {"rows": {}, "outputs": {}}, ctx, queries) is None
    assert "wrote no Parquet under its batch partition date=" in report_of(spark, ctx)["invalid"]


def test_a_plan_that_is_not_one_is_refused(spark, tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"checks": [{"kind": "rows"}]}))
    with pytest.raises(checks.PlanError, match=r"checks\[0\] is not a check query"):
        checks.read_plan(spark, str(bad))
    bad.write_text("{}")
    with pytest.raises(checks.PlanError, match="no check queries"):
        checks.read_plan(spark, str(bad))


def test_sampled_values_are_json_as_duckdb_gives_them():
    assert checks.json_value(2**53) == str(2**53)
    assert checks.json_value(7) == 7
    assert checks.json_value(Decimal("1.50")) == "1.50"
    assert checks.json_value(dt.date(2026, 11, 23)) == "2026-11-23"
    assert checks.json_value(dt.datetime(2026, 11, 23, 10, 0)) == "2026-11-23 10:00:00"
    assert checks.json_value(float("nan")) == "nan"
    assert checks.json_value(b"\x01") == "01"


def test_parse_args_takes_a_plan():
    args = cli.parse_args(["--stage", "s", "--module", "m.x", "--input-root", "/i", "--checkpoint-root", "/c", "--output-root", "/o", "--batch", "date=2026-11-23", "--date-field", "date", "--checks", "s3://b/runs/e/checks/s.json"])
    assert args.checks == "s3://b/runs/e/checks/s.json"
