"""The command line, loading the stage module, and run_stage (the CLI's code path)."""
import json
import sys

import pytest

from landfall_jobs import tables
from landfall_jobs.cli import app_name, parse_args, run_stage
from landfall_jobs.context import Roots, StageContext
from landfall_jobs.loader import StageLoadError, load_stage, register_pipeline_root
from util import DAY, FIXTURE_PIPELINE

D = DAY.isoformat()
ROOTS = ["--input-root", "s3://b/in/", "--checkpoint-root", "s3://b/cp", "--output-root", "o"]
GOOD = ["--stage", "aggregate", "--module", "landfall_pipeline.copy_rows", *ROOTS,
        "--batch", "region=east", "--batch", f"date={D}", "--date-field", "date"]


def test_good_arguments(tmp_path):
    args = parse_args(GOOD + ["--partition-by", "region,date", "--shuffle-partitions", "3", "--pipeline-root", str(tmp_path)])
    ctx = args.ctx
    assert (args.module, args.shuffle_partitions, args.pipeline_root) == ("landfall_pipeline.copy_rows", 3, str(tmp_path))
    assert (ctx.stage, ctx.date_field, ctx.day) == ("aggregate", "date", DAY)
    assert list(ctx.batch.items()) == [("region", "east"), ("date", D)]  # the job's batch-key order
    assert ctx.partition == [("region", "east"), ("date", D)]
    assert ctx.roots.input_root == "s3://b/in" and ctx.roots.output_root.endswith("/o") and ctx.roots.output_root.startswith("/")
    assert app_name(ctx) == f"landfall-aggregate-east-{D}"
    # the partition follows --partition-by's order, which need not be the batch's, nor name every key
    assert parse_args(GOOD + ["--partition-by", "date,region"]).ctx.partition == [("date", D), ("region", "east")]
    assert parse_args(GOOD + ["--partition-by", "region"]).ctx.partition == [("region", "east")]
    plain = parse_args(["--stage", "clean-2", "--module", "m", *ROOTS, "--batch", "dt=2026-02-28", "--batch", "v=1.5_a-b",
                        "--date-field", "dt"])
    assert (plain.ctx.partition, plain.ctx.day, plain.ctx.batch, plain.shuffle_partitions) == ([], DAY.replace(month=2, day=28), {"dt": "2026-02-28", "v": "1.5_a-b"}, None)


@pytest.mark.parametrize("change, message", [
    ({"--stage": "../x"}, "--stage must be"),
    ({"--stage": ""}, "--stage must be"),
    ({"--stage": "s" * 65}, "--stage must be"),
    ({"--module": "not-a-module"}, "--module must be a Python module name"),
    ({"--module": "landfall_pipeline..x"}, "--module must be a Python module name"),
    ({"--module": "1x"}, "--module must be a Python module name"),
    ({"--batch": ["region"]}, "--batch must be KEY=VALUE"),
    ({"--batch": ["Region=east", f"date={D}"]}, "--batch key must match"),
    ({"--batch": ["1x=east", f"date={D}"]}, "--batch key must match"),
    ({"--batch": ["region=", f"date={D}"]}, "--batch region must be a plain path segment"),
    ({"--batch": ["region=../x", f"date={D}"]}, "--batch region must be a plain path segment"),
    ({"--batch": ["region=a/b", f"date={D}"]}, "--batch region must be a plain path segment"),
    ({"--batch": ["region=.hidden", f"date={D}"]}, "--batch region must be a plain path segment"),
    ({"--batch": ["region=a b", f"date={D}"]}, "--batch region must be a plain path segment"),
    ({"--batch": ["region=east", "region=west", f"date={D}"]}, "given twice"),
    ({"--batch": ["stage=x", f"date={D}"]}, "reserved"),
    ({"--batch": [f"date={D}", f"dt={D}"], "--date-field": "dt"}, "reserved"),  # would overwrite the marker's date
    ({"--date-field": "day"}, "--date-field 'day' is not a --batch key"),
    ({"--batch": ["region=east", "date=2026-11-31"]}, "--batch date (the --date-field) must be YYYY-MM-DD"),
    ({"--batch": ["region=east", "date=20261123"]}, "must be YYYY-MM-DD"),
    ({"--batch": ["region=east", "date=2026-1-23"]}, "must be YYYY-MM-DD"),
    ({"--partition-by": "region,store"}, "--partition-by 'store' is not a --batch key"),
    ({"--partition-by": ""}, "--partition-by '' is not a --batch key"),
    ({"--partition-by": "region,,date"}, "is not a --batch key"),
    ({"--partition-by": "region,region"}, "lists a key twice"),
    ({"--shuffle-partitions": "0"}, "--shuffle-partitions must be >= 1"),
    ({"--pipeline-root": "/nonexistent/landfall"}, "is not a directory"),
    ({"--batch": None}, "the following arguments are required: --batch"),
    ({"--date-field": None}, "required: --date-field"),
    ({"--module": None}, "required: --module"),
])
def test_bad_arguments(change, message, capsys):
    options = {"--stage": "aggregate", "--module": "landfall_pipeline.copy_rows", "--input-root": "i",
               "--checkpoint-root": "c", "--output-root": "o", "--batch": ["region=east", f"date={D}"],
               "--date-field": "date", **change}
    argv = []
    for flag, value in options.items():
        for one in ([] if value is None else value if isinstance(value, list) else [value]):
            argv += [flag, one]
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_context_checks_programmatic_use_too():
    roots = Roots.of("i", "c", "o")
    with pytest.raises(ValueError, match="at least one --batch"):
        StageContext.of("s", roots, {}, "date")
    ctx = StageContext.of("s", roots, {"date": D, "k": "v"}, "date", ["k"])
    assert (ctx.partition, ctx.day) == ([("k", "v")], DAY)


def test_modules_load_from_the_pipeline_root(pipeline_modules, tmp_path):
    register_pipeline_root(str(FIXTURE_PIPELINE))
    run = load_stage("landfall_pipeline.copy_rows")
    register_pipeline_root(str(FIXTURE_PIPELINE))  # the same root again: the loaded modules stay
    assert load_stage("landfall_pipeline.copy_rows") is run
    assert callable(run) and sys.modules["landfall_pipeline.copy_rows"].__file__ == str(FIXTURE_PIPELINE / "copy_rows.py")
    assert list(sys.modules["landfall_pipeline"].__path__) == [str(FIXTURE_PIPELINE)]
    # a subdirectory without __init__.py, importing a module two levels up relatively
    assert callable(load_stage("landfall_pipeline.nested.deeper.echo"))

    with pytest.raises(StageLoadError, match=r"'landfall_pipeline.no_run' \(.*no_run.py\) defines no run\(spark, ctx\)"):
        load_stage("landfall_pipeline.no_run")
    with pytest.raises(StageLoadError, match=r"'landfall_pipeline.missing' not found \(put pipeline.zip on --py-files, or pass --pipeline-root DIR\)"):
        load_stage("landfall_pipeline.missing")
    with pytest.raises(StageLoadError, match=r"'landfall_no_pipeline.x' not found$"):
        load_stage("landfall_no_pipeline.x")
    with pytest.raises(ModuleNotFoundError) as exc:  # the module's own missing import, as Python says it
        load_stage("landfall_pipeline.broken")
    assert exc.type is ModuleNotFoundError and exc.value.name == "landfall_no_such_dependency"

    # another root replaces the package and its loaded modules; its __init__.py runs
    other = tmp_path / "other"
    other.mkdir()
    (other / "__init__.py").write_text("MARK = 'other'\n")
    (other / "copy_rows.py").write_text("def run(spark, ctx):\n    return 'other'\n")
    register_pipeline_root(str(other))
    assert load_stage("landfall_pipeline.copy_rows")(None, None) == "other"
    assert sys.modules["landfall_pipeline"].MARK == "other"
    with pytest.raises(StageLoadError, match="is not a directory"):
        register_pipeline_root(str(tmp_path / "nope"))


def test_run_stage_writes_the_marker_after_the_stage(spark, pipeline_modules, tmp_path):
    spark.createDataFrame([("a", 1, DAY), ("b", 2, DAY), ("c", 3, DAY.replace(day=22))], "name string, amount int, day date") \
        .write.parquet(str(tmp_path / "in" / "rows" / "f"))
    roots = Roots.of(str(tmp_path / "in"), str(tmp_path / "cp"), str(tmp_path / "out"))
    ctx = StageContext.of("copy", roots, [("region", "east"), ("date", D)], "date", ["region", "date"])
    register_pipeline_root(str(FIXTURE_PIPELINE))
    marker = run_stage(spark, "landfall_pipeline.copy_rows", ctx)
    obj = tables.object_path(roots.output_root, ctx.partition)
    assert obj == f"{tmp_path}/out/region=east/date={D}/data.parquet"
    with open(tmp_path / "cp" / "copy" / "_landfall_done") as fh:
        on_disk = json.load(fh)
    assert on_disk == marker == tables.read_marker(spark, roots.checkpoint_root, "copy")
    assert set(marker) == {"stage", "date", "region", "rows", "outputs", "spark_version", "written_at"}
    assert (marker["stage"], marker["date"], marker["region"], marker["rows"], marker["outputs"]) == (
        "copy", D, "east", {"copied": 2}, {"copied": obj})
    assert marker["spark_version"] == spark.version and marker["written_at"].endswith("Z")

    # the marker is cleared before the stage runs: a failing re-run leaves none
    broken = StageContext.of("copy", Roots.of(str(tmp_path / "nothing"), str(tmp_path / "cp"), str(tmp_path / "out")),
                             [("region", "east"), ("date", D)], "date", ["region", "date"])
    with pytest.raises(tables.MissingInput, match="input relation 'rows' not found"):
        run_stage(spark, "landfall_pipeline.copy_rows", broken)
    assert not (tmp_path / "cp" / "copy" / "_landfall_done").exists()
    # a run function's result must have the documented shape; run_stage takes the function too
    with pytest.raises(TypeError, match=r"must return \{'rows'"):
        run_stage(spark, lambda spark, ctx: {"rows": 1}, ctx)
    assert not (tmp_path / "cp" / "copy" / "_landfall_done").exists()
