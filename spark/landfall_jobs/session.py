"""The SparkSession every stage runs in."""
from __future__ import annotations

from typing import Optional

from pyspark.sql import SparkSession

# Applied unless the submitter already set them (spark-submit --conf, spark-defaults.conf):
# operators keep an escape hatch for performance knobs.
DEFAULT_CONF = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
}

# Always applied: the jobs' correctness depends on them (dates are UTC dates; a re-run replaces
# only the partitions it writes).
FORCED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # DuckDB writes proleptic Gregorian dates; without these, Spark 3.5 refuses to read a date
    # before 1582-10-15 (READ_ANCIENT_DATETIME), so one such valid row would fail the whole day
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    # an additive dataset's newer files hold columns its older ones lack (schemaPolicy additive):
    # read the union of the files' columns, null where a file has none, as DuckDB's union_by_name
    "spark.sql.parquet.mergeSchema": "true",
}


def configure(spark: SparkSession, shuffle_partitions: Optional[int] = None) -> SparkSession:
    """Apply the job's SQL settings to a session (all are runtime settings)."""
    submitted = spark.sparkContext.getConf()
    for key in DEFAULT_CONF:
        if not submitted.contains(key):
            spark.conf.set(key, DEFAULT_CONF[key])
    for key in FORCED_CONF:
        spark.conf.set(key, FORCED_CONF[key])
    if shuffle_partitions is not None:
        if shuffle_partitions < 1:
            raise ValueError(f"shuffle partitions must be >= 1, got {shuffle_partitions}")
        spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return spark


def build_session(app_name: str = "landfall", shuffle_partitions: Optional[int] = None) -> SparkSession:
    """The job's session. The master comes from spark-submit (yarn on EMR, local[*] by default)."""
    builder = SparkSession.builder.appName(app_name)
    for key in FORCED_CONF:
        builder = builder.config(key, FORCED_CONF[key])
    spark = builder.getOrCreate()
    return configure(spark, shuffle_partitions)


def local_session(app_name: str, shuffle_partitions: int, driver_memory: str, extra: Optional[dict] = None) -> SparkSession:
    """A local[2] session on loopback without UI (tests, benchmarks), with the jobs' SQL settings."""
    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
    )
    extra = extra or {}
    for key in extra:
        builder = builder.config(key, extra[key])
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return configure(spark)
