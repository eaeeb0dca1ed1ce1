"""Column contracts are lists of (name, Spark type) pairs, owned by the pipeline's code."""
from pyspark.sql import types as T


def struct(columns) -> T.StructType:
    """The StructType of a column contract (every field nullable)."""
    return T.StructType([T.StructField(name, dtype, True) for name, dtype in columns])
