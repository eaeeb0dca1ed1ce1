"""Column contracts: the inputs the job reads and the checkpoints/outputs it writes.

Inputs are read by name with these types (extra columns are ignored; a column stored with a
compatible physical type, e.g. INT32 for a BIGINT or a timestamp without time zone, is cast).
Checkpoint schemas exclude the date partition column, which comes from the directory name.
"""
from pyspark.sql import types as T

MONEY = T.DecimalType(18, 2)

INPUTS = {
    "events": [
        ("event_id", T.StringType()),
        ("customer_id", T.StringType()),
        ("event_type", T.StringType()),
        ("product_id", T.StringType()),
        ("event_ts", T.TimestampType()),
        ("channel", T.StringType()),
        ("region", T.StringType()),
        ("order_id", T.StringType()),
    ],
    "orders": [
        ("order_id", T.StringType()),
        ("order_line", T.LongType()),
        ("customer_id", T.StringType()),
        ("order_ts", T.TimestampType()),
        ("channel", T.StringType()),
        ("store_id", T.StringType()),
        ("product_id", T.StringType()),
        ("quantity", T.LongType()),
        ("unit_price", MONEY),
    ],
    "customers": [
        ("customer_id", T.StringType()),
        ("customer_name", T.StringType()),
        ("segment", T.StringType()),
        ("home_region", T.StringType()),
        ("signup_date", T.DateType()),
    ],
    "products": [
        ("product_id", T.StringType()),
        ("product_name", T.StringType()),
        ("category", T.StringType()),
        ("list_price", MONEY),
    ],
    "stores": [
        ("store_id", T.StringType()),
        ("store_name", T.StringType()),
        ("region", T.StringType()),
        ("city", T.StringType()),
    ],
}


def struct(columns) -> T.StructType:
    return T.StructType([T.StructField(name, dtype, True) for name, dtype in columns])


def input_schema(dataset: str) -> T.StructType:
    return struct(INPUTS[dataset])


# --- checkpoints (column order as written; the date partition column is not in the files) ---
CLEAN_EVENTS = INPUTS["events"]
CLEAN_ORDERS = INPUTS["orders"]
ENRICH_EVENTS = CLEAN_EVENTS + [
    ("category", T.StringType()),
    ("segment", T.StringType()),
    ("home_region", T.StringType()),
]
ENRICH_ORDERS = CLEAN_ORDERS + [
    ("category", T.StringType()),
    ("segment", T.StringType()),
    ("home_region", T.StringType()),
    ("store_region", T.StringType()),
    ("gmv", MONEY),
    ("sales_region", T.StringType()),
]
SESSION_EVENTS = ENRICH_EVENTS + [
    ("session_index", T.IntegerType()),
    ("session_id", T.StringType()),
    ("session_start", T.TimestampType()),
    ("session_end", T.TimestampType()),
]
