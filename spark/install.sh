#!/usr/bin/env bash
# Idempotent: creates (or reuses) the venv for the PySpark jobs and their tests and prints its path
# on stdout (the only thing printed on stdout; progress goes to stderr).
#
#   LANDFALL_SPARK_VENV   venv location (default: $HOME/.cache/landfall/spark-venv)
#   LANDFALL_PYTHON       interpreter that creates the venv (default: python3)
#
# The work is skipped when the venv already holds exactly what requirements.txt pins (a stamp file
# holding the requirements' checksum, plus an import check, so a half-finished install is redone).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${LANDFALL_SPARK_VENV:-$HOME/.cache/landfall/spark-venv}"
python="${LANDFALL_PYTHON:-python3}"
req="$here/requirements.txt"
result="$venv"

log() { echo "[spark/install] $*" >&2; }

installed() {
  [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  "$venv/bin/python" - <<'PY' >/dev/null 2>&1
import pyspark, pytest, py4j
assert pyspark.__version__ == "3.5.6", pyspark.__version__
PY
}

after_install() {
  "$venv/bin/python" - <<'PY' >&2
import pyspark, pytest
print(f"[spark/install] pyspark {pyspark.__version__}, pytest {pytest.__version__}")
PY
}

# shellcheck source=../local/pinned-venv.sh
source "$here/../local/pinned-venv.sh"
pinned_venv_install "pyspark is a 317 MB sdist built into a wheel: ~20-60 s the first time, faster from pip's cache"
