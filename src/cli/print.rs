//! Printing results the way the mysql client prints them.

use std::time::Duration;

use arrow::util::display::FormatOptions;
use arrow::util::pretty::pretty_format_batches_with_options;
use tributary::{ResultKind, StatementResult};

/// How to lay out a result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A bordered table.
    Table,
    /// One `column: value` line per column, as after `\G`.
    Vertical,
}

fn format_options() -> FormatOptions<'static> {
    tributary::display::format_options("NULL")
}

/// Renders a statement result, its summary line and its warnings.
pub fn render(result: &StatementResult, layout: Layout, elapsed: Duration) -> String {
    let secs = format!("({:.2} sec)", elapsed.as_secs_f64());
    let mut out = String::new();
    match result.kind {
        ResultKind::Affected(n) => {
            out.push_str(&format!(
                "Query OK, {n} {} affected {secs}\n",
                plural(n as usize, "row")
            ));
        }
        ResultKind::Rows if result.num_rows() == 0 => {
            out.push_str(&format!("Empty set {secs}\n"));
        }
        ResultKind::Rows => {
            let body = match layout {
                Layout::Table => table(result),
                Layout::Vertical => vertical(result),
            };
            out.push_str(&body);
            out.push('\n');
            let n = result.num_rows();
            out.push_str(&format!("{n} {} in set {secs}\n", plural(n, "row")));
        }
    }
    for warning in &result.warnings {
        out.push_str(&format!("Warning: {warning}\n"));
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn table(result: &StatementResult) -> String {
    match pretty_format_batches_with_options(&result.batches, &format_options()) {
        Ok(table) => table.to_string(),
        Err(e) => format!("(cannot display result: {e})"),
    }
}

fn vertical(result: &StatementResult) -> String {
    let names: Vec<&str> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let options = format_options();
    let mut out = Vec::new();
    let mut row_number = 0;
    for batch in &result.batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| tributary::display::formatter(c.as_ref(), &options))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        for row in 0..batch.num_rows() {
            row_number += 1;
            out.push(format!(
                "*************************** {row_number}. row ***************************"
            ));
            for (name, formatter) in names.iter().zip(&formatters) {
                out.push(format!("{name:>width$}: {}", formatter.value(row)));
            }
        }
    }
    out.join("\n")
}
