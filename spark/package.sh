#!/usr/bin/env bash
# Builds what EMR needs to run a pipeline's Spark stages: <out>/landfall_jobs.zip (the engine, for
# --py-files), <out>/main.py (the entry point) and, given the folder of the pipeline's Spark
# modules, <out>/pipeline.zip (package landfall_pipeline, for --py-files too). Upload them to S3
# and submit (see README.md).
#   bash spark/package.sh [OUT_DIR [PIPELINE_SPARK_ROOT]]     (default OUT_DIR: spark/build)
# pipeline.zip: every .py under PIPELINE_SPARK_ROOT (recursively; not __pycache__, tests or hidden
# directories) as landfall_pipeline/<relative path>, plus an empty __init__.py in every directory
# lacking one (zipimport needs them), so <root>/a/b.py is landfall_pipeline.a.b.
# Deterministic: files in sorted order with a fixed timestamp, so the same source gives the same zip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/build}"
pipeline="${2:-}"
if [[ -n "$pipeline" && ! -d "$pipeline" ]]; then
  echo "[spark/package] pipeline Spark root $pipeline is not a directory" >&2
  exit 2
fi
mkdir -p "$out"
"${LANDFALL_PYTHON:-python3}" - "$here" "$out" "$pipeline" <<'PY'
import os, shutil, sys, zipfile
src, out, pipeline = sys.argv[1], sys.argv[2], sys.argv[3]


def sources(root, skip):
    """{relative path: absolute path} of the .py files under root, pruning skipped directories."""
    found = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not skip(d))
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                found[os.path.relpath(path, root).replace(os.sep, "/")] = path
    return found


def write_zip(target, entries):
    """entries: {name in the zip: bytes}, written sorted with a fixed timestamp."""
    tmp = target + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    os.replace(tmp, target)
    print(target)


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


pkg = os.path.join(src, "landfall_jobs")
engine = sources(pkg, lambda d: d == "__pycache__")
write_zip(os.path.join(out, "landfall_jobs.zip"), {f"landfall_jobs/{rel}": read(p) for rel, p in engine.items()})
shutil.copyfile(os.path.join(pkg, "main.py"), os.path.join(out, "main.py"))
print(os.path.join(out, "main.py"))

if pipeline:
    modules = sources(pipeline, lambda d: d in ("__pycache__", "tests") or d.startswith("."))
    entries = {f"landfall_pipeline/{rel}": read(p) for rel, p in modules.items()}
    # every directory holding a module is a package (zipimport has no namespace packages)
    for rel in ["__init__.py", *modules]:
        parts = rel.split("/")[:-1]
        for depth in range(len(parts) + 1):
            entries.setdefault("/".join(["landfall_pipeline", *parts[:depth], "__init__.py"]), b"")
    write_zip(os.path.join(out, "pipeline.zip"), entries)
PY
