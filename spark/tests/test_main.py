"""main.py end to end through spark-submit, as EMR runs it, over a tiny input directory."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from builders import DAY, EXPECTED_GMV_DAILY, write_inputs
from landfall_jobs import STAGES
from landfall_jobs.cli import parse_args

LOCAL_CONF = [
    "--master", "local[2]",
    "--driver-memory", "768m",
    # short-lived JVMs on 2 cores: C1 only and the serial GC halve the CPU spent on JIT and GC
    "--driver-java-options", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "--conf", "spark.ui.enabled=false",
    "--conf", "spark.ui.showConsoleProgress=false",
    "--conf", "spark.driver.host=127.0.0.1",
    "--conf", "spark.driver.bindAddress=127.0.0.1",
]


def spark_submit():
    path = os.path.join(os.path.dirname(sys.executable), "spark-submit")
    assert os.path.exists(path), f"spark-submit not found next to {sys.executable}"
    return path


def test_main_runs_all_stages_via_spark_submit(spark, spark_dir, tmp_path):
    inputs = write_inputs(spark, str(tmp_path / "in"))
    checkpoints, outputs = tmp_path / "cp", tmp_path / "out"
    # the EMR layout: main.py alone in a directory, the package from --py-files
    build = tmp_path / "build"
    subprocess.run(["bash", str(spark_dir / "package.sh"), str(build)], check=True, capture_output=True, text=True)
    emr_main = tmp_path / "scratch" / "main.py"
    emr_main.parent.mkdir()
    shutil.copy(build / "main.py", emr_main)

    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1", TZ="UTC")
    env.pop("PYTHONPATH", None)
    for stage in STAGES:
        # clean and enrich from the source tree, sessionize and metrics the way EMR runs them
        if stage in ("clean", "enrich"):
            entry = [str(spark_dir / "landfall_jobs" / "main.py")]
        else:
            entry = ["--py-files", str(build / "landfall_jobs.zip"), str(emr_main)]
        cmd = [spark_submit(), *LOCAL_CONF, *entry, "--stage", stage, "--input-root", inputs,
               "--checkpoint-root", str(checkpoints), "--output-root", str(outputs),
               "--date", DAY.isoformat(), "--shuffle-partitions", "2"]
        proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{stage} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        done = [json.loads(line)["landfall_stage_done"] for line in proc.stdout.splitlines() if "landfall_stage_done" in line]
        assert len(done) == 1 and done[0]["stage"] == stage and done[0]["date"] == DAY.isoformat()
        with open(checkpoints / stage / "_landfall_done") as fh:
            assert json.load(fh)["rows"] == done[0]["rows"]

    for table in ("gmv_daily", "gmv_hourly", "funnel", "channel_region", "sessions_per_user"):
        part = outputs / table / f"date={DAY}"
        files = [p for p in part.rglob("*.parquet")]
        assert files, f"no Parquet files under {part}"
    assert (outputs / "channel_region" / f"date={DAY}" / "region=north" / "channel=store").is_dir()
    row = spark.read.parquet(str(outputs / "gmv_daily")).collect()[0]
    assert (row["date"], row["gmv"], row["orders"], row["units"]) == (
        DAY, EXPECTED_GMV_DAILY["gmv"], EXPECTED_GMV_DAILY["orders"], EXPECTED_GMV_DAILY["units"])


def test_cli_arguments():
    args = parse_args(["--stage", "clean", "--input-root", "s3://b/in/", "--checkpoint-root", "s3://b/cp",
                       "--output-root", "/tmp/o", "--date", "2026-11-23"])
    assert (args.stage, args.day, args.shuffle_partitions) == ("clean", DAY, None)
    base = ["--input-root", "i", "--checkpoint-root", "c", "--output-root", "o"]
    for bad in (["--stage", "clean", "--date", "2026-11-31"], ["--stage", "clean", "--date", "20261123"],
                ["--stage", "load", "--date", "2026-11-23"],
                ["--stage", "clean", "--date", "2026-11-23", "--shuffle-partitions", "0"]):
        with pytest.raises(SystemExit) as exc:
            parse_args(base + bad)
        assert exc.value.code == 2


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
    assert len(sources) >= 10
    for path in sources:
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))
