//! [`Schedule`]: when a job `ON SCHEDULE` fires. `EVERY n UNIT [STARTS ts]
//! [ENDS ts]` fires at `STARTS`, `STARTS + n UNIT`, ... up to `ENDS`; `AT
//! ts` fires once. Times are the local time zone's, to the second, written
//! as Doris writes them (`2026-01-01 10:00:00`).
//!
//! Firings missed while no process ran are not made up one by one: the
//! next poll fires once for all of them, and the schedule goes on from the
//! latest missed point. Everything here takes the clock as an argument.

use std::fmt;

use chrono::{Local, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The unit of an `EVERY` interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IntervalUnit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
}

impl IntervalUnit {
    /// Parses `SECOND`, `MINUTE`, `HOUR`, `DAY`, `WEEK` (any case, plural too).
    pub fn parse(word: &str) -> Result<Self> {
        let word = word.to_ascii_uppercase();
        Ok(match word.strip_suffix('S').unwrap_or(&word) {
            "SECOND" => Self::Second,
            "MINUTE" => Self::Minute,
            "HOUR" => Self::Hour,
            "DAY" => Self::Day,
            "WEEK" => Self::Week,
            _ => {
                return Err(Error::Syntax(format!(
                    "invalid interval unit '{word}': use SECOND, MINUTE, HOUR, DAY or WEEK"
                )))
            }
        })
    }

    fn seconds(self) -> i64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 604_800,
        }
    }
}

impl fmt::Display for IntervalUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Second => "SECOND",
            Self::Minute => "MINUTE",
            Self::Hour => "HOUR",
            Self::Day => "DAY",
            Self::Week => "WEEK",
        })
    }
}

/// `EVERY count unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Every {
    pub count: u64,
    pub unit: IntervalUnit,
}

impl Every {
    fn seconds(&self) -> i64 {
        self.count as i64 * self.unit.seconds()
    }
}

/// When a scheduled job fires, and how far it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// `None`: once, at `starts_at` (`ON SCHEDULE AT`).
    pub every: Option<Every>,
    /// Unix seconds of the first firing.
    pub starts_at: i64,
    /// Unix seconds after which a recurring job fires no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    /// The latest point fired (a missed run of points fires as its last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_until: Option<i64>,
}

impl Schedule {
    /// `EVERY every [STARTS starts] [ENDS ends]`; without `STARTS`, the
    /// first firing is one interval from `now`, as in Doris.
    pub fn every(every: Every, starts: Option<i64>, ends: Option<i64>, now: i64) -> Result<Self> {
        if every.count == 0 {
            return Err(Error::InvalidJob(
                "EVERY needs an interval of at least 1".into(),
            ));
        }
        let longest = super::MAX_DURATION_SECS / every.unit.seconds() as u64;
        if every.count > longest {
            return Err(Error::InvalidJob(format!(
                "EVERY {} {} is longer than a year: use at most EVERY {longest} {}",
                every.count, every.unit, every.unit
            )));
        }
        let starts_at = starts.unwrap_or(now + every.seconds());
        if ends.is_some_and(|ends| ends <= starts_at) {
            return Err(Error::InvalidJob(format!(
                "ENDS must be after the first firing ({})",
                show_time(starts_at)
            )));
        }
        Ok(Self {
            every: Some(every),
            starts_at,
            ends_at: ends,
            fired_until: None,
        })
    }

    /// `AT at`.
    pub fn at(at: i64) -> Self {
        Self {
            every: None,
            starts_at: at,
            ends_at: None,
            fired_until: None,
        }
    }

    /// Doris's `ExecuteType`.
    pub fn execute_type(&self) -> &'static str {
        if self.every.is_some() {
            "RECURRING"
        } else {
            "ONE_TIME"
        }
    }

    /// Doris's `RecurringStrategy`: `EVERY 1 MINUTE STARTS <ts> [ENDS <ts>]`
    /// or `AT <ts>`.
    pub fn strategy(&self) -> String {
        match &self.every {
            None => format!("AT {}", show_time(self.starts_at)),
            Some(every) => {
                let mut s = format!(
                    "EVERY {} {} STARTS {}",
                    every.count,
                    every.unit,
                    show_time(self.starts_at)
                );
                if let Some(ends) = self.ends_at {
                    s.push_str(&format!(" ENDS {}", show_time(ends)));
                }
                s
            }
        }
    }

    /// The point to fire at `now`, if one is due: the latest scheduled
    /// point not after `now` and not fired yet.
    pub fn due(&self, now: i64) -> Option<i64> {
        let Some(every) = self.every else {
            return (self.fired_until.is_none() && now >= self.starts_at).then_some(self.starts_at);
        };
        if now < self.starts_at {
            return None;
        }
        let last = now.min(self.ends_at.unwrap_or(i64::MAX));
        let point = self.starts_at + (last - self.starts_at) / every.seconds() * every.seconds();
        let fired = self.fired_until.is_some_and(|f| f >= point);
        (!fired && point >= self.starts_at).then_some(point)
    }

    /// When to fire next: `now` when a point is due, else the first point
    /// after `now`; `None` when the schedule is over.
    pub fn next(&self, now: i64) -> Option<i64> {
        if self.due(now).is_some() {
            return Some(now);
        }
        let Some(every) = self.every else {
            return self.fired_until.is_none().then_some(self.starts_at);
        };
        let step = every.seconds();
        let next = if now < self.starts_at {
            self.starts_at
        } else {
            self.starts_at + ((now - self.starts_at) / step + 1) * step
        };
        Some(next).filter(|t| self.ends_at.is_none_or(|ends| *t <= ends))
    }

    /// Whether the schedule will fire no more.
    pub fn is_over(&self, now: i64) -> bool {
        self.next(now).is_none()
    }
}

/// Unix seconds as Doris prints a time: `2026-01-01 10:00:00`, local.
pub fn show_time(seconds: i64) -> String {
    Local
        .timestamp_opt(seconds, 0)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

/// Parses `2026-01-01 10:00:00` (or `2026-01-01T10:00:00`) as a local
/// time, to Unix seconds.
pub fn parse_time(text: &str, what: &str) -> Result<i64> {
    let text = text.trim();
    let parsed = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok());
    parsed
        .and_then(|t| Local.from_local_datetime(&t).earliest())
        .map(|t| t.timestamp())
        .ok_or_else(|| {
            Error::InvalidJob(format!(
                "{what} '{text}' is not a time: write it as 'YYYY-MM-DD HH:MM:SS'"
            ))
        })
}

/// Now, as Unix seconds.
pub fn now_seconds() -> i64 {
    Local::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(count: u64) -> Every {
        Every {
            count,
            unit: IntervalUnit::Second,
        }
    }

    #[test]
    fn a_recurring_schedule_fires_at_its_points_and_makes_up_a_gap_once() {
        let mut s = Schedule::every(every(10), Some(100), Some(150), 0).unwrap();
        assert_eq!(s.due(99), None);
        assert_eq!(s.next(99), Some(100));
        assert_eq!(s.due(105), Some(100));
        s.fired_until = Some(100);
        assert_eq!(s.due(105), None);
        assert_eq!(s.next(105), Some(110));
        // Missed 110, 120, 130: one firing, for 130.
        assert_eq!(s.due(137), Some(130));
        s.fired_until = Some(130);
        assert_eq!(s.next(137), Some(140));
        // Past ENDS: the last point due is 150, then it is over.
        assert_eq!(s.due(400), Some(150));
        s.fired_until = Some(150);
        assert!(s.is_over(400));
        assert_eq!(
            s.strategy(),
            format!(
                "EVERY 10 SECOND STARTS {} ENDS {}",
                show_time(100),
                show_time(150)
            )
        );
    }

    #[test]
    fn without_starts_the_first_firing_is_one_interval_away() {
        let s = Schedule::every(every(60), None, None, 1000).unwrap();
        assert_eq!(s.starts_at, 1060);
        assert!(Schedule::every(every(0), None, None, 0).is_err());
        assert!(Schedule::every(every(1), Some(10), Some(10), 0).is_err());
    }

    #[test]
    fn a_one_time_schedule_fires_once() {
        let mut s = Schedule::at(50);
        assert_eq!((s.due(49), s.next(49)), (None, Some(50)));
        assert_eq!(s.due(500), Some(50));
        s.fired_until = Some(50);
        assert!(s.is_over(500));
        assert_eq!(s.execute_type(), "ONE_TIME");
    }

    #[test]
    fn times_are_read_and_shown_as_doris_writes_them() {
        let t = parse_time("2026-01-02 03:04:05", "STARTS").unwrap();
        assert_eq!(show_time(t), "2026-01-02 03:04:05");
        let error = parse_time("tomorrow", "STARTS").unwrap_err();
        assert!(
            error.to_string().contains("'YYYY-MM-DD HH:MM:SS'"),
            "{error}"
        );
        assert!(IntervalUnit::parse("minutes").is_ok());
        assert!(IntervalUnit::parse("year").is_err());
    }
}
