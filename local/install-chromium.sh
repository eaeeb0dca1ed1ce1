#!/usr/bin/env bash
# Debian's chromium for the console's browser test (test/console-browser.test.ts drives it with
# playwright-core, which downloads no browser). Skipped when present or CHROMIUM_PATH names one;
# installed with apt-get as root; otherwise says how, and the test names the missing browser.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "landfall: installing chromium (apt-get) for the console's browser test…" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
else
  echo "landfall: no chromium at /usr/bin/chromium: install it (sudo apt-get install chromium) or set CHROMIUM_PATH, for the console's browser test" >&2
fi
