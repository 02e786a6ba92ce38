//! `generate_series` and `range` over BIGINT that end where they should.
//!
//! DataFusion's generators add the step once more after the last value to
//! see that they are done; when that passes the largest (or smallest)
//! BIGINT, a debug build panics and a release build wraps around and
//! generates without end. Such a series is made here instead, from the
//! values it really has; every other call goes to DataFusion's.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;

/// The most values a series near the end of BIGINT is made with here.
const MAX_VALUES: i128 = 1 << 20;

/// Puts the bounded `generate_series` and `range` in place of DataFusion's.
pub(crate) fn register(ctx: &SessionContext) {
    for (name, include_end) in [("generate_series", true), ("range", false)] {
        if let Some(inner) = ctx.state().table_functions().get(name).cloned() {
            ctx.register_udtf(
                name,
                Arc::new(BoundedSeries {
                    name,
                    include_end,
                    inner: inner.function().clone(),
                }),
            );
        }
    }
}

#[derive(Debug)]
struct BoundedSeries {
    name: &'static str,
    include_end: bool,
    inner: Arc<dyn TableFunctionImpl>,
}

impl TableFunctionImpl for BoundedSeries {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let Some((start, end, step)) = int_args(args.exprs()) else {
            return self.inner.call_with_args(args);
        };
        let Some(count) = self.count_near_the_end(start, end, step) else {
            return self.inner.call_with_args(args);
        };
        if count > MAX_VALUES {
            return plan_err!(
                "{} would step past the end of BIGINT after {count} values: give a series of at most {MAX_VALUES} values that ends within a step of it",
                self.name
            );
        }
        let values: Int64Array = (0..count)
            .map(|i| (i128::from(start) + i * i128::from(step)) as i64)
            .collect::<Vec<_>>()
            .into();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "value",
            DataType::Int64,
            false,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)])?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

impl BoundedSeries {
    /// How many values a series has whose generator would step past the
    /// end of BIGINT after its last one; `None` for any other series.
    fn count_near_the_end(&self, start: i64, end: i64, step: i64) -> Option<i128> {
        let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
        if step == 0 {
            return None;
        }
        // The number of values, counted without stepping.
        let span = (end - start) * step.signum();
        let count = match (span, self.include_end) {
            (s, _) if s < 0 => 0,
            (s, true) => s / step.abs() + 1,
            (s, false) => (s + step.abs() - 1) / step.abs(),
        };
        let after_last = start + count * step;
        (count > 0 && i64::try_from(after_last).is_err()).then_some(count)
    }
}

/// `(start, end, step)` of a call with one to three BIGINT literals.
fn int_args(exprs: &[Expr]) -> Option<(i64, i64, i64)> {
    let ints: Vec<i64> = exprs
        .iter()
        .map(|expr| match expr {
            Expr::Literal(ScalarValue::Int64(Some(n)), _) => Some(*n),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match ints[..] {
        [end] => Some((0, end, 1)),
        [start, end] => Some((start, end, 1)),
        [start, end, step] => Some((start, end, step)),
        _ => None,
    }
}
