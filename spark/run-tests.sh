#!/usr/bin/env bash
# Installs (or reuses) the Spark venv, then runs the PySpark test suite with it.
#   bash spark/run-tests.sh [pytest args...]
# Exit code: pytest's; "no tests collected" (pytest's 5) is turned into a failure (1).
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
cd "$here"
set +e
"$venv/bin/python" -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
  echo "[spark/run-tests] pytest collected no tests: failing" >&2
  exit 1
fi
exit $rc
