"""main.py end to end through spark-submit, as EMR runs it, with the fixture pipeline."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from util import DAY, FIXTURE_PIPELINE, LOCAL_CONF, spark_submit, submit_env

D = DAY.isoformat()
BATCH = ["--batch", "region=east", "--batch", f"date={D}", "--date-field", "date", "--partition-by", "region,date"]


def roots(tmp_path, inputs):
    return ["--input-root", inputs, "--checkpoint-root", str(tmp_path / "cp"), "--output-root", str(tmp_path / "out")]


def done_marker(proc):
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    done = [json.loads(line)["landfall_stage_done"] for line in proc.stdout.splitlines() if "landfall_stage_done" in line]
    assert len(done) == 1 and proc.stdout.strip().splitlines()[-1].startswith('{"landfall_stage_done"')
    return done[0]


def test_main_runs_a_pipeline_stage_from_the_source_tree_and_from_the_zips(spark, spark_dir, tmp_path):
    inputs = str(tmp_path / "in")
    spark.createDataFrame([("a", 1, DAY), ("b", 2, DAY), ("old", 3, DAY.replace(day=1))], "name string, amount int, day date") \
        .write.parquet(f"{inputs}/rows/part")

    # 1. from the source tree, the pipeline from --pipeline-root
    cmd = [spark_submit(), *LOCAL_CONF, str(spark_dir / "landfall_jobs" / "main.py"), "--stage", "copy",
           "--module", "landfall_pipeline.copy_rows", *roots(tmp_path, inputs), *BATCH,
           "--pipeline-root", str(FIXTURE_PIPELINE), "--shuffle-partitions", "2"]
    done = done_marker(subprocess.run(cmd, cwd=str(tmp_path), env=submit_env(), capture_output=True, text=True, timeout=300))
    obj = tmp_path / "out" / "region=east" / f"date={D}" / "data.parquet"
    assert (done["stage"], done["date"], done["region"], done["rows"], done["outputs"]) == ("copy", D, "east", {"copied": 2}, {"copied": str(obj)})
    assert isinstance(done["seconds"], float)
    with open(tmp_path / "cp" / "copy" / "_landfall_done") as fh:
        assert json.load(fh) == {k: v for k, v in done.items() if k != "seconds"}
    assert os.listdir(obj.parent) == ["data.parquet"]
    assert sorted((r["name"], r["amount"], r["region"], r["date"]) for r in spark.read.parquet(str(obj)).collect()) == [
        ("a", 1, "east", D), ("b", 2, "east", D)]

    # 2. the EMR layout: main.py alone in a directory, engine and pipeline from --py-files; a
    # module in a subdirectory without __init__.py (the packager adds them)
    build = tmp_path / "build"
    subprocess.run(["bash", str(spark_dir / "package.sh"), str(build), str(FIXTURE_PIPELINE)], check=True, capture_output=True, text=True)
    emr_main = tmp_path / "scratch" / "main.py"
    emr_main.parent.mkdir()
    shutil.copy(build / "main.py", emr_main)
    cmd = [spark_submit(), *LOCAL_CONF, "--py-files", f"{build / 'landfall_jobs.zip'},{build / 'pipeline.zip'}", str(emr_main),
           "--stage", "echo-1", "--module", "landfall_pipeline.nested.deeper.echo", *roots(tmp_path, inputs),
           "--batch", "region=east", "--batch", f"date={D}", "--batch", "v=1.5", "--date-field", "date",
           "--partition-by", "v,region"]
    done = done_marker(subprocess.run(cmd, cwd=str(tmp_path), env=submit_env(), capture_output=True, text=True, timeout=300))
    assert (done["stage"], done["date"], done["region"], done["v"], done["rows"]) == ("echo-1", D, "east", "1.5", {})
    with open(tmp_path / "cp" / "echo-1" / "ctx.json") as fh:
        ctx = json.load(fh)
    assert ctx == {
        "stage": "echo-1", "batch": [["region", "east"], ["date", D], ["v", "1.5"]], "date_field": "date", "day": D,
        "partition": [["v", "1.5"], ["region", "east"]], "table": "copied", "app_name": f"landfall-echo-1-east-{D}-1.5",
        "roots": {"input_root": inputs, "checkpoint_root": str(tmp_path / "cp"), "output_root": str(tmp_path / "out")},
        "package_path": ctx["package_path"],
    }
    assert ctx["package_path"][0].endswith("pipeline.zip/landfall_pipeline")  # imported from the zip


def test_main_fails_clearly_on_a_module_it_cannot_run(spark_dir, tmp_path):
    """Before any Spark starts: main.py under plain Python (spark-submit only adds the JVM)."""
    main = str(spark_dir / "landfall_jobs" / "main.py")
    base = [sys.executable, main, "--stage", "s", *roots(tmp_path, str(tmp_path)), *BATCH]
    for extra, message in (
        (["--module", "landfall_pipeline.no_run", "--pipeline-root", str(FIXTURE_PIPELINE)],
         f"stage module 'landfall_pipeline.no_run' ({FIXTURE_PIPELINE / 'no_run.py'}) defines no run(spark, ctx)"),
        (["--module", "landfall_pipeline.copy_rows"], "stage module 'landfall_pipeline.copy_rows' not found (put pipeline.zip on --py-files"),
        (["--module", "landfall_pipeline.copy_rows", "--batch", "x=../x"], "--batch x must be a plain path segment"),
    ):
        proc = subprocess.run(base + extra, cwd=str(tmp_path), env=submit_env(), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "cp").exists()


def test_install_is_idempotent(spark_dir):
    venv = os.environ.get("LANDFALL_SPARK_VENV")
    if not venv:
        pytest.skip("run through run-tests.sh")
    proc = subprocess.run(["bash", str(spark_dir / "install.sh")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == venv
    assert "up to date" in proc.stderr


def test_package_parses_as_python_3_9(spark_dir):
    """EMR 7.x runs PySpark on Python 3.9 by default (3.11 is also installed): no newer syntax."""
    import ast
    sources = sorted((spark_dir / "landfall_jobs").rglob("*.py"))
    assert {p.name for p in sources} >= {"__init__.py", "main.py", "cli.py", "context.py", "loader.py", "session.py",
                                        "storage.py", "tables.py", "schemas.py"}
    for path in sources + sorted((spark_dir / "bench").rglob("*.py")):
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))


def test_the_engine_names_no_sample(spark_dir):
    """The engine is generic: the pipelines' datasets, columns and stages live in their own code."""
    words = ("pos_", "province", "clickstream", "events", "orders", "customer", "product", "stores", "store_id",
             "item_", "sessioniz", "enrich", "metrics", "gmv", "retail")
    for path in sorted((spark_dir / "landfall_jobs").rglob("*.py")):
        text = path.read_text().lower()
        assert [w for w in words if w in text] == [], path.name
