//! Column types as Doris and MySQL users write them, and their Arrow
//! representation in Lance tables.
//!
//! | SQL type                 | Arrow type                   |
//! |--------------------------|------------------------------|
//! | TINYINT                  | Int8                         |
//! | SMALLINT                 | Int16                        |
//! | INT, INTEGER             | Int32                        |
//! | BIGINT                   | Int64                        |
//! | LARGEINT                 | Decimal128(38, 0)            |
//! | FLOAT                    | Float32                      |
//! | DOUBLE                   | Float64                      |
//! | DECIMAL(p,s), DECIMALV3  | Decimal128(p, s) (p ≤ 38), Decimal256 above |
//! | BOOLEAN, BOOL            | Boolean                      |
//! | CHAR(n), VARCHAR(n), STRING, TEXT | Utf8 (length not enforced) |
//! | DATE, DATEV2             | Date32                       |
//! | DATETIME(p), DATETIMEV2(p) | Timestamp(Microsecond)     |
//! | JSON, JSONB              | Utf8 (checked and kept as compact JSON text) |
//! | ARRAY<T>                 | List(T)                      |
//! | MAP<K,V>                 | Map(Struct(key K, value V))  |
//! | STRUCT<name:T, ...>      | Struct(name T, ...)          |

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A column type of a tributary table, as written in `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SqlType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    LargeInt,
    Float,
    Double,
    Decimal {
        precision: u8,
        scale: i8,
    },
    Boolean,
    Char {
        length: Option<u32>,
    },
    Varchar {
        length: Option<u32>,
    },
    String,
    Date,
    DateTime {
        precision: Option<u8>,
    },
    Json,
    Array {
        element: Box<SqlType>,
    },
    Map {
        key: Box<SqlType>,
        value: Box<SqlType>,
    },
    Struct {
        fields: Vec<StructField>,
    },
}

/// A named field of a `STRUCT<...>` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructField {
    pub name: String,
    pub sql_type: SqlType,
}

/// Largest precision Doris accepts for DECIMAL.
const MAX_DECIMAL_PRECISION: u64 = 76;

impl SqlType {
    /// Builds a type from its name and its parenthesised arguments, e.g.
    /// `("decimal", [10, 2])`. The name is case-insensitive.
    pub fn from_parts(name: &str, args: &[u64]) -> Result<Self> {
        let unsupported = || {
            let args: Vec<String> = args.iter().map(u64::to_string).collect();
            if args.is_empty() {
                Error::UnsupportedType(name.to_uppercase())
            } else {
                Error::UnsupportedType(format!("{}({})", name.to_uppercase(), args.join(",")))
            }
        };
        let no_args = |t: SqlType| {
            if args.is_empty() {
                Ok(t)
            } else {
                Err(unsupported())
            }
        };
        let length = || match args {
            [] => Ok(None),
            [n] => Ok(Some(u32::try_from(*n).map_err(|_| unsupported())?)),
            _ => Err(unsupported()),
        };
        match name.to_ascii_lowercase().as_str() {
            "tinyint" => no_args(SqlType::TinyInt),
            "smallint" => no_args(SqlType::SmallInt),
            "int" | "integer" => no_args(SqlType::Int),
            "bigint" => no_args(SqlType::BigInt),
            "largeint" => no_args(SqlType::LargeInt),
            // MySQL's FLOAT(p): single precision up to 24 bits, double
            // up to 53 (pandas' to_sql writes FLOAT(53)); FLOAT(M,D) and
            // DOUBLE(M,D) keep their precision.
            "float" => match args {
                [] | [_, _] => Ok(SqlType::Float),
                [p] if *p <= 24 => Ok(SqlType::Float),
                [p] if *p <= 53 => Ok(SqlType::Double),
                _ => Err(unsupported()),
            },
            "double" | "real" => match args {
                [] | [_, _] => Ok(SqlType::Double),
                _ => Err(unsupported()),
            },
            "boolean" | "bool" => no_args(SqlType::Boolean),
            "string" | "text" => no_args(SqlType::String),
            "json" | "jsonb" => no_args(SqlType::Json),
            "date" | "datev2" => no_args(SqlType::Date),
            "char" => Ok(SqlType::Char { length: length()? }),
            "varchar" => Ok(SqlType::Varchar { length: length()? }),
            "datetime" | "datetimev2" => match args {
                [] => Ok(SqlType::DateTime { precision: None }),
                [p] if *p <= 6 => Ok(SqlType::DateTime {
                    precision: Some(*p as u8),
                }),
                _ => Err(unsupported()),
            },
            "decimal" | "decimalv3" | "numeric" => {
                let (precision, scale) = match args {
                    [] => (9, 0),
                    [p] => (*p, 0),
                    [p, s] => (*p, *s),
                    _ => return Err(unsupported()),
                };
                if precision == 0 || precision > MAX_DECIMAL_PRECISION || scale > precision {
                    return Err(Error::UnsupportedType(format!(
                        "DECIMAL({precision},{scale}): precision must be 1..={MAX_DECIMAL_PRECISION} and scale at most the precision"
                    )));
                }
                Ok(SqlType::Decimal {
                    precision: precision as u8,
                    scale: scale as i8,
                })
            }
            _ => Err(unsupported()),
        }
    }

    /// The type as MySQL's `SHOW CREATE TABLE` and
    /// `information_schema.COLUMNS.COLUMN_TYPE` write it (lower case;
    /// STRING as `text`), which MySQL tools parse; tributary reads it
    /// back as the same type.
    pub fn mysql_column_type(&self) -> String {
        match self {
            SqlType::String => "text".to_string(),
            SqlType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            SqlType::Array { element } => format!("array<{}>", element.mysql_column_type()),
            SqlType::Map { key, value } => format!(
                "map<{},{}>",
                key.mysql_column_type(),
                value.mysql_column_type()
            ),
            SqlType::Struct { fields } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}:{}", f.name, f.sql_type.mysql_column_type()))
                    .collect();
                format!("struct<{}>", fields.join(","))
            }
            other => other.to_string().to_ascii_lowercase(),
        }
    }

    /// MySQL's `DATA_TYPE`: the type's name without its arguments.
    pub fn mysql_data_type(&self) -> String {
        let full = self.mysql_column_type();
        full.split(['(', '<']).next().unwrap_or(&full).to_string()
    }

    /// Whether values of the type nest others (ARRAY, MAP, STRUCT).
    pub fn is_nested(&self) -> bool {
        matches!(
            self,
            SqlType::Array { .. } | SqlType::Map { .. } | SqlType::Struct { .. }
        )
    }

    /// The type as DataFusion's SQL casts to it: JSON is text there.
    /// `None` for the nested types, which SQL has no cast to.
    pub fn cast_target(&self) -> Option<String> {
        match self {
            SqlType::Json => Some("STRING".into()),
            nested if nested.is_nested() => None,
            other => Some(other.to_string()),
        }
    }

    /// Whether a column of this type may become `to` with every value
    /// kept as it is (Doris's widenings: a larger integer, FLOAT to
    /// DOUBLE, a longer string, more DECIMAL digits, a finer DATETIME).
    pub fn widens_to(&self, to: &SqlType) -> bool {
        use SqlType::*;
        let rank = |t: &SqlType| match t {
            TinyInt => Some(1),
            SmallInt => Some(2),
            Int => Some(3),
            BigInt => Some(4),
            LargeInt => Some(5),
            _ => None,
        };
        let length = |t: &SqlType| match t {
            Char { length } | Varchar { length } => Some(length.unwrap_or(u32::MAX)),
            String => Some(u32::MAX),
            _ => None,
        };
        match (self, to) {
            (from, to) if from == to => true,
            (Float, Double) => true,
            (
                Decimal { precision, scale },
                Decimal {
                    precision: p,
                    scale: s,
                },
            ) => s >= scale && (*p as i32 - *s as i32) >= (*precision as i32 - *scale as i32),
            (DateTime { precision: a }, DateTime { precision: b }) => {
                b.unwrap_or(0) >= a.unwrap_or(0)
            }
            (from, to) => match (rank(from), rank(to)) {
                (Some(a), Some(b)) => b >= a,
                _ => matches!((length(from), length(to)), (Some(a), Some(b)) if b >= a),
            },
        }
    }

    /// The Arrow type the column is stored as.
    pub fn arrow_type(&self) -> DataType {
        match self {
            SqlType::TinyInt => DataType::Int8,
            SqlType::SmallInt => DataType::Int16,
            SqlType::Int => DataType::Int32,
            SqlType::BigInt => DataType::Int64,
            SqlType::LargeInt => DataType::Decimal128(38, 0),
            SqlType::Float => DataType::Float32,
            SqlType::Double => DataType::Float64,
            SqlType::Decimal { precision, scale } if *precision <= 38 => {
                DataType::Decimal128(*precision, *scale)
            }
            SqlType::Decimal { precision, scale } => DataType::Decimal256(*precision, *scale),
            SqlType::Boolean => DataType::Boolean,
            SqlType::Char { .. } | SqlType::Varchar { .. } | SqlType::String => DataType::Utf8,
            SqlType::Date => DataType::Date32,
            SqlType::DateTime { .. } => DataType::Timestamp(TimeUnit::Microsecond, None),
            SqlType::Json => DataType::Utf8,
            SqlType::Array { element } => {
                DataType::List(Arc::new(Field::new("item", element.arrow_type(), true)))
            }
            SqlType::Map { key, value } => DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", key.arrow_type(), false),
                        Field::new("value", value.arrow_type(), true),
                    ])),
                    false,
                )),
                false,
            ),
            SqlType::Struct { fields } => DataType::Struct(
                fields
                    .iter()
                    .map(|f| Field::new(&f.name, f.sql_type.arrow_type(), true))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for SqlType {
    /// Formats the type the way `DESC` and `SHOW CREATE TABLE` print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::TinyInt => write!(f, "TINYINT"),
            SqlType::SmallInt => write!(f, "SMALLINT"),
            SqlType::Int => write!(f, "INT"),
            SqlType::BigInt => write!(f, "BIGINT"),
            SqlType::LargeInt => write!(f, "LARGEINT"),
            SqlType::Float => write!(f, "FLOAT"),
            SqlType::Double => write!(f, "DOUBLE"),
            SqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            SqlType::Boolean => write!(f, "BOOLEAN"),
            SqlType::Char { length: Some(n) } => write!(f, "CHAR({n})"),
            SqlType::Char { length: None } => write!(f, "CHAR"),
            SqlType::Varchar { length: Some(n) } => write!(f, "VARCHAR({n})"),
            SqlType::Varchar { length: None } => write!(f, "VARCHAR"),
            SqlType::String => write!(f, "STRING"),
            SqlType::Date => write!(f, "DATE"),
            SqlType::DateTime { precision: Some(p) } => write!(f, "DATETIME({p})"),
            SqlType::DateTime { precision: None } => write!(f, "DATETIME"),
            SqlType::Json => write!(f, "JSON"),
            SqlType::Array { element } => write!(f, "ARRAY<{element}>"),
            SqlType::Map { key, value } => write!(f, "MAP<{key},{value}>"),
            SqlType::Struct { fields } => {
                write!(f, "STRUCT<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{}:{}", field.name, field.sql_type)?;
                }
                write!(f, ">")
            }
        }
    }
}

/// Whether values of `data_type` have the shapes of ARRAY, MAP and STRUCT
/// columns (Arrow lists, maps and structs).
pub fn is_nested_shape(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::List(_) | DataType::LargeList(_) | DataType::Map(_, _) | DataType::Struct(_)
    )
}

/// The SQL name of an Arrow type, for columns that did not come from a
/// `CREATE TABLE` (e.g. what `S3()` returns).
pub fn sql_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 | DataType::UInt8 => "SMALLINT".into(),
        DataType::Int32 | DataType::UInt16 => "INT".into(),
        DataType::Int64 | DataType::UInt32 => "BIGINT".into(),
        DataType::UInt64 => "LARGEINT".into(),
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, _) => "DATETIME".into(),
        DataType::List(f) | DataType::LargeList(f) => {
            format!("ARRAY<{}>", sql_type_name(f.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP<{},{}>",
                sql_type_name(kv[0].data_type()),
                sql_type_name(kv[1].data_type())
            ),
            _ => "MAP".into(),
        },
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), sql_type_name(f.data_type())))
                .collect();
            format!("STRUCT<{}>", fields.join(","))
        }
        other => other.to_string().to_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_doris_types() {
        assert_eq!(
            SqlType::from_parts("INT", &[]).unwrap().arrow_type(),
            DataType::Int32
        );
        assert_eq!(
            SqlType::from_parts("decimal", &[10, 2])
                .unwrap()
                .arrow_type(),
            DataType::Decimal128(10, 2)
        );
        assert_eq!(
            SqlType::from_parts("DECIMAL", &[50, 5])
                .unwrap()
                .arrow_type(),
            DataType::Decimal256(50, 5)
        );
        assert_eq!(
            SqlType::from_parts("datetimev2", &[3]).unwrap().to_string(),
            "DATETIME(3)"
        );
        assert!(SqlType::from_parts("INT", &[3, 4]).is_err());
        assert!(SqlType::from_parts("blob", &[]).is_err());
        assert!(SqlType::from_parts("decimal", &[5, 6]).is_err());
    }
}
