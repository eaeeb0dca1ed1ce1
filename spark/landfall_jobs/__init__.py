"""landfall's Spark jobs: the e-commerce clickstream (DESIGN.md, use case 2).

Stages, each reading the previous stage's checkpoint for one UTC date and writing its own:
clean -> enrich -> sessionize -> metrics. See spark/README.md.

Also the "Yummy Foods" POS aggregation (pos_daily_sales) as a single Spark stage for one province
and one date: the DuckDB transform shared/transform/sql/pos_daily_sales.v1.sql on Spark.
"""

# The clickstream stages, in run order (one batch = one date).
STAGES = ("clean", "enrich", "sessionize", "metrics")
# Stages of the POS job (one batch = one province and one date: they need --province).
POS_STAGES = ("pos_daily_sales",)

# The Spark line this package is built and tested against: emr-7.13.0 ships Spark 3.5.6-amzn-2.
TARGET_SPARK = "3.5.6"
TARGET_EMR_RELEASE = "emr-7.13.0"
