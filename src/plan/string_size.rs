//! `repeat`, `lpad` and `rpad` that refuse to build a value larger than a
//! client can receive.
//!
//! DataFusion builds such a value up to 2 GiB, while planning when the
//! arguments are constants, where no memory limit counts it: one
//! `SELECT repeat('x', 1000000000)` held gigabytes and the CPU for
//! seconds. MySQL makes these functions' values no larger than
//! `max_allowed_packet`; here a larger one is an error that says so.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};
use datafusion::prelude::SessionContext;

/// The largest value these functions make, in bytes: the server's
/// `max_allowed_packet`.
pub(crate) const MAX_VALUE_BYTES: i64 = 16 << 20;

/// Puts the bounded functions in place of DataFusion's.
pub(crate) fn register(ctx: &SessionContext) {
    for name in ["repeat", "lpad", "rpad"] {
        if let Some(inner) = ctx.state().scalar_functions().get(name).cloned() {
            ctx.register_udf(ScalarUDF::new_from_impl(Bounded {
                inner: inner.as_ref().clone(),
            }));
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Bounded {
    inner: ScalarUDF,
}

impl Bounded {
    /// Refuses a call whose value would pass [`MAX_VALUE_BYTES`]: for
    /// `repeat` the string's bytes times the count; for the pads, the
    /// length asked for, in characters of up to 4 bytes.
    fn check(&self, args: &ScalarFunctionArgs) -> Result<()> {
        let [string, count, ..] = &args.args[..] else {
            return Ok(());
        };
        let repeat = self.inner.name() == "repeat";
        let widest = match (repeat, string) {
            (false, _) => 4,
            (true, ColumnarValue::Scalar(s)) => scalar_len(s),
            (true, ColumnarValue::Array(a)) => array_max_len(a.as_ref()),
        };
        let largest = match count {
            ColumnarValue::Scalar(ScalarValue::Int64(Some(n))) => *n,
            ColumnarValue::Array(a) if a.data_type() == &DataType::Int64 => a
                .as_primitive::<Int64Type>()
                .iter()
                .flatten()
                .max()
                .unwrap_or(0),
            _ => 0,
        };
        let bytes = i128::from(largest) * i128::from(widest);
        if bytes > i128::from(MAX_VALUE_BYTES) {
            return exec_err!(
                "{}(...) would make a value of {bytes} bytes, more than max_allowed_packet ({MAX_VALUE_BYTES}), the largest a client can receive: ask for a shorter one",
                self.inner.name()
            );
        }
        Ok(())
    }
}

fn scalar_len(value: &ScalarValue) -> i64 {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.len() as i64,
        _ => 0,
    }
}

fn array_max_len(array: &dyn Array) -> i64 {
    let lengths: Box<dyn Iterator<Item = usize>> = match array.data_type() {
        DataType::Utf8 => Box::new(array.as_string::<i32>().iter().flatten().map(str::len)),
        DataType::LargeUtf8 => Box::new(array.as_string::<i64>().iter().flatten().map(str::len)),
        DataType::Utf8View => Box::new(array.as_string_view().iter().flatten().map(str::len)),
        _ => Box::new(std::iter::empty()),
    };
    lengths.max().unwrap_or(0) as i64
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.check(&args)?;
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}
