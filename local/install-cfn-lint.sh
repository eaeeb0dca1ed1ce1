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
bin="$venv/bin/cfn-lint"
result="$bin"

log() { echo "[install-cfn-lint] $*" >&2; }

version="$(sed -n 's/^cfn-lint==\([^[:space:]]*\).*/\1/p' "$req")"

installed() {
  [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  [[ "$("$bin" --version 2>/dev/null)" == "cfn-lint $version" ]]
}

after_install() { log "$("$bin" --version)"; }

# shellcheck source=pinned-venv.sh
source "$here/pinned-venv.sh"
pinned_venv_install "~20 s the first time"
