#!/usr/bin/env bash
# Installs (or reuses) the Spark venv, then runs the PySpark test suites with it: the engine's
# (spark/tests, with a fixture pipeline) and the retail sample's stages (examples/retail/spark/tests).
#   bash spark/run-tests.sh [pytest args...]      (the args go to both runs)
# Two pytest processes: each suite registers its own package as landfall_pipeline, so they cannot
# share one interpreter. Exit code: the first failing run's; "no tests collected" (pytest's 5) is
# a failure (1), unless pytest args were given and the other suite ran tests (a -k for one suite).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(bash "$here/install.sh")"
export LANDFALL_SPARK_VENV="$venv"
# Spark runs on UTC in the jobs; PySpark also converts timestamps with the Python process's local
# zone when collecting, so the tests run with TZ=UTC.
export TZ=UTC
export PYSPARK_PYTHON="$venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$venv/bin/python"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
export PYTHONDONTWRITEBYTECODE=1
suites=("$here" "$here/../examples/retail/spark")
codes=()
set +e
for dir in "${suites[@]}"; do
  echo "[spark/run-tests] pytest $(cd "$dir" && pwd)/tests" >&2
  (cd "$dir" && "$venv/bin/python" -m pytest -c "$here/pytest.ini" --rootdir . tests "$@")
  codes+=($?)
done
set -e
ran=0
for rc in "${codes[@]}"; do
  if [[ $rc -ne 0 && $rc -ne 5 ]]; then exit "$rc"; fi
  if [[ $rc -eq 0 ]]; then ran=1; fi
done
for rc in "${codes[@]}"; do
  if [[ $rc -eq 5 && ( $# -eq 0 || $ran -eq 0 ) ]]; then
    echo "[spark/run-tests] pytest collected no tests: failing" >&2
    exit 1
  fi
done
exit 0
