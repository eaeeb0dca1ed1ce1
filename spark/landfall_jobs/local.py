"""Running the engine on local Spark: what the engine's tests, the samples' tests and a user's own
stage tests need to spark-submit a stage or open a session on a small machine."""
import os
import sys

from pyspark.sql import SparkSession

from .session import local_session

# short-lived JVMs on 2 cores: C1 only and the serial GC halve the CPU spent on JIT and GC
TEST_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

# spark-submit options for a local run of main.py
SPARK_SUBMIT_CONF = [
    "--master", "local[2]",
    "--driver-memory", "768m",
    "--driver-java-options", TEST_JAVA_OPTIONS,
    "--conf", "spark.ui.enabled=false",
    "--conf", "spark.ui.showConsoleProgress=false",
    "--conf", "spark.driver.host=127.0.0.1",
    "--conf", "spark.driver.bindAddress=127.0.0.1",
]


def spark_submit() -> str:
    """The spark-submit of this Python's environment (the venv spark/install.sh makes)."""
    path = os.path.join(os.path.dirname(sys.executable), "spark-submit")
    assert os.path.exists(path), f"spark-submit not found next to {sys.executable}"
    return path


def submit_env() -> dict:
    """The environment for spark-submit: this Python on both sides, loopback, UTC; no PYTHONPATH,
    so the engine and the pipeline come from main.py's tree, --pipeline-root or --py-files."""
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1", TZ="UTC")
    env.pop("PYTHONPATH", None)
    return env


def session_for_tests(app_name: str) -> SparkSession:
    """One local session for a test suite: many tiny queries, 2 cores."""
    return local_session(app_name, 2, "1g", {"spark.driver.extraJavaOptions": TEST_JAVA_OPTIONS})
