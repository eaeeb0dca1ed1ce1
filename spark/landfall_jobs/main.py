"""spark-submit entry point:  spark-submit [--py-files landfall_jobs.zip,pipeline.zip] main.py --stage ... (see cli.py).

spark-submit runs this file as a script, so the package has to be importable by other means:
- run from the source tree (spark/landfall_jobs/main.py), the package is this file's directory, so
  its parent goes on sys.path;
- run alone (on EMR spark-submit copies an s3:// main.py to a scratch directory), the package comes
  from `--py-files landfall_jobs.zip` (built by spark/package.sh), which spark-submit puts on the
  driver's and executors' PYTHONPATH.
The pipeline's stage modules (package landfall_pipeline) come from pipeline.zip on --py-files too,
or from --pipeline-root DIR (local runs).
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))

# Python put this file's directory first on sys.path; inside the package that would make its
# modules importable as top-level names (tables, storage, ...). Take it off.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if os.path.basename(_HERE) == "landfall_jobs" and os.path.isfile(os.path.join(_HERE, "__init__.py")):
    sys.path.insert(0, os.path.dirname(_HERE))

from landfall_jobs.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
