"""Command line: one stage for one UTC date.

  main.py --stage {clean,enrich,sessionize,metrics} --input-root PATH --checkpoint-root PATH
          --output-root PATH --date YYYY-MM-DD [--shuffle-partitions N]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import List, Optional

from pyspark.sql import SparkSession

from . import STAGES, tables
from .session import build_session
from .stages import clean, enrich, metrics, sessionize
from .stages.common import Roots

RUNNERS = {"clean": clean.run, "enrich": enrich.run, "sessionize": sessionize.run, "metrics": metrics.run}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="landfall clickstream Spark job: run one stage for one date")
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--input-root", required=True, help="directory or s3:// URI holding events/ orders/ customers/ products/ stores/")
    parser.add_argument("--checkpoint-root", required=True, help="directory or s3:// URI for the stages' checkpoints")
    parser.add_argument("--output-root", required=True, help="directory or s3:// URI for the metrics tables")
    parser.add_argument("--date", required=True, help="the UTC date to process, YYYY-MM-DD")
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="spark.sql.shuffle.partitions (default: the cluster's)")
    args = parser.parse_args(argv)
    try:
        args.day = tables.parse_date(args.date)
    except ValueError as exc:
        parser.error(str(exc))
    if args.shuffle_partitions is not None and args.shuffle_partitions < 1:
        parser.error("--shuffle-partitions must be >= 1")
    return args


def run_stage(spark: SparkSession, stage: str, roots: Roots, day: dt.date) -> dict:
    """Run one stage: clear its done-marker, write its outputs, then write the marker
    <checkpoint-root>/<stage>/_landfall_done ({stage, date, rows, outputs, ...}) and return it."""
    if stage not in RUNNERS:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    tables.clear_marker(spark, roots.checkpoint_root, stage)
    result = RUNNERS[stage](spark, roots, day)
    return tables.write_marker(spark, roots.checkpoint_root, stage, day, result["rows"], result["outputs"])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    roots = Roots.of(args.input_root, args.checkpoint_root, args.output_root)
    spark = build_session(f"landfall-clickstream-{args.stage}-{args.date}", args.shuffle_partitions)
    started = time.time()
    try:
        marker = run_stage(spark, args.stage, roots, args.day)
    finally:
        spark.stop()
    marker["seconds"] = round(time.time() - started, 1)
    print(json.dumps({"landfall_stage_done": marker}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
