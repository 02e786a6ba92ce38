//! Job properties: `s3.max_batch_files`, `s3.max_batch_bytes`,
//! `max_interval`, `session.*` and `offset`, validated with
//! Doris's names and defaults; and tributary's own `s3.on_file_error`,
//! `s3.late_files` and `s3.late_files.window`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::parse::options::{invalid, seconds as parse_seconds, OptionBag};
use crate::session::Timeouts;

/// Default `s3.max_batch_files`.
pub const DEFAULT_MAX_BATCH_FILES: u64 = 256;
/// Default `s3.max_batch_bytes`: 10G.
pub const DEFAULT_MAX_BATCH_BYTES: u64 = 10 * 1024 * 1024 * 1024;
/// Default `max_interval`, seconds.
pub const DEFAULT_MAX_INTERVAL_SECS: u64 = 10;
/// Default `s3.late_files.window`: how many of the job's most recent files
/// (by name) each listing looks back over for late files. With fewer than
/// 500 new files an idle poll on S3 stays one LIST request (1,000 keys).
pub const DEFAULT_LATE_FILES_WINDOW: u64 = 500;

/// What a streaming job does with a late file: one that appears with a
/// name at or below its offset (`s3.late_files`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LateFiles {
    /// Doris's rule: not loaded; recorded `SKIPPED_LATE` in the ledger.
    #[default]
    Skip,
    /// Loaded once by the next task.
    Load,
}

/// The session variables a job may set, with the form each accepts.
const SESSION_VARIABLES: &[(&str, &str)] = &[
    ("insert_max_filter_ratio", "a number from 0 to 1"),
    ("enable_insert_strict", "true or false"),
    ("query_timeout", "a positive number of seconds"),
    ("insert_timeout", "a positive number of seconds"),
];

/// The session variables that bound the time of a job's INSERT.
const TIMEOUT_VARIABLES: [&str; 2] = ["query_timeout", "insert_timeout"];

/// Validated properties of a streaming job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProperties {
    pub max_batch_files: u64,
    pub max_batch_bytes: u64,
    pub max_interval_secs: u64,
    /// `session.*` variables, without the prefix.
    pub session: BTreeMap<String, String>,
    /// `s3.on_file_error` = `skip`: a file that cannot be loaded is
    /// quarantined and the job goes on (default `pause`, as Doris).
    #[serde(default)]
    pub skip_bad_files: bool,
    /// `s3.late_files`: skip (default) or load late files.
    #[serde(default)]
    pub late_files: LateFiles,
    /// `s3.late_files.window`: how many of the job's most recent files the
    /// look-back for late files covers; 0 looks back at nothing.
    #[serde(default = "default_late_files_window")]
    pub late_files_window: u64,
    /// `distribute_min_bytes`: the bytes of files a batch must have before
    /// it is loaded across the process's workers (`None`: the process's
    /// `--distribute-min-bytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribute_min_bytes: Option<u64>,
    /// The properties as the user gave them (keys lower case), for `job()`.
    pub given: BTreeMap<String, String>,
}

impl Default for JobProperties {
    fn default() -> Self {
        Self {
            max_batch_files: DEFAULT_MAX_BATCH_FILES,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            max_interval_secs: DEFAULT_MAX_INTERVAL_SECS,
            session: BTreeMap::new(),
            skip_bad_files: false,
            late_files: LateFiles::Skip,
            late_files_window: DEFAULT_LATE_FILES_WINDOW,
            distribute_min_bytes: None,
            given: BTreeMap::new(),
        }
    }
}

fn default_late_files_window() -> u64 {
    DEFAULT_LATE_FILES_WINDOW
}

impl JobProperties {
    /// How long one run of the job's INSERT (a streaming job's task, a
    /// scheduled job's firing) may take, and the property that says so:
    /// the lower of `session.query_timeout` and `session.insert_timeout`
    /// given, else an INSERT's default (four hours, as Doris's
    /// `insert_timeout`).
    pub fn insert_time_limit(&self) -> (&'static str, u64) {
        TIMEOUT_VARIABLES
            .iter()
            .filter_map(|variable| {
                let seconds = self.session.get(*variable)?.parse::<u64>().ok()?;
                Some((*variable, seconds))
            })
            .min_by_key(|(_, seconds)| *seconds)
            .map(|(variable, seconds)| (variable_key(variable), seconds))
            .unwrap_or(("session.insert_timeout", Timeouts::default().insert_secs))
    }

    /// Refuses the session variables a scheduled job's INSERT cannot obey:
    /// it loads all of its rows or none, so no share of bad rows applies.
    pub fn check_for_schedule(&self) -> Result<()> {
        match self
            .session
            .keys()
            .find(|v| !TIMEOUT_VARIABLES.contains(&v.as_str()))
        {
            Some(variable) => Err(Error::InvalidJob(format!(
                "property \"session.{variable}\" applies to streaming jobs only: a job ON SCHEDULE loads all of its INSERT's rows or none; remove the property (session.query_timeout and session.insert_timeout apply to both)"
            ))),
            None => Ok(()),
        }
    }

    /// Applies `pairs` on top of `self`; returns the `offset` among them
    /// apart (the file after which the job goes on), still kept among the
    /// given properties for `job()`.
    pub fn apply(&self, pairs: &[(String, String)]) -> Result<(Self, Option<String>)> {
        let mut bag = OptionBag::new(pairs)?;
        let mut next = self.clone();
        let at_least_one = |n: &u64| *n >= 1;
        if let Some(n) = bag.take_parsed("s3.max_batch_files", "an integer of at least 1", |v| {
            v.parse::<u64>().ok().filter(at_least_one)
        })? {
            next.max_batch_files = n;
        }
        let size = "a size such as 10G, 512MB or a number of bytes";
        if let Some(n) = bag.take_parsed("s3.max_batch_bytes", size, |v| {
            parse_bytes(v).filter(at_least_one)
        })? {
            next.max_batch_bytes = n;
        }
        let seconds = "a number of seconds from 1 to 31536000 (a year), such as 10 or 10s";
        if let Some(n) = bag.take_parsed("max_interval", seconds, |v| {
            parse_seconds(v).filter(at_least_one)
        })? {
            next.max_interval_secs = n;
        }
        if let Some(skip) = bag.take_parsed("s3.on_file_error", "pause or skip", |v| {
            match v.trim().to_ascii_lowercase().as_str() {
                "pause" => Some(false),
                "skip" => Some(true),
                _ => None,
            }
        })? {
            next.skip_bad_files = skip;
        }
        if let Some(late) = bag.take_parsed("s3.late_files", "skip or load", |v| {
            match v.trim().to_ascii_lowercase().as_str() {
                "skip" => Some(LateFiles::Skip),
                "load" => Some(LateFiles::Load),
                _ => None,
            }
        })? {
            next.late_files = late;
        }
        if let Some(n) = bag.take_parsed(
            "s3.late_files.window",
            "a number of files (0 looks back at none)",
            |v| v.trim().parse::<u64>().ok(),
        )? {
            next.late_files_window = n;
        }
        if let Some(n) = bag.take_parsed("distribute_min_bytes", size, |v| {
            parse_bytes(v).filter(at_least_one)
        })? {
            next.distribute_min_bytes = Some(n);
        }
        let offset = bag.take("offset").map(|v| parse_offset(&v)).transpose()?;
        for (variable, value) in bag.take_prefixed("session.") {
            let value = value.trim();
            validate_session_variable(&format!("session.{variable}"), &variable, value)?;
            next.session.insert(variable, value.to_string());
        }
        bag.finish()?;
        for (key, value) in pairs {
            next.given
                .insert(key.to_ascii_lowercase(), value.trim().to_string());
        }
        Ok((next, offset))
    }
}

/// The property key of a time-limit variable.
fn variable_key(variable: &str) -> &'static str {
    match variable {
        "query_timeout" => "session.query_timeout",
        _ => "session.insert_timeout",
    }
}

fn validate_session_variable(key: &str, variable: &str, value: &str) -> Result<()> {
    let ok = match variable {
        "insert_max_filter_ratio" => value.parse::<f64>().is_ok_and(|r| (0.0..=1.0).contains(&r)),
        "enable_insert_strict" => matches!(value.to_ascii_lowercase().as_str(), "true" | "false"),
        "query_timeout" | "insert_timeout" => value.parse::<u64>().is_ok_and(|n| n >= 1),
        _ => {
            let known: Vec<String> = SESSION_VARIABLES
                .iter()
                .map(|(n, _)| format!("session.{n}"))
                .collect();
            return Err(Error::UnknownOption {
                key: key.to_string(),
                known: known.join(", "),
            });
        }
    };
    if ok {
        return Ok(());
    }
    let form = SESSION_VARIABLES
        .iter()
        .find(|(n, _)| *n == variable)
        .map(|(_, f)| *f)
        .unwrap_or("a valid value");
    Err(invalid(key, format!("'{value}' must be {form}")))
}

/// `10G`, `512MB`, `1.5GiB`, `1048576`. Units are binary (1G = 2^30
/// bytes), as Doris reads them.
fn parse_bytes(value: &str) -> Option<u64> {
    let trimmed = value.trim();
    let unit_start = trimmed
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(unit_start);
    let unit = unit.trim().to_ascii_uppercase();
    let prefix = unit.trim_end_matches('B').trim_end_matches('I');
    let binary = if prefix.is_empty() {
        "B".to_string()
    } else {
        format!("{prefix}iB")
    };
    format!("{} {binary}", number.trim())
        .parse::<bytesize::ByteSize>()
        .ok()
        .map(|size| size.as_u64())
}

/// `'{"fileName":"path/to/file.csv"}'`
fn parse_offset(value: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct Offset {
        #[serde(rename = "fileName")]
        file_name: String,
    }
    serde_json::from_str::<Offset>(value)
        .map(|o| o.file_name)
        .map_err(|_| {
            invalid(
                "offset",
                format!("'{value}' must be JSON like {{\"fileName\":\"path/to/file.csv\"}}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_doris_forms() {
        let (p, _) = JobProperties::default()
            .apply(&pairs(&[
                ("s3.max_batch_bytes", "512MB"),
                ("max_interval", "5s"),
                ("session.insert_max_filter_ratio", "0.5"),
            ]))
            .unwrap();
        assert_eq!(p.max_batch_bytes, 512 << 20);
        assert_eq!(p.max_interval_secs, 5);
        assert_eq!(parse_bytes("10G"), Some(10 << 30));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("ten"), None);
        assert_eq!(parse_bytes("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_bytes("512 mb"), Some(512 << 20));
        let (_, offset) = JobProperties::default()
            .apply(&pairs(&[("offset", r#"{"fileName":"a/b.csv"}"#)]))
            .unwrap();
        assert_eq!(offset.as_deref(), Some("a/b.csv"));
    }
}
