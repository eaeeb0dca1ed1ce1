"""The clickstream job end to end through spark-submit, as the orchestration submits its steps,
over a tiny input directory; and the sample's Python version."""
import json
import shutil
import subprocess

from builders import DAY, EXPECTED_GMV_DAILY, LOCAL_CONF, STAGES, spark_submit, submit_env, write_inputs


def test_main_runs_all_stages_via_spark_submit(spark, spark_dir, pipeline_dir, tmp_path):
    inputs = write_inputs(spark, str(tmp_path / "in"))
    checkpoints, outputs = tmp_path / "cp", tmp_path / "out"
    # the EMR layout: main.py alone in a directory, engine and pipeline from --py-files
    build = tmp_path / "build"
    subprocess.run(["bash", str(spark_dir / "package.sh"), str(build), str(pipeline_dir)], check=True, capture_output=True, text=True)
    emr_main = tmp_path / "scratch" / "main.py"
    emr_main.parent.mkdir()
    shutil.copy(build / "main.py", emr_main)

    for stage in STAGES:
        # clean and enrich from the source trees, sessionize and metrics the way EMR runs them
        if stage in ("clean", "enrich"):
            entry = [str(spark_dir / "landfall_jobs" / "main.py"), "--pipeline-root", str(pipeline_dir)]
        else:
            entry = ["--py-files", f"{build / 'landfall_jobs.zip'},{build / 'pipeline.zip'}", str(emr_main)]
        cmd = [spark_submit(), *LOCAL_CONF, *entry, "--stage", stage, "--module", f"landfall_pipeline.{stage}",
               "--input-root", inputs, "--checkpoint-root", str(checkpoints), "--output-root", str(outputs),
               "--batch", f"date={DAY}", "--date-field", "date", "--partition-by", "date", "--shuffle-partitions", "2"]
        proc = subprocess.run(cmd, cwd=str(tmp_path), env=submit_env(), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{stage} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        done = [json.loads(line)["landfall_stage_done"] for line in proc.stdout.splitlines() if "landfall_stage_done" in line]
        assert len(done) == 1 and done[0]["stage"] == stage and done[0]["date"] == DAY.isoformat()
        with open(checkpoints / stage / "_landfall_done") as fh:
            assert json.load(fh)["rows"] == done[0]["rows"]

    for table in ("gmv_daily", "gmv_hourly", "funnel", "channel_region", "sessions_per_user"):
        part = outputs / table / f"date={DAY}"
        files = [p for p in part.rglob("*.parquet")]
        assert files, f"no Parquet files under {part}"
    # one partition per batch: region and channel are columns, not folders
    assert [p.name for p in (outputs / "channel_region" / f"date={DAY}").iterdir() if p.is_dir()] == []
    row = spark.read.parquet(str(outputs / "gmv_daily")).collect()[0]
    assert (row["date"], row["gmv"], row["orders"], row["units"]) == (
        DAY, EXPECTED_GMV_DAILY["gmv"], EXPECTED_GMV_DAILY["orders"], EXPECTED_GMV_DAILY["units"])


def test_sample_parses_as_python_3_9(pipeline_dir):
    """EMR 7.x runs PySpark on Python 3.9 by default (3.11 is also installed): no newer syntax."""
    import ast
    sources = sorted(pipeline_dir.rglob("*.py"))
    names = {p.name for p in sources}
    assert names >= {"__init__.py", "clean.py", "enrich.py", "sessionize.py", "metrics.py", "common.py", "schemas.py", "pos_daily_sales.py"}
    for path in sources:
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))
