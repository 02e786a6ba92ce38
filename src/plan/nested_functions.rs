//! Doris's functions on JSON and nested values that DataFusion does not
//! have under these names: `to_json(x)` (also `CAST(x AS JSON)`),
//! `element_at(array_or_map, i)`, and the `json_*` family over JSON text:
//! `json_extract`, `json_extract_string`, `json_extract_int`,
//! `json_extract_bigint`, `json_extract_double`, `json_extract_bool`,
//! `json_exists_path`, `json_length` and `json_valid`.
//!
//! A JSON path is Doris's and MySQL's: `$` the whole value, `.key` or
//! `."a key"` a member, `[n]` an element from 0. What a path does not
//! find, and text that is not JSON, give NULL.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{exec_err, plan_err, DFSchema};
use datafusion::error::{DataFusionError, Result};
use datafusion::functions_nested::expr_fn::{array_element, map_extract};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    Cast, ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::prelude::{lit, SessionContext};
use serde_json::Value;

use crate::catalog::{is_nested_shape, sql_type_name};
use crate::write::json::{from_json_text, string_values, to_json_column};

/// Registers the functions.
pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(ToJson::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(ElementAt::default()));
    for kind in JsonKind::ALL {
        let function = ScalarUDF::new_from_impl(JsonFunction::new(kind));
        ctx.register_udf(match kind.doris_name() {
            Some(name) => function.with_aliases([name]),
            None => function,
        });
    }
}

/// `expr` with a cast of text to an ARRAY, MAP or STRUCT read as JSON
/// (`'[1, 2]'` is the array `[1, 2]`), failing on text that is not such a
/// value; DataFusion's own cast would make `'[1, 2]'` a one-element array
/// of that string. A job's batch keeps the cast, which its conversion
/// applies row by row, leaving out the rows whose text does not fit.
pub(crate) fn text_as_nested(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::Cast(Cast { expr: text, field }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    if !is_nested_shape(field.data_type()) || !text.get_type(schema).is_ok_and(|t| t.is_string()) {
        return Ok(Transformed::no(expr));
    }
    let from_json = FromJson {
        target: field.data_type().clone(),
        signature: Signature::any(1, Volatility::Immutable),
    };
    Ok(Transformed::yes(Expr::ScalarFunction(
        ScalarFunction::new_udf(
            Arc::new(ScalarUDF::new_from_impl(from_json)),
            vec![text.as_ref().clone()],
        ),
    )))
}

/// JSON text read as a nested value of `target`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromJson {
    target: DataType,
    signature: Signature,
}

impl ScalarUDFImpl for FromJson {
    fn name(&self) -> &str {
        "from_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let text = args.args[0].to_array(args.number_rows)?;
        let values = from_json_text(text.as_ref(), &self.target)?;
        let texts = string_array(&text)?;
        if let Some(row) = (0..values.len()).find(|&r| texts.is_valid(r) && values.is_null(r)) {
            return exec_err!(
                "'{}' is not a JSON value of type {}: write it as JSON ([1, 2], {{\"k\": 1}}) or as a literal ([1, 2], {{'k': 1}}, named_struct(...))",
                texts.value(row),
                sql_type_name(&self.target)
            );
        }
        Ok(ColumnarValue::Array(values))
    }
}

/// `to_json(x)`: `x` as JSON text; text that is JSON stays as it is,
/// other text becomes NULL (as `CAST('abc' AS JSON)` in Doris).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

impl Default for ToJson {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(to_json_column(&input)?))
    }
}

/// `element_at(array, i)` (from 1) and `element_at(map, key)`, as Doris
/// has both (DataFusion's `element_at` takes only a map and gives a list).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ElementAt {
    signature: Signature,
}

impl Default for ElementAt {
    fn default() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::List(item) | DataType::LargeList(item) => Ok(item.data_type().clone()),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => Ok(fields[1].data_type().clone()),
                _ => plan_err!("element_at takes an ARRAY or a MAP"),
            },
            DataType::Null => Ok(DataType::Null),
            _ => plan_err!(
                "element_at takes an ARRAY or a MAP: element_at(array, i), element_at(map, key)"
            ),
        }
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [container, at] = <[Expr; 2]>::try_from(args)
            .map_err(|_| DataFusionError::Plan("element_at takes two arguments".into()))?;
        Ok(ExprSimplifyResult::Simplified(
            match info.get_data_type(&container)? {
                DataType::Map(_, _) => array_element(map_extract(container, at), lit(1i64)),
                _ => array_element(container, at),
            },
        ))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("element_at is planned as array_element")
    }
}

/// The `json_*` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum JsonKind {
    Extract,
    ExtractString,
    ExtractInt,
    ExtractBigInt,
    ExtractDouble,
    ExtractBool,
    ExistsPath,
    Length,
    Valid,
}

impl JsonKind {
    const ALL: [JsonKind; 9] = [
        JsonKind::Extract,
        JsonKind::ExtractString,
        JsonKind::ExtractInt,
        JsonKind::ExtractBigInt,
        JsonKind::ExtractDouble,
        JsonKind::ExtractBool,
        JsonKind::ExistsPath,
        JsonKind::Length,
        JsonKind::Valid,
    ];

    /// Doris's other name for the function (`get_json_string`).
    fn doris_name(self) -> Option<&'static str> {
        match self {
            JsonKind::ExtractString => Some("get_json_string"),
            JsonKind::ExtractInt => Some("get_json_int"),
            JsonKind::ExtractBigInt => Some("get_json_bigint"),
            JsonKind::ExtractDouble => Some("get_json_double"),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            JsonKind::Extract => "json_extract",
            JsonKind::ExtractString => "json_extract_string",
            JsonKind::ExtractInt => "json_extract_int",
            JsonKind::ExtractBigInt => "json_extract_bigint",
            JsonKind::ExtractDouble => "json_extract_double",
            JsonKind::ExtractBool => "json_extract_bool",
            JsonKind::ExistsPath => "json_exists_path",
            JsonKind::Length => "json_length",
            JsonKind::Valid => "json_valid",
        }
    }

    /// How many arguments the function takes: the JSON text, then a path
    /// (optional for `json_length`, none for `json_valid`).
    fn arities(self) -> &'static [usize] {
        match self {
            JsonKind::Length => &[1, 2],
            JsonKind::Valid => &[1],
            _ => &[2],
        }
    }

    fn return_type(self) -> DataType {
        match self {
            JsonKind::Extract | JsonKind::ExtractString => DataType::Utf8,
            JsonKind::ExtractInt | JsonKind::Length | JsonKind::Valid => DataType::Int32,
            JsonKind::ExtractBigInt => DataType::Int64,
            JsonKind::ExtractDouble => DataType::Float64,
            JsonKind::ExtractBool | JsonKind::ExistsPath => DataType::Boolean,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonFunction {
    kind: JsonKind,
    signature: Signature,
}

impl JsonFunction {
    fn new(kind: JsonKind) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !self.kind.arities().contains(&arg_types.len()) {
            let usage = match self.kind {
                JsonKind::Length => "json_length(json[, path])".to_string(),
                JsonKind::Valid => "json_valid(text)".to_string(),
                kind => format!("{}(json, path)", kind.name()),
            };
            return plan_err!("{} takes {usage}", self.kind.name());
        }
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.kind.return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = string_array(&arrays[0])?;
        let paths = arrays.get(1).map(string_array).transpose()?;
        let mut parsed_path: Option<(String, Vec<Step>)> = None;
        let mut found = Vec::with_capacity(rows);
        for row in 0..rows {
            let text = texts.is_valid(row).then(|| texts.value(row));
            let path = match &paths {
                Some(paths) if paths.is_null(row) => {
                    found.push(Found::Null);
                    continue;
                }
                Some(paths) => Some(paths.value(row)),
                None => None,
            };
            let steps = match path {
                Some(path) => {
                    if parsed_path.as_ref().map(|(p, _)| p.as_str()) != Some(path) {
                        parsed_path = Some((path.to_string(), parse_path(path)?));
                    }
                    parsed_path.as_ref().map(|(_, s)| s.as_slice())
                }
                None => None,
            };
            found.push(match text {
                None => Found::Null,
                Some(text) => match serde_json::from_str::<Value>(text) {
                    Err(_) => Found::NotJson,
                    Ok(value) => match steps.map_or(Some(&value), |s| walk(&value, s)) {
                        Some(v) => Found::Value(v.clone()),
                        None => Found::Missing,
                    },
                },
            });
        }
        Ok(ColumnarValue::Array(self.kind.results(&found)))
    }
}

/// What a row's path found.
enum Found {
    /// The JSON text or the path was NULL.
    Null,
    NotJson,
    Missing,
    Value(Value),
}

impl JsonKind {
    fn results(self, found: &[Found]) -> ArrayRef {
        let value = |f: &Found| match f {
            Found::Value(v) => Some(v.clone()),
            _ => None,
        };
        match self {
            JsonKind::Extract => Arc::new(
                found
                    .iter()
                    .map(|f| value(f).map(|v| v.to_string()))
                    .collect::<StringArray>(),
            ),
            JsonKind::ExtractString => Arc::new(
                found
                    .iter()
                    .map(|f| {
                        value(f).and_then(|v| match v {
                            Value::String(s) => Some(s),
                            Value::Null => None,
                            other => Some(other.to_string()),
                        })
                    })
                    .collect::<StringArray>(),
            ),
            JsonKind::ExtractInt => Arc::new(
                found
                    .iter()
                    .map(|f| {
                        value(f)
                            .and_then(|v| v.as_i64())
                            .and_then(|n| i32::try_from(n).ok())
                    })
                    .collect::<Int32Array>(),
            ),
            JsonKind::ExtractBigInt => Arc::new(
                found
                    .iter()
                    .map(|f| value(f).and_then(|v| v.as_i64()))
                    .collect::<Int64Array>(),
            ),
            JsonKind::ExtractDouble => Arc::new(
                found
                    .iter()
                    .map(|f| value(f).and_then(|v| v.as_f64()))
                    .collect::<Float64Array>(),
            ),
            JsonKind::ExtractBool => Arc::new(
                found
                    .iter()
                    .map(|f| value(f).and_then(|v| v.as_bool()))
                    .collect::<BooleanArray>(),
            ),
            JsonKind::ExistsPath => Arc::new(
                found
                    .iter()
                    .map(|f| match f {
                        Found::Value(_) => Some(true),
                        Found::Missing => Some(false),
                        Found::Null | Found::NotJson => None,
                    })
                    .collect::<BooleanArray>(),
            ),
            JsonKind::Length => Arc::new(
                found
                    .iter()
                    .map(|f| {
                        value(f).map(|v| match v {
                            Value::Array(items) => items.len() as i32,
                            Value::Object(members) => members.len() as i32,
                            _ => 1,
                        })
                    })
                    .collect::<Int32Array>(),
            ),
            JsonKind::Valid => Arc::new(
                found
                    .iter()
                    .map(|f| match f {
                        Found::Null => None,
                        Found::NotJson => Some(0),
                        _ => Some(1),
                    })
                    .collect::<Int32Array>(),
            ),
        }
    }
}

/// An argument's text (the functions' arguments are coerced to text).
fn string_array(array: &ArrayRef) -> Result<StringArray> {
    string_values(array.as_ref()).ok_or_else(|| {
        DataFusionError::Internal(format!("a text argument of type {}", array.data_type()))
    })
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Member(String),
    Element(usize),
}

/// Parses `$`, `$.a.b`, `$."a b"`, `$.a[0]`, `$[1].c`.
fn parse_path(path: &str) -> Result<Vec<Step>> {
    let bad = |why: &str| {
        DataFusionError::Execution(format!(
            "invalid JSON path '{path}': {why}; a path is $ followed by .member or [index], e.g. $.items[0].name"
        ))
    };
    let Some(mut rest) = path.trim().strip_prefix('$') else {
        return Err(bad("it does not start with $"));
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or_else(|| bad("a quoted member is not closed"))?;
                steps.push(Step::Member(quoted[..end].to_string()));
                rest = &quoted[end + 1..];
            } else {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return Err(bad("a member has no name"));
                }
                steps.push(Step::Member(after[..end].to_string()));
                rest = &after[end..];
            }
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| bad("an index is not closed"))?;
            let index = after[..end]
                .trim()
                .parse()
                .map_err(|_| bad("an index is not a whole number"))?;
            steps.push(Step::Element(index));
            rest = &after[end + 1..];
        } else {
            return Err(bad("expected . or ["));
        }
    }
    Ok(steps)
}

fn walk<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |at, step| match step {
        Step::Member(name) => at.get(name.as_str()),
        Step::Element(index) => at.get(*index),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_walk_members_and_elements() {
        let value: Value = serde_json::from_str(r#"{"a": {"b c": [10, {"d": true}]}}"#).unwrap();
        let at = |path: &str| walk(&value, &parse_path(path).unwrap()).cloned();
        assert_eq!(at("$.a.\"b c\"[1].d"), Some(Value::Bool(true)));
        assert_eq!(at("$.a.\"b c\"[0]"), Some(Value::from(10)));
        assert_eq!(at("$.a.x"), None);
        assert_eq!(at("$"), Some(value.clone()));
        assert!(parse_path("a.b").is_err());
        assert!(parse_path("$.a[x]").is_err());
    }
}
