"""Skew benchmark: one hot customer vs the sessionize stage, with AQE's skew handling on and off,
and the bucketed sessionize.

  TZ=UTC SPARK_LOCAL_IP=127.0.0.1 <venv>/bin/python spark/bench/skew.py \
      [--events N] [--hot-share 0.3] [--runs R] [--quick] [--out result.json]

Defaults: 2,000,000 events, 3 runs (about 2.5 minutes on 2 idle cores); --quick: 100,000 events,
1 run (about 25 s). <venv> is what `bash spark/install.sh` prints.

What it does, in ONE local[2] process (one JVM: no per-run start-up, the same warm JIT for every
variant; one process per run would add ~5 s of JVM start to every figure and measure cold code):

1. Generates one day of enriched clickstream events (schemas.ENRICH_EVENTS) with spark.range and
   hash functions (deterministic, no Python loop): one customer holds --hot-share of the events
   (active 20 minutes of every hour: 24 sessions), the rest are spread over events/25 customers at
   uniformly random times. Written once as the enrich checkpoint the sessionize stage reads, plus,
   for the join phase, the same events without the customer attributes and customers/products
   tables. A tenth of that (at most 200,000 events) is written too for a warm-up round.
2. A warm-up round (not recorded), then R rounds of on, off, bucketed in turn, each:
   - sessionize ("seconds"): what sessionize.run does - read the enrich checkpoint, sessionize,
     write_day (Parquet, dynamic partition overwrite, row count read back). on: AQE with skew-join
     handling; off: AQE disabled; bucketed: AQE on and sessionize_bucketed.
   - join (on and off only, "joinSeconds"): enrich's events-customers left join on customer_id with
     broadcasting disabled (as if customers were too large to broadcast), written to Parquet. The
     real enrich broadcasts its dimensions (examples/retail/spark/enrich.py: dimension() ->
     F.broadcast), so a real run shuffles no events on customer_id and AQE's skew join has nothing
     to act on; this phase shows what happens where it could. With --join-dimension enrich
     (default) the customers side is built as enrich builds it (keep_first: a dedupe aggregate on
     customer_id right under the join); AQE cannot split that join (OptimizeSkewedJoin needs a
     shuffle on both sides of the join, the aggregate's own shuffle is reused). --join-dimension
     plain joins the table as is, and AQE does.
3. Per measured query: wall seconds; from Spark's status store the heavy stage (the stage with the
   longest task): its tasks, longest and median task; and whether the final adaptive plan split a
   skewed join partition (skewJoinSplit).

Every variant's output is checksummed (row count + sum of a row hash): identicalOutput.

Shuffle partitions are 32 for every variant (so "off" does not pay for 200 tiny tasks); for "on"
and "bucketed" AQE's sizes are scaled to this data (advisory partition and skewed-partition
threshold 4 MB; the defaults, 64 MB and 256 MB, would never call a partition here skewed).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from landfall_jobs import tables  # noqa: E402
from landfall_jobs.loader import register_pipeline_root  # noqa: E402
from landfall_jobs.session import local_session  # noqa: E402

# the clickstream stages are the retail sample's code: imported as the pipeline package, as EMR does
register_pipeline_root(os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "retail", "spark"))

from landfall_pipeline import schemas  # noqa: E402
from landfall_pipeline import sessionize as sessionize_stage  # noqa: E402
from landfall_pipeline.common import keep_first  # noqa: E402
from landfall_pipeline.enrich import EVENT_COLUMNS as ENRICH_EVENT_COLUMNS  # noqa: E402
from landfall_pipeline.enrich import dimension  # noqa: E402

DAY = "2026-11-23"
DEFAULT_EVENTS = 2_000_000
QUICK_EVENTS = 100_000
EVENTS_PER_CUSTOMER = 25
HOT = "hot-customer"
SHUFFLE_PARTITIONS = 32
AQE_ON = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": str(4 * 1024 * 1024),
    "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": str(4 * 1024 * 1024),
}
AQE_OFF = {"spark.sql.adaptive.enabled": "false"}
VARIANTS = {"on": AQE_ON, "off": AQE_OFF, "bucketed": AQE_ON}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=None, help=f"events in the day (default {DEFAULT_EVENTS:,}; --quick: {QUICK_EVENTS:,})")
    parser.add_argument("--hot-share", type=float, default=0.3, help="share of the events held by the hot customer")
    parser.add_argument("--runs", type=int, default=None, help="measured runs per variant (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help=f"small and short: {QUICK_EVENTS:,} events and 1 run unless given")
    parser.add_argument("--bucket-minutes", type=int, default=sessionize_stage.BUCKET_MICROS // 60_000_000, help="bucket width of the bucketed variant")
    parser.add_argument("--no-join", action="store_true", help="skip the join phase")
    parser.add_argument("--join-dimension", choices=("enrich", "plain"), default="enrich",
                        help="customers side of the join phase: as enrich builds it (keep_first) or the table as is")
    parser.add_argument("--out", default=None, help="write the JSON result here (it is printed too)")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = QUICK_EVENTS if args.quick else DEFAULT_EVENTS
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.events < 1000 or not 0 <= args.hot_share < 1 or args.runs < 1 or args.bucket_minutes < 1:
        parser.error("need --events >= 1000, 0 <= --hot-share < 1, --runs >= 1, --bucket-minutes >= 1")
    return args


def build_session() -> SparkSession:
    return local_session("landfall-skew-bench", SHUFFLE_PARTITIONS, "3g")


def _pick(values, h) -> F.Column:
    return F.element_at(F.array(*[F.lit(v) for v in values]), (F.pmod(h, F.lit(len(values))) + F.lit(1)).cast("int"))


def generate(spark: SparkSession, events: int, hot_share: float) -> DataFrame:
    """One day of enriched events, deterministic (hashes of the row number, whatever the partitioning)."""
    customers = max(1, events // EVENTS_PER_CUSTOMER)
    hour_us, day_us = 3_600_000_000, 86_400_000_000

    def h(seed):
        return F.xxhash64(F.col("id"), F.lit(seed))

    hot = F.pmod(h(1), F.lit(1_000_000)) < F.lit(int(round(hot_share * 1_000_000)))
    # the hot customer is active during the first 20 minutes of every hour; the others at any time
    offset = F.when(hot, F.pmod(h(3), F.lit(24)) * F.lit(hour_us) + F.pmod(h(4), F.lit(20 * 60_000_000))).otherwise(
        F.pmod(h(3), F.lit(day_us))
    )
    day_start_us = F.expr(f"unix_micros(TIMESTAMP'{DAY} 00:00:00')")
    event_type = _pick(["view", "view", "view", "search", "add_to_cart", "checkout", "purchase"], h(5))
    return (
        spark.range(0, events, 1, 8)
        .select(
            F.format_string("e%010d", F.col("id")).alias("event_id"),
            F.when(hot, F.lit(HOT)).otherwise(F.concat(F.lit("c"), F.pmod(h(2), F.lit(customers)).cast("string"))).alias("customer_id"),
            event_type.alias("event_type"),
            F.concat(F.lit("p"), F.pmod(h(6), F.lit(1000)).cast("string")).alias("product_id"),
            (day_start_us + offset).alias("_us"),
            _pick(["web", "mobile", "store"], h(7)).alias("channel"),
            _pick(["east", "west", "north", "south"], h(8)).alias("region"),
            F.col("id"),
        )
        .withColumn("event_ts", F.expr("timestamp_micros(_us)"))
        .withColumn("order_id", F.when(F.col("event_type") == F.lit("purchase"), F.concat(F.lit("o"), F.col("id").cast("string"))))
        .withColumn("category", F.concat(F.lit("cat"), F.pmod(F.xxhash64(F.col("product_id")), F.lit(20)).cast("string")))
        .withColumn("segment", _pick(["new", "regular", "vip"], F.xxhash64(F.col("customer_id"))))
        .withColumn("home_region", _pick(["east", "west", "north", "south"], F.xxhash64(F.col("customer_id"), F.lit(1))))
        .withColumn("event_date", F.lit(DAY).cast("date"))
        .select(*[name for name, _ in schemas.ENRICH_EVENTS], "event_date")
    )


class Stages:
    """Stage and task figures from the SparkContext's status store (present with the UI off)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark
        self.store = spark.sparkContext._jsc.sc().statusStore()
        gateway = spark.sparkContext._gateway
        self.no_quantiles = gateway.new_array(gateway.jvm.double, 0)
        self.empty = gateway.jvm.java.util.ArrayList()

    def all(self):
        stages = self.store.stageList(None, False, False, self.no_quantiles, self.empty)
        return [stages.apply(i) for i in range(stages.size())]

    def seen(self) -> set:
        return {(s.stageId(), s.attemptId()) for s in self.all()}

    def heavy_since(self, before: set) -> dict:
        """The stage (started after `before`) with the longest task: its tasks and that task."""
        best = None
        for s in self.all():
            if (s.stageId(), s.attemptId()) in before or str(s.status()) != "COMPLETE":
                continue
            tasks = self.store.taskList(s.stageId(), s.attemptId(), 1_000_000)
            durations = [tasks.apply(i).duration().get() for i in range(tasks.size()) if tasks.apply(i).duration().isDefined()]
            if not durations:
                continue
            longest = max(durations)
            if best is None or longest > best["longestTaskSeconds"] * 1000:
                best = {"stageId": s.stageId(), "tasks": len(durations), "longestTaskSeconds": round(longest / 1000, 3),
                        "medianTaskSeconds": round(sorted(durations)[len(durations) // 2] / 1000, 3)}
        return best or {}


def set_conf(spark: SparkSession, conf: dict) -> None:
    for key in set(AQE_ON) | set(AQE_OFF):
        spark.conf.unset(key)
    for key, value in conf.items():
        spark.conf.set(key, value)


def run_sessionize(spark, variant, enrich_table, out_table, bucket_micros, day) -> int:
    """sessionize.run's body with the variant's sessionize function."""
    events = tables.read_checkpoint(spark, enrich_table, "event_date", day, schemas.ENRICH_EVENTS, "enrich")
    if variant == "bucketed":
        result = sessionize_stage.sessionize_bucketed(events, bucket_micros)
    else:
        result = sessionize_stage.sessionize(events)
    return tables.write_day(result, out_table, "event_date", day, schemas.SESSION_EVENTS)


def run_join(spark, clean_path, products_path, customers_path, out_path, dimension_kind="enrich") -> None:
    """enrich_events with its customers join not broadcast (a sort-merge join on customer_id); the
    products join stays broadcast, as in enrich. dimension_kind "enrich": the customers dimension
    as enrich builds it (keep_first: a dedupe aggregate on customer_id right under the join);
    "plain": the customers table as is (already one row per customer_id)."""
    events = spark.read.parquet(clean_path)
    products = dimension(spark.read.parquet(products_path), "product_id", ["category"])
    customers = spark.read.parquet(customers_path).where(F.col("customer_id").isNotNull())
    if dimension_kind == "enrich":
        customers = keep_first(customers, ["customer_id"], ["segment", "home_region"])
    else:
        customers = customers.select("customer_id", "segment", "home_region")
    joined = events.join(products, "product_id", "left").join(customers, "customer_id", "left").select(*ENRICH_EVENT_COLUMNS)
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")  # customers: "too large to broadcast"
    try:
        joined.write.mode("overwrite").parquet(out_path)
    finally:
        spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")


def checksum(spark, path) -> list:
    df = spark.read.parquet(path)
    row = df.agg(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(*sorted(df.columns)).cast("decimal(38,0)")).alias("h")).collect()[0]
    return [row["n"], str(row["h"])]


def sql_plans_since(spark, before: int) -> list:
    """The final (adaptive) physical plans of the SQL executions after the first `before`."""
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    return [executions.apply(i).physicalPlanDescription() for i in range(before, executions.size())]


def sql_count(spark) -> int:
    return spark._jsparkSession.sharedState().statusStore().executionsList().size()


def measure(spark, stages, fn) -> tuple:
    before, sql_before = stages.seen(), sql_count(spark)
    started = time.perf_counter()
    fn()
    seconds = round(time.perf_counter() - started, 3)
    heavy = stages.heavy_since(before)
    heavy["skewJoinSplit"] = any("skew=true" in plan for plan in sql_plans_since(spark, sql_before))
    return seconds, heavy


def prepare(spark: SparkSession, root: str, events: int, hot_share: float, day) -> dict:
    """Writes the inputs once: the enrich checkpoint (what sessionize reads), and for the join phase
    the same events without the customer attributes, a customers and a products table."""
    paths = {name: os.path.join(root, name) for name in ("enrich", "clean", "customers", "products")}
    set_conf(spark, AQE_ON)
    rows = tables.write_day(generate(spark, events, hot_share), paths["enrich"], "event_date", day, schemas.ENRICH_EVENTS)
    assert rows == events, (rows, events)
    enriched = spark.read.parquet(paths["enrich"])
    enriched.select(*[n for n, _ in schemas.CLEAN_EVENTS]).write.parquet(paths["clean"])
    (
        enriched.select("customer_id", "segment", "home_region").distinct()
        .withColumn("customer_name", F.concat(F.lit("name of "), F.col("customer_id")))
        .write.parquet(paths["customers"])
    )
    enriched.select("product_id", "category").distinct().write.parquet(paths["products"])
    paths["hotEvents"] = enriched.where(F.col("customer_id") == F.lit(HOT)).count()
    return paths


def one_round(spark, stages, work, inputs, variants, bucket_micros, day, join, label: str) -> dict:
    """Every variant once, in order: {variant: {seconds, heavyStage[, joinSeconds, joinHeavyStage]}}.
    join: None (no join phase) or the --join-dimension kind."""
    out = {}
    for variant in variants:
        set_conf(spark, VARIANTS[variant])
        table = os.path.join(work, f"sessionize_{variant}")
        seconds, heavy = measure(spark, stages, lambda: run_sessionize(spark, variant, inputs["enrich"], table, bucket_micros, day))
        out[variant] = {"seconds": seconds, "heavyStage": heavy, "table": table}
        line = f"[skew] {label} {variant}: sessionize {seconds} s {heavy}"
        if join and variant != "bucketed":
            join_out = os.path.join(work, f"join_{variant}")
            seconds, heavy = measure(
                spark, stages, lambda: run_join(spark, inputs["clean"], inputs["products"], inputs["customers"], join_out, join)
            )
            shutil.rmtree(join_out, ignore_errors=True)
            out[variant].update({"joinSeconds": seconds, "joinHeavyStage": heavy})
            line += f"; join {seconds} s {heavy}"
        print(line, file=sys.stderr, flush=True)
    return out


def main(argv=None) -> int:
    import datetime as dt

    args = parse_args(argv)
    day = dt.date.fromisoformat(DAY)
    bucket_micros = args.bucket_minutes * 60_000_000
    variants = list(VARIANTS)
    join = None if args.no_join else args.join_dimension
    total_started = time.perf_counter()
    spark = build_session()
    stages = Stages(spark)
    work = tempfile.mkdtemp(prefix="landfall-skew-")
    try:
        started = time.perf_counter()
        inputs = prepare(spark, os.path.join(work, "input"), args.events, args.hot_share, day)
        warm_events = max(1000, min(args.events // 10, 200_000))
        warm_inputs = prepare(spark, os.path.join(work, "warm-up"), warm_events, args.hot_share, day)
        setup_seconds = round(time.perf_counter() - started, 1)

        result = {
            "events": args.events,
            "hotShare": args.hot_share,
            "hotEvents": inputs["hotEvents"],
            "customers": max(1, args.events // EVENTS_PER_CUSTOMER) + 1,
            "runs": args.runs,
            "bucketMinutes": args.bucket_minutes,
            "sparkVersion": spark.version,
            "master": spark.sparkContext.master,
            "process": f"one process; a warm-up round on {warm_events} events (not recorded), then {args.runs} "
                       "rounds of on, off, bucketed in turn on the same input",
            "shufflePartitions": SHUFFLE_PARTITIONS,
            "aqeOnConf": AQE_ON,
            "joinDimension": join,
            "setupSeconds": setup_seconds,
        }
        for variant in variants:
            result[variant] = {"seconds": [], "heavyStage": []}
            if join and variant != "bucketed":
                result[variant].update({"joinSeconds": [], "joinHeavyStage": []})

        one_round(spark, stages, work, warm_inputs, variants, bucket_micros, day, join, "warm-up")
        sums = {}
        for round_no in range(1, args.runs + 1):
            measured = one_round(spark, stages, work, inputs, variants, bucket_micros, day, join, f"run {round_no}")
            for variant, figures in measured.items():
                if variant not in sums:
                    sums[variant] = checksum(spark, figures.pop("table"))
                figures.pop("table", None)
                for key, value in figures.items():
                    result[variant][key].append(value)
        for variant in variants:
            for key in ("seconds", "joinSeconds"):
                if key in result[variant]:
                    values = sorted(result[variant][key])
                    result[variant]["median" + key[0].upper() + key[1:]] = values[len(values) // 2]
        result["identicalOutput"] = len({json.dumps(v) for v in sums.values()}) == 1
        result["outputChecksum"] = sums
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    result["totalSeconds"] = round(time.perf_counter() - total_started, 1)
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    print(text)
    return 0 if result["identicalOutput"] else 1


if __name__ == "__main__":
    sys.exit(main())
