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
stamp="$venv/.landfall-requirements.sha256"

log() { echo "[spark/install] $*" >&2; }

want="$(sha256sum "$req" | cut -d' ' -f1)"

installed() {
  [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  "$venv/bin/python" - <<'PY' >/dev/null 2>&1
import pyspark, pytest, py4j
assert pyspark.__version__ == "3.5.6", pyspark.__version__
PY
}

if installed; then
  log "up to date: $venv"
  echo "$venv"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# Serialise concurrent installs (two test runs started at once) on a lock next to the venv.
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if installed; then  # another process finished it while we waited for the lock
  log "up to date: $venv"
  echo "$venv"
  exit 0
fi

start=$SECONDS
if [[ ! -x "$venv/bin/python" ]]; then
  log "creating venv $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi
rm -f "$stamp"
log "pip install -r $req (pyspark is a 317 MB sdist built into a wheel: ~20-60 s the first time, faster from pip's cache)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
"$venv/bin/python" - <<'PY' >&2
import pyspark, pytest
print(f"[spark/install] pyspark {pyspark.__version__}, pytest {pytest.__version__}")
PY
echo "$want" >"$stamp"
log "installed in $((SECONDS - start)) s"
echo "$venv"
