"""KILL QUERY and KILL CONNECTION from a second connection, as the mysql
client's Ctrl-C sends them (port in argv[1]): the running statement ends
with MySQL's 1317 and its connection goes on; a killed connection is gone;
another user can neither see nor kill root's connections."""

import sys
import threading
import time

import pymysql

PORT = int(sys.argv[1])


def connect(user="root", password=""):
    return pymysql.connect(host="127.0.0.1", port=PORT, user=user, password=password)


runner = connect()
runner_id = runner.thread_id()
outcome = {}


def run_long():
    started = time.time()
    try:
        runner.cursor().execute("SELECT count(*) FROM range(1, 100000000000) a")
        outcome["error"] = None
    except pymysql.err.MySQLError as e:
        outcome["error"] = e.args
    outcome["seconds"] = time.time() - started


thread = threading.Thread(target=run_long)
thread.start()
admin = connect()
acur = admin.cursor()
deadline = time.time() + 20
while time.time() < deadline:
    acur.execute("SHOW PROCESSLIST")
    running = [r for r in acur.fetchall() if r[0] == runner_id and r[4] == "Query"]
    if running:
        break
    time.sleep(0.1)
assert running and running[0][7].startswith("SELECT count(*)"), running

acur.execute("CREATE USER IF NOT EXISTS mallory IDENTIFIED BY 'pw'")
mallory = connect("mallory", "pw").cursor()
mallory.execute("SHOW PROCESSLIST")
assert all(r[1] == "mallory" for r in mallory.fetchall()), "mallory sees only her own"
try:
    mallory.execute(f"KILL QUERY {runner_id}")
    raise AssertionError("mallory killed root's query")
except pymysql.err.MySQLError as e:
    assert e.args[0] == 1094, e.args

acur.execute(f"KILL QUERY {runner_id}")
thread.join(30)
assert not thread.is_alive(), "the killed statement ended"
assert outcome["error"] and outcome["error"][0] == 1317, outcome
rcur = runner.cursor()
rcur.execute("SELECT 1")
assert rcur.fetchall() == ((1,),), "the connection goes on"

acur.execute(f"KILL {runner_id}")
time.sleep(0.5)
try:
    rcur.execute("SELECT 1")
    raise AssertionError("a killed connection still answers")
except pymysql.err.OperationalError as e:
    assert e.args[0] in (2006, 2013), e.args
acur.execute("SHOW PROCESSLIST")
assert runner_id not in [r[0] for r in acur.fetchall()], "the killed connection is gone"
print("kill checks passed")
