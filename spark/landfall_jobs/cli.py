"""Command line: one stage of a pipeline for one batch.

  main.py --stage NAME --module MODULE --input-root PATH --checkpoint-root PATH --output-root PATH
          --batch KEY=VALUE [--batch KEY=VALUE ...] --date-field KEY [--partition-by K1,K2,...]
          [--pipeline-root DIR] [--shuffle-partitions N] [--checks PLAN]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Callable, List, Optional, Union

from pyspark.sql import SparkSession

from . import checks as output_checks
from . import tables
from .context import Roots, StageContext
from .loader import MODULE_NAME, StageLoadError, load_stage, register_pipeline_root
from .session import build_session


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The arguments, validated (argparse error, exit code 2, otherwise); args.ctx is the StageContext."""
    parser = argparse.ArgumentParser(prog="main.py", description="landfall Spark engine: run one stage of a pipeline for one batch")
    parser.add_argument("--stage", required=True, help="the stage's name (its checkpoint directory and done marker): 1-64 letters, digits, _ or -")
    parser.add_argument("--module", required=True, help="the stage's Python module, e.g. landfall_pipeline.transform: its run(spark, ctx) is called")
    parser.add_argument("--input-root", required=True, help="directory or s3:// URI holding one directory per input relation")
    parser.add_argument("--checkpoint-root", required=True, help="directory or s3:// URI for the stages' checkpoints and done markers")
    parser.add_argument("--output-root", required=True, help="directory or s3:// URI for the output")
    parser.add_argument("--batch", action="append", required=True, metavar="KEY=VALUE", help="a batch key's value; repeated, in the job's batch-key order")
    parser.add_argument("--date-field", required=True, metavar="KEY", help="the batch key holding the business date (YYYY-MM-DD)")
    parser.add_argument("--partition-by", default=None, metavar="K1,K2,...", help="batch keys naming the output partition, in path order")
    parser.add_argument("--pipeline-root", default=None, metavar="DIR", help="import landfall_pipeline from DIR (local runs, tests; on EMR: pipeline.zip on --py-files)")
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="spark.sql.shuffle.partitions (default: the cluster's)")
    parser.add_argument(
        "--checks",
        default=None,
        metavar="PLAN",
        help="a JSON plan of output check queries (the orchestration's): the output is staged, checked, and published only if they allow it",
    )
    args = parser.parse_args(argv)
    if not MODULE_NAME.match(args.module):
        parser.error(f"--module must be a Python module name like landfall_pipeline.transform, got {args.module!r}")
    if args.pipeline_root is not None and not os.path.isdir(args.pipeline_root):
        parser.error(f"--pipeline-root {args.pipeline_root!r} is not a directory")
    if args.shuffle_partitions is not None and args.shuffle_partitions < 1:
        parser.error("--shuffle-partitions must be >= 1")
    pairs = []
    for arg in args.batch:
        key, sep, value = arg.partition("=")
        if not sep:
            parser.error(f"--batch must be KEY=VALUE, got {arg!r}")
        pairs.append((key, value))
    partition_by = [] if args.partition_by is None else args.partition_by.split(",")
    try:
        roots = Roots.of(args.input_root, args.checkpoint_root, args.output_root)
        args.ctx = StageContext.of(args.stage, roots, pairs, args.date_field, partition_by)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def app_name(ctx: StageContext) -> str:
    return "-".join(["landfall", ctx.stage, *ctx.batch.values()])


def _checked_result(module, result):
    if not (isinstance(result, dict) and isinstance(result.get("rows"), dict) and isinstance(result.get("outputs"), dict)):
        raise TypeError(f"{module}: run() must return {{'rows': {{table: count}}, 'outputs': {{table: path}}}}, got {result!r}")
    return result


def run_stage(
    spark: SparkSession,
    module: Union[str, Callable],
    ctx: StageContext,
    checks: Optional[List[dict]] = None,
    output_tables: Optional[List[str]] = None,
) -> Optional[dict]:
    """Run one stage (module: a module name or its run function): clear its done marker, run it,
    then write the marker <checkpoint-root>/<stage>/_landfall_done ({stage, date, <batch>, rows,
    outputs, ...}) and return it. The marker exists only once the stage's outputs are complete.

    With checks (the queries of a --checks plan), the output is staged, checked and published only
    when they allow it (landfall_jobs.checks.run_checked); when they do not, no marker is written
    and None is returned: the report beside the checkpoint says why. output_tables: the plan's tables of a
    job writing several, all staged and published together."""
    run = load_stage(module) if isinstance(module, str) else module
    tables.clear_marker(spark, ctx.roots.checkpoint_root, ctx.stage)
    if checks:
        result, _report = output_checks.run_checked(spark, lambda s, c: _checked_result(module, run(s, c)), ctx, checks, output_tables)
        if result is None:
            return None
    else:
        result = _checked_result(module, run(spark, ctx))
    return tables.write_marker(spark, ctx.roots.checkpoint_root, ctx.stage, ctx.day, result["rows"], result["outputs"], batch=ctx.batch)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # the module is loaded before Spark starts: a wrong name fails in a second, not after a JVM
    try:
        if args.pipeline_root is not None:
            register_pipeline_root(args.pipeline_root)
        run = load_stage(args.module)
    except StageLoadError as exc:
        print(f"main.py: error: {exc}", file=sys.stderr)
        return 2
    spark = build_session(app_name(args.ctx), args.shuffle_partitions)
    started = time.time()
    try:
        plan, output_tables = output_checks.read_full_plan(spark, args.checks) if args.checks is not None else (None, None)
        marker = run_stage(spark, run, args.ctx, plan, output_tables)
    finally:
        spark.stop()
    seconds = round(time.time() - started, 1)
    if marker is None:
        # the checks kept the output back: the step succeeds (nothing to retry), the orchestration reads the report
        report = output_checks.results_path(args.ctx)
        print(json.dumps({"landfall_stage_checked": {"stage": args.ctx.stage, "published": False, "report": report, "seconds": seconds}}), flush=True)
        return 0
    marker["seconds"] = seconds
    print(json.dumps({"landfall_stage_done": marker}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
