//! A table's maintenance settings, from its PROPERTIES (at CREATE TABLE,
//! or `ALTER TABLE ... SET (...)`): whether it is compacted by itself,
//! when, and how long old versions stay.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::Result;
use crate::parse::options::{self, OptionBag};

/// `"compaction"`: `auto` (default) or `off` (only `ADMIN COMPACT TABLE`).
pub const COMPACTION: &str = "compaction";
/// `"compaction.min_small_fragments"`: how many small fragments make the
/// table worth compacting.
pub const MIN_SMALL_FRAGMENTS: &str = "compaction.min_small_fragments";
/// `"compaction.target_fragment_rows"`: the rows of a fragment compaction
/// writes; one with less than an eighth of them is small.
pub const TARGET_FRAGMENT_ROWS: &str = "compaction.target_fragment_rows";
/// `"version_retention"`: seconds an old version stays (`3600`, `3600s`).
pub const VERSION_RETENTION: &str = "version_retention";

/// The maintenance keys.
const MAINTENANCE_KEYS: [&str; 4] = [
    COMPACTION,
    MIN_SMALL_FRAGMENTS,
    TARGET_FRAGMENT_ROWS,
    VERSION_RETENTION,
];

/// The table properties `ALTER TABLE ... SET` takes: these, and
/// `"compression"` ([`crate::write::encoding`]).
pub const KEYS: [&str; 5] = [
    COMPACTION,
    MIN_SMALL_FRAGMENTS,
    TARGET_FRAGMENT_ROWS,
    VERSION_RETENTION,
    crate::write::encoding::COMPRESSION,
];

/// Whether CREATE TABLE reads property `key`: one of [`KEYS`], or
/// `"dictionary_columns"` ([`crate::write::dictionary`]), which only a new
/// table takes; other table properties are Doris's, kept and ignored.
pub fn read_at_create(key: &str) -> bool {
    KEYS.contains(&key) || key == crate::write::dictionary::DICTIONARY_COLUMNS
}

/// How a table is maintained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Compacted in the background (else only on `ADMIN COMPACT TABLE`);
    /// old versions are removed either way.
    pub auto: bool,
    pub min_small_fragments: usize,
    pub target_fragment_rows: usize,
    pub retention: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            auto: true,
            min_small_fragments: 16,
            // Lance's own target.
            target_fragment_rows: 1024 * 1024,
            retention: Duration::from_secs(3600),
        }
    }
}

impl Settings {
    /// The settings `properties` give (the defaults for what they leave
    /// out); an error names a bad value and what it must be.
    pub fn from_properties(properties: &BTreeMap<String, String>) -> Result<Settings> {
        let pairs: Vec<(String, String)> = properties
            .iter()
            .filter(|(k, _)| MAINTENANCE_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut bag = OptionBag::new(&pairs)?;
        let mut settings = Settings::default();
        if let Some(auto) = bag.take_parsed(COMPACTION, "auto or off", |v| {
            match v.to_ascii_lowercase().as_str() {
                "auto" => Some(true),
                "off" => Some(false),
                _ => None,
            }
        })? {
            settings.auto = auto;
        }
        if let Some(n) = bag.take_parsed(MIN_SMALL_FRAGMENTS, "a number of at least 2", |v| {
            v.parse::<usize>().ok().filter(|n| *n >= 2)
        })? {
            settings.min_small_fragments = n;
        }
        if let Some(n) = bag.take_parsed(
            TARGET_FRAGMENT_ROWS,
            "a number of rows from 8192 to 1073741824",
            |v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| (8192..=1 << 30).contains(n))
            },
        )? {
            settings.target_fragment_rows = n;
        }
        let seconds = "a number of seconds up to 31536000 (a year), such as 3600 or 3600s";
        if let Some(secs) = bag.take_parsed(VERSION_RETENTION, seconds, options::seconds)? {
            settings.retention = Duration::from_secs(secs);
        }
        bag.finish()?;
        Ok(settings)
    }

    /// A fragment with fewer rows than this is small.
    pub fn small_fragment_rows(&self) -> usize {
        self.target_fragment_rows / 8
    }

    /// The settings of a table whose properties were checked when set.
    pub fn of(properties: &BTreeMap<String, String>) -> Settings {
        Self::from_properties(properties).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn properties_set_what_they_name_and_leave_the_rest() {
        let settings = Settings::from_properties(&props(&[
            ("compaction", "OFF"),
            ("version_retention", "60s"),
            ("replication_num", "1"),
        ]))
        .unwrap();
        assert_eq!(
            settings,
            Settings {
                auto: false,
                retention: Duration::from_secs(60),
                ..Settings::default()
            }
        );
        let error = Settings::from_properties(&props(&[("compaction", "sometimes")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "invalid option \"compaction\": 'sometimes' must be auto or off"
        );
    }
}
