//! Jobs ON SCHEDULE across processes: firings missed while no process ran
//! are made up once, by the next process to open the warehouse, not once
//! per missed interval.

use std::time::Duration;

use chrono::{Local, TimeDelta};

use crate::support::{assert_ok, stdout, tributary};

#[test]
fn firings_missed_while_no_process_ran_fire_once_on_open() {
    let root = tempfile::tempdir().unwrap();
    let at = |seconds: i64| {
        (Local::now() + TimeDelta::seconds(seconds))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    // Three points, 6 s to 8 s from now; this process ends long before.
    assert_ok(&tributary(
        root.path(),
        &format!(
            "CREATE DATABASE db1; CREATE TABLE db1.t (id INT);
             CREATE JOB tick ON SCHEDULE EVERY 1 SECOND STARTS '{}' ENDS '{}'
             DO INSERT INTO db1.t VALUES (1);",
            at(6),
            at(8)
        ),
        None,
    ));
    std::thread::sleep(Duration::from_secs(10));

    let reopened = tributary(
        root.path(),
        "WAIT JOB WHERE jobName = 'tick' TIMEOUT 60;
         SELECT Status, SucceedTaskCount AS ok, ExecuteType FROM job(type=insert);
         SELECT count(*) AS n FROM db1.t;
         SELECT count(*) AS tasks FROM tasks(type='insert');",
        None,
    );
    assert_ok(&reopened);
    let out = stdout(&reopened);
    assert!(out.contains("| FINISHED | 1  | RECURRING   |"), "{out}");
    assert!(out.contains("| 1 |"), "one row, from one firing:\n{out}");
    assert!(out.contains("| 1     |"), "one task:\n{out}");
}
