//! Doris's date and time functions that DataFusion lacks or reads
//! otherwise: `YEAR`, `QUARTER`, `MONTH`, `DAY`/`DAYOFMONTH`, `HOUR`,
//! `MINUTE`, `SECOND`, `DAYOFYEAR`, `WEEKOFYEAR`, `DAYOFWEEK`, `WEEK`,
//! `DATEDIFF`, `DATE_ADD`/`ADDDATE`/`DAYS_ADD` and `DATE_SUB`/`SUBDATE`/
//! `DAYS_SUB` (an `INTERVAL` or a number of days), `YEARS_ADD` ...
//! `SECONDS_SUB` (a constant count of the unit), `LAST_DAY`, `TO_DAYS`,
//! `FROM_DAYS`, `DATE_FORMAT` and `STR_TO_DATE` with MySQL's format
//! specifiers (`%i` minutes, `%s` seconds, `%M` a month's name),
//! `UNIX_TIMESTAMP`, `FROM_UNIXTIME` with a format,
//! `TIMESTAMPDIFF(unit, a, b)` and `CURDATE()`.
//!
//! Times are UTC, the warehouse's time zone. Text arguments are read as
//! DATETIME, as Doris casts them. All but `STR_TO_DATE` and
//! `TIMESTAMPDIFF`, which compute, become the DataFusion expressions they
//! mean when the plan is simplified.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, IntervalMonthDayNano, TimeUnit};
use datafusion::common::{exec_err, plan_err, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::functions::datetime::expr_fn::{date_part, date_trunc, now, to_char};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    cast, ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::prelude::{lit, SessionContext};

use crate::catalog::sql_type_name as sql_type_of;

/// tributary's DATETIME.
const DATETIME: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

/// Days from 0000-01-01 to 1970-01-01, as MySQL's `TO_DAYS` counts them.
const DAYS_BEFORE_1970: i64 = 719_528;

/// What DataFusion's `from_unixtime` gives.
const SECONDS: DataType = DataType::Timestamp(TimeUnit::Second, None);

/// The functions that read one part of a date or time: Doris's name, the
/// part DataFusion's `date_part` reads, and what MySQL adds to it
/// (`DAYOFWEEK` counts Sunday as 1, `date_part` as 0).
const PARTS: [(&str, &str, i32); 11] = [
    ("year", "year", 0),
    ("quarter", "quarter", 0),
    ("month", "month", 0),
    ("day", "day", 0),
    ("dayofmonth", "day", 0),
    ("hour", "hour", 0),
    ("minute", "minute", 0),
    ("second", "second", 0),
    ("dayofyear", "doy", 0),
    ("weekofyear", "week", 0),
    ("dayofweek", "dow", 1),
];

const SECOND: i64 = 1_000_000_000;

/// Doris's `<unit>s_add` and `<unit>s_sub`: the unit as an interval's
/// months, days and nanoseconds, and the direction.
const SHIFTS: [(&str, i32, i32, i64, i64); 12] = [
    ("years_add", 12, 0, 0, 1),
    ("years_sub", 12, 0, 0, -1),
    ("months_add", 1, 0, 0, 1),
    ("months_sub", 1, 0, 0, -1),
    ("weeks_add", 0, 7, 0, 1),
    ("weeks_sub", 0, 7, 0, -1),
    ("hours_add", 0, 0, 3600 * SECOND, 1),
    ("hours_sub", 0, 0, 3600 * SECOND, -1),
    ("minutes_add", 0, 0, 60 * SECOND, 1),
    ("minutes_sub", 0, 0, 60 * SECOND, -1),
    ("seconds_add", 0, 0, SECOND, 1),
    ("seconds_sub", 0, 0, SECOND, -1),
];

/// Registers the functions.
pub(crate) fn register(ctx: &SessionContext) {
    for (name, part, offset) in PARTS {
        register_planned(ctx, name, Planned::Part { part, offset });
    }
    register_planned(ctx, "datediff", Planned::DateDiff);
    for (name, sign) in [
        ("date_add", 1),
        ("adddate", 1),
        ("days_add", 1),
        ("date_sub", -1),
        ("subdate", -1),
        ("days_sub", -1),
    ] {
        register_planned(ctx, name, Planned::Shift { sign });
    }
    for (name, months, days, nanos, sign) in SHIFTS {
        let planned = Planned::ShiftBy {
            months,
            days,
            nanos,
            sign,
        };
        register_planned(ctx, name, planned);
    }
    register_planned(ctx, "week", Planned::Week);
    register_planned(ctx, "to_days", Planned::ToDays);
    register_planned(ctx, "from_days", Planned::FromDays);
    register_planned(ctx, "last_day", Planned::LastDay);
    register_planned(ctx, "date_format", Planned::Format);
    register_planned(ctx, "unix_timestamp", Planned::UnixTimestamp);
    register_planned(ctx, "from_unixtime", Planned::FromUnixtime);
    ctx.register_udf(ScalarUDF::new_from_impl(StrToDate::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(TimestampDiff::default()));
    if let Ok(current_date) = ctx.udf("current_date") {
        ctx.register_udf(current_date.as_ref().clone().with_aliases(["curdate"]));
    }
}

fn register_planned(ctx: &SessionContext, name: &'static str, planned: Planned) {
    let volatility = match planned {
        // UNIX_TIMESTAMP() reads the clock.
        Planned::UnixTimestamp => Volatility::Stable,
        _ => Volatility::Immutable,
    };
    ctx.register_udf(ScalarUDF::new_from_impl(DorisDateFunction {
        name,
        planned,
        signature: Signature::user_defined(volatility),
    }));
}

/// What a [`DorisDateFunction`] is planned as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Planned {
    /// `CAST(date_part(part, x) AS INT) + offset`.
    Part {
        part: &'static str,
        offset: i32,
    },
    /// The days from the second date to the first.
    DateDiff,
    /// `x + interval` (or `x - interval`), or `n` days later (earlier).
    Shift {
        sign: i64,
    },
    /// `n` of a unit later (earlier): the unit as an interval's parts.
    ShiftBy {
        months: i32,
        days: i32,
        nanos: i64,
        sign: i64,
    },
    /// MySQL's `WEEK(date[, mode])` for the modes chrono counts alike.
    Week,
    /// Days since year 0 (`TO_DAYS`), and back (`FROM_DAYS`).
    ToDays,
    FromDays,
    /// The last day of the date's month.
    LastDay,
    /// `to_char` with the format's MySQL specifiers in chrono's words.
    Format,
    /// Seconds since 1970-01-01 00:00:00 UTC of now or of a date.
    UnixTimestamp,
    /// The DATETIME (or, with a format, the text) of seconds since
    /// 1970-01-01 00:00:00 UTC.
    FromUnixtime,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DorisDateFunction {
    name: &'static str,
    planned: Planned,
    signature: Signature,
}

impl DorisDateFunction {
    fn upper(&self) -> String {
        self.name.to_uppercase()
    }

    /// A DATE or DATETIME argument as it is, text as DATETIME.
    fn temporal(&self, data_type: &DataType) -> Result<DataType> {
        match data_type {
            DataType::Date32 | DataType::Timestamp(_, _) => Ok(data_type.clone()),
            DataType::Date64 => Ok(DataType::Date32),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
                Ok(DATETIME)
            }
            other => plan_err!(
                "{}() takes a DATE or DATETIME, not {}: CAST the value AS DATE or AS DATETIME",
                self.upper(),
                sql_type_of(other)
            ),
        }
    }

    fn arguments<const N: usize>(&self, args: &[DataType], form: &str) -> Result<[DataType; N]> {
        <[DataType; N]>::try_from(args.to_vec()).or_else(|_| {
            plan_err!(
                "{}() takes {N} argument{}: {}",
                self.upper(),
                if N == 1 { "" } else { "s" },
                form
            )
        })
    }

    fn form(&self) -> String {
        let name = self.upper();
        match self.planned {
            Planned::Part { .. } | Planned::LastDay => format!("{name}(date)"),
            Planned::DateDiff => format!("{name}(date1, date2)"),
            Planned::Shift { .. } => format!("{name}(date, INTERVAL n DAY) or {name}(date, n)"),
            Planned::ShiftBy { .. } => format!("{name}(date, n)"),
            Planned::Week => format!("{name}(date) or {name}(date, mode)"),
            Planned::ToDays => format!("{name}(date)"),
            Planned::FromDays => format!("{name}(days)"),
            Planned::Format => format!("{name}(date, '%Y-%m-%d %H:%i:%s')"),
            Planned::UnixTimestamp => format!("{name}() or {name}(date)"),
            Planned::FromUnixtime => format!("{name}(seconds) or {name}(seconds, '%Y-%m-%d')"),
        }
    }
}

impl ScalarUDFImpl for DorisDateFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let form = &self.form();
        match self.planned {
            Planned::Part { .. } | Planned::LastDay | Planned::ToDays => {
                let [x] = self.arguments(arg_types, form)?;
                Ok(vec![self.temporal(&x)?])
            }
            Planned::ShiftBy { .. } => {
                let [x, n] = self.arguments(arg_types, form)?;
                Ok(vec![self.temporal(&x)?, self.whole_number(&n, form)?])
            }
            Planned::Week => match arg_types {
                [x] => Ok(vec![self.temporal(x)?]),
                [x, mode] => Ok(vec![self.temporal(x)?, self.whole_number(mode, form)?]),
                _ => plan_err!("{}() takes 1 or 2 arguments: {form}", self.upper()),
            },
            Planned::FromDays => {
                let [n] = self.arguments(arg_types, form)?;
                Ok(vec![self.whole_number(&n, form)?])
            }
            Planned::DateDiff => {
                let [a, b] = self.arguments(arg_types, form)?;
                Ok(vec![self.temporal(&a)?, self.temporal(&b)?])
            }
            Planned::Shift { .. } => {
                let [x, by] = self.arguments(arg_types, form)?;
                let by = match by {
                    DataType::Interval(_) => by,
                    t if t.is_integer() || t == DataType::Null => DataType::Int64,
                    other => {
                        return plan_err!(
                            "{}() adds an INTERVAL or a whole number of days, not {}: {form}",
                            self.upper(),
                            sql_type_of(&other)
                        )
                    }
                };
                Ok(vec![self.temporal(&x)?, by])
            }
            Planned::Format => {
                let [x, _] = self.arguments(arg_types, form)?;
                // The format may ask for the time of a DATE (midnight).
                let x = match self.temporal(&x)? {
                    DataType::Date32 => DATETIME,
                    x => x,
                };
                Ok(vec![x, DataType::Utf8])
            }
            Planned::UnixTimestamp => match arg_types {
                [] => Ok(vec![]),
                [x] => Ok(vec![self.temporal(x)?]),
                _ => plan_err!("{}() takes no argument or a date: {form}", self.upper()),
            },
            Planned::FromUnixtime => {
                let seconds = |t: &DataType| {
                    if t.is_numeric() || t == &DataType::Null {
                        Ok(DataType::Int64)
                    } else {
                        plan_err!(
                            "{}() takes a number of seconds, not {}: {form}",
                            self.upper(),
                            sql_type_of(t)
                        )
                    }
                };
                match arg_types {
                    [x] => Ok(vec![seconds(x)?]),
                    [x, _] => Ok(vec![seconds(x)?, DataType::Utf8]),
                    _ => plan_err!("{}() takes 1 or 2 arguments: {form}", self.upper()),
                }
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.planned {
            Planned::Part { .. } | Planned::DateDiff | Planned::Week => DataType::Int32,
            Planned::ToDays => DataType::Int64,
            Planned::FromDays => DataType::Date32,
            Planned::ShiftBy { .. } => arg_types[0].clone(),
            Planned::Shift { .. } => arg_types[0].clone(),
            Planned::LastDay => DataType::Date32,
            Planned::Format => DataType::Utf8,
            Planned::UnixTimestamp => DataType::Int64,
            Planned::FromUnixtime if arg_types.len() == 1 => SECONDS,
            Planned::FromUnixtime => DataType::Utf8,
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let data_type = match (self.planned, args.scalar_arguments.get(1)) {
            (Planned::Shift { .. }, Some(by)) => shifted_type(&types[0], *by),
            (Planned::ShiftBy { nanos, .. }, _) => by_unit_type(&types[0], nanos),
            _ => self.return_type(&types)?,
        };
        Ok(Arc::new(Field::new(self.name, data_type, true)))
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let planned = match self.planned {
            Planned::Part { part, offset } => {
                let [x] = exprs(args)?;
                let value = cast(date_part(lit(part), x), DataType::Int32);
                if offset == 0 {
                    value
                } else {
                    value + lit(offset)
                }
            }
            Planned::DateDiff => {
                let [a, b] = exprs(args)?;
                let days = |x| cast(cast(x, DataType::Date32), DataType::Int32);
                days(a) - days(b)
            }
            Planned::Shift { sign } => {
                let [x, by] = exprs(args)?;
                let x_type = info.get_data_type(&x)?;
                let by_type = info.get_data_type(&by)?;
                shift(x, &x_type, by, &by_type, sign)?
            }
            Planned::ShiftBy { sign, nanos, .. } => {
                let [x, n] = exprs(args)?;
                let x_type = by_unit_type(&info.get_data_type(&x)?, nanos);
                let x = cast(x, x_type.clone());
                let Expr::Literal(n, _) = n else {
                    return plan_err!(
                        "{}'s count must be a constant whole number: {}",
                        self.upper(),
                        self.form()
                    );
                };
                let interval = self.interval_of(&n)?;
                let by_type = interval.data_type();
                shift(x, &x_type, lit(interval), &by_type, sign)?
            }
            Planned::Week => {
                let mut args = args.into_iter();
                let x = args
                    .next()
                    .ok_or_else(|| DataFusionError::Plan(self.form()))?;
                let week = match args.next() {
                    None | Some(Expr::Literal(ScalarValue::Int64(Some(0)), _)) => "%U",
                    Some(Expr::Literal(ScalarValue::Int64(Some(3)), _)) => "%V",
                    Some(Expr::Literal(ScalarValue::Int64(Some(5)), _)) => "%W",
                    Some(_) => {
                        return plan_err!(
                            "WEEK's mode must be 0 (weeks from Sunday, 0-53), 3 (ISO weeks) or 5 (weeks from Monday, 0-53)"
                        )
                    }
                };
                cast(to_char(cast(x, DATETIME), lit(week)), DataType::Int32)
            }
            Planned::ToDays => {
                let [x] = exprs(args)?;
                let days = cast(
                    cast(cast(x, DataType::Date32), DataType::Int32),
                    DataType::Int64,
                );
                days + lit(DAYS_BEFORE_1970)
            }
            Planned::FromDays => {
                let [n] = exprs(args)?;
                cast(
                    cast(n - lit(DAYS_BEFORE_1970), DataType::Int32),
                    DataType::Date32,
                )
            }
            Planned::LastDay => {
                let [x] = exprs(args)?;
                let month = date_trunc(lit("month"), cast(x, DATETIME));
                let to_last_day =
                    ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(1, -1, 0)));
                cast(month + lit(to_last_day), DataType::Date32)
            }
            Planned::Format => {
                let [x, format] = exprs(args)?;
                self.formatted(x, format)?
            }
            Planned::UnixTimestamp => {
                let x = match <[Expr; 1]>::try_from(args) {
                    Ok([x]) => x,
                    Err(_) => now(),
                };
                cast(date_part(lit("epoch"), x), DataType::Int64)
            }
            Planned::FromUnixtime => {
                let mut args = args.into_iter();
                let seconds = args.next().ok_or_else(|| {
                    DataFusionError::Plan(format!("{}() takes 1 or 2 arguments", self.upper()))
                })?;
                let time = cast(seconds, SECONDS);
                match args.next() {
                    Some(format) => self.formatted(time, format)?,
                    None => time,
                }
            }
        };
        Ok(ExprSimplifyResult::Simplified(planned))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("{}() is planned as DataFusion expressions", self.upper())
    }
}

impl DorisDateFunction {
    /// An integer argument, as BIGINT.
    fn whole_number(&self, data_type: &DataType, form: &str) -> Result<DataType> {
        if data_type.is_integer() || data_type == &DataType::Null {
            return Ok(DataType::Int64);
        }
        plan_err!(
            "{}() takes a whole number here, not {}: {form}",
            self.upper(),
            sql_type_of(data_type)
        )
    }

    /// The interval of `n` of a [`Planned::ShiftBy`]'s unit.
    fn interval_of(&self, n: &ScalarValue) -> Result<ScalarValue> {
        let Planned::ShiftBy {
            months,
            days,
            nanos,
            ..
        } = self.planned
        else {
            return plan_err!("{}() moves by no unit", self.upper());
        };
        let n = match n {
            ScalarValue::Int64(Some(n)) => *n,
            ScalarValue::Int64(None) | ScalarValue::Null => {
                return Ok(ScalarValue::IntervalMonthDayNano(None))
            }
            _ => return plan_err!("{}'s count must be a whole number", self.upper()),
        };
        let too_far = || DataFusionError::Plan(format!("{}() moves too far: {n}", self.upper()));
        let part = |unit: i64| unit.checked_mul(n).ok_or_else(too_far);
        Ok(ScalarValue::IntervalMonthDayNano(Some(
            IntervalMonthDayNano::new(
                i32::try_from(part(months.into())?).map_err(|_| too_far())?,
                i32::try_from(part(days.into())?).map_err(|_| too_far())?,
                part(nanos)?,
            ),
        )))
    }

    /// `to_char(x, format)`, the constant `format` in chrono's words.
    fn formatted(&self, x: Expr, format: Expr) -> Result<Expr> {
        match format {
            Expr::Literal(ScalarValue::Utf8(Some(format)), _) => {
                Ok(to_char(x, lit(chrono_format(&format, Use::Format)?)))
            }
            Expr::Literal(ScalarValue::Utf8(None), _) => Ok(lit(ScalarValue::Utf8(None))),
            _ => plan_err!(
                "{}'s format must be a constant string, such as '%Y-%m-%d %H:%i:%s'",
                self.upper()
            ),
        }
    }
}

fn exprs<const N: usize>(args: Vec<Expr>) -> Result<[Expr; N]> {
    <[Expr; N]>::try_from(args)
        .map_err(|_| DataFusionError::Plan(format!("expected {N} arguments")))
}

/// The type of `x + by`: a DATE stays a DATE unless the interval has a time
/// of day, as in Doris (`DATE_ADD(DATE '2024-01-01', INTERVAL 1 HOUR)` is a
/// DATETIME).
fn shifted_type(x: &DataType, by: Option<&ScalarValue>) -> DataType {
    match (x, by) {
        (DataType::Date32, Some(ScalarValue::IntervalMonthDayNano(Some(v))))
            if v.nanoseconds != 0 =>
        {
            DATETIME
        }
        _ => x.clone(),
    }
}

/// The type of a DATE or DATETIME moved by a unit: a DATE moved by hours,
/// minutes or seconds is a DATETIME.
fn by_unit_type(x: &DataType, nanos: i64) -> DataType {
    match x {
        DataType::Date32 if nanos != 0 => DATETIME,
        _ => x.clone(),
    }
}

/// `x` moved by `by` (an interval, or a number of days) in direction `sign`.
fn shift(x: Expr, x_type: &DataType, by: Expr, by_type: &DataType, sign: i64) -> Result<Expr> {
    let signed = |e: Expr| if sign < 0 { -e } else { e };
    if let DataType::Interval(_) = by_type {
        let x = match &by {
            Expr::Literal(interval, _) if shifted_type(x_type, Some(interval)) != *x_type => {
                cast(x, DATETIME)
            }
            _ => x,
        };
        return Ok(if sign < 0 { x - by } else { x + by });
    }
    Ok(match x_type {
        DataType::Date32 => {
            let days = cast(x, DataType::Int32) + signed(cast(by, DataType::Int32));
            cast(days, DataType::Date32)
        }
        DataType::Timestamp(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Second => 86_400,
                TimeUnit::Millisecond => 86_400_000,
                TimeUnit::Microsecond => 86_400_000_000,
                TimeUnit::Nanosecond => 86_400_000_000_000,
            };
            let moved = cast(x, DataType::Int64) + signed(cast(by, DataType::Int64) * lit(per_day));
            cast(moved, x_type.clone())
        }
        other => return plan_err!("cannot move a {} by days", sql_type_of(other)),
    })
}

/// What a format string is for: printing a value or parsing text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Format,
    Parse,
}

/// MySQL's date format (`%Y-%m-%d %H:%i:%s`) in chrono's specifiers
/// (`%Y-%m-%d %H:%M:%S`). A `%` before a character MySQL gives no meaning
/// stands for that character, as in MySQL.
fn chrono_format(mysql: &str, purpose: Use) -> Result<String> {
    let mut out = String::with_capacity(mysql.len() + 8);
    let mut chars = mysql.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(specifier) = chars.next() else {
            out.push_str("%%");
            break;
        };
        let unpadded = |padded: &'static str, bare: &'static str| match purpose {
            Use::Format => bare,
            Use::Parse => padded,
        };
        let chrono = match specifier {
            'Y' => "%Y",
            'y' => "%y",
            'm' => "%m",
            'c' => unpadded("%m", "%-m"),
            'd' => "%d",
            'e' => unpadded("%d", "%-d"),
            'H' => "%H",
            'k' => unpadded("%H", "%-H"),
            'h' | 'I' => "%I",
            'l' => unpadded("%I", "%-I"),
            'i' => "%M",
            's' | 'S' => "%S",
            // MySQL's digits after a point are a fraction of a second;
            // chrono reads them so as `%.f`, the point included.
            'f' if purpose == Use::Parse && out.ends_with('.') => {
                out.pop();
                "%.f"
            }
            'f' => "%6f",
            'p' => "%p",
            'M' => "%B",
            'b' => "%b",
            'W' => "%A",
            'a' => "%a",
            'j' => "%j",
            'T' => "%H:%M:%S",
            'r' => "%I:%M:%S %p",
            'w' => "%w",
            'U' => "%U",
            'u' => "%W",
            'v' => "%V",
            'x' => "%G",
            '%' => "%%",
            'D' | 'V' | 'X' => {
                return plan_err!(
                    "the date format specifier %{specifier} is not supported: write the day as %d and weeks as %U, %u or %v with %Y or %x"
                )
            }
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(chrono);
    }
    Ok(out)
}

/// Whether a MySQL format reads a time of day, not only a date.
fn reads_time(mysql: &str) -> bool {
    let mut chars = mysql.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            if let Some(s) = chars.next() {
                if "HkhIlisSfpTr".contains(s) {
                    return true;
                }
            }
        }
    }
    false
}

/// `STR_TO_DATE(text, format)`: the DATETIME (or DATE, when the format
/// reads no time of day) the text holds in the MySQL format; NULL for text
/// that does not match, as in Doris.
#[derive(Debug, PartialEq, Eq, Hash)]
struct StrToDate {
    signature: Signature,
}

impl Default for StrToDate {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for StrToDate {
    fn name(&self) -> &str {
        "str_to_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!("STR_TO_DATE() takes 2 arguments: STR_TO_DATE(text, '%Y-%m-%d')");
        }
        Ok(vec![DataType::Utf8, DataType::Utf8])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DATETIME)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let data_type = match args.scalar_arguments.get(1) {
            Some(Some(ScalarValue::Utf8(Some(format)))) if !reads_time(format) => DataType::Date32,
            _ => DATETIME,
        };
        Ok(Arc::new(Field::new("str_to_date", data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text, format] = <[ColumnarValue; 2]>::try_from(args.args)
            .map_err(|_| DataFusionError::Plan("STR_TO_DATE() takes 2 arguments".into()))?;
        let ColumnarValue::Scalar(ScalarValue::Utf8(format)) = format else {
            return exec_err!("STR_TO_DATE's format must be a constant string, such as '%Y-%m-%d'");
        };
        let date_only = args.return_field.data_type() == &DataType::Date32;
        let chrono = match &format {
            Some(format) => Some(chrono_format(format, Use::Parse)?),
            None => None,
        };
        let scalar = matches!(text, ColumnarValue::Scalar(_));
        let texts = text.into_array(1)?;
        let texts = datafusion::arrow::compute::cast(&texts, &DataType::Utf8)?;
        let texts = texts
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("cast to Utf8 gives a StringArray");
        let parsed: ArrayRef = if date_only {
            Arc::new(
                texts
                    .iter()
                    .map(|t| parse_date(t?, chrono.as_deref()?))
                    .collect::<Date32Array>(),
            )
        } else {
            Arc::new(
                texts
                    .iter()
                    .map(|t| parse_datetime(t?, chrono.as_deref()?))
                    .collect::<TimestampMicrosecondArray>(),
            )
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&parsed, 0)?)
        } else {
            ColumnarValue::Array(parsed)
        })
    }
}

/// Days since 1970-01-01 of the date `text` holds in `format`.
fn parse_date(text: &str, format: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(text.trim(), format).ok()?;
    Some(date.signed_duration_since(NaiveDate::default()).num_days() as i32)
}

/// Microseconds since 1970-01-01 00:00:00 of the time `text` holds in
/// `format`.
fn parse_datetime(text: &str, format: &str) -> Option<i64> {
    let time = NaiveDateTime::parse_from_str(text.trim(), format).ok()?;
    Some(time.and_utc().timestamp_micros())
}

/// `TIMESTAMPDIFF(unit, a, b)`: the whole `unit`s from `a` to `b`, cut
/// toward zero, as MySQL and Doris count them (a month is whole when the
/// day and time of `b` reach those of `a`). The unit is written as a word
/// and read as text (`mysql_functions::rewrite_casts`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct TimestampDiff {
    signature: Signature,
}

impl Default for TimestampDiff {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// A TIMESTAMPDIFF unit: microseconds in it, or months.
#[derive(Clone, Copy)]
enum DiffUnit {
    Micros(i64),
    Months(i64),
}

fn diff_unit(unit: &str) -> Option<DiffUnit> {
    Some(match unit.to_ascii_uppercase().as_str() {
        "MICROSECOND" => DiffUnit::Micros(1),
        "SECOND" => DiffUnit::Micros(1_000_000),
        "MINUTE" => DiffUnit::Micros(60_000_000),
        "HOUR" => DiffUnit::Micros(3_600_000_000),
        "DAY" => DiffUnit::Micros(86_400_000_000),
        "WEEK" => DiffUnit::Micros(7 * 86_400_000_000),
        "MONTH" => DiffUnit::Months(1),
        "QUARTER" => DiffUnit::Months(3),
        "YEAR" => DiffUnit::Months(12),
        _ => return None,
    })
}

/// Whole months from `a` to `b`, cut toward zero.
fn whole_months(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    use chrono::Datelike;
    let months = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month())
        - i64::from(a.month());
    let rest = |t: NaiveDateTime| (t.day(), t.time());
    if months > 0 && rest(b) < rest(a) {
        months - 1
    } else if months < 0 && rest(b) > rest(a) {
        months + 1
    } else {
        months
    }
}

/// Whole `unit`s from `a` to `b` (microseconds since 1970).
fn units_between(unit: DiffUnit, a: i64, b: i64) -> Option<i64> {
    match unit {
        DiffUnit::Micros(per_unit) => Some((b - a) / per_unit),
        DiffUnit::Months(per_unit) => {
            let time = |t| chrono::DateTime::from_timestamp_micros(t).map(|t| t.naive_utc());
            Some(whole_months(time(a)?, time(b)?) / per_unit)
        }
    }
}

impl ScalarUDFImpl for TimestampDiff {
    fn name(&self) -> &str {
        "timestampdiff"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return plan_err!("TIMESTAMPDIFF() takes 3 arguments: TIMESTAMPDIFF(DAY, from, to)");
        }
        Ok(vec![DataType::Utf8, DATETIME, DATETIME])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [unit, from, to] = <[ColumnarValue; 3]>::try_from(args.args)
            .map_err(|_| DataFusionError::Plan("TIMESTAMPDIFF() takes 3 arguments".into()))?;
        let ColumnarValue::Scalar(ScalarValue::Utf8(Some(unit))) = unit else {
            return exec_err!("TIMESTAMPDIFF's unit must be a word such as DAY or MONTH");
        };
        let Some(unit) = diff_unit(&unit) else {
            return exec_err!(
                "TIMESTAMPDIFF's unit must be MICROSECOND, SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR, not {unit}"
            );
        };
        let scalar = matches!(
            (&from, &to),
            (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_))
        );
        let micros = |value: ColumnarValue| -> Result<TimestampMicrosecondArray> {
            let array = value.into_array(rows)?;
            array
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .cloned()
                .ok_or_else(|| DataFusionError::Execution("TIMESTAMPDIFF reads DATETIMEs".into()))
        };
        let (from, to) = (micros(from)?, micros(to)?);
        let diff: Int64Array = from
            .iter()
            .zip(to.iter())
            .map(|(a, b)| units_between(unit, a?, b?))
            .collect();
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&diff, 0)?)
        } else {
            ColumnarValue::Array(Arc::new(diff))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_formats_read_as_chrono_formats() {
        let format = chrono_format("%Y-%m-%d %H:%i:%s.%f %W %M %e %c %%x %q", Use::Format).unwrap();
        assert_eq!(format, "%Y-%m-%d %H:%M:%S.%6f %A %B %-d %-m %%x q");
        assert_eq!(
            chrono_format("%e/%c/%Y %k", Use::Parse).unwrap(),
            "%d/%m/%Y %H"
        );
        assert_eq!(chrono_format("%s.%f", Use::Parse).unwrap(), "%S%.f");
        assert!(chrono_format("%D", Use::Format).is_err());
        assert!(reads_time("%Y%m%d %H") && !reads_time("%Y-%m-%d %%H"));
    }

    #[test]
    fn a_month_is_whole_when_the_day_and_time_reach_the_start() {
        let t = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            whole_months(t("2024-01-31 10:00:00"), t("2024-02-29 10:00:00")),
            0
        );
        assert_eq!(
            whole_months(t("2024-01-15 10:00:00"), t("2024-02-15 10:00:00")),
            1
        );
        assert_eq!(
            whole_months(t("2024-01-15 10:00:00"), t("2024-02-15 09:59:59")),
            0
        );
        assert_eq!(
            whole_months(t("2024-03-15 00:00:00"), t("2023-03-15 00:00:01")),
            -11
        );
        assert_eq!(
            whole_months(t("2024-03-15 00:00:00"), t("2023-03-15 00:00:00")),
            -12
        );
    }
}
