//! tributary's results in MySQL's terms: a result set's Arrow schema as
//! MySQL column definitions, its rows as the text protocol sends them, and
//! an error as a MySQL error code with tributary's message.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use opensrv_mysql::{Column, ColumnFlags, ColumnType, ErrorKind, RowWriter};
use tokio::io::AsyncWrite;

use crate::error::Error;
use crate::session::StatementResult;

/// The MySQL column definitions of `schema`.
pub fn columns(schema: &Schema) -> Vec<Column> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let data_type = field.data_type();
            let (coltype, mut colflags) = column_type(data_type);
            if !field.is_nullable() {
                colflags |= ColumnFlags::NOT_NULL_FLAG;
            }
            let (column_length, decimals) = length_and_decimals(data_type);
            Column {
                table: String::new(),
                column: field.name().clone(),
                coltype,
                colflags,
                column_length,
                decimals,
            }
        })
        .collect()
}

/// The MySQL type (and flags) an Arrow type is sent as. Numbers, dates
/// and bytes are binary, as MySQL marks them.
fn column_type(data_type: &DataType) -> (ColumnType, ColumnFlags) {
    let number = ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG;
    let unsigned = number | ColumnFlags::UNSIGNED_FLAG;
    let binary = ColumnFlags::BINARY_FLAG;
    let none = ColumnFlags::empty();
    match data_type {
        DataType::Boolean | DataType::Int8 => (ColumnType::MYSQL_TYPE_TINY, number),
        DataType::UInt8 => (ColumnType::MYSQL_TYPE_TINY, unsigned),
        DataType::Int16 => (ColumnType::MYSQL_TYPE_SHORT, number),
        DataType::UInt16 => (ColumnType::MYSQL_TYPE_SHORT, unsigned),
        DataType::Int32 => (ColumnType::MYSQL_TYPE_LONG, number),
        DataType::UInt32 => (ColumnType::MYSQL_TYPE_LONG, unsigned),
        DataType::Int64 => (ColumnType::MYSQL_TYPE_LONGLONG, number),
        DataType::UInt64 => (ColumnType::MYSQL_TYPE_LONGLONG, unsigned),
        DataType::Float16 | DataType::Float32 => (ColumnType::MYSQL_TYPE_FLOAT, number),
        DataType::Float64 => (ColumnType::MYSQL_TYPE_DOUBLE, number),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => (ColumnType::MYSQL_TYPE_NEWDECIMAL, number),
        DataType::Date32 | DataType::Date64 => (ColumnType::MYSQL_TYPE_DATE, binary),
        DataType::Timestamp(..) => (ColumnType::MYSQL_TYPE_DATETIME, binary),
        DataType::Time32(_) | DataType::Time64(_) => (ColumnType::MYSQL_TYPE_TIME, binary),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            (ColumnType::MYSQL_TYPE_BLOB, binary)
        }
        DataType::Null => (ColumnType::MYSQL_TYPE_NULL, binary),
        _ => (ColumnType::MYSQL_TYPE_VAR_STRING, none),
    }
}

/// MySQL's display length and decimals of a column of `data_type`: a
/// DECIMAL's precision and scale, the fractional digits of a DATETIME,
/// 31 (not fixed) for floating point.
fn length_and_decimals(data_type: &DataType) -> (u32, u8) {
    const NOT_FIXED: u8 = 31;
    match data_type {
        DataType::Boolean => (1, 0),
        DataType::Int8 | DataType::UInt8 => (4, 0),
        DataType::Int16 | DataType::UInt16 => (6, 0),
        DataType::Int32 | DataType::UInt32 => (11, 0),
        DataType::Int64 | DataType::UInt64 => (20, 0),
        DataType::Float16 | DataType::Float32 => (12, NOT_FIXED),
        DataType::Float64 => (22, NOT_FIXED),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            decimal(*p, *s)
        }
        DataType::Decimal256(p, s) => decimal(*p, *s),
        DataType::Date32 | DataType::Date64 => (10, 0),
        DataType::Timestamp(unit, _) => {
            let digits = fraction_digits(unit);
            (19 + u32::from(digits) + u32::from(digits > 0), digits)
        }
        DataType::Time32(_) | DataType::Time64(_) => (17, 6),
        DataType::Null => (0, 0),
        // Up to 65,535 characters of up to 4 bytes.
        _ => (262_140, 0),
    }
}

fn decimal(precision: u8, scale: i8) -> (u32, u8) {
    let scale = scale.max(0) as u8;
    // Digits, a sign and a point.
    (u32::from(precision) + 1 + u32::from(scale > 0), scale)
}

/// The fractional-second digits a timestamp is sent with: MySQL's
/// DATETIME has at most 6.
fn fraction_digits(unit: &TimeUnit) -> u8 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond | TimeUnit::Nanosecond => 6,
    }
}

/// Writes the rows of `result` as the text protocol sends them: each
/// value as text (booleans as 1 and 0, dates and times as MySQL writes
/// them), NULL as NULL.
pub async fn write_rows<W: AsyncWrite + Send + Unpin>(
    writer: &mut RowWriter<'_, W>,
    result: &StatementResult,
) -> std::io::Result<()> {
    for batch in &result.batches {
        for row in formatted(batch).map_err(std::io::Error::other)? {
            for value in row {
                writer.write_col(value)?;
            }
            writer.end_row().await?;
        }
    }
    Ok(())
}

/// The values of `batch`, row by row, as text (`None` for NULL).
fn formatted(batch: &RecordBatch) -> Result<Vec<Vec<Option<String>>>, ArrowError> {
    let options = crate::display::format_options("");
    let columns: Vec<ArrayRef> = batch.columns().iter().map(as_sent).collect();
    let formatters = columns
        .iter()
        .map(|c| crate::display::formatter(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    // Logical nulls: a NULL literal's column has no null buffer.
    let nulls: Vec<_> = columns.iter().map(|c| c.logical_nulls()).collect();
    Ok((0..batch.num_rows())
        .map(|row| {
            nulls
                .iter()
                .zip(&formatters)
                .map(|(nulls, formatter)| {
                    let null = nulls.as_ref().is_some_and(|n| n.is_null(row));
                    (!null).then(|| formatter.value(row).to_string())
                })
                .collect()
        })
        .collect())
}

/// A column as it is formatted for MySQL: booleans as integers,
/// timestamps in local time to the microsecond (MySQL's DATETIME has at
/// most 6 fractional digits).
fn as_sent(column: &ArrayRef) -> ArrayRef {
    match column.data_type() {
        DataType::Boolean => cast(column, &DataType::Int8).unwrap_or_else(|_| column.clone()),
        DataType::Timestamp(unit, zone) if zone.is_some() || *unit == TimeUnit::Nanosecond => {
            let sent = (*unit).min(TimeUnit::Microsecond);
            cast(column, &DataType::Timestamp(sent, None)).unwrap_or_else(|_| column.clone())
        }
        _ => column.clone(),
    }
}

/// The MySQL error an error is sent as (its code tells drivers what kind).
pub fn error_kind(error: &Error) -> ErrorKind {
    match error {
        Error::Syntax(_) | Error::SyntaxAt(_) => ErrorKind::ER_PARSE_ERROR,
        Error::UnknownDatabase(_) => ErrorKind::ER_BAD_DB_ERROR,
        Error::UnknownTable { .. } => ErrorKind::ER_NO_SUCH_TABLE,
        Error::DatabaseExists(_) => ErrorKind::ER_DB_CREATE_EXISTS,
        Error::TableExists { .. } => ErrorKind::ER_TABLE_EXISTS_ERROR,
        Error::NoDatabaseSelected => ErrorKind::ER_NO_DB_ERROR,
        Error::AccessDenied { .. } => ErrorKind::ER_TABLEACCESS_DENIED_ERROR,
        Error::NotNullViolation { .. } => ErrorKind::ER_BAD_NULL_ERROR,
        Error::Cancelled => ErrorKind::ER_QUERY_INTERRUPTED,
        Error::UnknownVariable { .. } => ErrorKind::ER_UNKNOWN_SYSTEM_VARIABLE,
        Error::UnknownConnection(_) => ErrorKind::ER_NO_SUCH_THREAD,
        _ => ErrorKind::ER_UNKNOWN_ERROR,
    }
}
