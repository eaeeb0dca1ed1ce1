#!/usr/bin/env bash
# Builds what EMR needs to run the job: <out>/landfall_jobs.zip (the package, for --py-files) and
# <out>/main.py (the entry point). Upload both to S3 and submit (see README.md).
#   bash spark/package.sh [OUT_DIR]     (default: spark/build)
# Deterministic: files in sorted order with a fixed timestamp, so the same source gives the same zip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/build}"
mkdir -p "$out"
"${LANDFALL_PYTHON:-python3}" - "$here" "$out" <<'PY'
import os, shutil, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
pkg = os.path.join(src, "landfall_jobs")
files = []
for root, dirs, names in os.walk(pkg):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    files += [os.path.join(root, n) for n in names if n.endswith(".py")]
target = os.path.join(out, "landfall_jobs.zip")
tmp = target + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
    for path in sorted(files):
        info = zipfile.ZipInfo(os.path.relpath(path, src), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as fh:
            zf.writestr(info, fh.read())
os.replace(tmp, target)
shutil.copyfile(os.path.join(pkg, "main.py"), os.path.join(out, "main.py"))
print(target)
print(os.path.join(out, "main.py"))
PY
