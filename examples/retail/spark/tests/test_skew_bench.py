"""spark/bench/skew.py's data generator (the benchmark itself runs by hand: see its docstring)."""
import datetime as dt
import sys

from pyspark.sql import functions as F

from builders import DAY, rows_of
from landfall_pipeline import schemas
from landfall_pipeline.sessionize import sessionize, sessionize_bucketed


def test_generated_day_has_the_hot_share_and_the_enrich_schema(spark, spark_dir):
    sys.path.insert(0, str(spark_dir / "bench"))
    try:
        import skew  # registers landfall_pipeline from examples/retail/spark too, as the conftest does
    finally:
        sys.path.remove(str(spark_dir / "bench"))
    assert skew.sessionize_stage.sessionize is sessionize  # the bench runs the sample's stage
    df = skew.generate(spark, 6000, 0.3)
    assert [(f.name, f.dataType) for f in df.schema.fields] == schemas.ENRICH_EVENTS + [("event_date", schemas.T.DateType())]
    stats = df.agg(
        F.count(F.lit(1)).alias("n"),
        F.countDistinct("event_id").alias("ids"),
        F.sum(F.when(F.col("customer_id") == F.lit(skew.HOT), 1).otherwise(0)).alias("hot"),
        F.min("event_ts").alias("first"),
        F.max("event_ts").alias("last"),
    ).collect()[0]
    assert stats["n"] == stats["ids"] == 6000
    assert 0.27 * 6000 < stats["hot"] < 0.33 * 6000
    assert stats["first"] >= dt.datetime.combine(DAY, dt.time()) and stats["last"] < dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time())
    assert rows_of(skew.generate(spark, 6000, 0.3)) == rows_of(df)  # deterministic
    # and on it both sessionizations agree
    assert rows_of(sessionize_bucketed(df)) == rows_of(sessionize(df))
