//! [`Conversion`]: turns a load's rows into the target table's column
//! types, leaving out (filtering) the rows that cannot be converted instead
//! of failing the whole load, and describing the first one.
//!
//! A row is filtered when a non-NULL value does not convert to its
//! column's type (`'abc'` into INT, an out-of-range number, a bad date),
//! or when a NOT NULL column would get NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array};
use datafusion::arrow::compute::kernels::boolean::{and_not, or};
use datafusion::arrow::compute::{cast_with_options, filter_record_batch, is_null, CastOptions};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;

use super::json;
use crate::catalog::SqlType;
use crate::error::Result;

/// Longest value quoted in a message.
const MAX_QUOTED_CHARS: usize = 64;

/// Converts batches to a table's schema.
#[derive(Debug, Clone)]
pub struct Conversion {
    target: SchemaRef,
    /// The SQL type of each target column.
    types: Vec<SqlType>,
}

/// Rows left out of one batch that are described (with their values), at
/// most.
pub const MAX_DESCRIBED_ROWS: usize = 1000;

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The row's index in the batch.
    pub row: usize,
    pub reason: String,
}

/// A converted batch.
#[derive(Debug)]
pub struct Converted {
    /// The rows that converted, in the table's schema.
    pub batch: RecordBatch,
    /// How many rows were left out.
    pub filtered: usize,
    /// The first row left out.
    pub first: Option<Rejected>,
    /// The rows left out, in order, with the values they had as read
    /// (comma-separated, `\N` for NULL): the first
    /// [`MAX_DESCRIBED_ROWS`].
    pub left_out: Vec<(Rejected, String)>,
}

impl Conversion {
    /// Converts to `target`, whose columns have the SQL types `types`.
    pub fn new(target: SchemaRef, types: Vec<SqlType>) -> Self {
        Self { target, types }
    }

    /// The table's schema, which converted batches have.
    pub fn schema(&self) -> &SchemaRef {
        &self.target
    }

    /// Converts `batch`, whose columns are the target's in order (with any
    /// types).
    pub fn convert(&self, batch: &RecordBatch) -> Result<Converted> {
        let options = CastOptions {
            safe: true,
            ..Default::default()
        };
        let mut columns = Vec::with_capacity(batch.num_columns());
        let mut rejected: Option<BooleanArray> = None;
        for ((input, field), sql_type) in batch
            .columns()
            .iter()
            .zip(self.target.fields())
            .zip(&self.types)
        {
            let output = if *sql_type == SqlType::Json {
                json::to_json_column(input)?
            } else if input.data_type() == field.data_type() {
                input.clone()
            } else if let Some(decimals) = plain_decimals(input, field.data_type()) {
                decimals
            } else if sql_type.is_nested() && input.data_type().is_string() {
                json::from_json_text(input.as_ref(), field.data_type())?
            } else {
                cast_with_options(input, field.data_type(), &options)?
            };
            if let Some(bad) = self.rejected_rows(input, &output, field.is_nullable())? {
                rejected = Some(match rejected {
                    Some(so_far) => or(&so_far, &bad)?,
                    None => bad,
                });
            }
            columns.push(output);
        }
        let Some(rejected) = rejected.filter(|r| r.true_count() > 0) else {
            return Ok(Converted {
                batch: RecordBatch::try_new(self.target.clone(), columns)?,
                filtered: 0,
                first: None,
                left_out: Vec::new(),
            });
        };
        let left_out: Vec<(Rejected, String)> = (0..rejected.len())
            .filter(|&row| rejected.value(row))
            .take(MAX_DESCRIBED_ROWS)
            .map(|row| {
                (
                    self.describe(batch.columns(), &columns, row),
                    values(batch.columns(), row),
                )
            })
            .collect();
        let first = left_out
            .first()
            .map(|(r, _)| r.clone())
            .expect("a rejected row");
        // Build the kept batch with nullable fields first: the rejected rows
        // may hold NULLs in NOT NULL columns until they are filtered out.
        let relaxed = RecordBatch::try_new(relaxed(&self.target), columns)?;
        let kept = filter_record_batch(&relaxed, &datafusion::arrow::compute::not(&rejected)?)?;
        Ok(Converted {
            batch: RecordBatch::try_new(self.target.clone(), kept.columns().to_vec())?,
            filtered: rejected.true_count(),
            first: Some(first),
            left_out,
        })
    }

    /// Rows of one column that cannot be loaded: a value that did not
    /// convert, or NULL in a NOT NULL column. `None` when there are none.
    fn rejected_rows(
        &self,
        input: &ArrayRef,
        output: &ArrayRef,
        nullable: bool,
    ) -> Result<Option<BooleanArray>> {
        if output.null_count() == 0 {
            return Ok(None);
        }
        let null_out = is_null(output)?;
        if !nullable {
            return Ok(Some(null_out));
        }
        if input.null_count() == output.null_count() {
            return Ok(None);
        }
        // NULL after conversion but not before.
        Ok(Some(and_not(&null_out, &is_null(input)?)?))
    }

    /// Why row `row` was left out.
    fn describe(&self, inputs: &[ArrayRef], outputs: &[ArrayRef], row: usize) -> Rejected {
        for (i, field) in self.target.fields().iter().enumerate() {
            let (input, output) = (&inputs[i], &outputs[i]);
            if !output.is_null(row) {
                continue;
            }
            let type_name = &self.types[i];
            if input.is_null(row) {
                if !field.is_nullable() {
                    return Rejected {
                        row,
                        reason: format!("column {}: NULL in a NOT NULL column", field.name()),
                    };
                }
                continue;
            }
            let value = array_value_to_string(input, row).unwrap_or_else(|_| "?".into());
            return Rejected {
                row,
                reason: format!(
                    "column {}: '{}' is not a valid {type_name}",
                    field.name(),
                    quote(&value)
                ),
            };
        }
        Rejected {
            row,
            reason: "the row could not be converted".into(),
        }
    }
}

/// Row `row`'s values as read, comma-separated, `\N` for NULL.
fn values(columns: &[ArrayRef], row: usize) -> String {
    columns
        .iter()
        .map(|column| {
            if column.is_null(row) {
                "\\N".to_string()
            } else {
                array_value_to_string(column, row).unwrap_or_else(|_| "?".into())
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Strings to DECIMAL without arrow's cast, which formats and re-parses
/// every value (more time than reading the CSV). Only when every value is
/// plain (`[-+]digits[.digits]`, no rounding, within the precision);
/// `None` otherwise, and arrow's cast decides.
fn plain_decimals(input: &ArrayRef, to: &DataType) -> Option<ArrayRef> {
    let (DataType::Utf8, DataType::Decimal128(precision, scale)) = (input.data_type(), to) else {
        return None;
    };
    let strings = input.as_string::<i32>();
    let mut values = Vec::with_capacity(strings.len());
    for text in strings.iter() {
        values.push(match text {
            Some(text) => plain_decimal(text.as_bytes(), *precision, *scale)?,
            None => 0,
        });
    }
    let array = Decimal128Array::new(values.into(), strings.nulls().cloned())
        .with_precision_and_scale(*precision, *scale)
        .ok()?;
    Some(Arc::new(array))
}

/// The unscaled value of a plain decimal string, or `None` when it is not
/// plain or needs rounding or more digits than `precision`.
fn plain_decimal(text: &[u8], precision: u8, scale: i8) -> Option<i128> {
    let scale = usize::try_from(scale).ok()?;
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = match memchr::memchr(b'.', digits) {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &[][..]),
    };
    if (whole.is_empty() && fraction.is_empty()) || fraction.len() > scale {
        return None;
    }
    let significant = whole.iter().position(|&b| b != b'0').unwrap_or(whole.len());
    if whole.len() - significant + scale > usize::from(precision) {
        return None;
    }
    let mut value: i128 = 0;
    for &b in whole[significant..].iter().chain(fraction) {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i128::from(b - b'0');
    }
    value *= 10i128.pow((scale - fraction.len()) as u32);
    Some(if negative { -value } else { value })
}

/// A value shortened for a message.
pub(super) fn quote(value: &str) -> String {
    if value.chars().count() <= MAX_QUOTED_CHARS {
        return value.to_string();
    }
    let head: String = value.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{head}...")
}

/// `schema` with every field nullable.
fn relaxed(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(datafusion::arrow::datatypes::Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn conversion() -> Conversion {
        let target = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("qty", DataType::Int32, true),
        ]));
        Conversion::new(target, vec![SqlType::Int, SqlType::Int])
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn input(ids: &[Option<&str>], qty: &[Option<&str>]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("qty", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(schema, vec![strings(ids), strings(qty)]).unwrap()
    }

    #[test]
    fn keeps_good_rows_and_nulls_that_were_null() {
        let batch = input(&[Some("1"), Some("2")], &[Some("5"), None]);
        let converted = conversion().convert(&batch).unwrap();
        assert_eq!(converted.filtered, 0);
        let qty = converted.batch.column(1);
        assert_eq!(qty.null_count(), 1);
    }

    #[test]
    fn filters_unconvertible_values_and_nulls_in_not_null_columns() {
        let batch = input(
            &[Some("1"), Some("x"), None, Some("4")],
            &[Some("5"), Some("6"), Some("7"), Some("99999999999")],
        );
        let converted = conversion().convert(&batch).unwrap();
        assert_eq!(converted.filtered, 3);
        let ids = converted
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(ids.values().to_vec(), vec![1]);
        assert_eq!(
            converted.first,
            Some(Rejected {
                row: 1,
                reason: "column id: 'x' is not a valid INT".into()
            })
        );
    }

    #[test]
    fn plain_decimals_match_arrows_cast() {
        let decimal = DataType::Decimal128(7, 2);
        let options = CastOptions {
            safe: true,
            ..Default::default()
        };
        let arrow = |input: &ArrayRef| cast_with_options(input, &decimal, &options).unwrap();
        let plain = [
            "12.34", "-12.34", "+7", "0.5", ".5", "5.", "007.10", "-0", "99999.99",
        ];
        for value in plain {
            let input = strings(&[Some(value), None]);
            let fast = plain_decimals(&input, &decimal).expect(value);
            assert_eq!(&fast, &arrow(&input), "{value:?}");
        }
        // Rounding, too many digits, spaces, exponents, junk: arrow decides.
        let other = [
            "1.005",
            "123456.78",
            " 1.5",
            "1e3",
            "1.2.3",
            "abc",
            "-",
            ".",
            "",
        ];
        for value in other {
            let input = strings(&[Some("1.5"), Some(value)]);
            assert!(plain_decimals(&input, &decimal).is_none(), "{value:?}");
        }
    }
}
