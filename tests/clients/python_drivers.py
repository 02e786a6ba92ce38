"""The Python clients Doris users have, against a running `tributary serve`
(port in argv[1]): PyMySQL, mysqlclient, mysql-connector-python (pure and
its C extension), SQLAlchemy 2 (with PyMySQL and mysqlclient) and pandas. Each check is one defect a new user met; the first that fails
raises with what it got."""

import datetime
import decimal
import sys

import MySQLdb
import mysql.connector
import pandas as pd
import pymysql
import sqlalchemy as sa
from pymysql.constants import CLIENT

PORT = int(sys.argv[1])


def connect(**kw):
    return pymysql.connect(host="127.0.0.1", port=PORT, user="root", password="", **kw)


def error_of(cursor, sql):
    try:
        cursor.execute(sql)
    except Exception as e:  # noqa: BLE001 - any driver error is the answer
        return e.args
    return None


root = connect(client_flag=CLIENT.MULTI_STATEMENTS)
cur = root.cursor()
cur.execute(
    "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT NOT NULL, amount DECIMAL(10,2), at DATETIME);"
    " INSERT INTO shop.orders VALUES (1, 12.50, '2026-01-05 10:30:00'), (2, -3.25, NULL)"
)
while cur.nextset():
    pass

# Several statements in one query: every result, in order, with the
# "more results" flag between them.
cur.execute("SELECT 1 AS a; USE shop; SELECT count(*) AS n FROM orders; SELECT 'x' AS b")
sets = [tuple(cur.fetchall())]
while cur.nextset():
    sets.append(tuple(cur.fetchall()))
assert sets == [((1,),), (), ((2,),), (("x",),)], sets

# ... refused when the client did not turn them on (MySQL's 1064).
plain = connect()
code, message = error_of(plain.cursor(), "SELECT 1; SELECT 2")
assert code == 1064 and "CLIENT_MULTI_STATEMENTS" in message, (code, message)

# Transactions are accepted; each statement commits on its own.
pcur = plain.cursor()
for sql in ["BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SET autocommit=1", "SET autocommit=0"]:
    pcur.execute(sql)
plain.begin()
plain.commit()
plain.rollback()

# Times are UTC: a session zone of UTC is taken, another refused rather
# than ignored.
pcur.execute("SET time_zone = '+00:00'")
code, message = error_of(pcur, "SET time_zone = '+08:00'")
assert "keeps times in UTC" in message, (code, message)

# Result metadata and values: names as written, NULL as None, DECIMAL's
# scale, timestamps drivers parse.
pcur.execute("SELECT 1, NULL, now(), 'a', amount, at FROM shop.orders WHERE id = 1")
names = [d[0] for d in pcur.description]
assert names == ["1", "NULL", "now()", "a", "amount", "at"], names
row = pcur.fetchone()
assert row[1] is None, row
assert isinstance(row[2], datetime.datetime), row
assert row[4] == decimal.Decimal("12.50"), row
assert pcur.description[4][5] == 2, pcur.description  # scale
assert row[5] == datetime.datetime(2026, 1, 5, 10, 30), row

# MySQL's error codes: a syntax error is 1064 in one line, a wrong
# password 1045.
code, message = error_of(pcur, "SELEC 1")
assert code == 1064 and "\n" not in message and "ParserError" not in message, (code, message)
try:
    pymysql.connect(host="127.0.0.1", port=PORT, user="root", password="wrong")
    raise AssertionError("a wrong password was accepted")
except pymysql.err.OperationalError as e:
    assert e.args[0] == 1045 and "Access denied for user 'root'" in e.args[1], e.args

# SHOW DATABASES lists what the user may use.
pcur.execute("CREATE DATABASE hidden")
pcur.execute("CREATE USER IF NOT EXISTS reader IDENTIFIED BY 'pw'")
pcur.execute("GRANT SELECT_PRIV ON shop.* TO reader")
reader = pymysql.connect(host="127.0.0.1", port=PORT, user="reader", password="pw")
rcur = reader.cursor()
rcur.execute("SHOW DATABASES")
assert [r[0] for r in rcur.fetchall()] == ["information_schema", "shop"], "reader sees only shop"

# mysql-connector-python, pure and C extension: the pure one sends an
# empty database name when it has none; several statements at once.
for pure in (True, False):
    for database in (None, "shop"):
        kw = {"database": database} if database else {}
        m = mysql.connector.connect(host="127.0.0.1", port=PORT, user="root", password="", use_pure=pure, **kw)
        mc = m.cursor()
        mc.execute("SELECT now(), 1")
        (now, one), = mc.fetchall()
        assert isinstance(now, datetime.datetime) and one == 1, (pure, now, one)
        results = [r.fetchall() for r in mc.execute("SELECT 1; SELECT 'x'", multi=True)]
        assert results == [[(1,)], [("x",)]], (pure, results)
        m.commit()
        m.close()

# A MySQL 8 client starts with caching_sha2_password; the server switches
# it to mysql_native_password.
for pure in (True, False):
    m = mysql.connector.connect(host="127.0.0.1", port=PORT, user="reader", password="pw", use_pure=pure, auth_plugin="caching_sha2_password")
    mc = m.cursor()
    mc.execute("SELECT 1")
    assert mc.fetchall() == [(1,)], pure
    m.close()

# mysqlclient (libmysqlclient): typed values, several statements.
my = MySQLdb.connect(host="127.0.0.1", port=PORT, user="root", passwd="", db="shop", client_flag=CLIENT.MULTI_STATEMENTS)
mcur = my.cursor()
mcur.execute("SELECT amount, at FROM orders WHERE id = 1; SELECT NULL")
assert mcur.fetchall() == ((decimal.Decimal("12.50"), datetime.datetime(2026, 1, 5, 10, 30)),)
assert mcur.nextset() and mcur.fetchall() == ((None,),)
my.commit()
my.rollback()
with sa.create_engine(f"mysql+mysqldb://root:@127.0.0.1:{PORT}/shop").connect() as conn:
    assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar() == 2

# SQLAlchemy: a pooled connection is rolled back when returned, and used
# again; pandas reads through it.
engine = sa.create_engine(f"mysql+pymysql://root:@127.0.0.1:{PORT}/shop", pool_size=1, max_overflow=0)
for _ in range(3):
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar() == 2
with engine.begin() as conn:
    conn.execute(sa.text("INSERT INTO orders VALUES (3, 1.00, NULL)"))
frame = pd.read_sql("SELECT id, amount FROM orders ORDER BY id", engine)
assert list(frame["id"]) == [1, 2, 3], frame

# Metadata: SQLAlchemy's inspector (SHOW FULL TABLES, SHOW CREATE TABLE
# with MySQL's type names), pandas reading a whole table and creating one
# (FLOAT(53), TEXT, BIGINT).
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("error")  # an unknown type name is a warning
    inspector = sa.inspect(engine)
    assert "shop" in inspector.get_schema_names()
    assert inspector.get_table_names() == ["orders"], inspector.get_table_names()
    columns = {c["name"]: c for c in inspector.get_columns("orders")}
    assert str(columns["amount"]["type"]) == "DECIMAL(10, 2)", columns
    assert columns["id"]["nullable"] is False, columns
    frame = pd.read_sql_table("orders", engine)
    assert len(frame) == 3, frame
    pd.DataFrame({"a": [1, 2], "b": [1.5, 2.5], "c": ["x", "y"]}).to_sql("made", engine, index=False)
    made = pd.read_sql("SELECT a, b, c FROM made ORDER BY a", engine)
    assert made.values.tolist() == [[1, 1.5, "x"], [2, 2.5, "y"]], made

# information_schema, as JDBC tools and GUIs query it.
pcur.execute(
    "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_SCALE FROM information_schema.COLUMNS"
    " WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION"
)
assert pcur.fetchall() == (("id", "int", 0), ("amount", "decimal", 2), ("at", "datetime", None)), "columns"
rcur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1")
assert [r[0] for r in rcur.fetchall()] == ["information_schema", "shop"], "reader's schemata"

print("all client checks passed")
