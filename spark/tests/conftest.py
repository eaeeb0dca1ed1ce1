import os
import sys
import time
from pathlib import Path

import pytest

# PySpark turns TIMESTAMPs into naive datetimes in the Python process's local zone (and back):
# pin it to UTC like the jobs' session time zone, before Spark starts.
os.environ["TZ"] = "UTC"
time.tzset()

SPARK_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SPARK_DIR))


from landfall_jobs.local import session_for_tests  # noqa: E402


@pytest.fixture(scope="session")
def spark():
    session = session_for_tests("landfall-spark-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_dir():
    return SPARK_DIR


@pytest.fixture
def pipeline_modules():
    """For tests that register or import landfall_pipeline: sys.modules and sys.path restored after."""
    path, modules = list(sys.path), dict(sys.modules)
    yield
    sys.path[:] = path
    for name in [n for n in sys.modules if n.startswith("landfall_pipeline") and sys.modules[n] is not modules.get(n)]:
        del sys.modules[name]
    sys.modules.update({n: m for n, m in modules.items() if n.startswith("landfall_pipeline")})
