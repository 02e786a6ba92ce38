//! Text columns stored as dictionaries: the table property
//! `"dictionary_columns"` (at CREATE TABLE, in the manner of Doris's
//! `"bloom_filter_columns"`) names CHAR, VARCHAR and STRING columns of few
//! distinct values (a status, a country, a channel).
//!
//! Lance stores such a column as `Dictionary(Int32, Utf8)`: each page
//! keeps its distinct strings once and a small integer per row, and reads
//! back as keys into those strings instead of every row's string copied
//! out. The column is still text to SQL: the table's schema shows its
//! declared type, rows are written as strings and turned into dictionaries
//! here, and a scan turns them back into strings unless its consumer takes
//! keys (a `GROUP BY` on the column, [`crate::plan::dictionary_group_by`]).
//! The dataset's Lance schema is what says a column is stored this way,
//! so renaming the column keeps it.
//!
//! A column of many distinct values is slower and larger stored this way
//! (every page's dictionary holds nearly every row): the property is for
//! columns whose values repeat.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use lance::Dataset;

use crate::catalog::{Column, SqlType};
use crate::error::{Error, Result};

/// The table property naming the columns stored as dictionaries.
pub const DICTIONARY_COLUMNS: &str = "dictionary_columns";

/// The type a text column of `value` type is stored as.
pub fn stored_type(value: &DataType) -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(value.clone()))
}

/// The columns `properties` store as dictionaries, checked against
/// `columns`: each must be a text column, named once.
pub fn columns_from_properties(
    properties: &BTreeMap<String, String>,
    columns: &[Column],
) -> Result<Vec<String>> {
    let Some(list) = properties.get(DICTIONARY_COLUMNS) else {
        return Ok(Vec::new());
    };
    let mut chosen: Vec<String> = Vec::new();
    for name in names(list) {
        let Some(column) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) else {
            return Err(Error::InvalidTable(format!(
                "\"{DICTIONARY_COLUMNS}\" names '{name}', which is not a column of the table: name its text columns of few distinct values, comma-separated"
            )));
        };
        if column.sql_type.arrow_type() != DataType::Utf8 || column.sql_type == SqlType::Json {
            return Err(Error::InvalidTable(format!(
                "\"{DICTIONARY_COLUMNS}\" names '{}', which is {}: only CHAR, VARCHAR and STRING columns are stored as dictionaries",
                column.name, column.sql_type
            )));
        }
        if !chosen.contains(&column.name) {
            chosen.push(column.name.clone());
        }
    }
    Ok(chosen)
}

/// The column names of the property's value, comma-separated.
fn names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|n| !n.is_empty())
}

/// Keeps `properties`' list of dictionary columns true after column
/// `from` was renamed `to`, or dropped (`None`).
pub fn rename_column(properties: &mut BTreeMap<String, String>, from: &str, to: Option<&str>) {
    let Some(list) = properties.get(DICTIONARY_COLUMNS) else {
        return;
    };
    let names: Vec<&str> = names(list)
        .filter_map(|n| match n.eq_ignore_ascii_case(from) {
            true => to,
            false => Some(n),
        })
        .collect();
    match names.is_empty() {
        true => properties.remove(DICTIONARY_COLUMNS),
        false => properties.insert(DICTIONARY_COLUMNS.into(), names.join(", ")),
    };
}

/// `logical` (the table's columns as SQL sees them) with `columns` stored
/// as dictionaries.
pub fn stored_schema(logical: &Schema, columns: &[String]) -> SchemaRef {
    let fields: Vec<Field> = (logical.fields().iter())
        .map(|f| match columns.contains(f.name()) {
            true => f
                .as_ref()
                .clone()
                .with_data_type(stored_type(f.data_type())),
            false => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(
        fields,
        logical.metadata().clone(),
    ))
}

/// The schema `dataset` stores rows of table schema `logical` in, when it
/// stores some columns as dictionaries.
pub fn stored_schema_of(dataset: &Dataset, logical: &Schema) -> Option<SchemaRef> {
    let columns = stored_columns(dataset);
    (!columns.is_empty()).then(|| stored_schema(logical, &columns))
}

/// The columns `dataset` stores as dictionaries: its Lance schema is the
/// record of them.
pub fn stored_columns(dataset: &Dataset) -> Vec<String> {
    (dataset.schema().fields.iter())
        .filter(|f| matches!(f.data_type(), DataType::Dictionary(..)))
        .map(|f| f.name.clone())
        .collect()
}

/// `stored` with each dictionary column as its values' type: what SQL
/// sees of a dataset.
pub fn logical_schema(stored: &Schema) -> SchemaRef {
    let fields: Vec<Field> = (stored.fields().iter())
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, value) => f.as_ref().clone().with_data_type(*value.clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, stored.metadata().clone()))
}

/// Whether `schema` has a column stored as a dictionary.
pub fn has_dictionaries(schema: &Schema) -> bool {
    (schema.fields().iter()).any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
}

/// `batch` with each column cast to `schema`'s type where they differ
/// (strings to dictionaries on the way in, back on the way out).
pub fn cast_to(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns = (batch.columns().iter().zip(schema.fields()))
        .map(
            |(column, field)| match column.data_type() == field.data_type() {
                true => Ok(column.clone()),
                false => cast(column, field.data_type()),
            },
        )
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, StringArray};

    fn column(name: &str, sql_type: SqlType) -> Column {
        Column {
            name: name.into(),
            sql_type,
            nullable: true,
            comment: None,
            default: None,
        }
    }

    #[test]
    fn only_text_columns_of_the_table_are_stored_as_dictionaries() {
        let columns = [
            column("status", SqlType::Varchar { length: Some(16) }),
            column("id", SqlType::BigInt),
        ];
        let of = |list: &str| {
            let properties = BTreeMap::from([(DICTIONARY_COLUMNS.to_string(), list.to_string())]);
            columns_from_properties(&properties, &columns)
        };
        assert_eq!(of(" STATUS, status ").unwrap(), vec!["status".to_string()]);
        assert!(of("id").unwrap_err().to_string().contains("BIGINT"));
        assert!(of("nope").unwrap_err().to_string().contains("'nope'"));
    }

    #[test]
    fn a_stored_batch_reads_back_as_written() {
        let logical = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
        let stored = stored_schema(&logical, &["s".to_string()]);
        assert!(has_dictionaries(&stored));
        assert_eq!(logical_schema(&stored), logical);
        let strings = StringArray::from(vec![Some("PAID"), None, Some("NEW"), Some("PAID")]);
        let batch = RecordBatch::try_new(logical.clone(), vec![Arc::new(strings.clone())]).unwrap();
        let written = cast_to(&batch, &stored).unwrap();
        assert!(matches!(
            written.column(0).data_type(),
            DataType::Dictionary(..)
        ));
        let read = cast_to(&written, &logical).unwrap();
        assert_eq!(read.column(0).to_data(), strings.to_data());
    }
}
