"""pos_daily_sales: the DuckDB transform examples/retail/sql/pos_daily_sales.v3.sql on Spark."""
import datetime as dt
import json
import os
import random
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import types as T

from builders import DAY, LOCAL_CONF, frame, money, rows_of, spark_submit, submit_env
from landfall_jobs.cli import parse_args, run_stage
from landfall_jobs.context import Roots, StageContext
from landfall_pipeline import schemas
from landfall_pipeline.pos_daily_sales import pos_daily_sales

D = DAY.isoformat()  # '2026-11-23'
PREV = (DAY - dt.timedelta(days=1)).isoformat()
NEXT = (DAY + dt.timedelta(days=1)).isoformat()
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"  # examples/retail/sql
# v1 and every later version, in version order (each computes v1's rows where v1 succeeds)
SQL_FILES = sorted(SQL_DIR.glob("pos_daily_sales.v*.sql"), key=lambda p: int(p.name.split(".v")[1].split(".")[0]))
# the version examples/retail/pipeline.yaml runs, the newest: the stage follows its types too
PIPELINE_SQL = SQL_DIR / "pos_daily_sales.v3.sql"
ZERO = money("0.00")
MODULE = "landfall_pipeline.pos_daily_sales"
COLUMNS = [name for name, _ in schemas.POS_DAILY_SALES]


def batch(roots, province, stage="aggregate"):
    """The job's batch as the orchestration submits it: --batch province=P --batch date=D
    --date-field date --partition-by province,date."""
    return StageContext.of(stage, roots, [("province", province), ("date", D)], "date", ["province", "date"])


def run_batch(spark, roots, province, stage="aggregate"):
    return run_stage(spark, MODULE, batch(roots, province, stage))


def object_file(roots, province):
    """The batch's one object: the key the DuckDB engine writes too."""
    return Path(roots.output_root) / f"province={province}" / f"date={D}" / "data.parquet"


def pos(store, item, code, amount, time="235900", province="ON", date=D, tx_date=DAY, version="v1", key=None):
    """One POS row as the convert step writes it: the file's key fields and source as constants."""
    compact = date.replace("-", "")
    return dict(
        store_id=store, item_id=item, transaction_date=tx_date, transaction_code=code,
        amount=None if amount is None else money(amount),
        key_province=province, key_store=store, key_date=date, key_time=time,
        source_key=key or f"landing/pos/{province}/{store}_{compact}_{time}.tdf", source_version_id=version,
    )


def master(item, name, category="Food", date=D, price="1.00", version="v1", key=None):
    compact = date.replace("-", "")
    return dict(item_id=item, item_name=name, category=category, unit_price=money(price), key_date=date,
                source_key=key or f"landing/master/{compact}/Item.csv", source_version_id=version)


def pos_df(spark, rows):
    return frame(spark, schemas.INPUTS["pos"], rows)


def master_df(spark, rows):
    return frame(spark, schemas.INPUTS["item_master"], rows)


def sales(spark, pos_rows, master_rows, province="ON", day=DAY):
    out = pos_daily_sales(pos_df(spark, pos_rows), master_df(spark, master_rows), province, day)
    assert out.columns == [name for name, _ in schemas.POS_DAILY_SALES]
    return rows_of(out, "store_id", "item_id", "transaction_date")


def amounts(rows):
    return {(r["store_id"], r["item_id"]): (r["sale_amount"], r["tax_amount"], r["discount_amount"]) for r in rows}


def test_only_each_stores_newest_file_counts(spark):
    rows = [
        # ON01: three cumulative files; only 23:59:00 counts (also the only one with i3)
        pos("ON01", "i1", 4, "1.00", time="080000"),
        pos("ON01", "i1", 4, "5.00", time="120000"),
        pos("ON01", "i2", 4, "7.00", time="120000"),
        pos("ON01", "i1", 4, "10.00", time="235900"),
        pos("ON01", "i1", 4, "2.50", time="235900"),  # rows of the newest file all count
        pos("ON01", "i3", 4, "3.00", time="235900"),
        # ON02: the same key_time twice (re-sent file): the greater source_version_id wins
        pos("ON02", "i1", 4, "1.00", time="220000", version="3"),
        pos("ON02", "i1", 4, "9.00", time="220000", version="4"),
        # ON03: one file only
        pos("ON03", "i1", 4, "4.00", time="010000"),
    ]
    got = sales(spark, rows, [master("i1", "Apple"), master("i2", "Bread"), master("i3", "Cake")])
    assert amounts(got) == {
        ("ON01", "i1"): (money("12.50"), ZERO, ZERO),
        ("ON01", "i3"): (money("3.00"), ZERO, ZERO),
        ("ON02", "i1"): (money("9.00"), ZERO, ZERO),
        ("ON03", "i1"): (money("4.00"), ZERO, ZERO),
    }


def test_codes_sum_per_item_and_absent_codes_are_zero(spark):
    rows = [
        pos("ON01", "i1", 4, "10.00"), pos("ON01", "i1", 4, "0.99"), pos("ON01", "i1", 5, "1.30"),
        pos("ON01", "i1", 6, "-2.00"), pos("ON01", "i1", 1, "100.00"), pos("ON01", "i1", 9, "100.00"),
        pos("ON01", "i2", 5, "0.13"),                       # tax only: sale and discount 0.00
        pos("ON01", "i3", 4, "3.00"),                       # sale only
        pos("ON01", "i4", 7, "50.00"),                      # no counted code: no row at all
        pos("ON01", "i5", 4, None), pos("ON01", "i5", 6, "-0.50"),  # a null amount adds nothing
        pos("ON01", "i6", 4, "1.00", tx_date=DAY - dt.timedelta(days=1)),  # a late transaction: its own row
    ]
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "true")  # Spark 4's default: the same rows
    try:
        ansi = sales(spark, rows, [master("i1", "Apple")])
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    got = sales(spark, rows, [master("i1", "Apple")])
    assert ansi == got
    assert amounts(got) == {
        ("ON01", "i1"): (money("10.99"), money("1.30"), money("-2.00")),
        ("ON01", "i2"): (ZERO, money("0.13"), ZERO),
        ("ON01", "i3"): (money("3.00"), ZERO, ZERO),
        ("ON01", "i5"): (ZERO, ZERO, money("-0.50")),
        ("ON01", "i6"): (money("1.00"), ZERO, ZERO),
    }
    by_item = {r["item_id"]: r for r in got}
    assert by_item["i6"]["transaction_date"] == DAY - dt.timedelta(days=1)
    assert (by_item["i1"]["item_name"], by_item["i1"]["category"]) == ("Apple", "Food")
    assert by_item["i2"]["item_name"] is None and by_item["i2"]["category"] is None  # LEFT JOIN
    for r in got:
        assert (r["province"], r["dt"]) == ("ON", D)
        for column in ("sale_amount", "tax_amount", "discount_amount"):
            assert isinstance(r[column], Decimal) and r[column].as_tuple().exponent == -2


def test_other_provinces_and_days_are_ignored(spark):
    rows = [
        pos("ON01", "i1", 4, "1.00"),
        pos("QC01", "i1", 4, "50.00", province="QC"),
        pos("ON01", "i1", 4, "60.00", date=PREV, time="235959"),  # yesterday's file, later time
        pos("ON01", "i1", 4, "70.00", date=NEXT, time="000001"),
    ]
    assert amounts(sales(spark, rows, [master("i1", "Apple")])) == {("ON01", "i1"): (money("1.00"), ZERO, ZERO)}
    assert amounts(sales(spark, rows, [master("i1", "Apple")], province="QC")) == {("QC01", "i1"): (money("50.00"), ZERO, ZERO)}
    assert sales(spark, rows, [master("i1", "Apple")], province="BC") == []


def test_item_master_duplicates_give_one_deterministic_row(spark):
    rows = [pos("ON01", f"i{n}", 4, "1.00") for n in range(1, 7)]
    masters = [
        # i1: the batch date's row wins over a newer and an older date
        master("i1", "Old", date=PREV), master("i1", "Today", date=D), master("i1", "Tomorrow", date=NEXT),
        # i2: no row of the batch date: the newest date wins
        master("i2", "Older", date=PREV), master("i2", "Newest", date=NEXT),
        # i3: same date: greater source_key, then greater source_version_id
        master("i3", "KeyA", key="landing/master/a.csv"), master("i3", "KeyB", key="landing/master/b.csv"),
        master("i4", "Ver1", version="1"), master("i4", "Ver2", version="2"),
        # i5: full tie on the keys: smallest item_name, a null name last
        master("i5", None), master("i5", "Zed"), master("i5", "Abe"),
        # i6: and then the smallest category (null last)
        master("i6", "Same", category=None), master("i6", "Same", category="Veg"), master("i6", "Same", category="Fruit"),
        master(None, "no key"),
    ]
    want = {"i1": ("Today", "Food"), "i2": ("Newest", "Food"), "i3": ("KeyB", "Food"), "i4": ("Ver2", "Food"),
            "i5": ("Abe", "Food"), "i6": ("Same", "Fruit")}
    for seed in (1, 2):  # input order does not matter
        shuffled = list(masters)
        random.Random(seed).shuffle(shuffled)
        got = sales(spark, rows, shuffled)
        assert len(got) == 6  # the join never multiplies
        assert {r["item_id"]: (r["item_name"], r["category"]) for r in got} == want


def write_pos_inputs(spark, root, pos_rows, master_rows):
    """Parquet the way the lake holds it: one file per source object, hive-looking directories
    (dt=/province=) whose values are not columns of the files."""
    by_file = {}
    for r in pos_rows:
        by_file.setdefault((r["key_date"], r["key_province"], r["source_key"], r["source_version_id"]), []).append(r)
    for n, ((date, province, _, _), rows) in enumerate(sorted(by_file.items())):
        pos_df(spark, rows).coalesce(1).write.mode("overwrite").parquet(f"{root}/pos/dt={date}/province={province}/f{n}")
    by_date = {}
    for r in master_rows:
        by_date.setdefault(r["key_date"], []).append(r)
    for date, rows in sorted(by_date.items()):
        master_df(spark, rows).coalesce(1).write.mode("overwrite").parquet(f"{root}/item_master/dt={date}")
    with open(f"{root}/pos/README.txt", "w") as fh:
        fh.write("not parquet: ignored\n")
    return root


def table_rows(spark, path):
    """Every object of the table (without partition discovery: province is a column of the files)."""
    df = spark.read.option("recursiveFileLookup", "true").parquet(path)
    return sorted((tuple(r) for r in df.select(*sorted(df.columns)).collect()), key=repr)


def test_run_writes_its_object_idempotently(spark, tmp_path):
    root = write_pos_inputs(spark, str(tmp_path / "in"), [
        pos("ON01", "i1", 4, "1.00", time="090000"), pos("ON01", "i1", 4, "2.00"), pos("ON01", "i1", 5, "0.26"),
        pos("ON02", "i2", 6, "-1.00"),
        pos("QC01", "i1", 4, "3.00", province="QC"),
    ], [master("i1", "Apple"), master("i2", "Bread")])
    # the orchestration's --output-root is the table's prefix: curated/pos_daily_sales
    roots = Roots.of(root, str(tmp_path / "cp"), str(tmp_path / "out" / "pos_daily_sales"))
    table = roots.output_root

    first = run_batch(spark, roots, "ON")
    assert first["rows"] == {"pos_daily_sales": 2} and first["province"] == "ON" and first["date"] == D
    assert first["outputs"] == {"pos_daily_sales": str(object_file(roots, "ON"))}
    once = table_rows(spark, table)
    assert run_batch(spark, roots, "ON")["rows"] == {"pos_daily_sales": 2}
    assert table_rows(spark, table) == once  # same rows, no duplicates
    assert run_batch(spark, roots, "QC")["rows"] == {"pos_daily_sales": 1}
    qc = object_file(roots, "QC").read_bytes()
    assert run_batch(spark, roots, "ON")["rows"] == {"pos_daily_sales": 2}  # QC stays
    assert object_file(roots, "QC").read_bytes() == qc

    back = spark.read.parquet(str(object_file(roots, "ON")), str(object_file(roots, "QC")))
    assert back.columns == COLUMNS  # every column in the file, in the SQL's order
    got = rows_of(back, "province", "store_id")
    assert [(r["province"], str(r["dt"]), r["store_id"], r["item_id"], r["item_name"], r["sale_amount"], r["tax_amount"],
             r["discount_amount"]) for r in got] == [
        ("ON", D, "ON01", "i1", "Apple", money("2.00"), money("0.26"), ZERO),
        ("ON", D, "ON02", "i2", "Bread", ZERO, ZERO, money("-1.00")),
        ("QC", D, "QC01", "i1", "Apple", money("3.00"), ZERO, ZERO),
    ]
    # one object per batch, the only file of its directory, as the DuckDB engine writes it
    assert os.listdir(object_file(roots, "ON").parent) == ["data.parquet"]
    with open(Path(roots.checkpoint_root) / "aggregate" / "_landfall_done") as fh:
        marker = json.load(fh)
    assert (marker["stage"], marker["date"], marker["province"], marker["rows"]) == ("aggregate", D, "ON", {"pos_daily_sales": 2})

    # a province with no rows that day still gets its (empty) object, carrying the schema
    assert run_batch(spark, roots, "BC")["rows"] == {"pos_daily_sales": 0}
    empty = spark.read.parquet(str(object_file(roots, "BC")))
    assert empty.count() == 0 and [(f.name, f.dataType) for f in empty.schema.fields] == schemas.POS_DAILY_SALES
    assert len(table_rows(spark, table)) == 3
    assert sorted(os.listdir(table)) == ["province=BC", "province=ON", "province=QC"]  # nothing else (no temp dir)


def test_the_orchestrations_arguments(capsys):
    args = parse_args(["--stage", "aggregate", "--module", MODULE, "--input-root", "i", "--checkpoint-root", "c",
                       "--output-root", "s3://lake/curated/pos_daily_sales", "--batch", "province=ON", "--batch", f"date={D}",
                       "--date-field", "date", "--partition-by", "province,date"])
    assert (args.ctx.batch, args.ctx.day, args.ctx.partition) == ({"province": "ON", "date": D}, DAY, [("province", "ON"), ("date", D)])
    for bad in ("../x", "", "O N", ".ON"):  # a province becomes a path segment
        with pytest.raises(SystemExit) as exc:
            parse_args(["--stage", "aggregate", "--module", MODULE, "--input-root", "i", "--checkpoint-root", "c",
                        "--output-root", "o", "--batch", f"province={bad}", "--batch", f"date={D}", "--date-field", "date"])
        assert exc.value.code == 2
        assert "--batch province must be a plain path segment" in capsys.readouterr().err


def test_the_stage_needs_a_province_and_a_partition(spark, tmp_path):
    roots = Roots.of(str(tmp_path / "i"), str(tmp_path / "c"), str(tmp_path / "o"))
    with pytest.raises(ValueError, match=r"stage 'aggregate' \(pos_daily_sales\) needs the batch key province, got date"):
        run_stage(spark, MODULE, StageContext.of("aggregate", roots, {"date": D}, "date", ["date"]))
    with pytest.raises(ValueError, match="needs --partition-by"):
        run_stage(spark, MODULE, StageContext.of("aggregate", roots, {"province": "ON", "date": D}, "date"))
    assert not (tmp_path / "o").exists() and not (tmp_path / "c").exists()


# --- parity with the DuckDB SQL itself, on the same Parquet files ---

def random_inputs(seed=11):
    """Several provinces, days, stores and cumulative files; all codes; null amounts, items and
    names; duplicated master rows across dates, sources and versions."""
    rnd = random.Random(seed)
    items = [f"i{n:02d}" for n in range(25)] + [None]
    pos_rows = []
    for province, stores in (("ON", 5), ("QC", 3)):
        for date in (PREV, D, NEXT):
            for s in range(stores):
                store = f"{province}{s + 1:02d}"
                times = sorted(rnd.sample(["060000", "120000", "180000", "235900"], rnd.randint(1, 3)))
                for t in times:
                    versions = ["null"] if rnd.random() < 0.7 else ["1111", "2222"]
                    for version in versions:
                        for _ in range(rnd.randint(20, 60)):
                            amount = None if rnd.random() < 0.05 else f"{rnd.randint(-500, 5000) / 100:.2f}"
                            tx = dt.date.fromisoformat(date) - dt.timedelta(days=rnd.choice([0, 0, 0, 1]))
                            pos_rows.append(pos(store, rnd.choice(items), rnd.randint(1, 9), amount, time=t,
                                                province=province, date=date, tx_date=tx, version=version))
    names = ["Apple", "apple", "Bread", "Cake", "Éclair", None]
    master_rows = []
    for item in items[:22] + [None]:
        for _ in range(rnd.randint(1, 4)):
            master_rows.append(master(item, rnd.choice(names), category=rnd.choice(["Food", "Drink", None]),
                                      date=rnd.choice([PREV, D, D, NEXT]), version=rnd.choice(["null", "7", "8"]),
                                      key=rnd.choice(["landing/master/a/Item.csv", "landing/master/b/Item.csv"])))
    return pos_rows, master_rows


def write_with_duckdb(duckdb, root, pos_rows, master_rows):
    """Parquet files written by DuckDB with the convert step's types (integer -> BIGINT,
    decimal -> DECIMAL(18,2), constants VARCHAR), one file per source object."""
    con = duckdb.connect()
    files = {"pos": [], "item_master": []}
    for relation, rows, columns in (("pos", pos_rows, schemas.INPUTS["pos"]), ("item_master", master_rows, schemas.INPUTS["item_master"])):
        sql_types = {"StringType()": "VARCHAR", "DateType()": "DATE", "LongType()": "BIGINT", "DecimalType(18,2)": "DECIMAL(18,2)"}
        ddl = ", ".join(f"{name} {sql_types[repr(dtype)]}" for name, dtype in columns)
        groups = {}
        for r in rows:
            groups.setdefault((r["key_date"], r.get("key_province", ""), r["source_key"], r["source_version_id"]), []).append(r)
        for n, (group, group_rows) in enumerate(sorted(groups.items(), key=repr)):
            con.execute(f"CREATE OR REPLACE TABLE t ({ddl})")
            con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})",
                            [[r[name] for name, _ in columns] for r in group_rows])
            directory = os.path.join(root, relation, f"dt={group[0]}", f"province={group[1]}" if group[1] else "all")
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, f"part{n:03d}.parquet")
            con.execute("COPY t TO ? (FORMAT parquet, COMPRESSION zstd)", [path])
            files[relation].append(path)
    con.close()
    return files


def duckdb_result(duckdb, sql_file, files, province, day):
    """The SQL file run as shared/stages/transform/run-sql.ts runs it (temp tables from read_parquet
    without hive partitioning, named parameters bound)."""
    con = duckdb.connect()
    for relation, paths in files.items():
        con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM read_parquet(?, hive_partitioning = false)", [paths])
    sql = sql_file.read_text().strip().rstrip(";")
    cursor = con.execute(sql, {"province": province, "batch_date": day.isoformat()})
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    con.close()
    return columns, rows


def duckdb_types(duckdb, sql_file, files):
    """The SQL file's output columns and types in order, as DuckDB names them (DECIMAL(38,2), VARCHAR...)."""
    con = duckdb.connect()
    for relation, paths in files.items():
        con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM read_parquet(?, hive_partitioning = false)", [paths])
    sql = sql_file.read_text().strip().rstrip(";")
    rows = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {sql})", {"province": "ON", "batch_date": D}).fetchall()
    con.close()
    return rows


def test_sums_past_decimal_18_2(spark, tmp_path):
    """Two of the largest amounts validate accepts: DECIMAL(18,2) overflows (v1/v2 fail the batch);
    the stage sums in DECIMAL(38,2), exactly, like v3."""
    biggest = "9999999999999999.99"
    rows = [pos("ON01", "i1", 4, biggest), pos("ON01", "i1", 4, biggest), pos("ON01", "i1", 6, f"-{biggest}")]
    want = {("ON01", "i1"): (money("19999999999999999.98"), ZERO, money(f"-{biggest}"))}
    before = spark.conf.get("spark.sql.ansi.enabled")
    try:
        for ansi in ("false", "true"):  # an overflow is a null without ANSI, an error with it
            spark.conf.set("spark.sql.ansi.enabled", ansi)
            out = pos_daily_sales(pos_df(spark, rows), master_df(spark, [master("i1", "Apple")]), "ON", DAY)
            assert amounts(rows_of(out, "store_id", "item_id")) == want, ansi
            assert {f.name: f.dataType for f in out.schema.fields if f.name.endswith("_amount")} == {
                name: T.DecimalType(38, 2) for name in ("sale_amount", "tax_amount", "discount_amount")}
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    duckdb = pytest.importorskip("duckdb")
    files = write_with_duckdb(duckdb, str(tmp_path / "in"), rows, [master("i1", "Apple")])
    _, v3 = duckdb_result(duckdb, PIPELINE_SQL, files, "ON", DAY)
    assert amounts(v3) == want
    with pytest.raises(duckdb.Error, match="out of range"):
        duckdb_result(duckdb, SQL_DIR / "pos_daily_sales.v2.sql", files, "ON", DAY)


def test_parity_with_the_duckdb_sql(spark, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    pos_rows, master_rows = random_inputs()
    root = str(tmp_path / "in")
    files = write_with_duckdb(duckdb, root, pos_rows, master_rows)
    roots = Roots.of(root, str(tmp_path / "cp"), str(tmp_path / "out" / "pos_daily_sales"))
    compared = []
    assert SQL_FILES[0].name == "pos_daily_sales.v1.sql" and SQL_FILES[-1] == PIPELINE_SQL
    spark_names = {"VARCHAR": "string", "DATE": "date"}  # DECIMAL(38,2) -> decimal(38,2)
    want_types = [(name, spark_names.get(kind, kind.lower())) for name, kind in duckdb_types(duckdb, PIPELINE_SQL, files)]
    for province in ("ON", "QC", "BC"):
        run_batch(spark, roots, province)
        path = object_file(roots, province)
        assert os.listdir(path.parent) == ["data.parquet"]  # the object the DuckDB engine writes at that key
        part = spark.read.parquet(str(path))
        # every column in the object, in the order and with the types of the version the pipeline runs
        assert [(f.name, f.dataType.simpleString()) for f in part.schema.fields] == want_types
        got = sorted([r.asDict() for r in part.collect()], key=repr)
        for sql_file in SQL_FILES:
            columns, want = duckdb_result(duckdb, sql_file, files, province, DAY)
            assert columns == COLUMNS, sql_file.name
            assert got == sorted(want, key=repr), sql_file.name  # same rows and values (file order aside)
        compared.append(want)
    on, qc, bc = compared
    assert len(on) > 50 and len(qc) > 30 and bc == []
    assert any(r["item_name"] is None and r["item_id"] is not None for r in on + qc)  # unknown items
    assert any(r["item_id"] is None for r in on + qc)  # a null item_id is a group of its own
    assert any(r["transaction_date"] != DAY for r in on + qc)


def test_spark_submit_runs_the_stage(spark, spark_dir, pipeline_dir, tmp_path):
    root = write_pos_inputs(spark, str(tmp_path / "in"), [
        pos("ON01", "i1", 4, "1.00", time="090000"), pos("ON01", "i1", 4, "2.00"), pos("ON01", "i1", 6, "-0.20"),
    ], [master("i1", "Apple")])
    out = tmp_path / "out" / "pos_daily_sales"
    cmd = [spark_submit(), *LOCAL_CONF, str(spark_dir / "landfall_jobs" / "main.py"), "--stage", "aggregate",
           "--module", MODULE, "--pipeline-root", str(pipeline_dir),
           "--input-root", root, "--checkpoint-root", str(tmp_path / "cp"), "--output-root", str(out),
           "--batch", "province=ON", "--batch", f"date={D}", "--date-field", "date", "--partition-by", "province,date",
           "--shuffle-partitions", "2"]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=submit_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    done = json.loads(proc.stdout.strip().splitlines()[-1])["landfall_stage_done"]
    assert (done["stage"], done["date"], done["province"], done["rows"]) == ("aggregate", D, "ON", {"pos_daily_sales": 1})
    obj = out / "province=ON" / f"date={D}" / "data.parquet"
    assert done["outputs"] == {"pos_daily_sales": str(obj)}
    row = spark.read.parquet(str(obj)).collect()[0]
    assert (row["province"], row["store_id"], row["item_name"], row["sale_amount"], row["tax_amount"], row["discount_amount"], row["dt"]) == (
        "ON", "ON01", "Apple", money("2.00"), ZERO, money("-0.20"), D)
