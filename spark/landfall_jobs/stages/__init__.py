"""The four stages. Each module has pure DataFrame -> DataFrame functions (tested directly) and a
run(spark, roots, day) that reads the previous checkpoint, writes its own and returns row counts."""
