//! Helpers shared by the integration tests.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

/// Formats batches as the table the REPL prints, for assertions.
pub fn table(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

/// The lines of a formatted table, trimmed, for exact comparisons.
pub fn lines(batches: &[RecordBatch]) -> Vec<String> {
    table(batches)
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}
