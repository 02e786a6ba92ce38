//! Queries and DML handed to DataFusion (`SELECT`, `INSERT`, `EXPLAIN`, ...).

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::common::format::ExplainFormat;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::parser::{DFParserBuilder, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Statement as SqlStatement, TableObject};
use datafusion::sql::TableReference;
use futures::TryStreamExt;

use crate::catalog::information_schema::{self, INFORMATION_SCHEMA};
use crate::catalog::CATALOG_NAME;
use crate::distributed::{worker_failure, Workers};
use crate::error::{Error, Result};
use crate::parse::TributaryDialect;
use crate::read::{rewrite_calls, FixedFiles, S3_FUNCTION};

use super::database_of;
use super::users::require_on_table;
use crate::catalog::users::Privilege;
use crate::parse::TableName;
use crate::read::TABLE_FUNCTIONS;
use crate::session::{Session, StatementResult};

/// Plans `sql` in the session's DataFusion context, checking that its
/// tables exist and that the session user may read and write them.
pub(crate) async fn plan(session: &Session, sql: &str) -> Result<LogicalPlan> {
    plan_reading(session, parse_sql(session, sql)?, None).await
}

/// Refuses a plan whose aggregation has two ordered aggregates sorting the
/// same keys in opposite directions (`array_agg(x ORDER BY id)` beside
/// `... ORDER BY id DESC`): DataFusion 54 answers one of them in the
/// other's order when it aggregates in two steps (apache/datafusion#22597).
fn refuse_opposite_orders(plan: &LogicalPlan) -> Result<()> {
    use datafusion::logical_expr::expr::AggregateFunction;
    use datafusion::logical_expr::{Expr, SortExpr};
    let reversed = |a: &[SortExpr], b: &[SortExpr]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.expr == y.expr && x.asc != y.asc)
    };
    let mut opposite = false;
    plan.apply(|node| {
        if let LogicalPlan::Aggregate(aggregate) = node {
            let orders: Vec<Vec<SortExpr>> = aggregate
                .aggr_expr
                .iter()
                .filter_map(|e| match e.clone().unalias_nested().data {
                    Expr::AggregateFunction(AggregateFunction { params, .. })
                        if !params.order_by.is_empty() =>
                    {
                        Some(params.order_by)
                    }
                    _ => None,
                })
                .collect();
            opposite = orders
                .iter()
                .enumerate()
                .any(|(i, a)| orders[i + 1..].iter().any(|b| reversed(a, b)));
        }
        Ok(match opposite {
            true => TreeNodeRecursion::Stop,
            false => TreeNodeRecursion::Continue,
        })
    })?;
    match opposite {
        true => Err(Error::Unsupported(
            "two ordered aggregates of one query sort in opposite directions (ORDER BY x and ORDER BY x DESC), which DataFusion 54 can answer in one order: compute them in two queries, or sort both the same way".into(),
        )),
        false => Ok(()),
    }
}

/// Parses one statement in the session's SQL dialect.
pub(crate) fn parse_sql(session: &Session, sql: &str) -> Result<DFStatement> {
    let recursion_limit = session
        .context()
        .state()
        .config_options()
        .sql_parser
        .recursion_limit;
    parse_statement(sql, recursion_limit)
}

/// Parses one statement in tributary's SQL dialect, with the rewrites
/// every statement gets before planning (MySQL's forms, `MATCH_*`
/// operators, select items' names): a query, a view, and each task of a
/// job plan the same statement from the same text.
pub(crate) fn parse_statement(sql: &str, recursion_limit: usize) -> Result<DFStatement> {
    let sql = crate::parse::rewrite_match_operators(sql)?;
    let mut statements = DFParserBuilder::new(sql.as_ref())
        .with_dialect(&TributaryDialect)
        .with_recursion_limit(recursion_limit)
        .build()?
        .parse_statements()?;
    let mut statement = match (statements.pop_front(), statements.is_empty()) {
        (Some(statement), true) => statement,
        _ => return Err(Error::Syntax("expected one statement".into())),
    };
    crate::parse::check_depth(&statement)?;
    super::column_names::name_select_items(&mut statement);
    super::mysql_functions::rewrite_casts(&mut statement);
    Ok(statement)
}

/// [`plan`] of a parsed statement, with `S3()` reading exactly `files`
/// when given (a streaming job's batch, one partition per file, so that
/// each row can be traced to its file) instead of the files its pattern
/// matches.
pub(crate) async fn plan_reading(
    session: &Session,
    mut statement: DFStatement,
    files: Option<FixedFiles<'_>>,
) -> Result<LogicalPlan> {
    let ctx = session.context();
    let state = ctx.state();
    // A job's batch converts text to the table's types row by row itself.
    let a_batch = files.is_some();
    let partitions = files
        .as_ref()
        .map_or(state.config().target_partitions(), |f| f.files.len());
    let prepared = session.prepared_sources();
    prepared.clear();
    refuse_external_tables(&statement)?;
    super::views::expand_views(session, &mut statement)?;
    let calls = rewrite_calls(&mut statement, &TABLE_FUNCTIONS)?;
    if calls.iter().any(|c| c.name != S3_FUNCTION) {
        // Once per statement, however many job tables it reads.
        super::functions::read_jobs_again(session).await;
    }
    let insert = insert_target(session, &statement)?.is_some();
    for call in calls {
        let table = super::functions::prepare(session, &call, partitions, files.clone()).await?;
        if insert && call.name == S3_FUNCTION && table.schema().fields().is_empty() {
            // Only empty files: no columns to fill the table's with.
            let uri = call
                .pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("uri"));
            return Err(Error::EmptySource {
                uri: uri.map(|(_, v)| v.clone()).unwrap_or_default(),
            });
        }
        prepared.insert(call.id, table);
    }
    let mut tables = Vec::new();
    for reference in state.resolve_table_references(&statement)? {
        let is_table_function = reference.schema().is_none()
            && state
                .table_functions()
                .contains_key(&reference.table().to_lowercase());
        let information_schema = reference
            .schema()
            .is_some_and(|s| s.eq_ignore_ascii_case(INFORMATION_SCHEMA));
        if information_schema {
            // Everyone reads it; it shows each user what they may see.
            check_information_schema_table(reference.table())?;
        } else if !is_table_function {
            tables.push(check_table_exists(session, &reference)?);
        }
    }
    let plan = state.statement_to_plan(statement).await;
    prepared.clear();
    if let Ok(plan) = &plan {
        refuse_opposite_orders(plan)?;
    }
    // One walk over the plan for the rewrites that need the columns' types.
    let plan = super::typed_rewrite::rewrite_expressions(plan?, |expr, schema| {
        let expr = super::canonical_names::upper_case_strings(expr, schema)?
            .transform_data(|expr| super::mysql_functions::datetimes_as_text(expr, schema))?
            .transform_data(|expr| super::checked_arithmetic::checked(expr, schema))?;
        match a_batch {
            true => Ok(expr),
            false => expr.transform_data(|e| super::nested_functions::text_as_nested(e, schema)),
        }
    })?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .verify_plan(&plan)
        .map_err(|_| {
            Error::Syntax(
                "this statement is not supported: tributary's DDL is CREATE/DROP DATABASE and CREATE/DROP TABLE".into(),
            )
        })?;
    refuse_file_writes(&plan)?;
    check_privileges(session, &tables, &plan)?;
    super::canonical_names::show_display_names(plan)
}

/// Refuses `CREATE EXTERNAL TABLE` (also under `EXPLAIN`), which would
/// read and write files anywhere on the engine's host.
fn refuse_external_tables(statement: &DFStatement) -> Result<()> {
    match statement {
        DFStatement::CreateExternalTable(_) => Err(Error::NotAllowed(
            "CREATE EXTERNAL TABLE reads and writes files on the server's host, which tributary does not allow: make tables with CREATE TABLE and read files with S3()".into(),
        )),
        DFStatement::Explain(explain) => refuse_external_tables(&explain.statement),
        _ => Ok(()),
    }
}

/// Refuses a plan that writes files on the engine's host (`COPY ... TO`,
/// also under `EXPLAIN ANALYZE`): tables are the only place a statement
/// writes to, inside the warehouse.
fn refuse_file_writes(plan: &LogicalPlan) -> Result<()> {
    let copies = plan.exists(|node| Ok(matches!(node, LogicalPlan::Copy(_))))?;
    if copies {
        return Err(Error::NotAllowed(
            "COPY ... TO writes files on the server's host, which tributary does not allow: read the rows with SELECT through a client, or INSERT them into a table".into(),
        ));
    }
    Ok(())
}

/// Plans and runs `sql` in the session's DataFusion context.
pub(super) async fn run(session: &Session, sql: &str) -> Result<StatementResult> {
    let plan = match plan(session, sql).await {
        Err(Error::EmptySource { uri }) => return insert_nothing(session, sql, uri),
        plan => plan?,
    };
    if let Some(load) = crate::ingest::one_shot::OneShot::plan(session, &plan)? {
        return Ok(StatementResult::affected(load.load(session, sql).await?));
    }
    let ctx = session.context();
    let target = match &plan {
        LogicalPlan::Dml(dml) => Some(dml.table_name.clone()),
        _ => None,
    };
    let (df, workers) = execute(session, plan).await?;
    let schema = df.schema().inner().clone();
    let pool = ctx.runtime_env().memory_pool.clone();
    let task = ctx.task_ctx();
    let batches = match df.execute_stream().await {
        // An INSERT's rows are counted as its sink writes them.
        Ok(stream) if target.is_none() => {
            crate::memory::collect(crate::write::counted(stream, &task), &pool).await
        }
        Ok(stream) => crate::memory::collect(stream, &pool).await,
        Err(error) => Err(error),
    };
    match target {
        Some(table) => {
            let batches = batches.map_err(|e| explain_insert_error(session, &table, e))?;
            Ok(StatementResult::affected(affected_rows(&batches)))
        }
        None => {
            let batches = match &workers {
                Some(workers) => batches.map_err(|e| worker_failure(workers, e)),
                None => batches,
            };
            Ok(StatementResult::rows(schema, batches?))
        }
    }
}

/// An INSERT whose source files are all empty loads no rows (once the
/// target and the privilege to load it are checked); any other statement
/// over them fails with [`Error::EmptySource`].
fn insert_nothing(session: &Session, sql: &str, uri: String) -> Result<StatementResult> {
    let statement = parse_sql(session, sql)?;
    let Some((database, table)) = insert_target(session, &statement)? else {
        return Err(Error::EmptySource { uri });
    };
    session.engine().catalog().table(&database, &table)?;
    require_on_table(session, Privilege::Load, &database, &table)?;
    Ok(StatementResult::affected(0))
}

/// The `(database, table)` an `INSERT INTO ... SELECT` statement writes to;
/// `None` for any other statement.
pub(super) fn insert_target(
    session: &Session,
    statement: &DFStatement,
) -> Result<Option<(String, String)>> {
    let DFStatement::Statement(inner) = statement else {
        return Ok(None);
    };
    let SqlStatement::Insert(insert) = inner.as_ref() else {
        return Ok(None);
    };
    let (TableObject::TableName(name), Some(_)) = (&insert.table, &insert.source) else {
        return Ok(None);
    };
    let Some(name) = TableName::from_object_name(name) else {
        return Ok(None);
    };
    Ok(Some((database_of(session, &name)?, name.table)))
}

/// Plans the query `sql` and streams its rows; `None` when `sql` is not a
/// query (an INSERT).
pub(crate) async fn stream(
    session: &Session,
    sql: &str,
) -> Result<Option<SendableRecordBatchStream>> {
    let plan = plan(session, sql).await?;
    if matches!(plan, LogicalPlan::Dml(_)) {
        return Ok(None);
    }
    let (df, workers) = execute(session, plan).await?;
    let rows = df.execute_stream().await?;
    let Some(workers) = workers else {
        return Ok(Some(rows));
    };
    let schema = rows.schema();
    let rows = rows.map_err(move |e| worker_failure(&workers, e));
    Ok(Some(Box::pin(RecordBatchStreamAdapter::new(schema, rows))))
}

/// `plan` as a DataFrame: across the engine's workers (given back) when
/// it is a query that reads enough of the tables for them (see
/// [`crate::distributed`]), else in this process. `EXPLAIN` of such a
/// query shows its stages.
async fn execute(session: &Session, plan: LogicalPlan) -> Result<(DataFrame, Option<Workers>)> {
    let ctx = session.context();
    let Some(workers) = session.engine().workers() else {
        return Ok((ctx.execute_logical_plan(plan).await?, None));
    };
    if let LogicalPlan::Explain(explain) = &plan {
        if !explain.verbose
            && explain.explain_format == ExplainFormat::Indent
            && workers.should_run(&explain.plan)
        {
            let rows = workers.explain(&ctx.state(), explain).await?;
            return Ok((ctx.read_batch(rows)?, None));
        }
    }
    if workers.should_run(&plan) {
        let df = DataFrame::new(workers.state_for(&ctx.state()), plan);
        return Ok((df, Some(workers)));
    }
    Ok((ctx.execute_logical_plan(plan).await?, None))
}

/// DataFusion reports a NULL in a NOT NULL column by its position in the
/// source (`column1`); name the table's NOT NULL columns instead.
fn explain_insert_error(
    session: &Session,
    table: &TableReference,
    error: DataFusionError,
) -> Error {
    let message = error.to_string();
    let null_in_not_null = message.contains("non-nullable but contains null values")
        || message.contains("has null but schema specifies non-nullable");
    if !null_in_not_null {
        return error.into();
    }
    let Ok((database, name)) = resolve(session, table) else {
        return error.into();
    };
    let Ok(def) = session.engine().catalog().table(&database, &name) else {
        return error.into();
    };
    let columns: Vec<&str> = def
        .columns
        .iter()
        .filter(|c| !c.nullable)
        .map(|c| c.name.as_str())
        .collect();
    Error::NotNullViolation {
        table: format!("{database}.{}", def.name),
        columns: columns.join(", "),
    }
}

/// LOAD_PRIV on the table written to, SELECT_PRIV on the tables read (each
/// granted on the table, its database or globally):
/// every referenced table of a query, the scanned tables of a DML's input
/// (which may include its own target).
fn check_privileges(
    session: &Session,
    tables: &[(String, String)],
    plan: &LogicalPlan,
) -> Result<()> {
    let read: Vec<(String, String)> = match plan {
        LogicalPlan::Dml(dml) => {
            let (database, table) = resolve(session, &dml.table_name)?;
            require_on_table(session, Privilege::Load, &database, &table)?;
            let mut scanned = Vec::new();
            dml.input.apply(|node| {
                if let LogicalPlan::TableScan(scan) = node {
                    // Scans of table functions name no catalog table.
                    scanned.extend(resolve(session, &scan.table_name).ok());
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
            scanned.retain(|t| tables.contains(t));
            scanned
        }
        _ => tables.to_vec(),
    };
    for (database, table) in &read {
        require_on_table(session, Privilege::Select, database, table)?;
    }
    Ok(())
}

/// Fails with a tributary error naming the missing database or table, rather
/// than DataFusion's generic planning error; returns `(database, table)`.
fn check_table_exists(session: &Session, reference: &TableReference) -> Result<(String, String)> {
    if reference.catalog().is_some_and(|c| c != CATALOG_NAME) {
        return Err(Error::Syntax(format!(
            "unknown catalog in '{reference}': tables are named [database.]table"
        )));
    }
    let (database, table) = resolve(session, reference)?;
    session.engine().catalog().table(&database, &table)?;
    Ok((database, table))
}

fn check_information_schema_table(table: &str) -> Result<()> {
    if information_schema::TABLE_NAMES.contains(&table.to_lowercase().as_str()) {
        return Ok(());
    }
    Err(Error::UnknownTable {
        database: INFORMATION_SCHEMA.to_string(),
        table: table.to_lowercase(),
    })
}

/// The `(database, table)` a reference names, in lower case, with the
/// session's current database for an unqualified name.
fn resolve(session: &Session, reference: &TableReference) -> Result<(String, String)> {
    let name = TableName {
        database: reference.schema().map(str::to_lowercase),
        table: reference.table().to_lowercase(),
    };
    Ok((database_of(session, &name)?, name.table))
}

/// The row count of a DML statement's single `count` result.
fn affected_rows(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> u64 {
    batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .filter(|a| !a.is_empty())
        .map(|a| a.value(0))
        .sum()
}
