#!/usr/bin/env bash
# Idempotent: creates (or reuses) a venv holding checkov (pinned in checkov-requirements.txt) and
# prints the path of its checkov binary on stdout (the only thing printed on stdout; progress goes
# to stderr). local/install.sh (npm's pretest) runs it; test/template.test.ts runs it too, which
# costs about 2 s once installed (the version check starts checkov).
#
#   LANDFALL_CHECKOV_VENV    venv location (default: $LANDFALL_CACHE/checkov-venv, and
#                            LANDFALL_CACHE defaults to $HOME/.cache/landfall)
#   LANDFALL_PYTHON          interpreter that creates the venv (default: python3)
#
# The work is skipped when the venv already holds exactly what the requirements pin (a stamp file
# holding their checksum, plus a version check, so a half-finished install is redone).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${LANDFALL_CHECKOV_VENV:-${LANDFALL_CACHE:-$HOME/.cache/landfall}/checkov-venv}"
python="${LANDFALL_PYTHON:-python3}"
req="$here/checkov-requirements.txt"
bin="$venv/bin/checkov"
result="$bin"

log() { echo "[install-checkov] $*" >&2; }

version="$(sed -n 's/^checkov==\([^[:space:]]*\).*/\1/p' "$req")"

installed() {
  [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  [[ "$("$bin" --version 2>/dev/null)" == "$version" ]]
}

after_install() { log "checkov $("$bin" --version)"; }

# shellcheck source=pinned-venv.sh
source "$here/pinned-venv.sh"
pinned_venv_install "~1 min the first time"
