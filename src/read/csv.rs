//! Reading CSV files the way Doris reads them: headerless files give string
//! columns `c1..cN`, `csv_with_names` takes names from the first line.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::csv::reader::{Format as ArrowCsvFormat, ReaderBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use futures::StreamExt;
use regex::Regex;
use tokio::sync::mpsc::Sender;

use super::compression::ByteStream;
use super::listing::{decode_error, stream_read_error};
use super::options::{CsvOptions, Format};
use crate::error::{Error, Result};

/// A CSV dialect and the schema its files are read with.
#[derive(Debug, Clone)]
pub struct CsvReader {
    options: CsvOptions,
    /// Lines skipped at the start of every file (headers, `skip_lines`).
    skip: usize,
    schema: SchemaRef,
}

impl CsvReader {
    /// The reader for `format`; the schema comes from `csv_schema` or the
    /// first lines of a file (`head`).
    pub fn infer(format: Format, options: &CsvOptions, head: &[u8], file: &str) -> Result<Self> {
        let skip = match format {
            Format::CsvWithNames => 1,
            Format::CsvWithNamesAndTypes => 2,
            _ => options.skip_lines,
        };
        let schema = match &options.schema {
            Some(schema) => schema.clone(),
            None => infer_schema(format, options, head, file)?,
        };
        Ok(Self {
            options: options.clone(),
            skip,
            schema: Arc::new(schema),
        })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn line_end(&self) -> u8 {
        self.options.line_delimiter.unwrap_or(b'\n')
    }

    fn quote(&self) -> u8 {
        match (self.options.enclose, self.options.trim_double_quotes) {
            (Some(q), _) => q,
            (None, true) => b'"',
            // Doris does not treat quotes specially unless asked to.
            (None, false) => 0,
        }
    }

    /// Decodes one file, sending batches of at most `batch_size` rows.
    pub async fn read(
        &self,
        mut bytes: ByteStream,
        file: &str,
        batch_size: usize,
        tx: &Sender<DFResult<RecordBatch>>,
    ) -> DFResult<()> {
        let mut builder = ReaderBuilder::new(self.schema.clone())
            .with_header(false)
            .with_delimiter(self.options.column_separator)
            .with_quote(self.quote())
            .with_batch_size(batch_size);
        if self
            .schema
            .fields()
            .iter()
            .all(|f| f.data_type() == &DataType::Utf8)
        {
            // As in Doris, an empty field of a string column is an empty
            // string, and only \N is NULL.
            builder = builder.with_null_regex(Regex::new(r"^\\N$").expect("valid regex"));
        }
        if let Some(escape) = self.options.escape {
            builder = builder.with_escape(escape);
        }
        if let Some(terminator) = self.options.line_delimiter {
            builder = builder.with_terminator(terminator);
        }
        let mut decoder = builder.build_decoder();
        let mut to_skip = self.skip;
        let error = |e: datafusion::arrow::error::ArrowError| {
            decode_error(file, with_file_line(&e.to_string(), self.skip))
        };
        let flush =
            |decoder: &mut datafusion::arrow::csv::reader::Decoder| decoder.flush().map_err(error);
        loop {
            let mut chunk = match bytes.next().await {
                Some(chunk) => chunk.map_err(|e| stream_read_error(file, &e))?,
                None => Bytes::new(),
            };
            let at_end = chunk.is_empty();
            while to_skip > 0 && !chunk.is_empty() {
                match memchr::memchr(self.line_end(), &chunk) {
                    Some(i) => {
                        chunk = chunk.slice(i + 1..);
                        to_skip -= 1;
                    }
                    None => chunk = Bytes::new(),
                }
            }
            if at_end {
                decoder.decode(&[]).map_err(error)?;
                if let Some(batch) = flush(&mut decoder)? {
                    send(tx, batch).await?;
                }
                return Ok(());
            }
            while !chunk.is_empty() {
                let consumed = decoder.decode(&chunk).map_err(error)?;
                chunk = chunk.slice(consumed..);
                if decoder.capacity() == 0 {
                    if let Some(batch) = flush(&mut decoder)? {
                        send(tx, batch).await?;
                    }
                } else if consumed == 0 {
                    break;
                }
            }
        }
    }
}

/// Rewrites arrow's "at line N" (0-based, counting decoded records) as the
/// 1-based line of the file, counting the `skipped` lines before the data.
fn with_file_line(message: &str, skipped: usize) -> String {
    const AT_LINE: &str = " at line ";
    let Some(start) = message.find(AT_LINE).map(|i| i + AT_LINE.len()) else {
        return message.to_string();
    };
    let digits: String = message[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<usize>() {
        Ok(n) => format!(
            "{}{}{}",
            &message[..start - AT_LINE.len()],
            format_args!(" at line {}", n + 1 + skipped),
            &message[start + digits.len()..]
        ),
        Err(_) => message.to_string(),
    }
}

/// Sends a batch downstream; a closed channel means the query was dropped.
pub async fn send(tx: &Sender<DFResult<RecordBatch>>, batch: RecordBatch) -> DFResult<()> {
    tx.send(Ok(batch))
        .await
        .map_err(|_| DataFusionError::Execution("query cancelled".into()))
}

fn infer_schema(format: Format, options: &CsvOptions, head: &[u8], file: &str) -> Result<Schema> {
    let line_end = options.line_delimiter.unwrap_or(b'\n');
    let mut rest = head;
    if format == Format::Csv {
        for _ in 0..options.skip_lines {
            rest = match memchr::memchr(line_end, rest) {
                Some(i) => &rest[i + 1..],
                None => &[],
            };
        }
    }
    let mut arrow_format = ArrowCsvFormat::default()
        .with_header(format != Format::Csv)
        .with_delimiter(options.column_separator)
        .with_quote(
            options
                .enclose
                .unwrap_or(if options.trim_double_quotes { b'"' } else { 0 }),
        );
    if let Some(t) = options.line_delimiter {
        arrow_format = arrow_format.with_terminator(t);
    }
    let (inferred, _) = arrow_format
        .infer_schema(Cursor::new(rest), Some(1))
        .map_err(|e| Error::Source {
            uri: file.to_string(),
            message: format!("cannot read the first line: {e}"),
        })?;
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = match format {
                Format::Csv => format!("c{}", i + 1),
                _ => f.name().trim().to_lowercase(),
            };
            Field::new(name, DataType::Utf8, true)
        })
        .collect();
    Ok(Schema::new(fields))
}
