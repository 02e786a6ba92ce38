//! The status page of the HTTP port: `/` has one row per job the user may
//! see (state, backlog, freshness, rate, and a chart of the rows it loaded
//! over the last hour), `/jobs/<name>` one job's recent tasks, files,
//! rows left out and errors. Plain HTML with inline SVG and style: no
//! script, nothing fetched from elsewhere, so it works offline.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::catalog::{show_millis, shown_time};
use crate::error::Result;
use crate::job::ledger::{FileRecord, RejectedRow};
use crate::job::status::recent_rate;
use crate::job::{Job, Task};
use crate::session::Session;

/// How many of a job's files and rows left out its page shows.
const SHOWN: usize = 200;

/// The chart's span and bars.
const CHART_SECONDS: i64 = 3600;
const CHART_BARS: i64 = 12;

/// `/`: the jobs `session`'s user may see.
pub async fn jobs_page(session: &Session) -> Result<String> {
    crate::plan::read_jobs_again(session).await;
    let now = Utc::now();
    let mut rows = String::new();
    for (job, lease) in crate::plan::visible_jobs_with_leases(session).await? {
        let holder = lease.map(|l| l.holder);
        rows.push_str(&job_row(&job, holder.as_deref(), now));
    }
    if rows.is_empty() {
        rows = "<tr><td colspan=\"10\">No job you may see.</td></tr>".into();
    }
    let body = format!(
        "<h1>Jobs</h1>\n<table id=\"jobs\">\n<tr><th>Job</th><th>Table</th><th>State</th>\
         <th>Backlog files</th><th>Backlog bytes</th><th>Oldest waiting</th><th>Last load</th>\
         <th>Rows/s</th><th>Rows/s, last hour</th><th>Runs in</th></tr>\n{rows}</table>\n\
         <p class=\"note\">As of {}; the backlog is what each job's last listing found. \
         Metrics for Prometheus: <a href=\"/metrics\">/metrics</a>.</p>",
        show_millis(now.timestamp_millis())
    );
    Ok(page("tributary: jobs", &body))
}

/// `/jobs/<name>`: one job, when the user may see it.
pub async fn job_page(session: &Session, name: &str) -> Result<Option<String>> {
    let engine = session.engine();
    crate::plan::read_jobs_again(session).await;
    let Ok(job) = engine.jobs().job(name) else {
        return Ok(None);
    };
    if !crate::plan::job_visible(session, &job) {
        return Ok(None);
    }
    let holder = engine.leases().current(job.id).await?.map(|l| l.holder);
    let files = engine.jobs().files(job.id).await?;
    let rejected = engine.jobs().rejected_rows(job.id).await?;
    Ok(Some(page(
        &format!("tributary: job {}", job.name),
        &job_body(&job, holder.as_deref(), &files, &rejected, Utc::now()),
    )))
}

fn job_row(job: &Job, holder: Option<&str>, now: DateTime<Utc>) -> String {
    let backlog = job.backlog.as_ref();
    format!(
        "<tr class=\"job\" data-job=\"{name}\"><td><a href=\"/jobs/{link}\">{name}</a></td>\
         <td>{table}</td><td class=\"state {state_class}\">{state}</td>\
         <td class=\"backlog-files\">{files}</td><td>{bytes}</td><td>{oldest}</td>\
         <td>{last}</td><td>{rate}</td><td>{chart}</td><td>{holder}</td></tr>\n",
        name = escape(&job.name),
        link = percent_encoding::utf8_percent_encode(&job.name, percent_encoding::NON_ALPHANUMERIC),
        table = escape(&job.qualified_table()),
        state = job.status,
        state_class = job.status.to_string().to_ascii_lowercase(),
        files = backlog.map_or(String::new(), |b| {
            format!("{}{}", b.files, if b.more { "+" } else { "" })
        }),
        bytes = backlog.map_or(String::new(), |b| b.bytes.to_string()),
        oldest = backlog
            .and_then(|b| b.oldest_age_seconds(now))
            .map_or("none".into(), |s| format!("{s:.0} s ago")),
        last = job.last_visible_ms.map_or("never".into(), show_millis),
        rate = recent_rate(job).map_or(String::new(), |(rows, _)| format!("{rows:.0}")),
        chart = chart(&job.tasks, now),
        holder = escape(holder.unwrap_or("")),
    )
}

/// Rows loaded by the tasks that finished in each fifth of the last hour
/// (bars), as an inline SVG.
fn chart(tasks: &[Task], now: DateTime<Utc>) -> String {
    let bar = CHART_SECONDS / CHART_BARS;
    let mut rows = [0u64; CHART_BARS as usize];
    for task in tasks {
        let Some(finished) = task
            .finish_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        let age = (now - finished.with_timezone(&Utc)).num_seconds();
        if (0..CHART_SECONDS).contains(&age) {
            rows[(CHART_BARS - 1 - age / bar) as usize] += task.statistic.scanned_rows;
        }
    }
    let most = rows.iter().copied().max().unwrap_or(0).max(1);
    let mut svg = format!(
        "<svg class=\"chart\" width=\"{w}\" height=\"24\" viewBox=\"0 0 {w} 24\" role=\"img\">\
         <title>rows/s in each {m} minutes of the last hour; rows loaded, last hour: {total}</title>",
        w = CHART_BARS * 8,
        m = bar / 60,
        total = rows.iter().sum::<u64>(),
    );
    for (i, n) in rows.iter().enumerate() {
        let height = (*n as f64 / most as f64 * 22.0).round() as u64 + u64::from(*n > 0);
        let rate = *n as f64 / bar as f64;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"6\" height=\"{height}\"><title>{rate:.1} rows/s ({n} rows)</title></rect>",
            i * 8,
            24 - height,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn job_body(
    job: &Job,
    holder: Option<&str>,
    files: &[FileRecord],
    rejected: &[(u64, RejectedRow)],
    now: DateTime<Utc>,
) -> String {
    let mut body = format!(
        "<p><a href=\"/\">All jobs</a></p>\n<h1>Job {name}</h1>\n<table id=\"summary\">\
         <tr><th>Table</th><td>{table}</td></tr><tr><th>State</th><td class=\"state\">{state}</td></tr>\
         <tr><th>Tasks</th><td>{ok} succeeded, {failed} failed, {canceled} canceled</td></tr>\
         <tr><th>Loaded</th><td id=\"loaded-rows\">{rows}</td></tr><tr><th>Runs in</th><td>{holder}</td></tr>\
         </table>\n",
        name = escape(&job.name),
        table = escape(&job.qualified_table()),
        state = job.status,
        ok = job.succeed_task_count,
        failed = job.failed_task_count,
        canceled = job.canceled_task_count,
        rows = job
            .load_statistic
            .scanned_rows
            .saturating_sub(job.load_statistic.filtered_rows),
        holder = escape(holder.unwrap_or("no process")),
    );
    if let Some(error) = &job.error_msg {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(error));
    }
    body.push_str("<h2>Recent tasks</h2>\n<table id=\"tasks\"><tr><th>Task</th><th>Status</th><th>Started</th><th>Finished</th><th>Files</th><th>Rows</th><th>Error</th></tr>\n");
    for task in job.tasks.iter().rev() {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            task.id,
            task.status,
            shown_time(&task.start_time),
            task.finish_time.as_deref().map(shown_time).unwrap_or_default(),
            task.statistic.file_number,
            task.statistic.scanned_rows,
            escape(task.error_msg.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</table>\n");
    let _ = writeln!(
        body,
        "<h2>Files</h2>\n<p class=\"note\">{} of {} files, newest first (<code>job_files(job = '{}')</code> has them all).</p>",
        files.len().min(SHOWN),
        files.len(),
        escape(&job.name)
    );
    body.push_str("<table id=\"files\"><tr><th>File</th><th>Status</th><th>Task</th><th>Rows</th><th>Left out</th><th>Error</th></tr>\n");
    let mut newest: Vec<&FileRecord> = files.iter().collect();
    newest.sort_by(|a, b| b.time.cmp(&a.time));
    for file in newest.into_iter().take(SHOWN) {
        let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&file.file),
            file.status.as_str(),
            file.task_id,
            count(file.loaded_rows),
            count(file.rejected_rows),
            escape(file.error.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</table>\n<h2>Rows left out</h2>\n<table id=\"rejected\"><tr><th>Task</th><th>File</th><th>Where</th><th>Values</th><th>Why</th></tr>\n");
    for (task, row) in rejected.iter().rev().take(SHOWN) {
        let _ = writeln!(
            body,
            "<tr><td>{task}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.file),
            escape(&row.position),
            escape(&row.values),
            escape(&row.reason),
        );
    }
    body.push_str("</table>\n");
    let _ = write!(
        body,
        "<p class=\"note\">As of {}.</p>",
        show_millis(now.timestamp_millis())
    );
    body
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#222}\
table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}\
th{background:#f4f4f4}.state.running{color:#17692a}.state.paused{color:#a11}.error{color:#a11}\
.note{color:#666}.chart rect{fill:#3a6ea5}a{color:#1d4f91}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

/// `text` with HTML's special characters as entities.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{LoadStatistic, TaskStatus};

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_chart_puts_each_task_in_the_bar_of_its_end() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let task = |finished: &str, rows| Task {
            finish_time: Some(finished.into()),
            statistic: LoadStatistic {
                scanned_rows: rows,
                ..Default::default()
            },
            ..Task::running(1).finished(TaskStatus::Success, None)
        };
        let tasks = [
            task("2026-01-01T11:59:00Z", 10),
            task("2026-01-01T11:58:00Z", 5),
            task("2026-01-01T11:02:00Z", 3),
            task("2026-01-01T10:00:00Z", 99),
        ];
        let svg = chart(&tasks, now);
        assert!(svg.contains("last hour: 18</title>"), "{svg}");
        assert!(svg.contains("<title>0.1 rows/s (15 rows)</title>"), "{svg}");
        assert!(svg.contains("<title>0.0 rows/s (3 rows)</title>"), "{svg}");
        assert!(!svg.contains("99 rows"), "{svg}");
    }
}
