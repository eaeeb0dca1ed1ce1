"""Command line: one stage for one UTC date (and, for the POS stage, one province).

  main.py --stage {clean,enrich,sessionize,metrics} --input-root PATH --checkpoint-root PATH
          --output-root PATH --date YYYY-MM-DD [--shuffle-partitions N]
  main.py --stage pos_daily_sales --province P ... (the same other arguments)
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from typing import List, Optional

from pyspark.sql import SparkSession

from . import POS_STAGES, STAGES, tables
from .session import build_session
from .stages import clean, enrich, metrics, pos_daily_sales, sessionize
from .stages.common import Roots

RUNNERS = {"clean": clean.run, "enrich": enrich.run, "sessionize": sessionize.run, "metrics": metrics.run}
# run(spark, roots, day, province)
POS_RUNNERS = {"pos_daily_sales": pos_daily_sales.run}
ALL_STAGES = STAGES + POS_STAGES

# A province code as the pipeline's configuration has them (ON, QC, BC): it becomes a path segment.
_PROVINCE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="landfall Spark job: run one stage for one date")
    parser.add_argument("--stage", required=True, choices=ALL_STAGES)
    parser.add_argument("--input-root", required=True, help="directory or s3:// URI holding events/ orders/ customers/ products/ stores/ (pos_daily_sales: pos/ item_master/)")
    parser.add_argument("--checkpoint-root", required=True, help="directory or s3:// URI for the stages' checkpoints and done markers")
    parser.add_argument("--output-root", required=True, help="directory or s3:// URI for the output tables")
    parser.add_argument("--date", required=True, help="the UTC date to process, YYYY-MM-DD")
    parser.add_argument("--province", default=None, help=f"the province to process, e.g. ON: required by {', '.join(POS_STAGES)}, not accepted by the clickstream stages")
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="spark.sql.shuffle.partitions (default: the cluster's)")
    args = parser.parse_args(argv)
    try:
        args.day = tables.parse_date(args.date)
    except ValueError as exc:
        parser.error(str(exc))
    if args.stage in POS_STAGES:
        if args.province is None:
            parser.error(f"--province is required for --stage {args.stage}")
        if not _PROVINCE.match(args.province):
            parser.error(f"--province must be a province code like ON (letters, digits, _ or -), got {args.province!r}")
    elif args.province is not None:
        parser.error(f"--province is not accepted by the clickstream stage {args.stage!r} (only by {', '.join(POS_STAGES)})")
    if args.shuffle_partitions is not None and args.shuffle_partitions < 1:
        parser.error("--shuffle-partitions must be >= 1")
    return args


def run_stage(spark: SparkSession, stage: str, roots: Roots, day: dt.date, province: Optional[str] = None) -> dict:
    """Run one stage: clear its done-marker, write its outputs, then write the marker
    <checkpoint-root>/<stage>/_landfall_done ({stage, date, rows, outputs, ...}; the POS stage adds
    province) and return it."""
    if stage in POS_RUNNERS:
        if not province:
            raise ValueError(f"stage {stage!r} needs a province")
        tables.clear_marker(spark, roots.checkpoint_root, stage)
        result = POS_RUNNERS[stage](spark, roots, day, province)
        return tables.write_marker(
            spark, roots.checkpoint_root, stage, day, result["rows"], result["outputs"], batch={"province": province}
        )
    if stage not in RUNNERS:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(ALL_STAGES)}")
    if province is not None:
        raise ValueError(f"stage {stage!r} takes no province")
    tables.clear_marker(spark, roots.checkpoint_root, stage)
    result = RUNNERS[stage](spark, roots, day)
    return tables.write_marker(spark, roots.checkpoint_root, stage, day, result["rows"], result["outputs"])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    roots = Roots.of(args.input_root, args.checkpoint_root, args.output_root)
    if args.stage in POS_STAGES:
        app_name = f"landfall-pos-{args.stage}-{args.province}-{args.date}"
    else:
        app_name = f"landfall-clickstream-{args.stage}-{args.date}"
    spark = build_session(app_name, args.shuffle_partitions)
    started = time.time()
    try:
        marker = run_stage(spark, args.stage, roots, args.day, args.province)
    finally:
        spark.stop()
    marker["seconds"] = round(time.time() - started, 1)
    print(json.dumps({"landfall_stage_done": marker}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
