"""The retail sample's Spark stages, tested as the engine runs them: package landfall_pipeline
registered from examples/retail/spark, the engine (landfall_jobs) from the repository's spark/."""
import os
import sys
import time
from pathlib import Path

import pytest

# PySpark turns TIMESTAMPs into naive datetimes in the Python process's local zone (and back):
# pin it to UTC like the jobs' session time zone, before Spark starts.
os.environ["TZ"] = "UTC"
time.tzset()

PIPELINE_DIR = Path(__file__).resolve().parents[1]
SPARK_DIR = Path(os.environ.get("LANDFALL_SPARK_DIR") or PIPELINE_DIR.parents[2] / "spark")
sys.path.insert(0, str(SPARK_DIR))

from landfall_jobs.loader import register_pipeline_root  # noqa: E402
from landfall_jobs.local import session_for_tests  # noqa: E402

register_pipeline_root(str(PIPELINE_DIR))


@pytest.fixture(scope="session")
def spark():
    session = session_for_tests("landfall-retail-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_dir():
    """The engine's directory (spark/ of the repository)."""
    return SPARK_DIR


@pytest.fixture(scope="session")
def pipeline_dir():
    """examples/retail/spark: the package landfall_pipeline."""
    return PIPELINE_DIR
