//! [`OptionBag`]: `"key" = "value"` options (of `S3(...)`, of a job's
//! `PROPERTIES`) read with typed pulls. Keys are case-insensitive and may
//! be given once; every pull names a key the reader knows, and
//! [`OptionBag::finish`] rejects what is left, listing exactly the keys
//! that were read.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Options being read.
#[derive(Debug)]
pub struct OptionBag {
    /// Keys (lower case) not read yet, with their values.
    left: BTreeMap<String, String>,
    /// The keys read so far, in order: the known keys.
    known: Vec<String>,
}

/// A number of seconds, with or without an `s` (`10`, `10s`), at most a
/// year ([`crate::job::MAX_DURATION_SECS`]).
pub fn seconds(value: &str) -> Option<u64> {
    value
        .strip_suffix(['s', 'S'])
        .unwrap_or(value)
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= crate::job::MAX_DURATION_SECS)
}

/// The whole number of seconds, at least 1, in environment variable
/// `variable` (a setting for tests and operators); `default` without one.
pub fn seconds_from_env(variable: &str, default: std::time::Duration) -> std::time::Duration {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s >= 1)
        .map_or(default, std::time::Duration::from_secs)
}

/// The error for a bad value of option `key`.
pub fn invalid(key: &str, message: impl Into<String>) -> Error {
    Error::InvalidOption {
        key: key.to_string(),
        message: message.into(),
    }
}

impl OptionBag {
    /// Takes `pairs`; fails on a key given twice.
    pub fn new(pairs: &[(String, String)]) -> Result<Self> {
        let mut left = BTreeMap::new();
        for (key, value) in pairs {
            let key = key.to_ascii_lowercase();
            if left.insert(key.clone(), value.clone()).is_some() {
                return Err(invalid(&key, "is given twice"));
            }
        }
        Ok(Self {
            left,
            known: Vec::new(),
        })
    }

    /// The value of `key`, if given.
    pub fn take(&mut self, key: &str) -> Option<String> {
        self.known.push(key.to_string());
        self.left.remove(key)
    }

    /// The value of `key` made by `parse`, which says `None` to a value not
    /// of the form `form` (e.g. "an integer of at least 1").
    pub fn take_parsed<T>(
        &mut self,
        key: &str,
        form: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => parse(value.trim())
                .map(Some)
                .ok_or_else(|| invalid(key, format!("'{value}' must be {form}"))),
        }
    }

    /// `true`/`1` or `false`/`0`; `default` when not given.
    pub fn take_bool(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.take(key).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(invalid(key, format!("'{other}' is not true or false"))),
        }
    }

    /// Every key starting with `prefix`, without it, with its value.
    pub fn take_prefixed(&mut self, prefix: &str) -> Vec<(String, String)> {
        self.known.push(format!("{prefix}<name>"));
        let keys: Vec<String> = self
            .left
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.into_iter()
            .map(|k| {
                let value = self.left.remove(&k).unwrap_or_default();
                (k[prefix.len()..].to_string(), value)
            })
            .collect()
    }

    /// Fails on the first key no pull read.
    pub fn finish(self) -> Result<()> {
        match self.left.into_keys().next() {
            None => Ok(()),
            Some(key) => Err(Error::UnknownOption {
                key,
                known: self.known.join(", "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(pairs: &[(&str, &str)]) -> OptionBag {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OptionBag::new(&pairs).unwrap()
    }

    #[test]
    fn typed_pulls_and_the_unknown_keys_left() {
        let mut options = bag(&[("N", " 3 "), ("flag", "0"), ("p.a", "x"), ("oops", "1")]);
        let n = options.take_parsed("n", "a number", |v| v.parse::<u32>().ok());
        assert_eq!(n.unwrap(), Some(3));
        assert!(!options.take_bool("flag", true).unwrap());
        assert!(options.take_bool("missing", true).unwrap());
        assert_eq!(
            options.take_prefixed("p."),
            [("a".to_string(), "x".to_string())]
        );
        assert_eq!(
            options.finish().unwrap_err().to_string(),
            "unknown option \"oops\"; known options: n, flag, missing, p.<name>"
        );
    }

    #[test]
    fn bad_values_and_repeated_keys_are_refused() {
        let mut options = bag(&[("n", "many")]);
        let error = options
            .take_parsed("n", "a number", |v| v.parse::<u32>().ok())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid option \"n\": 'many' must be a number"
        );
        let pairs = vec![("K".to_string(), "1".to_string()), ("k".into(), "2".into())];
        assert!(OptionBag::new(&pairs).is_err());
    }
}
