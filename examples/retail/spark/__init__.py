"""The retail sample's Spark stages, imported as package landfall_pipeline (pipeline.zip on EMR):
clean, enrich, sessionize, metrics (job clickstream_daily) and pos_daily_sales (job pos_daily_sales,
stage aggregate). Each defines run(spark, ctx) (ctx: landfall_jobs.context.StageContext)."""
