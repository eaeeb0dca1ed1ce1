"""Column contracts of the retail sample's Spark stages: the inputs they read (one directory per
input relation under --input-root) and the checkpoints/outputs they write.

Inputs are read by name with these types (extra columns are ignored; a column stored with a
compatible physical type, e.g. INT32 for a BIGINT or a timestamp without time zone, is cast).
Checkpoint schemas exclude the date partition column, which comes from the directory name.
"""
from pyspark.sql import types as T

from landfall_jobs.schemas import struct

MONEY = T.DecimalType(18, 2)
# sums of MONEY (the POS job's amounts, as the SQL's v3): 38 digits, which no realistic count of
# 18-digit values reaches, where DECIMAL(18,2) overflowed with two of the largest valid amounts
MONEY_SUM = T.DecimalType(38, 2)

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
    # --- the "Yummy Foods" POS job (pos_daily_sales): what the DuckDB convert step writes, the
    # dataset's columns (integer -> BIGINT, decimal scale 2 -> DECIMAL(18,2)) plus VARCHAR constants
    # from the landing key (key_<field>) and the source object (shared/stages/convert/csv-to-parquet.ts) ---
    "pos": [
        ("store_id", T.StringType()),
        ("item_id", T.StringType()),
        ("transaction_date", T.DateType()),
        ("transaction_code", T.LongType()),
        ("amount", MONEY),
        ("key_province", T.StringType()),
        ("key_store", T.StringType()),
        ("key_date", T.StringType()),
        ("key_time", T.StringType()),
        ("source_key", T.StringType()),
        ("source_version_id", T.StringType()),
    ],
    "item_master": [
        ("item_id", T.StringType()),
        ("item_name", T.StringType()),
        ("category", T.StringType()),
        ("unit_price", MONEY),
        ("key_date", T.StringType()),
        ("source_key", T.StringType()),
        ("source_version_id", T.StringType()),
    ],
}


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

# --- output of the POS job: the columns of examples/retail/sql/pos_daily_sales.v3.sql, in its
# order and types, all of them in the one object <output-root>/province=P/date=D/data.parquet ---
POS_DAILY_SALES = [
    ("province", T.StringType()),
    ("transaction_date", T.DateType()),
    ("store_id", T.StringType()),
    ("item_id", T.StringType()),
    ("item_name", T.StringType()),
    ("category", T.StringType()),
    ("sale_amount", MONEY_SUM),
    ("tax_amount", MONEY_SUM),
    ("discount_amount", MONEY_SUM),
    ("dt", T.StringType()),
]
