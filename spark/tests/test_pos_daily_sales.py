"""pos_daily_sales: the DuckDB transform examples/retail/sql/pos_daily_sales.v3.sql on Spark."""
import datetime as dt
import json
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import types as T

from builders import DAY, frame, money, rows_of
from landfall_jobs import schemas
from landfall_jobs.cli import parse_args, run_stage
from landfall_jobs.stages.common import Roots
from landfall_jobs.stages.pos_daily_sales import pos_daily_sales

D = DAY.isoformat()  # '2026-11-23'
PREV = (DAY - dt.timedelta(days=1)).isoformat()
NEXT = (DAY + dt.timedelta(days=1)).isoformat()
SQL_DIR = Path(__file__).resolve().parents[2] / "examples" / "retail" / "sql"
# v1 and every later version, in version order (each computes v1's rows where v1 succeeds)
SQL_FILES = sorted(SQL_DIR.glob("pos_daily_sales.v*.sql"), key=lambda p: int(p.name.split(".v")[1].split(".")[0]))
# the version shared/config/pipeline.ts runs, the newest: the stage follows its types too
PIPELINE_SQL = SQL_DIR / "pos_daily_sales.v3.sql"
ZERO = money("0.00")


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
    df = spark.read.parquet(path)
    return sorted((tuple(r) for r in df.select(*sorted(df.columns)).collect()), key=repr)


def test_run_writes_its_partition_idempotently(spark, tmp_path):
    root = write_pos_inputs(spark, str(tmp_path / "in"), [
        pos("ON01", "i1", 4, "1.00", time="090000"), pos("ON01", "i1", 4, "2.00"), pos("ON01", "i1", 5, "0.26"),
        pos("ON02", "i2", 6, "-1.00"),
        pos("QC01", "i1", 4, "3.00", province="QC"),
    ], [master("i1", "Apple"), master("i2", "Bread")])
    roots = Roots.of(root, str(tmp_path / "cp"), str(tmp_path / "out"))
    table = roots.output("pos_daily_sales")

    first = run_stage(spark, "pos_daily_sales", roots, DAY, "ON")
    assert first["rows"] == {"pos_daily_sales": 2} and first["province"] == "ON" and first["date"] == D
    once = table_rows(spark, table)
    assert run_stage(spark, "pos_daily_sales", roots, DAY, "ON")["rows"] == {"pos_daily_sales": 2}
    assert table_rows(spark, table) == once  # same rows, no duplicates
    assert run_stage(spark, "pos_daily_sales", roots, DAY, "QC")["rows"] == {"pos_daily_sales": 1}
    assert run_stage(spark, "pos_daily_sales", roots, DAY, "ON")["rows"] == {"pos_daily_sales": 2}  # QC stays

    back = spark.read.parquet(table)
    assert back.columns[-2:] == ["dt", "province"]  # partition columns last
    got = rows_of(back, "province", "store_id")
    assert [(r["province"], str(r["dt"]), r["store_id"], r["item_id"], r["item_name"], r["sale_amount"], r["tax_amount"],
             r["discount_amount"]) for r in got] == [
        ("ON", D, "ON01", "i1", "Apple", money("2.00"), money("0.26"), ZERO),
        ("ON", D, "ON02", "i2", "Bread", ZERO, ZERO, money("-1.00")),
        ("QC", D, "QC01", "i1", "Apple", money("3.00"), ZERO, ZERO),
    ]
    leaf = Path(table) / f"dt={D}" / "province=ON"
    assert len(list(leaf.glob("*.parquet"))) == 1  # one file per batch, like the DuckDB path's one object
    with open(Path(roots.checkpoint_root) / "pos_daily_sales" / "_landfall_done") as fh:
        marker = json.load(fh)
    assert (marker["stage"], marker["date"], marker["province"], marker["rows"]) == ("pos_daily_sales", D, "ON", {"pos_daily_sales": 2})

    # a province with no rows that day still gets its (empty) partition, and replaces stale rows
    assert run_stage(spark, "pos_daily_sales", roots, DAY, "BC")["rows"] == {"pos_daily_sales": 0}
    assert spark.read.parquet(str(Path(table) / f"dt={D}" / "province=BC")).count() == 0
    assert len(table_rows(spark, table)) == 3


CLI_BASE = ["--input-root", "i", "--checkpoint-root", "c", "--output-root", "o", "--date", D]


def test_cli_province_rules(capsys):
    args = parse_args(["--stage", "pos_daily_sales", "--province", "ON", *CLI_BASE])
    assert (args.stage, args.province, args.day) == ("pos_daily_sales", "ON", DAY)
    assert parse_args(["--stage", "clean", *CLI_BASE]).province is None
    for bad, message in (
        (["--stage", "pos_daily_sales"], "--province is required for --stage pos_daily_sales"),
        (["--stage", "pos_daily_sales", "--province", "../x"], "--province must be"),
        (["--stage", "pos_daily_sales", "--province", ""], "--province must be"),
        (["--stage", "sessionize", "--province", "ON"], "--province is not accepted"),
    ):
        with pytest.raises(SystemExit) as exc:
            parse_args(bad + CLI_BASE)
        assert exc.value.code == 2
        assert message in capsys.readouterr().err


def test_run_stage_checks_the_province(spark, tmp_path):
    roots = Roots.of(str(tmp_path / "i"), str(tmp_path / "c"), str(tmp_path / "o"))
    with pytest.raises(ValueError, match="needs a province"):
        run_stage(spark, "pos_daily_sales", roots, DAY)
    with pytest.raises(ValueError, match="takes no province"):
        run_stage(spark, "clean", roots, DAY, "ON")


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
    """The SQL file run as shared/transform/run-sql.ts runs it (temp tables from read_parquet
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
    """The SQL file's output column types, as DuckDB names them (DECIMAL(38,2), VARCHAR...)."""
    con = duckdb.connect()
    for relation, paths in files.items():
        con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM read_parquet(?, hive_partitioning = false)", [paths])
    sql = sql_file.read_text().strip().rstrip(";")
    rows = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {sql})", {"province": "ON", "batch_date": D}).fetchall()
    con.close()
    return dict(rows)


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
    roots = Roots.of(root, str(tmp_path / "cp"), str(tmp_path / "out"))
    spark_columns = [name for name, _ in schemas.POS_DAILY_SALES]
    compared = []
    assert SQL_FILES[0].name == "pos_daily_sales.v1.sql" and SQL_FILES[-1] == PIPELINE_SQL
    for province in ("ON", "QC", "BC"):
        run_stage(spark, "pos_daily_sales", roots, DAY, province)
        part = spark.read.parquet(os.path.join(roots.output("pos_daily_sales"), f"dt={D}", f"province={province}"))
        got = sorted([dict(r.asDict(), province=province, dt=D) for r in part.collect()], key=repr)
        for sql_file in SQL_FILES:
            columns, want = duckdb_result(duckdb, sql_file, files, province, DAY)
            assert columns == spark_columns, sql_file.name
            assert got == sorted(want, key=repr), sql_file.name  # same rows and values (file order aside)
        compared.append(want)
    # and the column types of the version the pipeline runs (dt and province are the directories)
    spark_names = {"VARCHAR": "string", "DATE": "date"}  # DECIMAL(38,2) -> decimal(38,2)
    assert {f.name: f.dataType.simpleString() for f in part.schema.fields} == {
        name: spark_names.get(kind, kind.lower()) for name, kind in duckdb_types(duckdb, PIPELINE_SQL, files).items()
        if name not in ("dt", "province")}
    on, qc, bc = compared
    assert len(on) > 50 and len(qc) > 30 and bc == []
    assert any(r["item_name"] is None and r["item_id"] is not None for r in on + qc)  # unknown items
    assert any(r["item_id"] is None for r in on + qc)  # a null item_id is a group of its own
    assert any(r["transaction_date"] != DAY for r in on + qc)


def test_spark_submit_runs_the_stage(spark, spark_dir, tmp_path):
    from test_main import LOCAL_CONF, spark_submit
    root = write_pos_inputs(spark, str(tmp_path / "in"), [
        pos("ON01", "i1", 4, "1.00", time="090000"), pos("ON01", "i1", 4, "2.00"), pos("ON01", "i1", 6, "-0.20"),
    ], [master("i1", "Apple")])
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1", TZ="UTC")
    env.pop("PYTHONPATH", None)
    cmd = [spark_submit(), *LOCAL_CONF, str(spark_dir / "landfall_jobs" / "main.py"), "--stage", "pos_daily_sales",
           "--input-root", root, "--checkpoint-root", str(tmp_path / "cp"), "--output-root", str(tmp_path / "out"),
           "--date", D, "--province", "ON", "--shuffle-partitions", "2"]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    done = json.loads(proc.stdout.strip().splitlines()[-1])["landfall_stage_done"]
    assert (done["stage"], done["date"], done["province"], done["rows"]) == ("pos_daily_sales", D, "ON", {"pos_daily_sales": 1})
    row = spark.read.parquet(str(tmp_path / "out" / "pos_daily_sales")).collect()[0]
    assert (row["province"], row["store_id"], row["item_name"], row["sale_amount"], row["tax_amount"], row["discount_amount"]) == (
        "ON", "ON01", "Apple", money("2.00"), ZERO, money("-0.20"))
