//! `information_schema`: the tables MySQL tools read to learn what a
//! server holds (JDBC's `DatabaseMetaData`, SQLAlchemy's inspector, GUI
//! tools, `mysqldump`), with MySQL's table and column names, built from
//! the catalog when a query reads them and showing only what the session
//! user holds a privilege on. `SHOW TABLES` and `SHOW COLUMNS` are
//! queries of these tables.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::Result as DFResult;

use super::{Catalog, TableDef};

/// The schema's name, as MySQL spells it.
pub const INFORMATION_SCHEMA: &str = "information_schema";

/// The collation every text column has.
const COLLATION: &str = "utf8mb4_0900_bin";

/// A column of one of the tables: its name and whether it holds numbers.
type ColumnSpec = (&'static str, Kind);

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
}
use Kind::{Number, Text};

/// One value of a row.
enum Value {
    Text(Option<String>),
    Number(Option<i64>),
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(Some(s.into()))
}

fn number(n: i64) -> Value {
    Value::Number(Some(n))
}

const NULL_TEXT: Value = Value::Text(None);
const NULL_NUMBER: Value = Value::Number(None);

const SCHEMATA: [ColumnSpec; 6] = [
    ("CATALOG_NAME", Text),
    ("SCHEMA_NAME", Text),
    ("DEFAULT_CHARACTER_SET_NAME", Text),
    ("DEFAULT_COLLATION_NAME", Text),
    ("SQL_PATH", Text),
    ("DEFAULT_ENCRYPTION", Text),
];

const TABLES: [ColumnSpec; 21] = [
    ("TABLE_CATALOG", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("TABLE_TYPE", Text),
    ("ENGINE", Text),
    ("VERSION", Number),
    ("ROW_FORMAT", Text),
    ("TABLE_ROWS", Number),
    ("AVG_ROW_LENGTH", Number),
    ("DATA_LENGTH", Number),
    ("MAX_DATA_LENGTH", Number),
    ("INDEX_LENGTH", Number),
    ("DATA_FREE", Number),
    ("AUTO_INCREMENT", Number),
    ("CREATE_TIME", Text),
    ("UPDATE_TIME", Text),
    ("CHECK_TIME", Text),
    ("TABLE_COLLATION", Text),
    ("CHECKSUM", Number),
    ("CREATE_OPTIONS", Text),
    ("TABLE_COMMENT", Text),
];

const COLUMNS: [ColumnSpec; 21] = [
    ("TABLE_CATALOG", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("COLUMN_NAME", Text),
    ("ORDINAL_POSITION", Number),
    ("COLUMN_DEFAULT", Text),
    ("IS_NULLABLE", Text),
    ("DATA_TYPE", Text),
    ("CHARACTER_MAXIMUM_LENGTH", Number),
    ("CHARACTER_OCTET_LENGTH", Number),
    ("NUMERIC_PRECISION", Number),
    ("NUMERIC_SCALE", Number),
    ("DATETIME_PRECISION", Number),
    ("CHARACTER_SET_NAME", Text),
    ("COLLATION_NAME", Text),
    ("COLUMN_TYPE", Text),
    ("COLUMN_KEY", Text),
    ("EXTRA", Text),
    ("PRIVILEGES", Text),
    ("COLUMN_COMMENT", Text),
    ("GENERATION_EXPRESSION", Text),
];

const VIEWS: [ColumnSpec; 10] = [
    ("TABLE_CATALOG", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("VIEW_DEFINITION", Text),
    ("CHECK_OPTION", Text),
    ("IS_UPDATABLE", Text),
    ("DEFINER", Text),
    ("SECURITY_TYPE", Text),
    ("CHARACTER_SET_CLIENT", Text),
    ("COLLATION_CONNECTION", Text),
];

const STATISTICS: [ColumnSpec; 16] = [
    ("TABLE_CATALOG", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("NON_UNIQUE", Number),
    ("INDEX_SCHEMA", Text),
    ("INDEX_NAME", Text),
    ("SEQ_IN_INDEX", Number),
    ("COLUMN_NAME", Text),
    ("COLLATION", Text),
    ("CARDINALITY", Number),
    ("SUB_PART", Number),
    ("PACKED", Text),
    ("NULLABLE", Text),
    ("INDEX_TYPE", Text),
    ("COMMENT", Text),
    ("INDEX_COMMENT", Text),
];

const KEY_COLUMN_USAGE: [ColumnSpec; 12] = [
    ("CONSTRAINT_CATALOG", Text),
    ("CONSTRAINT_SCHEMA", Text),
    ("CONSTRAINT_NAME", Text),
    ("TABLE_CATALOG", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("COLUMN_NAME", Text),
    ("ORDINAL_POSITION", Number),
    ("POSITION_IN_UNIQUE_CONSTRAINT", Number),
    ("REFERENCED_TABLE_SCHEMA", Text),
    ("REFERENCED_TABLE_NAME", Text),
    ("REFERENCED_COLUMN_NAME", Text),
];

const ROUTINES: [ColumnSpec; 8] = [
    ("SPECIFIC_NAME", Text),
    ("ROUTINE_CATALOG", Text),
    ("ROUTINE_SCHEMA", Text),
    ("ROUTINE_NAME", Text),
    ("ROUTINE_TYPE", Text),
    ("DATA_TYPE", Text),
    ("ROUTINE_DEFINITION", Text),
    ("ROUTINE_COMMENT", Text),
];

const ENGINES: [ColumnSpec; 6] = [
    ("ENGINE", Text),
    ("SUPPORT", Text),
    ("COMMENT", Text),
    ("TRANSACTIONS", Text),
    ("XA", Text),
    ("SAVEPOINTS", Text),
];

const COLLATIONS: [ColumnSpec; 7] = [
    ("COLLATION_NAME", Text),
    ("CHARACTER_SET_NAME", Text),
    ("ID", Number),
    ("IS_DEFAULT", Text),
    ("IS_COMPILED", Text),
    ("SORTLEN", Number),
    ("PAD_ATTRIBUTE", Text),
];

const CHARACTER_SETS: [ColumnSpec; 4] = [
    ("CHARACTER_SET_NAME", Text),
    ("DEFAULT_COLLATE_NAME", Text),
    ("DESCRIPTION", Text),
    ("MAXLEN", Number),
];

const FILES: [ColumnSpec; 16] = [
    ("FILE_ID", Number),
    ("FILE_NAME", Text),
    ("FILE_TYPE", Text),
    ("TABLESPACE_NAME", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("LOGFILE_GROUP_NAME", Text),
    ("LOGFILE_GROUP_NUMBER", Number),
    ("ENGINE", Text),
    ("TOTAL_EXTENTS", Number),
    ("EXTENT_SIZE", Number),
    ("INITIAL_SIZE", Number),
    ("MAXIMUM_SIZE", Number),
    ("AUTOEXTEND_SIZE", Number),
    ("STATUS", Text),
    ("EXTRA", Text),
];

const TRIGGERS: [ColumnSpec; 10] = [
    ("TRIGGER_CATALOG", Text),
    ("TRIGGER_SCHEMA", Text),
    ("TRIGGER_NAME", Text),
    ("EVENT_MANIPULATION", Text),
    ("EVENT_OBJECT_SCHEMA", Text),
    ("EVENT_OBJECT_TABLE", Text),
    ("ACTION_STATEMENT", Text),
    ("ACTION_TIMING", Text),
    ("DEFINER", Text),
    ("SQL_MODE", Text),
];

const PARTITIONS: [ColumnSpec; 8] = [
    ("TABLE_CATALOG", Text),
    ("TABLE_SCHEMA", Text),
    ("TABLE_NAME", Text),
    ("PARTITION_NAME", Text),
    ("PARTITION_ORDINAL_POSITION", Number),
    ("PARTITION_METHOD", Text),
    ("PARTITION_EXPRESSION", Text),
    ("TABLE_ROWS", Number),
];

const VARIABLES: [ColumnSpec; 2] = [("VARIABLE_NAME", Text), ("VARIABLE_VALUE", Text)];

/// The tables, by their lower-case names.
pub const TABLE_NAMES: [&str; 15] = [
    "schemata",
    "tables",
    "columns",
    "views",
    "statistics",
    "key_column_usage",
    "routines",
    "engines",
    "collations",
    "character_sets",
    "session_variables",
    "global_variables",
    "files",
    "triggers",
    "partitions",
];

/// The server variables MySQL tools read (`SHOW VARIABLES`, `@@name`,
/// `information_schema.SESSION_VARIABLES`) that do not depend on the
/// session.
pub const SERVER_VARIABLES: [(&str, &str); 27] = [
    ("auto_increment_increment", "1"),
    ("autocommit", "1"),
    ("character_set_client", "utf8mb4"),
    ("character_set_connection", "utf8mb4"),
    ("character_set_database", "utf8mb4"),
    ("character_set_results", "utf8mb4"),
    ("character_set_server", "utf8mb4"),
    ("collation_connection", "utf8mb4_general_ci"),
    ("collation_database", "utf8mb4_general_ci"),
    ("collation_server", "utf8mb4_general_ci"),
    ("init_connect", ""),
    ("interactive_timeout", "28800"),
    ("license", "Apache License, Version 2.0"),
    ("lower_case_table_names", "0"),
    ("max_allowed_packet", "16777216"),
    ("net_buffer_length", "16384"),
    ("net_write_timeout", "60"),
    ("performance_schema", "0"),
    ("query_cache_size", "0"),
    ("query_cache_type", "OFF"),
    ("sql_mode", "ONLY_FULL_GROUP_BY"),
    ("system_time_zone", "UTC"),
    ("time_zone", "SYSTEM"),
    ("transaction_isolation", "REPEATABLE-READ"),
    ("tx_isolation", "REPEATABLE-READ"),
    ("tx_read_only", "0"),
    ("wait_timeout", "28800"),
];

/// The `information_schema` a session's user sees.
#[derive(Debug)]
pub struct InformationSchema {
    catalog: Arc<Catalog>,
    user: String,
}

impl InformationSchema {
    pub fn new(catalog: Arc<Catalog>, user: String) -> Self {
        Self { catalog, user }
    }

    /// The tables of the databases the user may see, with the tables in
    /// them they may see.
    fn visible(&self) -> Vec<(String, Vec<TableDef>)> {
        self.catalog
            .database_names()
            .into_iter()
            .filter(|db| self.catalog.can_see_database(&self.user, db))
            .map(|db| {
                let tables = self
                    .catalog
                    .table_names(&db)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| self.catalog.can_see_table(&self.user, &db, t))
                    .filter_map(|t| self.catalog.table(&db, &t).ok())
                    .collect();
                (db, tables)
            })
            .collect()
    }

    /// The views of the databases the user sees, those they may see.
    fn visible_views(&self) -> Vec<super::ViewDef> {
        self.catalog
            .database_names()
            .into_iter()
            .filter(|db| self.catalog.can_see_database(&self.user, db))
            .flat_map(|db| self.catalog.views(&db))
            .filter(|v| self.catalog.can_see_table(&self.user, &v.database, &v.name))
            .collect()
    }

    fn views(&self) -> Vec<Vec<Value>> {
        self.visible_views()
            .into_iter()
            .map(|view| {
                vec![
                    text("def"),
                    text(view.database),
                    text(view.name),
                    text(view.query),
                    text("NONE"),
                    text("NO"),
                    text(format!("'{}'@'%'", view.definer)),
                    text("DEFINER"),
                    text("utf8mb4"),
                    text(COLLATION),
                ]
            })
            .collect()
    }

    fn rows(&self, table: &str) -> Option<(&'static [ColumnSpec], Vec<Vec<Value>>)> {
        Some(match table {
            "schemata" => (&SCHEMATA[..], self.schemata()),
            "tables" => (&TABLES[..], self.tables()),
            "columns" => (&COLUMNS[..], self.columns()),
            "views" => (&VIEWS[..], self.views()),
            "statistics" => (&STATISTICS[..], Vec::new()),
            "key_column_usage" => (&KEY_COLUMN_USAGE[..], Vec::new()),
            "routines" => (&ROUTINES[..], Vec::new()),
            "engines" => (&ENGINES[..], engines()),
            "collations" => (&COLLATIONS[..], collations()),
            "character_sets" => (&CHARACTER_SETS[..], character_sets()),
            "session_variables" | "global_variables" => (&VARIABLES[..], variables()),
            "files" => (&FILES[..], Vec::new()),
            "triggers" => (&TRIGGERS[..], Vec::new()),
            "partitions" => (&PARTITIONS[..], Vec::new()),
            _ => return None,
        })
    }

    fn schemata(&self) -> Vec<Vec<Value>> {
        let mut names: Vec<String> = self.visible().into_iter().map(|(db, _)| db).collect();
        names.push(INFORMATION_SCHEMA.to_string());
        names
            .into_iter()
            .map(|db| {
                vec![
                    text("def"),
                    text(db),
                    text("utf8mb4"),
                    text(COLLATION),
                    NULL_TEXT,
                    text("NO"),
                ]
            })
            .collect()
    }

    fn tables(&self) -> Vec<Vec<Value>> {
        let mut rows = Vec::new();
        for (db, tables) in self.visible() {
            for def in tables {
                rows.push(vec![
                    text("def"),
                    text(db.clone()),
                    text(def.name.clone()),
                    text("BASE TABLE"),
                    text("Lance"),
                    number(10),
                    text("Dynamic"),
                    NULL_NUMBER,
                    NULL_NUMBER,
                    NULL_NUMBER,
                    number(0),
                    number(0),
                    number(0),
                    NULL_NUMBER,
                    text(super::shown_time(&def.created_at)),
                    NULL_TEXT,
                    NULL_TEXT,
                    text(COLLATION),
                    NULL_NUMBER,
                    text(""),
                    text(def.comment.clone().unwrap_or_default()),
                ]);
            }
        }
        for view in self.visible_views() {
            let mut row = vec![
                text("def"),
                text(view.database.clone()),
                text(view.name.clone()),
                text("VIEW"),
            ];
            row.extend((0..10).map(|_| NULL_NUMBER));
            row.push(text(super::shown_time(&view.created_at)));
            row.extend([NULL_TEXT, NULL_TEXT, NULL_TEXT, NULL_NUMBER, NULL_TEXT]);
            row.push(text("VIEW"));
            rows.push(row);
        }
        for name in TABLE_NAMES {
            rows.push(vec![
                text("def"),
                text(INFORMATION_SCHEMA),
                text(name.to_ascii_uppercase()),
                text("SYSTEM VIEW"),
                NULL_TEXT,
                number(10),
                NULL_TEXT,
                NULL_NUMBER,
                NULL_NUMBER,
                NULL_NUMBER,
                NULL_NUMBER,
                NULL_NUMBER,
                NULL_NUMBER,
                NULL_NUMBER,
                NULL_TEXT,
                NULL_TEXT,
                NULL_TEXT,
                NULL_TEXT,
                NULL_NUMBER,
                text(""),
                text(""),
            ]);
        }
        rows
    }

    fn columns(&self) -> Vec<Vec<Value>> {
        let mut rows = Vec::new();
        for (db, tables) in self.visible() {
            for def in tables {
                for (i, column) in def.columns.iter().enumerate() {
                    let shape = Shape::of(&column.sql_type);
                    let is_text = shape.chars.is_some();
                    rows.push(vec![
                        text("def"),
                        text(db.clone()),
                        text(def.name.clone()),
                        text(column.name.clone()),
                        number(i as i64 + 1),
                        Value::Text(column.default_shown()),
                        text(if column.nullable { "YES" } else { "NO" }),
                        text(column.sql_type.mysql_data_type()),
                        Value::Number(shape.chars),
                        Value::Number(shape.chars.map(|n| n * 4)),
                        Value::Number(shape.precision),
                        Value::Number(shape.scale),
                        Value::Number(shape.datetime_precision),
                        Value::Text(is_text.then(|| "utf8mb4".to_string())),
                        Value::Text(is_text.then(|| COLLATION.to_string())),
                        text(column.sql_type.mysql_column_type()),
                        text(""),
                        text(""),
                        text("select,insert"),
                        text(column.comment.clone().unwrap_or_default()),
                        text(""),
                    ]);
                }
            }
        }
        rows
    }
}

/// The sizes `information_schema.COLUMNS` gives a type.
struct Shape {
    chars: Option<i64>,
    precision: Option<i64>,
    scale: Option<i64>,
    datetime_precision: Option<i64>,
}

impl Shape {
    fn of(sql_type: &super::SqlType) -> Shape {
        use super::SqlType as T;
        let mut shape = Shape {
            chars: None,
            precision: None,
            scale: None,
            datetime_precision: None,
        };
        let numeric = |p: i64| (Some(p), Some(0));
        match sql_type {
            T::TinyInt => (shape.precision, shape.scale) = numeric(3),
            T::SmallInt => (shape.precision, shape.scale) = numeric(5),
            T::Int => (shape.precision, shape.scale) = numeric(10),
            T::BigInt => (shape.precision, shape.scale) = numeric(19),
            T::LargeInt => (shape.precision, shape.scale) = numeric(39),
            T::Float => shape.precision = Some(12),
            T::Double => shape.precision = Some(22),
            T::Decimal { precision, scale } => {
                shape.precision = Some(i64::from(*precision));
                shape.scale = Some(i64::from(*scale));
            }
            T::Boolean => (shape.precision, shape.scale) = numeric(1),
            T::Char { length } => shape.chars = Some(length.map_or(1, i64::from)),
            T::Varchar { length } => shape.chars = Some(length.map_or(65533, i64::from)),
            T::String => shape.chars = Some(65535),
            T::Date | T::Json | T::Array { .. } | T::Map { .. } | T::Struct { .. } => {}
            T::DateTime { precision } => {
                shape.datetime_precision = Some(precision.map_or(0, i64::from));
            }
        }
        shape
    }
}

fn engines() -> Vec<Vec<Value>> {
    vec![vec![
        text("Lance"),
        text("DEFAULT"),
        text("Lance datasets: columnar, versioned, on a local disk or S3"),
        text("NO"),
        text("NO"),
        text("NO"),
    ]]
}

fn collations() -> Vec<Vec<Value>> {
    [
        ("utf8mb4_0900_bin", 309, ""),
        ("utf8mb4_general_ci", 45, "Yes"),
        ("utf8mb4_bin", 46, ""),
    ]
    .into_iter()
    .map(|(name, id, default)| {
        vec![
            text(name),
            text("utf8mb4"),
            number(id),
            text(default),
            text("Yes"),
            number(1),
            text("PAD SPACE"),
        ]
    })
    .collect()
}

fn character_sets() -> Vec<Vec<Value>> {
    vec![vec![
        text("utf8mb4"),
        text("utf8mb4_general_ci"),
        text("UTF-8 Unicode"),
        number(4),
    ]]
}

fn variables() -> Vec<Vec<Value>> {
    SERVER_VARIABLES
        .iter()
        .map(|(name, value)| vec![text(*name), text(*value)])
        .collect()
}

/// `columns` and `rows` as one batch.
fn batch(columns: &[ColumnSpec], rows: Vec<Vec<Value>>) -> DFResult<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, kind)| {
            let data_type = match kind {
                Text => DataType::Utf8,
                Number => DataType::Int64,
            };
            Field::new(*name, data_type, true)
        })
        .collect();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for (i, (_, kind)) in columns.iter().enumerate() {
        let array: ArrayRef = match kind {
            Text => Arc::new(
                rows.iter()
                    .map(|row| match &row[i] {
                        Value::Text(v) => v.clone(),
                        Value::Number(v) => v.map(|n| n.to_string()),
                    })
                    .collect::<StringArray>(),
            ),
            Number => Arc::new(
                rows.iter()
                    .map(|row| match &row[i] {
                        Value::Number(v) => *v,
                        Value::Text(_) => None,
                    })
                    .collect::<Int64Array>(),
            ),
        };
        arrays.push(array);
    }
    let schema = super::display_names::resolvable(&Schema::new(fields), &[]);
    Ok(RecordBatch::try_new(Arc::new(schema), arrays)?)
}

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        TABLE_NAMES.iter().map(|t| t.to_string()).collect()
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        let Some((columns, rows)) = self.rows(&name.to_ascii_lowercase()) else {
            return Ok(None);
        };
        let batch = batch(columns, rows)?;
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        Ok(Some(Arc::new(table)))
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLE_NAMES.contains(&name.to_ascii_lowercase().as_str())
    }
}
