#!/usr/bin/env bash
# Idempotent: creates (or reuses) a venv holding cfn-lint (pinned in cfn-lint-requirements.txt) and
# prints the path of its cfn-lint binary on stdout (the only thing printed on stdout; progress goes
# to stderr). local/install.sh (npm's pretest) runs it; test/template.test.ts runs it too, which
# costs well under a second once installed.
#
#   LANDFALL_CFN_LINT_VENV   venv location (default: $LANDFALL_CACHE/cfn-lint-venv, and
#                            LANDFALL_CACHE defaults to $HOME/.cache/landfall)
#   LANDFALL_PYTHON          interpreter that creates the venv (default: python3)
#
# The work is skipped when the venv already holds exactly what the requirements pin (a stamp file
# holding their checksum, plus a version check, so a half-finished install is redone).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${LANDFALL_CFN_LINT_VENV:-${LANDFALL_CACHE:-$HOME/.cache/landfall}/cfn-lint-venv}"
python="${LANDFALL_PYTHON:-python3}"
req="$here/cfn-lint-requirements.txt"
stamp="$venv/.landfall-requirements.sha256"
bin="$venv/bin/cfn-lint"

log() { echo "[install-cfn-lint] $*" >&2; }

want="$(sha256sum "$req" | cut -d' ' -f1)"
version="$(sed -n 's/^cfn-lint==\([^[:space:]]*\).*/\1/p' "$req")"

installed() {
  [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  [[ "$("$bin" --version 2>/dev/null)" == "cfn-lint $version" ]]
}

if installed; then
  log "up to date: $bin"
  echo "$bin"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# Serialise concurrent installs (two test runs started at once) on a lock next to the venv.
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if installed; then  # another process finished it while we waited for the lock
  log "up to date: $bin"
  echo "$bin"
  exit 0
fi

start=$SECONDS
if [[ ! -x "$venv/bin/python" ]]; then
  log "creating venv $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi
rm -f "$stamp"
log "pip install -r $req (~20 s the first time)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
log "$("$bin" --version)"
echo "$want" >"$stamp"
log "installed in $((SECONDS - start)) s"
echo "$bin"
