//! Arrow's errors from casts and arithmetic, in the words of the
//! statement: the value, the SQL type it was going to, and what went
//! wrong (`cannot cast 'x' to INT`), not Arrow's own (`Arrow error: Cast
//! error: Cannot cast string 'x' to value of Int32 type`).

use std::sync::LazyLock;

use datafusion::arrow::error::ArrowError;
use regex::Regex;

/// `error` as one sentence.
pub(super) fn message(error: &ArrowError) -> String {
    match error {
        ArrowError::CastError(message) => cast(message),
        ArrowError::ParseError(message) => parse(message),
        ArrowError::InvalidArgumentError(message) => invalid_argument(message),
        ArrowError::DivideByZero => "division by zero".into(),
        ArrowError::ArithmeticOverflow(message) => format!("arithmetic overflow: {message}"),
        ArrowError::ComputeError(message) => message.clone(),
        ArrowError::ExternalError(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// Arrow's error as another library printed it (`Cast error: ...`,
/// `Invalid argument error: ...`), as [`message`] words it.
pub(crate) fn printed(text: &str) -> String {
    type Words = fn(&str) -> String;
    let prefixes: [(&str, Words); 3] = [
        ("Cast error: ", cast),
        ("Invalid argument error: ", invalid_argument),
        ("Parser error: ", parse),
    ];
    prefixes
        .iter()
        .find_map(|(prefix, words)| text.strip_prefix(prefix).map(words))
        .unwrap_or_else(|| text.to_string())
}

/// `Cannot cast string 'x' to value of Int32 type`, `Can't cast value
/// 300 to type Int8`.
fn cast(message: &str) -> String {
    static STRING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^Cannot cast string '(.*)' to value of (.+) type$").expect("a valid pattern")
    });
    static VALUE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^Can't cast value (.*) to type (.+)$").expect("a valid pattern")
    });
    if let Some(parts) = STRING.captures(message) {
        return format!("cannot cast '{}' to {}", &parts[1], sql_type(&parts[2]));
    }
    if let Some(parts) = VALUE.captures(message) {
        return format!(
            "cannot cast {} to {}: it is out of range",
            &parts[1],
            sql_type(&parts[2])
        );
    }
    format!("cannot cast: {message}")
}

/// `Error parsing timestamp from 'x': reason`.
fn parse(message: &str) -> String {
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^Error parsing timestamp from '(.*)': (.*)$").expect("a valid pattern")
    });
    match TIMESTAMP.captures(message) {
        Some(parts) => format!("cannot cast '{}' to DATETIME: {}", &parts[1], &parts[2]),
        None => format!("cannot parse: {message}"),
    }
}

/// `12.35 is too large to store in a Decimal128 of precision 3. Max is
/// 9.99`.
fn invalid_argument(message: &str) -> String {
    static DECIMAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(.*) is too large to store in a Decimal\d+ of precision (\d+)\. Max is (.*)$")
            .expect("a valid pattern")
    });
    match DECIMAL.captures(message) {
        Some(parts) => format!(
            "{} does not fit a DECIMAL of precision {}: the largest is {}",
            &parts[1], &parts[2], &parts[3]
        ),
        None => message.to_string(),
    }
}

/// The SQL name of an Arrow type as Arrow's messages write it.
pub(super) fn sql_type(arrow: &str) -> String {
    let name = match arrow {
        "Int8" => "TINYINT",
        "Int16" => "SMALLINT",
        "Int32" => "INT",
        "Int64" => "BIGINT",
        "UInt8" => "TINYINT UNSIGNED",
        "UInt16" => "SMALLINT UNSIGNED",
        "UInt32" => "INT UNSIGNED",
        "UInt64" => "BIGINT UNSIGNED",
        "Float32" => "FLOAT",
        "Float64" => "DOUBLE",
        "Boolean" => "BOOLEAN",
        "Date32" | "Date64" => "DATE",
        "Utf8" | "LargeUtf8" | "Utf8View" | "String" => "STRING",
        other if other.starts_with("Timestamp") => "DATETIME",
        other if other.starts_with("Decimal") => {
            let arguments = other
                .find('(')
                .map(|at| other[at..].replace(' ', ""))
                .unwrap_or_default();
            return format!("DECIMAL{arguments}");
        }
        other => other,
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_value_and_the_sql_type() {
        let cast = |m: &str| message(&ArrowError::CastError(m.into()));
        assert_eq!(
            cast("Cannot cast string 'x' to value of Int32 type"),
            "cannot cast 'x' to INT"
        );
        assert_eq!(
            cast("Can't cast value 300 to type Int8"),
            "cannot cast 300 to TINYINT: it is out of range"
        );
        assert_eq!(
            message(&ArrowError::ParseError(
                "Error parsing timestamp from 'x': timestamp must contain at least 10 characters"
                    .into()
            )),
            "cannot cast 'x' to DATETIME: timestamp must contain at least 10 characters"
        );
        assert_eq!(
            message(&ArrowError::InvalidArgumentError(
                "12.35 is too large to store in a Decimal128 of precision 3. Max is 9.99".into()
            )),
            "12.35 does not fit a DECIMAL of precision 3: the largest is 9.99"
        );
        assert_eq!(message(&ArrowError::DivideByZero), "division by zero");
        assert_eq!(sql_type("Decimal128(10, 2)"), "DECIMAL(10,2)");
    }
}
