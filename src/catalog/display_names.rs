//! Columns that resolve in lower case and show in another case. The
//! columns of `job()`, `tasks()` and the other job tables are Doris's
//! (`ExecuteType`), those of `information_schema` MySQL's (`TABLE_NAME`),
//! while queries name columns in any case, which DataFusion folds to lower
//! case. So these tables' fields are named in lower case, like any
//! table's, and carry their shown name as metadata, which
//! [`crate::plan`] gives back to a result column that is still named as
//! the field.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{Field, Schema};

/// Field metadata: the name a column is shown by.
pub const DISPLAY_NAME: &str = "tributary.display_name";
/// Field metadata: the column's values are upper case and strings
/// compared with it match in any case (Doris's job states and types).
pub const UPPER_CASE_VALUES: &str = "tributary.upper_case_values";

/// `schema` with each field named in lower case and shown as named;
/// the fields named in `upper_case` hold upper-case values.
pub fn resolvable(schema: &Schema, upper_case: &[&str]) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| {
            let mut metadata = HashMap::from([(DISPLAY_NAME.to_string(), field.name().clone())]);
            if upper_case.contains(&field.name().as_str()) {
                metadata.insert(UPPER_CASE_VALUES.to_string(), String::new());
            }
            field
                .as_ref()
                .clone()
                .with_name(field.name().to_lowercase())
                .with_metadata(metadata)
        })
        .collect();
    Schema::new(fields)
}

/// The name `field` is shown by, when it has one and the result column is
/// still named as the field (an alias keeps the name it gives).
pub fn display_name(field: &Field) -> Option<&str> {
    field
        .metadata()
        .get(DISPLAY_NAME)
        .filter(|shown| shown.to_lowercase() == *field.name() && *shown != field.name())
        .map(String::as_str)
}

/// Whether `field` holds upper-case values matched in any case.
pub fn has_upper_case_values(field: &Field) -> bool {
    field.metadata().contains_key(UPPER_CASE_VALUES)
}
