"""landfall's Spark jobs: the e-commerce clickstream (DESIGN.md, use case 2).

Stages, each reading the previous stage's checkpoint for one UTC date and writing its own:
clean -> enrich -> sessionize -> metrics. See spark/README.md.
"""

STAGES = ("clean", "enrich", "sessionize", "metrics")

# The Spark line this package is built and tested against: emr-7.13.0 ships Spark 3.5.6-amzn-2.
TARGET_SPARK = "3.5.6"
TARGET_EMR_RELEASE = "emr-7.13.0"
