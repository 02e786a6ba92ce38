//! `CREATE TABLE t AS <query>` and `CREATE TABLE t LIKE s`: a table made
//! from a query's columns (then its rows, in one INSERT), or from another
//! table's columns and properties (no rows). Making the table needs
//! ADMIN_PRIV on the database, reading needs SELECT_PRIV on what is read.

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::logical_expr::LogicalPlan;

use super::users::require_on_table;
use super::{database_of, ddl, table_def};
use crate::catalog::names::{check_name, NameKind};
use crate::catalog::users::Privilege;
use crate::catalog::{Column, SqlType, StructField};
use crate::error::{Error, Result};
use crate::parse::{CreateTable, TableName};
use crate::session::{Session, StatementResult};

/// `CREATE TABLE t AS <query>`: the rows inserted as the affected count.
/// A failed INSERT drops the new table again, so the statement makes both
/// or neither.
pub(super) async fn create_table_as(
    session: &Session,
    mut create: CreateTable,
    query: &str,
) -> Result<StatementResult> {
    let plan = super::query::plan(session, query).await?;
    if matches!(plan, LogicalPlan::Dml(_) | LogicalPlan::Ddl(_)) {
        return Err(Error::Syntax(
            "CREATE TABLE ... AS takes a query: CREATE TABLE t AS SELECT ...".into(),
        ));
    }
    create.columns = plan
        .schema()
        .fields()
        .iter()
        .map(|f| column(f))
        .collect::<Result<_>>()?;
    let database = database_of(session, &create.name)?;
    let name = create.name.clone();
    if session
        .engine()
        .catalog()
        .table(&database, &name.table)
        .is_ok()
        && create.if_not_exists
    {
        return Ok(StatementResult::affected(0));
    }
    ddl::create_table(session, create).await?;
    let insert = format!("INSERT INTO `{database}`.`{}` {query}", name.table);
    match super::query::run(session, &insert).await {
        Ok(inserted) => Ok(inserted),
        Err(error) => {
            let _ = ddl::drop_table(session, &name, true).await;
            Err(error)
        }
    }
}

/// `CREATE TABLE t LIKE s`: `s`'s columns, comment and properties.
pub(super) async fn create_table_like(
    session: &Session,
    name: TableName,
    if_not_exists: bool,
    source: &TableName,
) -> Result<StatementResult> {
    let def = table_def(session, source)?;
    require_on_table(session, Privilege::Select, &def.database, &def.name)?;
    ddl::create_table(
        session,
        CreateTable {
            name,
            if_not_exists,
            columns: def.columns,
            comment: def.comment,
            ignored_clauses: Vec::new(),
            properties: def.properties.into_iter().collect(),
        },
    )
    .await
}

/// The column a query's result column becomes: its name, and the SQL type
/// of its values; nullable, as Doris makes them.
fn column(field: &Field) -> Result<Column> {
    let name = field.name().to_lowercase();
    check_name(NameKind::Column, &name).map_err(|_| {
        Error::Syntax(format!(
            "the query's column '{}' is not a column name: name it with AS, e.g. SELECT count(*) AS n",
            field.name()
        ))
    })?;
    let sql_type = sql_type(field.data_type()).ok_or_else(|| {
        Error::UnsupportedType(format!(
            "{} (of the query's column '{name}'; CAST it to one of these)",
            crate::catalog::sql_type_name(field.data_type())
        ))
    })?;
    Ok(Column {
        name,
        sql_type,
        nullable: true,
        comment: None,
        default: None,
    })
}

/// The column type that holds values of `data_type` unchanged.
fn sql_type(data_type: &DataType) -> Option<SqlType> {
    Some(match data_type {
        DataType::Int8 => SqlType::TinyInt,
        DataType::Int16 | DataType::UInt8 => SqlType::SmallInt,
        DataType::Int32 | DataType::UInt16 => SqlType::Int,
        DataType::Int64 | DataType::UInt32 => SqlType::BigInt,
        DataType::UInt64 => SqlType::LargeInt,
        DataType::Float16 | DataType::Float32 => SqlType::Float,
        DataType::Float64 => SqlType::Double,
        DataType::Decimal128(precision, scale) | DataType::Decimal256(precision, scale) => {
            SqlType::Decimal {
                precision: *precision,
                scale: *scale,
            }
        }
        DataType::Boolean => SqlType::Boolean,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => SqlType::String,
        DataType::Date32 | DataType::Date64 => SqlType::Date,
        DataType::Timestamp(unit, _) => SqlType::DateTime {
            precision: match unit {
                TimeUnit::Second => None,
                TimeUnit::Millisecond => Some(3),
                TimeUnit::Microsecond | TimeUnit::Nanosecond => Some(6),
            },
        },
        DataType::List(item) | DataType::LargeList(item) => SqlType::Array {
            element: Box::new(sql_type(item.data_type())?),
        },
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => SqlType::Map {
                key: Box::new(sql_type(kv[0].data_type())?),
                value: Box::new(sql_type(kv[1].data_type())?),
            },
            _ => return None,
        },
        DataType::Struct(fields) => SqlType::Struct {
            fields: fields
                .iter()
                .map(|f| {
                    Some(StructField {
                        name: f.name().to_lowercase(),
                        sql_type: sql_type(f.data_type())?,
                    })
                })
                .collect::<Option<_>>()?,
        },
        _ => return None,
    })
}
