#!/usr/bin/env bash
# Installs the local stack's servers once per machine into $LANDFALL_CACHE (default ~/.cache/landfall):
# DynamoDB Local from Maven Central and MinIO built from its Go module. Safe to re-run: each part
# is skipped when already present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${LANDFALL_CACHE:-$HOME/.cache/landfall}"
mkdir -p "$cache/bin"

ddb="$cache/dynamodb-local"
if ! ls "$ddb"/DynamoDBLocal-*.jar >/dev/null 2>&1; then
  echo "landfall: fetching DynamoDB Local 3.3.1 from Maven Central…" >&2
  mvn -q -B -f "$here/dynamodb-local.pom.xml" dependency:copy-dependencies -DoutputDirectory="$ddb" >&2
fi

# MinIO: the last source release (why MinIO, and this version: docs/local-stack.md); a binary already on PATH is accepted.
if [ ! -x "$cache/bin/minio" ] && ! command -v minio >/dev/null 2>&1; then
  echo "landfall: building MinIO from source (once per machine, ~5 min on 2 cores)…" >&2
  GOBIN="$cache/bin" GOFLAGS=-trimpath go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c >&2
fi

# PySpark 3.5.6 (the Spark of EMR 7.13) in a venv, for the EMR stand-in's steps and spark/ tests.
bash "$here/../spark/install.sh" >/dev/null

# cfn-lint 1.58.0 in a venv, for the template test (test/template.test.ts).
bash "$here/install-cfn-lint.sh" >/dev/null

# checkov 3.3.30 in a venv, for the template test's security scan (test/template.test.ts).
bash "$here/install-checkov.sh" >/dev/null
