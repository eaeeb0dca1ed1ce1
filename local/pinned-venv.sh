# Sourced by the install scripts of the Python tools (spark/install.sh, local/install-cfn-lint.sh,
# local/install-checkov.sh):
# installs a venv holding exactly what a requirements file pins, once, and prints `result` (the path
# the caller wants) on stdout, the only thing printed there. The caller defines:
#   venv, req, python, result   paths, and the interpreter that creates the venv
#   log MESSAGE                 progress, to stderr
#   installed                   true when the venv holds what the requirements pin (their checksum
#                               in $stamp, plus a check of the tool itself: a half-finished install
#                               is redone)
#   after_install               (optional) a word on what was installed, to stderr
stamp="$venv/.landfall-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

# pinned_venv_install NOTE: NOTE says how long the first install takes, for the log
pinned_venv_install() {
  if installed; then
    log "up to date: $result"
    echo "$result"
    return 0
  fi
  mkdir -p "$(dirname "$venv")"
  # Serialise concurrent installs (two test runs started at once) on a lock next to the venv.
  exec 9>"$venv.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if installed; then # another process finished it while we waited for the lock
    log "up to date: $result"
    echo "$result"
    return 0
  fi
  local start=$SECONDS
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating venv $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
  fi
  rm -f "$stamp"
  log "pip install -r $req ($1)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  if declare -F after_install >/dev/null; then after_install; fi
  echo "$want" >"$stamp"
  log "installed in $((SECONDS - start)) s"
  echo "$result"
}
