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


def list_names(spark: SparkSession, path: str) -> list:
    """The names of a directory's entries, sorted ([] when it does not exist)."""
    fs, hpath = _fs(spark, path)
    if not fs.exists(hpath):
        return []
    return sorted(status.getPath().getName() for status in fs.listStatus(hpath))


def _raw(fs):
    """The local filesystem without its checksums: LocalFileSystem keeps a .<name>.crc beside each
    file and renames it along, and the one-object layout must hold nothing but the object."""
    if fs.getUri().getScheme() == "file":
        try:
            return fs.getRawFileSystem()
        except Exception:  # already raw
            return fs
    return fs


def move(spark: SparkSession, src: str, dst: str) -> None:
    """Rename the file src to dst (not existing), on one filesystem: locally a rename, on S3
    (EMRFS) a server-side copy then a delete of src. A filesystem gets dst's parent directory
    first; an object store only if the rename fails without it (on S3 a mkdirs leaves marker
    objects beside the data, which the DuckDB engine's layout does not have)."""
    fs, hsrc = _fs(spark, src)
    _, hdst = _fs(spark, dst)
    object_store = str(fs.getUri().getScheme()).startswith("s3")
    fs = _raw(fs)
    parent = hdst.getParent()
    if not object_store:
        fs.mkdirs(parent)
    try:
        if fs.rename(hsrc, hdst):
            return
    except Exception:
        if fs.exists(parent):
            raise
    if not (fs.mkdirs(parent) and fs.rename(hsrc, hdst)):
        raise IOError(f"could not move {src} to {dst}")


def delete_if_empty(spark: SparkSession, path: str) -> None:
    """Remove an empty directory; leave it if anything is (or has just been put) in it."""
    fs, hpath = _fs(spark, path)
    try:
        if fs.exists(hpath) and len(fs.listStatus(hpath)) == 0:
            fs.delete(hpath, False)  # not recursive: fails if another writer just created a child
    except Exception:
        pass


def list_files(spark: SparkSession, path: str) -> list:
    """Every file under a directory, at any depth, as paths relative to it, sorted ([] when it does not exist)."""
    fs, hpath = _fs(spark, path)
    if not fs.exists(hpath):
        return []
    base = fs.makeQualified(hpath).toString().rstrip("/") + "/"
    found = []
    files = fs.listFiles(hpath, True)
    while files.hasNext():
        name = files.next().getPath().toString()
        if name.startswith(base):
            found.append(name[len(base):])
    return sorted(found)
