//! Values of JSON and nested columns written from text and back.
//!
//! A JSON column is text that parses as one JSON value, kept as written;
//! what is not JSON text (a STRUCT read from a JSON file, a number) is
//! written as JSON. An ARRAY, MAP or STRUCT column reads text as JSON
//! (`[1, 2]`, `{"k": 1}`), as Doris loads such columns from CSV.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::writer::{LineDelimited, WriterBuilder};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::record_batch::RecordBatch;

use super::convert::quote;
use crate::error::Error;

/// The name of the one field values are wrapped in on their way through
/// arrow's JSON reader and writer.
const WRAPPER: &str = "v";

/// Whether `text` is one JSON value.
pub fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// The first row of a string column that is not JSON, with its text.
pub fn first_not_json(column: &dyn Array) -> Option<(usize, String)> {
    let strings = string_values(column)?;
    strings
        .iter()
        .enumerate()
        .find_map(|(row, text)| text.filter(|t| !is_json(t)).map(|t| (row, t.to_string())))
}

/// Refuses a statement's rows when a JSON column has a value that is
/// not JSON.
#[derive(Debug, Clone)]
pub struct JsonCheck {
    pub statement: &'static str,
    /// `database.table`.
    pub table: String,
    /// The JSON columns: index and name.
    pub columns: Vec<(usize, String)>,
}

impl JsonCheck {
    /// The error naming the first value of a JSON column of `batch` that
    /// is not JSON.
    pub fn check(&self, batch: &RecordBatch) -> Result<(), Error> {
        for (index, name) in &self.columns {
            if let Some((_, text)) = first_not_json(batch.column(*index).as_ref()) {
                return Err(Error::InvalidValue {
                    statement: self.statement,
                    table: self.table.clone(),
                    columns: name.clone(),
                    reason: format!("'{}' is not a JSON value", quote(&text)),
                });
            }
        }
        Ok(())
    }
}

/// `input` as a JSON column: strings that are JSON kept (the rest NULL),
/// any other value written as JSON.
pub fn to_json_column(input: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    if let Some(strings) = string_values(input.as_ref()) {
        let kept: StringArray = strings
            .iter()
            .map(|text| text.filter(|t| is_json(t)))
            .collect();
        return Ok(Arc::new(kept));
    }
    written_as_json(input)
}

/// Each value of `input` as JSON text (NULL stays NULL).
fn written_as_json(input: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let wrapped = wrap(input.clone())?;
    let mut out = Vec::new();
    {
        let mut writer = WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, LineDelimited>(&mut out);
        writer.write(&wrapped)?;
        writer.finish()?;
    }
    let prefix = format!("{{\"{WRAPPER}\":");
    let text = String::from_utf8(out).map_err(|e| ArrowError::JsonError(e.to_string()))?;
    // A NULL literal's column has no null buffer: its nulls are logical.
    let nulls = input.logical_nulls();
    let mut values = StringBuilder::new();
    for (row, line) in text.lines().enumerate() {
        let valid = nulls.as_ref().is_none_or(|n| n.is_valid(row));
        match line.strip_prefix(&prefix).and_then(|v| v.strip_suffix('}')) {
            Some(value) if valid => values.append_value(value),
            _ => values.append_null(),
        }
    }
    Ok(Arc::new(values.finish()))
}

/// The values of a string column that hold JSON, read as `target` (an
/// ARRAY, MAP or STRUCT type); NULL where the text is not JSON or does
/// not fit the type.
pub fn from_json_text(input: &dyn Array, target: &DataType) -> Result<ArrayRef, ArrowError> {
    let strings = string_values(input)
        .ok_or_else(|| ArrowError::CastError(format!("{} is not text", input.data_type())))?;
    let schema = Arc::new(Schema::new(vec![Field::new(WRAPPER, target.clone(), true)]));
    let line = |text: Option<&str>| match text.filter(|t| is_json(t)) {
        Some(text) => format!("{{\"{WRAPPER}\":{text}}}\n"),
        None => "{}\n".to_string(),
    };
    let whole: String = strings.iter().map(line).collect();
    if let Ok(column) = decode(&schema, &whole, strings.len()) {
        return Ok(column);
    }
    // Some value does not fit: decode row by row, NULL for those.
    let mut rows = Vec::with_capacity(strings.len());
    let nothing = decode(&schema, "{}\n", 1)?;
    for text in strings.iter() {
        rows.push(decode(&schema, &line(text), 1).unwrap_or_else(|_| nothing.clone()));
    }
    let rows: Vec<&dyn Array> = rows.iter().map(|r| r.as_ref()).collect();
    datafusion::arrow::compute::concat(&rows)
}

fn decode(schema: &Arc<Schema>, lines: &str, rows: usize) -> Result<ArrayRef, ArrowError> {
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.max(1))
        .build_decoder()?;
    decoder.decode(lines.as_bytes())?;
    let batch = decoder
        .flush()?
        .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()));
    if batch.num_rows() != rows {
        return Err(ArrowError::JsonError("a value spans rows".into()));
    }
    Ok(batch.column(0).clone())
}

fn wrap(column: ArrayRef) -> Result<RecordBatch, ArrowError> {
    let schema = Schema::new(vec![Field::new(WRAPPER, column.data_type().clone(), true)]);
    RecordBatch::try_new(Arc::new(schema), vec![column])
}

/// A string column's values as `Utf8`, whichever string type it has.
pub fn string_values(column: &dyn Array) -> Option<StringArray> {
    match column.data_type() {
        DataType::Utf8 => Some(column.as_string::<i32>().clone()),
        DataType::LargeUtf8 => Some(column.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Some(column.as_string_view().iter().collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int32Array, ListArray};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    #[test]
    fn json_columns_keep_json_text_and_write_other_values_as_json() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"{"a": [1, 2]}"#),
            Some("not json"),
            None,
        ]));
        let kept = to_json_column(&text).unwrap();
        let kept = kept.as_string::<i32>();
        assert_eq!(kept.value(0), r#"{"a": [1, 2]}"#);
        assert!(kept.is_null(1) && kept.is_null(2));
        assert_eq!(first_not_json(text.as_ref()), Some((1, "not json".into())));

        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]));
        let written = to_json_column(&lists).unwrap();
        let written = written.as_string::<i32>();
        assert_eq!(written.value(0), "[1,null]");
        assert!(written.is_null(1));
        let numbers: ArrayRef = Arc::new(Int32Array::from(vec![7]));
        assert_eq!(
            to_json_column(&numbers)
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "7"
        );
    }

    #[test]
    fn nested_columns_read_json_text_and_null_what_does_not_fit() {
        let text = StringArray::from(vec![Some("[1, 2]"), Some(r#"["x"]"#), Some("[3"), None]);
        let target = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        let lists = from_json_text(&text, &target).unwrap();
        let lists = lists.as_list::<i32>();
        assert_eq!(lists.value(0).as_primitive::<Int32Type>().values(), &[1, 2]);
        assert!(lists.is_null(1) && lists.is_null(2) && lists.is_null(3));
    }
}
