"""Shared by the engine tests."""
import datetime as dt
import os
import sys
from pathlib import Path

DAY = dt.date(2026, 11, 23)
FIXTURE_PIPELINE = Path(__file__).resolve().parent / "fixtures" / "pipeline"

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


def at(hms: str, day: dt.date = DAY) -> dt.datetime:
    """'10:00:00[.ffffff]' on day as a naive datetime (UTC: the tests run with TZ=UTC)."""
    return dt.datetime.fromisoformat(f"{day.isoformat()} {hms}")


def spark_submit() -> str:
    path = os.path.join(os.path.dirname(sys.executable), "spark-submit")
    assert os.path.exists(path), f"spark-submit not found next to {sys.executable}"
    return path


def submit_env() -> dict:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1", TZ="UTC")
    env.pop("PYTHONPATH", None)  # the package must come from the source tree or --py-files
    return env
