//! How values are shown as text, in the REPL, over the MySQL protocol and
//! in sqllogictest files: Doris's and MySQL's forms. A DATETIME is
//! `2024-01-01 10:00:00`, with its fractional seconds when it has some
//! (`2024-01-01 10:00:00.123456`), never Arrow's `2024-01-01T10:00:00`.

use datafusion::arrow::util::display::FormatOptions;

/// Doris's text form of a DATETIME (`%.f`: fractional seconds only when
/// there are some).
const DATETIME: &str = "%Y-%m-%d %H:%M:%S%.f";

/// The options every result is formatted with; NULL is shown as `null`.
pub fn format_options(null: &'static str) -> FormatOptions<'static> {
    FormatOptions::default()
        .with_null(null)
        .with_timestamp_format(Some(DATETIME))
        .with_timestamp_tz_format(Some(DATETIME))
}
