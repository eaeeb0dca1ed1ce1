"""Paths and small file operations that work the same on a local directory and on s3:// (EMRFS).

Everything goes through Hadoop's FileSystem API of the running Spark, so the scheme decides the
filesystem: file:/ locally, s3:// through EMRFS on EMR. A path without a scheme is made absolute
(locally that is the working directory; on a cluster it is the default filesystem, HDFS on EMR).
"""
from __future__ import annotations

import os

from pyspark.sql import SparkSession


def normalize_root(path: str) -> str:
    if not path:
        raise ValueError("empty path")
    if "://" in path or path.startswith("file:"):
        stripped = path.rstrip("/")
        return path if stripped.endswith(":") else stripped
    return os.path.abspath(path)


def join(root: str, *parts: str) -> str:
    out = root.rstrip("/")
    for part in parts:
        out += "/" + part.strip("/")
    return out


def _fs(spark: SparkSession, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def exists(spark: SparkSession, path: str) -> bool:
    fs, hpath = _fs(spark, path)
    return bool(fs.exists(hpath))


def delete(spark: SparkSession, path: str) -> bool:
    """Recursive delete; False when there was nothing to delete."""
    fs, hpath = _fs(spark, path)
    if not fs.exists(hpath):
        return False
    return bool(fs.delete(hpath, True))


def write_text(spark: SparkSession, path: str, text: str) -> None:
    """Write (replace) a small UTF-8 file. On S3 the object appears whole on close."""
    fs, hpath = _fs(spark, path)
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark: SparkSession, path: str) -> str:
    fs, hpath = _fs(spark, path)
    stream = fs.open(hpath)
    try:
        jvm = spark.sparkContext._jvm
        buf = jvm.java.io.ByteArrayOutputStream()
        jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, buf, 65536, False)
        return bytes(buf.toByteArray()).decode("utf-8")
    finally:
        stream.close()
