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

from pyspark.sql import SparkSession  # noqa: E402

from landfall_jobs.session import configure  # noqa: E402


@pytest.fixture(scope="session")
def spark():
    session = (
        SparkSession.builder.master("local[2]")
        .appName("landfall-spark-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        # tests run many tiny queries: C1-only JIT and the serial GC cost far less CPU on 2 cores
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    configure(session)  # the jobs' own SQL settings (AQE, dynamic partition overwrite, UTC)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_dir():
    return SPARK_DIR
