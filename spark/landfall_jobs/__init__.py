"""landfall's Spark engine: runs one stage of a user's pipeline for one batch (see spark/README.md).

The stages themselves are the pipeline's code (package `landfall_pipeline`, pipeline.zip on EMR):
each module defines run(spark, ctx); this package parses the command line, builds the session,
loads the module, and provides the readers, the idempotent writers and the done markers.
"""

# The Spark line this package is built and tested against: emr-7.13.0 ships Spark 3.5.6-amzn-2.
TARGET_SPARK = "3.5.6"
TARGET_EMR_RELEASE = "emr-7.13.0"
