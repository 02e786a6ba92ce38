//! Integer `+`, `-` and `*` that fail on overflow, as MySQL's do
//! (`BIGINT value is out of range`), where DataFusion's wrap around
//! (`9223372036854775807 + 1` would be `-9223372036854775808`).
//!
//! Integers narrower than BIGINT are computed as BIGINT, as MySQL does.
//! Each such operation between integers becomes a call of
//! `checked_add`, `checked_subtract` or `checked_multiply`, named as the
//! operation was (`a + 1`), before the plan is optimized, so a constant
//! that overflows fails when it is folded. [`unchecked`] turns the calls
//! back into operators for SQL that Lance reads.

use std::sync::Arc;

use datafusion::arrow::compute::kernels::numeric::{add, mul, sub};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::error::ArrowError;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, DataFusionError};
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    cast, BinaryExpr, ColumnarValue, Expr, ExprSchemable, Operator, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr_common::datum::apply;

use crate::catalog::sql_type_name;

/// `expr` with an integer `+`, `-` or `*` (over rows of `schema`) as its
/// checked call.
pub(crate) fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let Some(function) = Checked::of(*op) else {
        return Ok(Transformed::no(expr));
    };
    let (Ok(left_type), Ok(right_type)) = (left.get_type(schema), right.get_type(schema)) else {
        return Ok(Transformed::no(expr));
    };
    if !(left_type.is_integer() && right_type.is_integer()) {
        return Ok(Transformed::no(expr));
    }
    Ok(Transformed::yes(Expr::ScalarFunction(
        ScalarFunction::new_udf(
            Arc::new(ScalarUDF::new_from_impl(function)),
            vec![as_bigint(left, &left_type), as_bigint(right, &right_type)],
        ),
    )))
}

/// The checked functions (`checked_add`, ...), for a worker running a
/// stage of a plan that calls them.
pub(crate) fn all() -> impl Iterator<Item = ScalarUDF> {
    [Operator::Plus, Operator::Minus, Operator::Multiply]
        .into_iter()
        .filter_map(Checked::of)
        .map(ScalarUDF::new_from_impl)
}

/// An integer narrower than BIGINT as a BIGINT: MySQL computes integer
/// arithmetic in BIGINT, so `TINYINT 100 + 100` is 200.
fn as_bigint(operand: &Expr, data_type: &DataType) -> Expr {
    match data_type {
        DataType::Int64 | DataType::UInt64 => operand.clone(),
        _ => cast(operand.clone(), DataType::Int64),
    }
}

/// `expr` with the checked calls as the operators they stand for.
pub(crate) fn unchecked(expr: Expr) -> Result<Transformed<Expr>> {
    let Expr::ScalarFunction(call) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let Some(checked) = call.func.inner().downcast_ref::<Checked>() else {
        return Ok(Transformed::no(expr));
    };
    let [left, right] = call.args.as_slice() else {
        return Err(DataFusionError::Internal(
            "a checked operation has two operands".into(),
        ));
    };
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(left.clone()),
        checked.op,
        Box::new(right.clone()),
    ))))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Checked {
    op: Operator,
    name: &'static str,
    signature: Signature,
}

impl Checked {
    fn of(op: Operator) -> Option<Self> {
        let name = match op {
            Operator::Plus => "checked_add",
            Operator::Minus => "checked_subtract",
            Operator::Multiply => "checked_multiply",
            _ => return None,
        };
        Some(Self {
            op,
            name,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }

    fn coercer<'a>(&'a self, types: &'a [DataType]) -> Result<BinaryTypeCoercer<'a>> {
        match types {
            [left, right] => Ok(BinaryTypeCoercer::new(left, &self.op, right)),
            _ => Err(DataFusionError::Plan(format!(
                "{} takes two operands",
                self.op
            ))),
        }
    }
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (left, right) = self.coercer(arg_types)?.get_input_types()?;
        Ok(vec![left, right])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.coercer(arg_types)?.get_result_type()
    }

    /// Named as the operation is: `a + 1`, not `checked_add(a, 1)`.
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(format!(
            "{} {} {}",
            args[0].schema_name(),
            self.op,
            args[1].schema_name()
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [left, right] = args.args.as_slice() else {
            return Err(DataFusionError::Internal(
                "a checked operation has two operands".into(),
            ));
        };
        let kernel = match self.op {
            Operator::Plus => add,
            Operator::Minus => sub,
            _ => mul,
        };
        match apply(left, right, kernel) {
            Err(DataFusionError::ArrowError(error, backtrace)) => match *error {
                ArrowError::ArithmeticOverflow(message) => {
                    let operation = message.trim_start_matches("Overflow happened on: ");
                    Err(DataFusionError::Execution(format!(
                        "{} value is out of range in {operation}: CAST an operand to DECIMAL(38,0) (LARGEINT) for a wider result",
                        sql_type_name(args.return_field.data_type())
                    )))
                }
                other => Err(DataFusionError::ArrowError(Box::new(other), backtrace)),
            },
            result => result,
        }
    }
}
