//! MySQL expressions that MySQL tools send (JDBC's `DatabaseMetaData`
//! queries, SQLAlchemy, GUIs) and DataFusion does not know:
//! `IF(condition, then, else)`, `UCASE`, `LCASE`, `LOCATE(sub, text)`,
//! and the casts `CAST(x AS DATETIME)`, `CAST(x AS SIGNED [INTEGER])`,
//! `CAST(x AS UNSIGNED [INTEGER])` and `CONVERT(x, type)`, Doris's map
//! literal `{'k': v}` and its names `struct_element`, `size`,
//! `array_size`, `truncate`, `group_concat` (with MySQL's `SEPARATOR`),
//! Doris's aggregate names ([`AGGREGATE_NAMES`], `collect_list`,
//! `collect_set`, `count_if`), and integer
//! division `a DIV b` (`CAST(a / b AS BIGINT)`: the quotient cut toward
//! zero, as MySQL does). Functions
//! become the DataFusion expressions they mean when the plan is
//! simplified; casts are rewritten before planning, and a DATETIME cast
//! to a string is written as MySQL writes it ([`datetimes_as_text`]).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{exec_err, plan_err, DFSchema};
use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::functions::expr_fn::to_char;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::var_provider::{VarProvider, VarType};
use datafusion::logical_expr::{
    Cast, ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::prelude::{lit, when, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType as SqlType, DuplicateTreatment, Expr as SqlExpr,
    Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList,
    FunctionArguments, Ident, Map, MapEntry, NullTreatment, ObjectName, TimezoneInfo, Value,
    VisitMut, VisitorMut,
};

/// Doris's text form of a DATETIME, for `CAST(datetime AS STRING)`.
const DATETIME_TEXT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// `expr` (over rows of `schema`) with an explicit cast of a DATETIME to a
/// string written as Doris and MySQL write one (`2024-01-01 10:00:00`),
/// not Arrow's `2024-01-01T10:00:00`.
pub(crate) fn datetimes_as_text(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    Ok(match expr {
        Expr::Cast(Cast { expr, field })
            if matches!(
                field.data_type(),
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
            ) && matches!(expr.get_type(schema), Ok(DataType::Timestamp(_, None))) =>
        {
            Transformed::yes(Expr::Cast(Cast {
                expr: Box::new(to_char(*expr, lit(DATETIME_TEXT))),
                field,
            }))
        }
        other => Transformed::no(other),
    })
}

/// Registers the functions.
pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(If::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(Locate::default()));
    for (ours, names) in by_function(&SCALAR_NAMES) {
        if let Ok(udf) = ctx.udf(ours) {
            ctx.register_udf(udf.as_ref().clone().with_aliases(names));
        }
    }
    for (ours, names) in by_function(&AGGREGATE_NAMES) {
        if let Ok(udaf) = ctx.udaf(ours) {
            ctx.register_udaf(udaf.as_ref().clone().with_aliases(names));
        }
    }
}

/// MySQL's and Doris's names of DataFusion's scalar functions.
const SCALAR_NAMES: [(&str, &str); 6] = [
    ("ucase", "upper"),
    ("lcase", "lower"),
    ("struct_element", "get_field"),
    ("size", "cardinality"),
    ("array_size", "cardinality"),
    ("truncate", "trunc"),
];

/// The other names of each function. A function is registered once with
/// all of them, its own name included, so that `std(x)` and `stddev(x)`
/// in one query are one aggregate, not two with one column name.
fn by_function<'a>(names: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, function) in names {
        grouped.entry(function).or_default().push(name);
    }
    grouped
}

/// Doris's names of DataFusion's aggregates. `STDDEV` and `VARIANCE` are
/// the population's in Doris and MySQL (DataFusion's `stddev` is the
/// sample's); without an order, the first value is any value of a group.
const AGGREGATE_NAMES: [(&str, &str); 10] = [
    ("any_value", "first_value"),
    ("stddev", "stddev_pop"),
    ("std", "stddev_pop"),
    ("variance", "var_pop"),
    ("variance_pop", "var_pop"),
    ("variance_samp", "var_samp"),
    ("ndv", "approx_distinct"),
    ("approx_count_distinct", "approx_distinct"),
    ("percentile", "percentile_cont"),
    ("percentile_approx", "approx_percentile_cont"),
];

/// Rewrites MySQL's casts in `statement` to the types DataFusion plans,
/// Doris's map literal `{'k': v}` to a map (DataFusion reads the same
/// braces as a struct), and `CAST(x AS JSON)` to `to_json(x)`.
pub(crate) fn rewrite_casts(statement: &mut DFStatement) {
    if let DFStatement::Statement(inner) = statement {
        let _ = inner.visit(&mut Casts);
    }
}

struct Casts;

/// The type DataFusion knows for a MySQL cast target, when it differs.
fn cast_target(data_type: &SqlType) -> Option<SqlType> {
    match data_type {
        SqlType::Datetime(precision) => Some(SqlType::Timestamp(*precision, TimezoneInfo::None)),
        SqlType::Signed | SqlType::SignedInteger => Some(SqlType::BigInt(None)),
        SqlType::Unsigned | SqlType::UnsignedInteger => Some(SqlType::BigIntUnsigned(None)),
        _ => None,
    }
}

impl VisitorMut for Casts {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
        match expr {
            SqlExpr::Cast {
                data_type: SqlType::JSON | SqlType::JSONB,
                expr: value,
                ..
            } => *expr = to_json(value.as_ref().clone()),
            SqlExpr::Cast { data_type, .. } => {
                if let Some(target) = cast_target(data_type) {
                    *data_type = target;
                }
            }
            SqlExpr::Convert {
                is_try: false,
                expr: value,
                data_type: Some(data_type),
                charset: None,
                ..
            } => {
                let data_type = cast_target(data_type).unwrap_or_else(|| data_type.clone());
                *expr = SqlExpr::Cast {
                    kind: CastKind::Cast,
                    expr: value.clone(),
                    data_type,
                    array: false,
                    format: None,
                };
            }
            SqlExpr::BinaryOp {
                left,
                op: BinaryOperator::MyIntegerDivide,
                right,
            } => {
                *expr = SqlExpr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(SqlExpr::Nested(Box::new(SqlExpr::BinaryOp {
                        left: left.clone(),
                        op: BinaryOperator::Divide,
                        right: right.clone(),
                    }))),
                    data_type: SqlType::BigInt(None),
                    array: false,
                    format: None,
                };
            }
            SqlExpr::Function(function) if is_named(function, "group_concat") => {
                as_string_agg(function)
            }
            SqlExpr::Function(function) if is_named(function, "timestampdiff") => {
                unit_as_text(function)
            }
            SqlExpr::Function(function) if is_named(function, "timestampadd") => {
                as_unit_add(function)
            }
            SqlExpr::Function(function) if is_named(function, "collect_list") => {
                as_array_agg(function, false)
            }
            SqlExpr::Function(function) if is_named(function, "collect_set") => {
                as_array_agg(function, true)
            }
            SqlExpr::Function(function) if is_named(function, "count_if") => counted_when(function),
            SqlExpr::Dictionary(fields) => {
                *expr = SqlExpr::Map(Map {
                    entries: fields
                        .iter()
                        .map(|field| MapEntry {
                            key: Box::new(SqlExpr::Value(
                                Value::SingleQuotedString(field.key.value.clone()).into(),
                            )),
                            value: field.value.clone(),
                        })
                        .collect(),
                });
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn is_named(function: &Function, name: &str) -> bool {
    function.over.is_none()
        && matches!(function.name.0.as_slice(), [part] if part.as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(name)))
}

/// `COLLECT_LIST(x)` as `array_agg(x) IGNORE NULLS`, `COLLECT_SET(x)` as
/// `array_agg(DISTINCT x) IGNORE NULLS`: Doris leaves NULLs out.
fn as_array_agg(function: &mut Function, distinct: bool) {
    if let FunctionArguments::List(list) = &mut function.args {
        if distinct {
            list.duplicate_treatment = Some(DuplicateTreatment::Distinct);
        }
        function.null_treatment = Some(NullTreatment::IgnoreNulls);
        function.name = ObjectName::from(vec![Ident::new("array_agg")]);
    }
}

/// `COUNT_IF(condition)` as `count(CASE WHEN condition THEN true END)`.
fn counted_when(function: &mut Function) {
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(condition))] = list.args.as_slice() else {
        return;
    };
    let when = SqlExpr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: condition.clone(),
            result: SqlExpr::Value(Value::Boolean(true).into()),
        }],
        else_result: None,
    };
    list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(when))];
    function.name = ObjectName::from(vec![Ident::new("count")]);
}

/// `TIMESTAMPADD(unit, n, x)` as Doris's `<unit>s_add(x, n)` (`QUARTER`
/// as three months).
fn as_unit_add(function: &mut Function) {
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(SqlExpr::Identifier(unit))), n, x] =
        list.args.as_slice()
    else {
        return;
    };
    let (name, n) = match unit.value.to_ascii_uppercase().as_str() {
        "QUARTER" => {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(count)) = n else {
                return;
            };
            let months = SqlExpr::BinaryOp {
                left: Box::new(SqlExpr::Nested(Box::new(count.clone()))),
                op: BinaryOperator::Multiply,
                right: Box::new(SqlExpr::Value(
                    Value::Number("3".parse().expect("a number"), false).into(),
                )),
            };
            (
                "months_add",
                FunctionArg::Unnamed(FunctionArgExpr::Expr(months)),
            )
        }
        "SECOND" => ("seconds_add", n.clone()),
        "MINUTE" => ("minutes_add", n.clone()),
        "HOUR" => ("hours_add", n.clone()),
        "DAY" => ("days_add", n.clone()),
        "WEEK" => ("weeks_add", n.clone()),
        "MONTH" => ("months_add", n.clone()),
        "YEAR" => ("years_add", n.clone()),
        _ => return,
    };
    list.args = vec![x.clone(), n];
    function.name = ObjectName::from(vec![Ident::new(name)]);
}

/// `TIMESTAMPDIFF(DAY, a, b)` as `TIMESTAMPDIFF('DAY', a, b)`: the unit is
/// a word, which SQL would read as a column.
fn unit_as_text(function: &mut Function) {
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    if let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(unit))) = list.args.first_mut() {
        if let SqlExpr::Identifier(word) = unit {
            *unit = SqlExpr::Value(Value::SingleQuotedString(word.value.to_uppercase()).into());
        }
    }
}

/// Doris's `GROUP_CONCAT([DISTINCT] x[, sep] [ORDER BY ...])`, also with
/// MySQL's `SEPARATOR sep`: DataFusion's `string_agg(x, sep ...)`, the
/// separator `', '` when none is given, as in Doris.
fn as_string_agg(function: &mut Function) {
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let separator = list.clauses.iter().find_map(|clause| match clause {
        FunctionArgumentClause::Separator(value) => Some(SqlExpr::Value(value.clone())),
        _ => None,
    });
    list.clauses
        .retain(|clause| !matches!(clause, FunctionArgumentClause::Separator(_)));
    if list.args.len() == 1 {
        let separator = separator
            .unwrap_or_else(|| SqlExpr::Value(Value::SingleQuotedString(", ".into()).into()));
        list.args
            .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(separator)));
    }
    function.name = ObjectName::from(vec![Ident::new("string_agg")]);
}

/// `to_json(value)`: what `CAST(value AS JSON)` means.
fn to_json(value: SqlExpr) -> SqlExpr {
    SqlExpr::Function(Function {
        name: ObjectName::from(vec![Ident::new("to_json")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(value))],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// `IF(condition, then, else)`: `CASE WHEN condition THEN then ELSE else
/// END`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct If {
    signature: Signature,
}

impl Default for If {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for If {
    fn name(&self) -> &str {
        "if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [_, then, otherwise] = arg_types else {
            return plan_err!("IF takes three arguments: IF(condition, then, else)");
        };
        let Some(common) = type_union_resolution(&[then.clone(), otherwise.clone()]) else {
            return plan_err!(
                "IF's two values have types with no common type: {then} and {otherwise}"
            );
        };
        Ok(vec![DataType::Boolean, common.clone(), common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[1].clone())
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [condition, then, otherwise] = <[Expr; 3]>::try_from(args).map_err(|_| {
            datafusion::error::DataFusionError::Plan("IF takes three arguments".into())
        })?;
        Ok(ExprSimplifyResult::Simplified(
            when(condition, then).otherwise(otherwise)?,
        ))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("IF is planned as a CASE expression")
    }
}

/// `LOCATE(sub, text)`: where `sub` first starts in `text`, from 1; 0 if
/// nowhere (DataFusion's `strpos(text, sub)`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Locate {
    signature: Signature,
}

impl Default for Locate {
    fn default() -> Self {
        Self {
            signature: Signature::string(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Locate {
    fn name(&self) -> &str {
        "locate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [sub, text] = <[Expr; 2]>::try_from(args).map_err(|_| {
            datafusion::error::DataFusionError::Plan("LOCATE takes two arguments".into())
        })?;
        let position = datafusion::functions::expr_fn::strpos(text, sub);
        Ok(ExprSimplifyResult::Simplified(
            datafusion::logical_expr::cast(position, DataType::Int64),
        ))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("LOCATE is planned as strpos")
    }
}

/// Registers the functions whose value is the session's: `DATABASE()`
/// and `SCHEMA()` (the current database, NULL without one), `USER()`,
/// `CURRENT_USER()`, `SESSION_USER()`, `SYSTEM_USER()` (`'user'@'%'`, as
/// Doris writes it) and `VERSION()`.
pub(crate) fn register_session_values(ctx: &SessionContext, user: &str, database: Option<&str>) {
    ctx.register_variable(VarType::System, Arc::new(ServerVariables));
    let user = format!("'{user}'@'%'");
    let values = [
        ("database", database.map(str::to_string)),
        ("schema", database.map(str::to_string)),
        ("user", Some(user.clone())),
        ("current_user", Some(user.clone())),
        ("session_user", Some(user.clone())),
        ("system_user", Some(user)),
        ("version", Some(crate::serve::SERVER_VERSION.to_string())),
    ];
    for (name, value) in values {
        ctx.register_udf(ScalarUDF::new_from_impl(SessionValue {
            name,
            value,
            signature: Signature::nullary(Volatility::Stable),
        }));
    }
}

/// `@@name` in a query (also `@@session.name`, `@@global.name`): the
/// server variables, as `tributary serve` answers `SELECT @@name` and
/// `SHOW VARIABLES`, for the REPL and a library's sessions too.
#[derive(Debug)]
struct ServerVariables;

impl ServerVariables {
    fn value(names: &[String]) -> Option<String> {
        let name = names.last()?.trim_start_matches("@@").to_ascii_lowercase();
        match name.as_str() {
            "version" => Some(crate::serve::SERVER_VERSION.to_string()),
            "version_comment" => Some(crate::serve::version_comment()),
            name => crate::catalog::information_schema::SERVER_VARIABLES
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, value)| value.to_string()),
        }
    }
}

impl VarProvider for ServerVariables {
    fn get_value(&self, names: Vec<String>) -> Result<datafusion::common::ScalarValue> {
        match Self::value(&names) {
            Some(value) => Ok(datafusion::common::ScalarValue::Utf8(Some(value))),
            None => plan_err!("unknown system variable {}", names.join(".")),
        }
    }

    fn get_type(&self, names: &[String]) -> Option<DataType> {
        Self::value(names).map(|_| DataType::Utf8)
    }
}

/// A function without arguments whose value is fixed for the session.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SessionValue {
    name: &'static str,
    value: Option<String>,
    signature: Signature,
}

impl ScalarUDFImpl for SessionValue {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn simplify(&self, _: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Simplified(Expr::Literal(
            datafusion::common::ScalarValue::Utf8(self.value.clone()),
            None,
        )))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(
            datafusion::common::ScalarValue::Utf8(self.value.clone()),
        ))
    }
}
