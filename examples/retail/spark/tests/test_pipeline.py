"""All four stages through run_stage (the CLI's code path) over a tiny Parquet input root."""
import json

import pytest

from builders import DAY, EXPECTED_CLEAN_EVENT_IDS, EXPECTED_GMV_DAILY, STAGES, day_context, write_inputs
from landfall_jobs.cli import run_stage
from landfall_jobs.context import Roots, StageContext

CHECKPOINT_TABLES = {
    "clean": ["events", "orders"],
    "enrich": ["events", "orders"],
    "sessionize": ["events"],
}
OUTPUT_TABLES = ["gmv_daily", "gmv_hourly", "funnel", "channel_region", "sessions_per_user"]


@pytest.fixture(scope="session")
def input_root(spark, tmp_path_factory):
    return write_inputs(spark, str(tmp_path_factory.mktemp("input")))


def snapshot(spark, roots):
    """Every table the stages wrote, as sorted row tuples (partition columns included)."""
    out = {}
    for stage, names in CHECKPOINT_TABLES.items():
        for name in names:
            df = spark.read.parquet(roots.checkpoint(stage, name))
            out[f"{stage}/{name}"] = sorted((tuple(r) for r in df.select(*sorted(df.columns)).collect()), key=repr)
    for name in OUTPUT_TABLES:
        df = spark.read.parquet(roots.output(name))
        out[name] = sorted((tuple(r) for r in df.select(*sorted(df.columns)).collect()), key=repr)
    return out


def run_all(spark, roots):
    return {stage: run_stage(spark, f"landfall_pipeline.{stage}", day_context(stage, roots)) for stage in STAGES}


@pytest.fixture(scope="module")
def first_run(spark, input_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    roots = Roots.of(input_root, str(base / "checkpoints"), str(base / "out"))
    markers = run_all(spark, roots)
    return base, roots, markers, snapshot(spark, roots)


def test_stages_run_twice_give_identical_output(spark, first_run):
    tmp_path, roots, first_markers, first = first_run
    second_markers = run_all(spark, roots)
    second = snapshot(spark, roots)

    assert first == second
    for name, rows in second.items():
        assert len(rows) == len(set(rows)), f"duplicates in {name}"
    for stage in STAGES:
        assert first_markers[stage]["rows"] == second_markers[stage]["rows"]

    # the markers: one per stage, JSON, with the rows per output
    for stage in STAGES:
        with open(tmp_path / "checkpoints" / stage / "_landfall_done") as fh:
            marker = json.load(fh)
        assert marker["stage"] == stage and marker["date"] == "2026-11-23"
        assert marker["rows"] == second_markers[stage]["rows"]
    assert second_markers["clean"]["rows"] == {"events": 10, "orders": 4}
    assert second_markers["enrich"]["rows"] == {"events": 10, "orders": 4}
    assert second_markers["sessionize"]["rows"] == {"events": 10}
    assert second_markers["metrics"]["rows"] == {
        "gmv_daily": 1, "gmv_hourly": 24, "funnel": 5, "channel_region": 3, "sessions_per_user": 4,
    }

    # what the hand-made input must give
    clean_ids = sorted(r["event_id"] for r in spark.read.parquet(roots.checkpoint("clean", "events")).collect())
    assert clean_ids == EXPECTED_CLEAN_EVENT_IDS
    daily = spark.read.parquet(roots.output("gmv_daily")).collect()
    assert [(r["date"], r["gmv"], r["orders"], r["units"]) for r in daily] == [
        (DAY, EXPECTED_GMV_DAILY["gmv"], EXPECTED_GMV_DAILY["orders"], EXPECTED_GMV_DAILY["units"])
    ]
    funnel = spark.read.parquet(roots.output("funnel")).orderBy("step_order").collect()
    assert [(r["step"], r["sessions"], r["events"]) for r in funnel] == [
        ("view", 4, 5), ("search", 1, 1), ("add_to_cart", 1, 1), ("checkout", 1, 1), ("purchase", 2, 2),
    ]
    regions = spark.read.parquet(roots.output("channel_region")).collect()
    assert sorted((r["channel"], r["region"], str(r["gmv"]), r["orders"]) for r in regions) == [
        ("mobile", "west", "7.50", 1), ("store", "north", "30.00", 1), ("web", "east", "44.98", 1),
    ]


def test_later_stage_without_its_checkpoint_fails_clearly(spark, input_root, tmp_path):
    roots = Roots.of(input_root, str(tmp_path / "cp"), str(tmp_path / "out"))
    with pytest.raises(Exception, match="run stage 'clean'"):
        run_stage(spark, "landfall_pipeline.enrich", day_context("enrich", roots))
    assert not (tmp_path / "cp" / "enrich" / "_landfall_done").exists()


def test_stages_run_per_date_only(spark, input_root, tmp_path):
    """Their checkpoints and outputs are partitioned by date alone: a batch with another key (two
    batches of one day) would overwrite each other's, so it is refused before anything is written."""
    roots = Roots.of(input_root, str(tmp_path / "cp"), str(tmp_path / "out"))
    for stage in STAGES:
        ctx = StageContext.of(stage, roots, {"region": "east", "date": DAY.isoformat()}, "date", ["date"])
        with pytest.raises(ValueError, match=f"stage '{stage}' runs per date only; the batch also has region"):
            run_stage(spark, f"landfall_pipeline.{stage}", ctx)
    assert not (tmp_path / "cp").exists() and not (tmp_path / "out").exists()


def test_ansi_mode_gives_the_same_results(spark, input_root, first_run, tmp_path):
    """Spark 4 turns ANSI SQL mode on by default: the jobs must run, and agree, under it."""
    ansi = Roots.of(input_root, str(tmp_path / "cp-ansi"), str(tmp_path / "out-ansi"))
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        run_all(spark, ansi)
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    assert snapshot(spark, ansi) == first_run[3]
