//! Doris's string functions that DataFusion lacks or reads otherwise:
//! `CONCAT` is NULL when an argument is, `LENGTH` counts bytes,
//! `REGEXP_EXTRACT(text, pattern, group)`, `SHA2(text, bits)` and `HEX`.

use datafusion::arrow::array::{make_array, Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::functions::crypto::expr_fn::digest;
use datafusion::functions::encoding::expr_fn::encode;
use datafusion::functions::regex::expr_fn::regexp_match;
use datafusion::functions::string::expr_fn::{to_hex, upper};
use datafusion::functions_nested::expr_fn::array_element;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    cast, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{coalesce, concat, lit, when, SessionContext};

/// Registers the functions.
pub(crate) fn register(ctx: &SessionContext) {
    if let Ok(concat) = ctx.udf("concat") {
        ctx.register_udf(ScalarUDF::new_from_impl(NullConcat {
            inner: concat.as_ref().clone(),
        }));
    }
    // CHAR_LENGTH counts characters.
    if let Ok(octet_length) = ctx.udf("octet_length") {
        ctx.register_udf(octet_length.as_ref().clone().with_aliases(["length"]));
    }
    ctx.register_udf(ScalarUDF::new_from_impl(RegexpExtract::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(Sha2::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(Hex::default()));
}

/// `CONCAT(a, b, ...)`: NULL when any argument is NULL, as in MySQL and
/// Doris (DataFusion's `concat` skips NULLs, as PostgreSQL's does).
#[derive(Debug, PartialEq, Eq, Hash)]
struct NullConcat {
    inner: ScalarUDF,
}

impl ScalarUDFImpl for NullConcat {
    fn name(&self) -> &str {
        "concat"
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let null_scalar = args
            .args
            .iter()
            .any(|a| matches!(a, ColumnarValue::Scalar(s) if s.is_null()));
        if null_scalar {
            let null = ScalarValue::try_from(args.return_field.data_type())?;
            return Ok(ColumnarValue::Scalar(null));
        }
        let nulls = args.args.iter().fold(None, |nulls, arg| match arg {
            ColumnarValue::Array(array) => {
                NullBuffer::union(nulls.as_ref(), array.logical_nulls().as_ref())
            }
            ColumnarValue::Scalar(_) => nulls,
        });
        let joined = self.inner.invoke_with_args(args)?;
        let (Some(nulls), ColumnarValue::Array(joined)) = (nulls, &joined) else {
            return Ok(joined);
        };
        let data = joined.to_data();
        let nulls = NullBuffer::union(data.nulls(), Some(&nulls));
        let data = data.into_builder().nulls(nulls).build()?;
        Ok(ColumnarValue::Array(make_array(data)))
    }
}

/// `REGEXP_EXTRACT(text, pattern, group)`: group `group` of the pattern's
/// first match in `text` (0 the whole match), the empty string when it
/// does not match, as in Doris.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpExtract {
    signature: Signature,
}

impl Default for RegexpExtract {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return plan_err!(
                "REGEXP_EXTRACT() takes 3 arguments: REGEXP_EXTRACT(text, pattern, group)"
            );
        }
        Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [text, pattern, group] = <[Expr; 3]>::try_from(args)
            .map_err(|_| DataFusionError::Plan("REGEXP_EXTRACT() takes 3 arguments".into()))?;
        // regexp_match gives the pattern's groups from 1: the whole match
        // is group 1 of the pattern in parentheses.
        let whole = concat(vec![lit("("), pattern, lit(")")]);
        let groups = regexp_match(text.clone(), whole, None);
        let found = coalesce(vec![array_element(groups, group + lit(1i64)), lit("")]);
        let planned = when(text.is_null(), lit(ScalarValue::Utf8(None))).otherwise(found)?;
        Ok(ExprSimplifyResult::Simplified(planned))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("REGEXP_EXTRACT() is planned as regexp_match")
    }
}

/// `SHA2(text, bits)`: the SHA-2 digest of `bits` 224, 256 (or 0), 384 or
/// 512 in hex, as in Doris.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Sha2 {
    signature: Signature,
}

impl Default for Sha2 {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Sha2 {
    fn name(&self) -> &str {
        "sha2"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!("SHA2() takes 2 arguments: SHA2(text, 256)");
        }
        Ok(vec![DataType::Utf8, DataType::Int64])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [text, bits] = <[Expr; 2]>::try_from(args)
            .map_err(|_| DataFusionError::Plan("SHA2() takes 2 arguments".into()))?;
        let algorithm = match bits {
            Expr::Literal(ScalarValue::Int64(Some(0 | 256)), _) => "sha256",
            Expr::Literal(ScalarValue::Int64(Some(224)), _) => "sha224",
            Expr::Literal(ScalarValue::Int64(Some(384)), _) => "sha384",
            Expr::Literal(ScalarValue::Int64(Some(512)), _) => "sha512",
            _ => return plan_err!("SHA2's length must be 224, 256, 384 or 512"),
        };
        let hex = encode(digest(text, lit(algorithm)), lit("hex"));
        Ok(ExprSimplifyResult::Simplified(hex))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("SHA2() is planned as digest")
    }
}

/// `HEX(x)`: a whole number in hexadecimal, or text's bytes two hex digits
/// each, in capitals, as in Doris.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Hex {
    signature: Signature,
}

impl Default for Hex {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Hex {
    fn name(&self) -> &str {
        "hex"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_integer() => Ok(vec![DataType::Int64]),
            [_] => Ok(vec![DataType::Utf8]),
            _ => plan_err!("HEX() takes 1 argument: HEX(x)"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [x] = <[Expr; 1]>::try_from(args)
            .map_err(|_| DataFusionError::Plan("HEX() takes 1 argument".into()))?;
        let digits = match info.get_data_type(&x)? {
            DataType::Int64 => to_hex(x),
            _ => encode(cast(x, DataType::Binary), lit("hex")),
        };
        Ok(ExprSimplifyResult::Simplified(upper(digits)))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("HEX() is planned as to_hex or encode")
    }
}
