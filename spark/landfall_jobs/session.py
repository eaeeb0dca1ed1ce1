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
}


def configure(spark: SparkSession, shuffle_partitions: Optional[int] = None) -> SparkSession:
    """Apply the job's SQL settings to a session (all are runtime settings)."""
    submitted = spark.sparkContext.getConf()
    for key, value in DEFAULT_CONF.items():
        if not submitted.contains(key):
            spark.conf.set(key, value)
    for key, value in FORCED_CONF.items():
        spark.conf.set(key, value)
    if shuffle_partitions is not None:
        if shuffle_partitions < 1:
            raise ValueError(f"shuffle partitions must be >= 1, got {shuffle_partitions}")
        spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return spark


def build_session(app_name: str = "landfall-clickstream", shuffle_partitions: Optional[int] = None) -> SparkSession:
    """The job's session. The master comes from spark-submit (yarn on EMR, local[*] by default)."""
    builder = SparkSession.builder.appName(app_name)
    for key, value in FORCED_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    return configure(spark, shuffle_partitions)
