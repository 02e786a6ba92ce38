//! `GROUP BY` on a text column stored as a dictionary
//! ([`crate::write::dictionary`]), grouped by its dictionary keys.
//!
//! A table scan turns such a column back into strings for SQL; DataFusion
//! would then hash every row's string to find its group. When an
//! aggregation reads the rows raw (its partial or single step) and groups
//! by that one column, [`DictionaryGroupBy`] takes the cast out of the
//! scan and puts a [`DictionaryGroupByExec`] in the aggregation's place:
//! it finds the group of each of a batch's few distinct strings once and
//! the group of each row through its key, then feeds DataFusion's own
//! accumulators exactly as the aggregation would, with the same output.
//! A filter between the scan and the aggregation passes the dictionary on:
//! its conditions on that column alone are answered once per distinct
//! string ([`OnDictionaryValues`]), its others as they are.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column};
use datafusion::physical_expr::utils::{collect_columns, conjunction, split_conjunction};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, Partitioning, PlanProperties,
};
use futures::StreamExt;

/// The physical optimizer rule putting [`DictionaryGroupByExec`] in place
/// of an aggregation it can serve.
#[derive(Debug, Default)]
pub struct DictionaryGroupBy;

impl PhysicalOptimizerRule for DictionaryGroupBy {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            Ok(match by_keys(aggregate, &node)? {
                Some(grouped) => Transformed::yes(grouped),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "dictionary_group_by"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `aggregate` grouped by dictionary keys, when it reads raw rows grouped
/// by one column its input casts from a dictionary, with accumulators
/// that take group indices and read no other form of that column.
fn by_keys(
    aggregate: &AggregateExec,
    node: &Arc<dyn ExecutionPlan>,
) -> DFResult<Option<Arc<dyn ExecutionPlan>>> {
    let emits_states = match aggregate.mode() {
        AggregateMode::Partial => true,
        AggregateMode::Single | AggregateMode::SinglePartitioned => false,
        _ => return Ok(None),
    };
    let group_by = aggregate.group_expr();
    let [(expr, _)] = group_by.expr() else {
        return Ok(None);
    };
    let Some(group) = expr.downcast_ref::<Column>() else {
        return Ok(None);
    };
    let plain = group_by.null_expr().is_empty()
        && !group_by.has_grouping_set()
        && aggregate.filter_expr().iter().all(Option::is_none)
        && aggregate.limit_options().is_none()
        && aggregate.dynamic_filter_expr().is_none()
        && matches!(aggregate.input_order_mode(), InputOrderMode::Linear);
    let accumulable = aggregate.aggr_expr().iter().all(|a| {
        !a.is_distinct()
            && a.order_bys().is_empty()
            && a.groups_accumulator_supported()
            && (a.expressions().iter()).all(|e| {
                !collect_columns(e)
                    .iter()
                    .any(|c| c.index() == group.index())
            })
    });
    if !plain || !accumulable {
        return Ok(None);
    }
    let Some(input) = with_keys(aggregate.input(), group.index())? else {
        return Ok(None);
    };
    Ok(Some(Arc::new(DictionaryGroupByExec {
        input,
        group: group.index(),
        aggregates: aggregate.aggr_expr().to_vec(),
        emits_states,
        properties: node.properties().clone(),
    })))
}

/// `plan` with its column `index` left as the dictionary it is cast from,
/// through nodes that pass rows on unchanged; `None` when it is not one.
fn with_keys(
    plan: &Arc<dyn ExecutionPlan>,
    index: usize,
) -> DFResult<Option<Arc<dyn ExecutionPlan>>> {
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        let exprs = projection.expr();
        let Some(uncast) = exprs
            .get(index)
            .and_then(|e| dictionary_cast(&e.expr, projection))
        else {
            return Ok(None);
        };
        let mut exprs = exprs.to_vec();
        exprs[index] = ProjectionExpr {
            expr: uncast,
            alias: exprs[index].alias.clone(),
        };
        let input = projection.input().clone();
        return Ok(Some(Arc::new(ProjectionExec::try_new(exprs, input)?)));
    }
    if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        let inner = match filter.projection() {
            Some(projection) => match projection.get(index) {
                Some(&inner) => inner,
                None => return Ok(None),
            },
            None => index,
        };
        let Some(predicate) = on_dictionary(filter.predicate(), inner, &filter.input().schema())?
        else {
            return Ok(None);
        };
        let Some(input) = with_keys(filter.input(), inner)? else {
            return Ok(None);
        };
        let filter = FilterExecBuilder::from(filter)
            .with_input(input)
            .with_predicate(predicate)
            .build()?;
        return Ok(Some(Arc::new(filter)));
    }
    if let Some(repartition) = plan.downcast_ref::<RepartitionExec>() {
        if !matches!(repartition.partitioning(), Partitioning::RoundRobinBatch(_))
            || repartition.preserve_order()
        {
            return Ok(None);
        }
        let Some(input) = with_keys(repartition.input(), index)? else {
            return Ok(None);
        };
        return Ok(Some(plan.clone().with_new_children(vec![input])?));
    }
    Ok(None)
}

/// `predicate` for an input whose column `index` is a dictionary instead of
/// text: each of its conditions on that column alone is answered on the
/// dictionary's strings ([`OnDictionaryValues`]), the others stay as they
/// are; `None` when a condition reads that column with others.
fn on_dictionary(
    predicate: &Arc<dyn PhysicalExpr>,
    index: usize,
    schema: &SchemaRef,
) -> DFResult<Option<Arc<dyn PhysicalExpr>>> {
    let mut conditions = Vec::new();
    for condition in split_conjunction(predicate) {
        let columns = collect_columns(condition);
        if !columns.iter().any(|c| c.index() == index) {
            conditions.push(condition.clone());
        } else if columns.iter().all(|c| c.index() == index) {
            conditions.push(OnDictionaryValues::of(condition, index, schema)?);
        } else {
            return Ok(None);
        }
    }
    Ok(Some(conjunction(conditions)))
}

/// The dictionary column `expr` casts to text, when it is such a cast.
fn dictionary_cast(
    expr: &Arc<dyn PhysicalExpr>,
    projection: &ProjectionExec,
) -> Option<Arc<dyn PhysicalExpr>> {
    let cast = expr.downcast_ref::<CastExpr>()?;
    let column = cast.expr().downcast_ref::<Column>()?;
    let schema = projection.input().schema();
    let DataType::Dictionary(_, value) = schema.field(column.index()).data_type() else {
        return None;
    };
    let text = matches!(**value, DataType::Utf8 | DataType::LargeUtf8);
    (text && cast.cast_type() == value.as_ref()).then(|| cast.expr().clone())
}

/// An aggregation's partial or single step, grouped by the keys of a
/// dictionary column: the same output as the [`AggregateExec`] it stands
/// for.
#[derive(Debug)]
pub struct DictionaryGroupByExec {
    input: Arc<dyn ExecutionPlan>,
    /// The input column grouped by, a dictionary of strings.
    group: usize,
    aggregates: Vec<Arc<AggregateFunctionExpr>>,
    /// Partial step: emits the accumulators' states, not their values.
    emits_states: bool,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for DictionaryGroupByExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.aggregates.iter().map(|a| a.name()).collect();
        let step = if self.emits_states {
            "Partial"
        } else {
            "Single"
        };
        write!(
            f,
            "DictionaryGroupByExec: mode={step}, gby=[{}], aggr=[{}]",
            self.input.schema().field(self.group).name(),
            names.join(", ")
        )
    }
}

impl ExecutionPlan for DictionaryGroupByExec {
    fn name(&self) -> &str {
        "DictionaryGroupByExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(DictionaryGroupByExec {
            input: children.swap_remove(0),
            group: self.group,
            aggregates: self.aggregates.clone(),
            emits_states: self.emits_states,
            properties: self.properties.clone(),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DFResult<SendableRecordBatchStream> {
        let mut input = self.input.execute(partition, context.clone())?;
        let reservation = MemoryConsumer::new(format!("DictionaryGroupByExec[{partition}]"))
            .register(context.memory_pool());
        let mut groups = Groups::new(self, reservation)?;
        let schema = self.schema();
        let emitted = futures::stream::once(async move {
            while let Some(batch) = input.next().await {
                groups.add(&batch?)?;
            }
            groups.emit(&schema)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            emitted,
        )))
    }
}

/// One partition's groups: the strings seen, in group order, and the
/// accumulators.
struct Groups {
    group: usize,
    emits_states: bool,
    /// Each group's string (`None`: the NULL group) and its number.
    index: HashMap<Option<String>, usize>,
    /// The bytes of the groups' strings, for the memory reservation.
    string_bytes: usize,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    reservation: MemoryReservation,
}

impl Groups {
    fn new(exec: &DictionaryGroupByExec, reservation: MemoryReservation) -> DFResult<Self> {
        Ok(Self {
            group: exec.group,
            emits_states: exec.emits_states,
            index: HashMap::new(),
            string_bytes: 0,
            accumulators: (exec.aggregates.iter())
                .map(|a| a.create_groups_accumulator())
                .collect::<DFResult<_>>()?,
            arguments: exec.aggregates.iter().map(|a| a.expressions()).collect(),
            reservation,
        })
    }

    /// Adds `batch`'s rows to their groups.
    fn add(&mut self, batch: &RecordBatch) -> DFResult<()> {
        let rows = self.group_of_each_row(batch.column(self.group))?;
        for (accumulator, arguments) in self.accumulators.iter_mut().zip(&self.arguments) {
            let values = (arguments.iter())
                .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
                .collect::<DFResult<Vec<ArrayRef>>>()?;
            accumulator.update_batch(&values, &rows, None, self.index.len())?;
        }
        let size = (self.accumulators.iter().map(|a| a.size())).sum::<usize>()
            + self.string_bytes
            + self.index.capacity() * 2 * size_of::<(Option<String>, usize)>();
        self.reservation.try_resize(size)
    }

    /// The group of each row of `column`, a dictionary of strings: each
    /// distinct string a row uses is looked up once, the rows go through
    /// their keys. A string no row uses makes no group.
    fn group_of_each_row(&mut self, column: &ArrayRef) -> DFResult<Vec<usize>> {
        let (strings, keys) = strings_and_keys(column, "DictionaryGroupByExec")?;
        let strings: &StringArray = strings.as_string();
        let mut of_value: Vec<Option<usize>> = vec![None; strings.len()];
        let mut null_group = None;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            let group = match key {
                None => *null_group.get_or_insert_with(|| self.group_of(None)),
                Some(key) => match of_value[key] {
                    Some(group) => group,
                    None => {
                        let group = self.group_of(Some(strings.value(key)));
                        of_value[key] = Some(group);
                        group
                    }
                },
            };
            rows.push(group);
        }
        Ok(rows)
    }

    /// The group of `value`, a new one when it is new.
    fn group_of(&mut self, value: Option<&str>) -> usize {
        let key = value.map(str::to_string);
        if let Some(&group) = self.index.get(&key) {
            return group;
        }
        let group = self.index.len();
        self.string_bytes += value.map_or(0, str::len);
        self.index.insert(key, group);
        group
    }

    /// The groups and their accumulators' states (partial step) or values.
    fn emit(mut self, schema: &SchemaRef) -> DFResult<RecordBatch> {
        let mut groups: Vec<(Option<String>, usize)> =
            std::mem::take(&mut self.index).into_iter().collect();
        groups.sort_unstable_by_key(|(_, group)| *group);
        let strings = StringArray::from_iter(groups.into_iter().map(|(value, _)| value));
        let strings: ArrayRef = Arc::new(strings);
        let mut columns = vec![cast(&strings, schema.field(0).data_type())?];
        for accumulator in &mut self.accumulators {
            match self.emits_states {
                true => columns.extend(accumulator.state(EmitTo::All)?),
                false => columns.push(accumulator.evaluate(EmitTo::All)?),
            }
        }
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}

/// The strings of `column`, a dictionary of text, and each row's key into
/// them (`None` for a NULL row); `consumer` names who expected it.
fn strings_and_keys(
    column: &ArrayRef,
    consumer: &str,
) -> DFResult<(ArrayRef, impl ExactSizeIterator<Item = Option<usize>>)> {
    let dictionary = column.as_any_dictionary_opt().ok_or_else(|| {
        DataFusionError::Internal(format!(
            "{consumer} expects a dictionary, not {}",
            column.data_type()
        ))
    })?;
    let strings = cast(dictionary.values(), &DataType::Utf8)?;
    let nulls = column.logical_nulls();
    let keys = (dictionary.normalized_keys().into_iter().enumerate())
        .map(move |(row, key)| (!nulls.as_ref().is_some_and(|n| n.is_null(row))).then_some(key));
    Ok((strings, keys))
}

/// A condition on one text column, for rows where that column is a
/// dictionary: it is evaluated once for each of the dictionary's strings
/// (and once for NULL), and each row takes the answer of its key.
#[derive(Debug, Eq)]
pub struct OnDictionaryValues {
    /// The dictionary column, in the rows evaluated.
    column: Arc<dyn PhysicalExpr>,
    /// The condition, over a batch of the column's strings alone.
    condition: Arc<dyn PhysicalExpr>,
    /// That batch's schema: the column, as text.
    strings: SchemaRef,
}

impl OnDictionaryValues {
    /// `condition`, which reads only column `index` of `schema`, as text.
    fn of(
        condition: &Arc<dyn PhysicalExpr>,
        index: usize,
        schema: &SchemaRef,
    ) -> DFResult<Arc<dyn PhysicalExpr>> {
        let name = schema.field(index).name();
        let alone = condition
            .clone()
            .transform(|e| {
                Ok(match e.downcast_ref::<Column>() {
                    Some(c) if c.index() == index => {
                        Transformed::yes(Arc::new(Column::new(name, 0)) as Arc<dyn PhysicalExpr>)
                    }
                    _ => Transformed::no(e),
                })
            })
            .data()?;
        Ok(Arc::new(Self {
            column: Arc::new(Column::new(name, index)),
            condition: alone,
            strings: Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
                datafusion::arrow::datatypes::Field::new(name, DataType::Utf8, true),
            ])),
        }))
    }
}

impl PartialEq for OnDictionaryValues {
    fn eq(&self, other: &Self) -> bool {
        self.column.eq(&other.column)
            && self.condition.eq(&other.condition)
            && self.strings == other.strings
    }
}

impl std::hash::Hash for OnDictionaryValues {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.column.hash(state);
        self.condition.hash(state);
        self.strings.hash(state);
    }
}

impl fmt::Display for OnDictionaryValues {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "on_dictionary_values({})", self.condition)
    }
}

impl PhysicalExpr for OnDictionaryValues {
    fn data_type(&self, _: &datafusion::arrow::datatypes::Schema) -> DFResult<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, _: &datafusion::arrow::datatypes::Schema) -> DFResult<bool> {
        Ok(true)
    }

    fn evaluate(&self, batch: &RecordBatch) -> DFResult<datafusion::logical_expr::ColumnarValue> {
        let column = self.column.evaluate(batch)?.into_array(batch.num_rows())?;
        let (strings, keys) = strings_and_keys(&column, "on_dictionary_values")?;
        // The strings and, last, NULL: each answered once.
        let null = datafusion::arrow::array::new_null_array(&DataType::Utf8, 1);
        let strings = datafusion::arrow::compute::concat(&[strings.as_ref(), null.as_ref()])?;
        let alone = RecordBatch::try_new(self.strings.clone(), vec![strings.clone()])?;
        let answers = self.condition.evaluate(&alone)?.into_array(strings.len())?;
        let null_answer = (strings.len() - 1) as u32;
        let rows: datafusion::arrow::array::UInt32Array = keys
            .map(|key| key.map_or(null_answer, |key| key as u32))
            .collect();
        let answered = datafusion::arrow::compute::take(&answers, &rows, None)?;
        Ok(datafusion::logical_expr::ColumnarValue::Array(answered))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.column]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> DFResult<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(Self {
            column: children.swap_remove(0),
            condition: self.condition.clone(),
            strings: self.strings.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.condition.fmt_sql(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use datafusion::arrow::array::{DictionaryArray, Int64Array};
    use datafusion::arrow::datatypes::{Field, Int32Type, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::catalog::{Session, TableProvider};
    use datafusion::datasource::{MemTable, TableType};
    use datafusion::execution::session_state::SessionStateBuilder;
    use datafusion::logical_expr::Expr;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// A table read as a Lance table with a dictionary column is: the
    /// rows stored with dictionaries, the scan casting them to text.
    #[derive(Debug)]
    struct StoredAsDictionary(MemTable);

    #[async_trait]
    impl TableProvider for StoredAsDictionary {
        fn schema(&self) -> SchemaRef {
            crate::write::dictionary::logical_schema(&self.0.schema())
        }

        fn table_type(&self) -> TableType {
            TableType::Base
        }

        async fn scan(
            &self,
            state: &dyn Session,
            projection: Option<&Vec<usize>>,
            filters: &[Expr],
            limit: Option<usize>,
        ) -> DFResult<Arc<dyn ExecutionPlan>> {
            crate::catalog::as_text(self.0.scan(state, projection, filters, limit).await?)
        }
    }

    /// Two batches whose dictionaries differ, hold strings no row uses,
    /// and NULL keys.
    fn batches() -> (SchemaRef, Vec<RecordBatch>) {
        let stored = Arc::new(Schema::new(vec![
            Field::new(
                "s",
                crate::write::dictionary::stored_type(&DataType::Utf8),
                true,
            ),
            Field::new("x", DataType::Int64, true),
        ]));
        let batch = |keys: Vec<Option<i32>>, values: Vec<&str>, xs: Vec<i64>| {
            let keys = datafusion::arrow::array::Int32Array::from(keys);
            let strings = Arc::new(StringArray::from(values));
            let s = DictionaryArray::<Int32Type>::try_new(keys, strings).unwrap();
            let columns: Vec<ArrayRef> = vec![Arc::new(s), Arc::new(Int64Array::from(xs))];
            RecordBatch::try_new(stored.clone(), columns).unwrap()
        };
        let first = batch(
            vec![Some(0), Some(2), None, Some(0)],
            vec!["PAID", "UNUSED", "NEW"],
            vec![1, 2, 3, 4],
        );
        let second = batch(
            vec![Some(1), Some(1), Some(0)],
            vec!["NEW", "SHIPPED"],
            vec![10, 20, 30],
        );
        (stored, vec![first, second])
    }

    /// The plan and rows of a GROUP BY on the dictionary column, and the
    /// rows of the same query over the same rows stored as text.
    async fn grouped(target_partitions: usize, filter: &str) -> (String, String, String) {
        let config = SessionConfig::new().with_target_partitions(target_partitions);
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(DictionaryGroupBy))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let (stored, batches) = batches();
        let logical = crate::write::dictionary::logical_schema(&stored);
        let text: Vec<RecordBatch> = (batches.iter())
            .map(|b| crate::write::dictionary::cast_to(b, &logical).unwrap())
            .collect();
        let table = MemTable::try_new(stored, vec![batches]).unwrap();
        ctx.register_table("t", Arc::new(StoredAsDictionary(table)))
            .unwrap();
        let plain = MemTable::try_new(logical, vec![text]).unwrap();
        ctx.register_table("plain", Arc::new(plain)).unwrap();
        let sql = format!(
            "SELECT s, sum(x) AS total, count(*) AS n, min(x) AS least FROM {{}} {filter} GROUP BY s ORDER BY s"
        );
        let run = |sql: String| {
            let ctx = ctx.clone();
            async move {
                let rows = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
                pretty_format_batches(&rows).unwrap().to_string()
            }
        };
        let plan = run(format!("EXPLAIN {}", sql.replace("{}", "t"))).await;
        let rows = run(sql.replace("{}", "t")).await;
        let expected = run(sql.replace("{}", "plain")).await;
        (plan, rows, expected)
    }

    #[tokio::test]
    async fn groups_by_keys_as_the_hash_aggregation_groups_by_strings() {
        for (partitions, step) in [(1, "mode=Single"), (2, "mode=Partial")] {
            let (plan, rows, expected) = grouped(partitions, "").await;
            assert!(
                plan.contains(&format!("DictionaryGroupByExec: {step}")),
                "{plan}"
            );
            assert_eq!(rows, expected, "{partitions} partitions");
            // Four groups (NULL one of them), none for the unused string.
            assert_eq!(rows.lines().count(), 4 + 4, "{rows}");
            assert!(
                rows.contains("| SHIPPED | 30    |") && !rows.contains("UNUSED"),
                "{rows}"
            );
        }
    }

    #[tokio::test]
    async fn a_filter_passes_the_dictionary_on() {
        let filters = [
            "WHERE x > 1",
            "WHERE s <> 'NEW' AND x < 30",
            "WHERE s IS NULL OR s = 'PAID'",
            "WHERE s LIKE 'S%' OR s IN ('NEW')",
        ];
        for filter in filters {
            for partitions in [1, 2] {
                let (plan, rows, expected) = grouped(partitions, filter).await;
                assert!(plan.contains("DictionaryGroupByExec"), "{filter}: {plan}");
                assert_eq!(rows, expected, "{filter}, {partitions} partitions");
            }
        }
        let (_, rows, _) = grouped(2, "WHERE s IS NULL OR s = 'PAID'").await;
        assert_eq!(rows.lines().count(), 4 + 2, "{rows}");
        // A condition on the column and another one at once is left to
        // DataFusion.
        let (plan, rows, expected) = grouped(2, "WHERE s = 'NEW' OR x = 1").await;
        assert!(!plan.contains("DictionaryGroupByExec"), "{plan}");
        assert_eq!(rows, expected);
    }
}
