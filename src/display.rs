//! How values are shown as text, in the REPL, over the MySQL protocol and
//! in sqllogictest files: Doris's and MySQL's forms. A DATETIME is
//! `2024-01-01 10:00:00`, with its fractional seconds when it has some
//! (`2024-01-01 10:00:00.123456`), never Arrow's `2024-01-01T10:00:00`.
//! Nested values are written as Doris writes them, close to JSON: an
//! ARRAY `["a", "b"]`, a MAP `{"k":1, "l":2}`, a STRUCT
//! `{"name":"x", "n":1}`, with strings and dates quoted inside them and
//! `null` for a NULL element.

use std::fmt::Write;

use crate::catalog::is_nested_shape;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{
    ArrayFormatter, ArrayFormatterFactory, DisplayIndex, FormatOptions, FormatResult,
};

/// Doris's text form of a DATETIME (`%.f`: fractional seconds only when
/// there are some).
const DATETIME: &str = "%Y-%m-%d %H:%M:%S%.f";

/// The options every result is formatted with; NULL is shown as `null`.
pub fn format_options(null: &'static str) -> FormatOptions<'static> {
    FormatOptions::default()
        .with_null(null)
        .with_timestamp_format(Some(DATETIME))
        .with_timestamp_tz_format(Some(DATETIME))
        .with_formatter_factory(Some(&NESTED))
}

/// A formatter for `array`'s values under `options` (made by
/// [`format_options`]), nested values in Doris's form.
pub fn formatter<'a>(
    array: &'a dyn Array,
    options: &FormatOptions<'a>,
) -> Result<ArrayFormatter<'a>, ArrowError> {
    match NESTED.create_array_formatter(array, options, None)? {
        Some(nested) => Ok(nested),
        None => ArrayFormatter::try_new(array, options),
    }
}

static NESTED: NestedValues = NestedValues;

/// Makes the formatters of ARRAY, MAP and STRUCT values.
#[derive(Debug)]
struct NestedValues;

impl ArrayFormatterFactory for NestedValues {
    fn create_array_formatter<'a>(
        &self,
        array: &'a dyn Array,
        options: &FormatOptions<'a>,
        _field: Option<&'a Field>,
    ) -> Result<Option<ArrayFormatter<'a>>, ArrowError> {
        if !is_nested_shape(array.data_type()) {
            return Ok(None);
        }
        let value = Value::of(array, &options.clone().with_formatter_factory(None))?;
        Ok(Some(ArrayFormatter::new(
            Box::new(TopLevel {
                value,
                null: options.null(),
            }),
            options.safe(),
        )))
    }
}

/// A nested column's value, written whole; NULL as the options say.
struct TopLevel<'a> {
    value: Value<'a>,
    null: &'a str,
}

impl DisplayIndex for TopLevel<'_> {
    fn write(&self, idx: usize, f: &mut dyn Write) -> FormatResult {
        if self.value.array.is_null(idx) {
            f.write_str(self.null)?;
            return Ok(());
        }
        self.value.write(idx, f)
    }
}

/// An array prepared for writing its values in Doris's nested form.
struct Value<'a> {
    array: &'a dyn Array,
    shape: Shape<'a>,
}

enum Shape<'a> {
    List(Box<Value<'a>>),
    Map(Box<Value<'a>>, Box<Value<'a>>),
    Struct(Vec<(&'a str, Value<'a>)>),
    Scalar {
        formatter: ArrayFormatter<'a>,
        quoted: bool,
    },
}

impl<'a> Value<'a> {
    fn of(array: &'a dyn Array, options: &FormatOptions<'a>) -> Result<Self, ArrowError> {
        let shape = match array.data_type() {
            DataType::List(_) => Shape::List(Box::new(Self::of(
                array.as_list::<i32>().values().as_ref(),
                options,
            )?)),
            DataType::LargeList(_) => Shape::List(Box::new(Self::of(
                array.as_list::<i64>().values().as_ref(),
                options,
            )?)),
            DataType::Map(_, _) => {
                let map = array.as_map();
                Shape::Map(
                    Box::new(Self::of(map.keys().as_ref(), options)?),
                    Box::new(Self::of(map.values().as_ref(), options)?),
                )
            }
            DataType::Struct(fields) => Shape::Struct(
                fields
                    .iter()
                    .zip(array.as_struct().columns())
                    .map(|(field, column)| {
                        Ok((field.name().as_str(), Self::of(column.as_ref(), options)?))
                    })
                    .collect::<Result<_, ArrowError>>()?,
            ),
            data_type => Shape::Scalar {
                formatter: ArrayFormatter::try_new(array, options)?,
                quoted: !(data_type.is_numeric() || *data_type == DataType::Boolean),
            },
        };
        Ok(Self { array, shape })
    }

    /// Writes the value at `idx`, `null` when it is NULL.
    fn write(&self, idx: usize, f: &mut dyn Write) -> FormatResult {
        if self.array.is_null(idx) {
            f.write_str("null")?;
            return Ok(());
        }
        match &self.shape {
            Shape::List(items) => {
                let range = match self.array.data_type() {
                    DataType::LargeList(_) => {
                        let offsets = self.array.as_list::<i64>().value_offsets();
                        offsets[idx] as usize..offsets[idx + 1] as usize
                    }
                    _ => {
                        let offsets = self.array.as_list::<i32>().value_offsets();
                        offsets[idx] as usize..offsets[idx + 1] as usize
                    }
                };
                f.write_char('[')?;
                for (n, item) in range.enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    items.write(item, f)?;
                }
                f.write_char(']')?;
            }
            Shape::Map(keys, values) => {
                let offsets = self.array.as_map().value_offsets();
                f.write_char('{')?;
                for (n, entry) in (offsets[idx] as usize..offsets[idx + 1] as usize).enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    keys.write(entry, f)?;
                    f.write_char(':')?;
                    values.write(entry, f)?;
                }
                f.write_char('}')?;
            }
            Shape::Struct(fields) => {
                f.write_char('{')?;
                for (n, (name, field)) in fields.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}:", quoted(name))?;
                    field.write(idx, f)?;
                }
                f.write_char('}')?;
            }
            Shape::Scalar {
                formatter,
                quoted: false,
            } => write!(f, "{}", formatter.value(idx))?,
            Shape::Scalar {
                formatter,
                quoted: true,
            } => {
                let text = formatter.value(idx).to_string();
                f.write_str(&quoted(&text))?;
            }
        }
        Ok(())
    }
}

/// `text` as a JSON string.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int32Array, ListArray, StringArray, StructArray};
    use datafusion::arrow::datatypes::{Field, Int32Type};

    use super::*;

    fn shown(array: &dyn Array) -> Vec<String> {
        let options = format_options("NULL");
        let formatter = formatter(array, &options).unwrap();
        (0..array.len())
            .map(|i| formatter.value(i).to_string())
            .collect()
    }

    #[test]
    fn writes_nested_values_as_doris_does() {
        let lists = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
            Some(vec![]),
        ]);
        assert_eq!(shown(&lists), ["[1, null, 3]", "NULL", "[]"]);
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a\"b"), None]));
        let ns: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let structs = StructArray::from(vec![
            (Arc::new(Field::new("name", DataType::Utf8, true)), names),
            (Arc::new(Field::new("n", DataType::Int32, true)), ns),
        ]);
        assert_eq!(
            shown(&structs),
            [r#"{"name":"a\"b", "n":1}"#, r#"{"name":null, "n":2}"#]
        );
    }
}
