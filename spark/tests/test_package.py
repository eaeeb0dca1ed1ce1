"""spark/package.sh: the engine zip, main.py and the pipeline zip (deterministic), and a stage
imported from pipeline.zip by zipimport, as --py-files gives it on EMR."""
import shutil
import subprocess
import sys
import zipfile

from landfall_jobs.cli import run_stage
from landfall_jobs.context import Roots, StageContext
from util import DAY, FIXTURE_PIPELINE

D = DAY.isoformat()


def package(spark_dir, out, pipeline=None):
    cmd = ["bash", str(spark_dir / "package.sh"), str(out)] + ([str(pipeline)] if pipeline else [])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_package_builds_the_engine_and_the_pipeline_zips(spark_dir, tmp_path):
    # the fixture pipeline plus what must stay out: caches, tests, hidden directories, non-.py files
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURE_PIPELINE, root, ignore=shutil.ignore_patterns("__pycache__"))
    for junk in ("__pycache__/copy_rows.py", "tests/test_copy.py", ".hidden/secret.py", "nested/__pycache__/x.py",
                 "nested/.venv/lib.py", "notes.txt", "nested/deeper/data.json"):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("x = 1\n")
    (root / "nested" / "__init__.py").write_text("NESTED = True\n")  # kept as it is

    out = tmp_path / "build"
    proc = package(spark_dir, out, root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(out / "landfall_jobs.zip"), str(out / "main.py"), str(out / "pipeline.zip")]
    with zipfile.ZipFile(out / "pipeline.zip") as zf:
        names = zf.namelist()
        assert names == [
            "landfall_pipeline/__init__.py",
            "landfall_pipeline/broken.py",
            "landfall_pipeline/contract.py",
            "landfall_pipeline/copy_rows.py",
            "landfall_pipeline/nested/__init__.py",
            "landfall_pipeline/nested/deeper/__init__.py",
            "landfall_pipeline/nested/deeper/echo.py",
            "landfall_pipeline/no_run.py",
        ]
        assert zf.read("landfall_pipeline/__init__.py") == b"" and zf.read("landfall_pipeline/nested/deeper/__init__.py") == b""
        assert zf.read("landfall_pipeline/nested/__init__.py") == b"NESTED = True\n"
        assert zf.read("landfall_pipeline/copy_rows.py") == (FIXTURE_PIPELINE / "copy_rows.py").read_bytes()
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    engine = sorted(p.relative_to(spark_dir).as_posix() for p in (spark_dir / "landfall_jobs").rglob("*.py") if "__pycache__" not in p.parts)
    with zipfile.ZipFile(out / "landfall_jobs.zip") as zf:
        assert zf.namelist() == engine
    assert (out / "main.py").read_bytes() == (spark_dir / "landfall_jobs" / "main.py").read_bytes()

    # deterministic: the same sources give the same bytes; without a pipeline, no pipeline.zip
    again = tmp_path / "again"
    assert package(spark_dir, again, root).returncode == 0
    for name in ("landfall_jobs.zip", "main.py", "pipeline.zip"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    alone = tmp_path / "alone"
    proc = package(spark_dir, alone)
    assert proc.returncode == 0 and sorted(p.name for p in alone.iterdir()) == ["landfall_jobs.zip", "main.py"]
    assert (alone / "landfall_jobs.zip").read_bytes() == (out / "landfall_jobs.zip").read_bytes()
    proc = package(spark_dir, tmp_path / "bad", tmp_path / "no-such-dir")
    assert proc.returncode == 2 and "is not a directory" in proc.stderr


def test_a_stage_imports_from_pipeline_zip_and_runs(spark, spark_dir, tmp_path, pipeline_modules):
    out = tmp_path / "build"
    assert package(spark_dir, out, FIXTURE_PIPELINE).returncode == 0
    sys.path.insert(0, str(out / "pipeline.zip"))
    for name in [n for n in sys.modules if n.startswith("landfall_pipeline")]:
        del sys.modules[name]
    spark.createDataFrame([("a", 5, DAY)], "name string, amount bigint, day date").write.parquet(str(tmp_path / "in" / "rows" / "x"))
    roots = Roots.of(str(tmp_path / "in"), str(tmp_path / "cp"), str(tmp_path / "out"))
    ctx = StageContext.of("copy", roots, [("region", "west"), ("date", D)], "date", ["region", "date"])
    marker = run_stage(spark, "landfall_pipeline.copy_rows", ctx)
    module = sys.modules["landfall_pipeline.copy_rows"]
    assert module.__file__ == str(out / "pipeline.zip" / "landfall_pipeline" / "copy_rows.py")
    assert type(module.__loader__).__name__ == "zipimporter"
    assert marker["rows"] == {"copied": 1}
    obj = tmp_path / "out" / "region=west" / f"date={D}" / "data.parquet"
    assert [tuple(r) for r in spark.read.parquet(str(obj)).collect()] == [("a", 5, "west", D)]
