//! tributary's results in MySQL's terms: a result set's Arrow schema as
//! MySQL column definitions, its rows as the text protocol sends them, and
//! an error as a MySQL error code with tributary's message.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
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
            let (coltype, mut colflags) = column_type(field.data_type());
            if !field.is_nullable() {
                colflags |= ColumnFlags::NOT_NULL_FLAG;
            }
            Column {
                table: String::new(),
                column: field.name().clone(),
                coltype,
                colflags,
            }
        })
        .collect()
}

/// The MySQL type (and flags) an Arrow type is sent as.
fn column_type(data_type: &DataType) -> (ColumnType, ColumnFlags) {
    let unsigned = ColumnFlags::UNSIGNED_FLAG;
    let none = ColumnFlags::empty();
    match data_type {
        DataType::Boolean | DataType::Int8 => (ColumnType::MYSQL_TYPE_TINY, none),
        DataType::UInt8 => (ColumnType::MYSQL_TYPE_TINY, unsigned),
        DataType::Int16 => (ColumnType::MYSQL_TYPE_SHORT, none),
        DataType::UInt16 => (ColumnType::MYSQL_TYPE_SHORT, unsigned),
        DataType::Int32 => (ColumnType::MYSQL_TYPE_LONG, none),
        DataType::UInt32 => (ColumnType::MYSQL_TYPE_LONG, unsigned),
        DataType::Int64 => (ColumnType::MYSQL_TYPE_LONGLONG, none),
        DataType::UInt64 => (ColumnType::MYSQL_TYPE_LONGLONG, unsigned),
        DataType::Float16 | DataType::Float32 => (ColumnType::MYSQL_TYPE_FLOAT, none),
        DataType::Float64 => (ColumnType::MYSQL_TYPE_DOUBLE, none),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => (ColumnType::MYSQL_TYPE_NEWDECIMAL, none),
        DataType::Date32 | DataType::Date64 => (ColumnType::MYSQL_TYPE_DATE, none),
        DataType::Timestamp(..) => (ColumnType::MYSQL_TYPE_DATETIME, none),
        DataType::Time32(_) | DataType::Time64(_) => (ColumnType::MYSQL_TYPE_TIME, none),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            (ColumnType::MYSQL_TYPE_BLOB, ColumnFlags::BINARY_FLAG)
        }
        DataType::Null => (ColumnType::MYSQL_TYPE_NULL, none),
        _ => (ColumnType::MYSQL_TYPE_VAR_STRING, none),
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
    let options = FormatOptions::default()
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f"));
    let columns: Vec<ArrayRef> = batch.columns().iter().map(as_sent).collect();
    let formatters = columns
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..batch.num_rows())
        .map(|row| {
            columns
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| {
                    (!column.is_null(row)).then(|| formatter.value(row).to_string())
                })
                .collect()
        })
        .collect())
}

/// A column as it is formatted for MySQL: booleans as integers.
fn as_sent(column: &ArrayRef) -> ArrayRef {
    match column.data_type() {
        DataType::Boolean => cast(column, &DataType::Int8).unwrap_or_else(|_| column.clone()),
        DataType::Timestamp(unit, Some(_)) => {
            cast(column, &DataType::Timestamp(*unit, None)).unwrap_or_else(|_| column.clone())
        }
        _ => column.clone(),
    }
}

/// The MySQL error an error is sent as (its code tells drivers what kind).
pub fn error_kind(error: &Error) -> ErrorKind {
    match error {
        Error::Syntax(_) => ErrorKind::ER_PARSE_ERROR,
        Error::UnknownDatabase(_) => ErrorKind::ER_BAD_DB_ERROR,
        Error::UnknownTable { .. } => ErrorKind::ER_NO_SUCH_TABLE,
        Error::DatabaseExists(_) => ErrorKind::ER_DB_CREATE_EXISTS,
        Error::TableExists { .. } => ErrorKind::ER_TABLE_EXISTS_ERROR,
        Error::NoDatabaseSelected => ErrorKind::ER_NO_DB_ERROR,
        Error::AccessDenied { .. } => ErrorKind::ER_TABLEACCESS_DENIED_ERROR,
        Error::NotNullViolation { .. } => ErrorKind::ER_BAD_NULL_ERROR,
        Error::Cancelled => ErrorKind::ER_QUERY_INTERRUPTED,
        Error::UnknownVariable { .. } => ErrorKind::ER_UNKNOWN_SYSTEM_VARIABLE,
        _ => ErrorKind::ER_UNKNOWN_ERROR,
    }
}
