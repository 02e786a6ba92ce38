//! Reading CSV files the way Doris reads them: headerless files give string
//! columns `c1..cN`, `csv_with_names` takes names from the first line.

use std::io::Cursor;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use datafusion::arrow::csv::reader::{
    Decoder as ArrowDecoder, Format as ArrowCsvFormat, ReaderBuilder,
};
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

/// Doris's NULL in CSV: `\N`, and nothing else (compiled once: a reader is
/// built per file).
static DORIS_NULL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\\N$").expect("valid regex"));

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

    /// Whether every column is read as text (no `csv_schema`), as a job's
    /// rows are before their conversion to the table's types.
    pub fn reads_text(&self) -> bool {
        self.schema
            .fields()
            .iter()
            .all(|f| f.data_type() == &DataType::Utf8)
    }

    /// The most rows a plain file of `bytes` bytes holds: every row has a
    /// separator between each two of its fields and a line end. A small
    /// file's batches are sized by it, since the decoder zeroes room for
    /// a whole batch of rows before it reads one.
    pub fn rows_at_most(&self, bytes: u64) -> usize {
        let row = self.schema.fields().len().max(1) as u64;
        usize::try_from(bytes / row + 1).unwrap_or(usize::MAX)
    }

    /// An arrow CSV decoder of this dialect for `schema`'s columns
    /// `projection` (all when `None`).
    fn decoder(
        &self,
        schema: SchemaRef,
        projection: Option<&[usize]>,
        batch_size: usize,
    ) -> ArrowDecoder {
        let text = schema
            .fields()
            .iter()
            .all(|f| f.data_type() == &DataType::Utf8);
        let mut builder = ReaderBuilder::new(schema)
            .with_header(false)
            .with_delimiter(self.options.column_separator)
            .with_quote(self.quote())
            .with_batch_size(batch_size);
        if text || projection.is_some() {
            // As in Doris, an empty field of a string column is an empty
            // string, and only \N is NULL. (Typed columns then fail on an
            // empty field and are converted from text, as a cast does.)
            builder = builder.with_null_regex(DORIS_NULL.clone());
        }
        if let Some(projection) = projection {
            builder = builder.with_projection(projection.to_vec());
        }
        if let Some(escape) = self.options.escape {
            builder = builder.with_escape(escape);
        }
        if let Some(terminator) = self.options.line_delimiter {
            builder = builder.with_terminator(terminator);
        }
        builder.build_decoder()
    }

    /// Decodes one file, sending batches of at most `batch_size` rows; with
    /// `typed`, only its columns in `typed` order, each straight to its type. A
    /// batch with a value that does not decode so is decoded again as text
    /// (the same rows), for the conversion to find and describe the row.
    pub async fn read_columns(
        &self,
        mut bytes: ByteStream,
        file: &str,
        batch_size: usize,
        typed: Option<&TypedColumns>,
        tx: &Sender<DFResult<RecordBatch>>,
    ) -> DFResult<()> {
        let mut decoder = match typed {
            Some(typed) => self.decoder(typed.schema.clone(), Some(&typed.projection), batch_size),
            None => self.decoder(self.schema.clone(), None, batch_size),
        };
        // The bytes of the rows the decoder holds, to decode again as text.
        let mut held: Vec<Bytes> = Vec::new();
        let mut to_skip = self.skip;
        let error = |e: datafusion::arrow::error::ArrowError| {
            decode_error(file, with_file_line(&e.to_string(), self.skip))
        };
        let flush = |decoder: &mut ArrowDecoder, held: &mut Vec<Bytes>| {
            let batch = match (decoder.flush(), typed) {
                (Ok(batch), _) => batch,
                (Err(_), Some(typed)) => {
                    self.decode_text(held, typed, batch_size).map_err(error)?
                }
                (Err(e), None) => return Err(error(e)),
            };
            held.clear();
            Ok(batch)
        };
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
                if let Some(batch) = flush(&mut decoder, &mut held)? {
                    send(tx, batch).await?;
                }
                return Ok(());
            }
            while !chunk.is_empty() {
                let consumed = decoder.decode(&chunk).map_err(error)?;
                if typed.is_some() {
                    held.push(chunk.slice(..consumed));
                }
                chunk = chunk.slice(consumed..);
                if decoder.capacity() == 0 {
                    if let Some(batch) = flush(&mut decoder, &mut held)? {
                        send(tx, batch).await?;
                    }
                } else if consumed == 0 {
                    break;
                }
            }
        }
    }

    /// The rows in `held` (whole records), decoded as text in `typed`'s
    /// column order.
    fn decode_text(
        &self,
        held: &[Bytes],
        typed: &TypedColumns,
        batch_size: usize,
    ) -> std::result::Result<Option<RecordBatch>, datafusion::arrow::error::ArrowError> {
        let mut decoder = self.decoder(self.schema.clone(), Some(&typed.projection), batch_size);
        for bytes in held {
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let consumed = decoder.decode(rest)?;
                if consumed == 0 {
                    // Full: `held` holds one batch of records, so this does
                    // not happen; never spin if it does.
                    break;
                }
                rest = &rest[consumed..];
            }
        }
        decoder.decode(&[])?;
        decoder.flush()
    }
}

/// Columns of a CSV file decoded straight to a table's column types,
/// skipping the text arrays and the cast: for a job whose INSERT maps file
/// columns to table columns as they are.
#[derive(Debug, Clone)]
pub struct TypedColumns {
    /// For each table column, in order, the file column it comes from.
    pub projection: Vec<usize>,
    /// Every file column's type to decode: its table column's type where
    /// the CSV decoder reads text as a cast does ([`decodes_as_cast`]),
    /// text otherwise.
    pub schema: SchemaRef,
}

impl TypedColumns {
    /// The plan for reading file columns `projection` (of `file_schema`,
    /// all text) into columns of `types`; `None` when no column would be
    /// decoded to a type.
    pub fn new(file_schema: &Schema, projection: Vec<usize>, types: &[DataType]) -> Option<Self> {
        let columns = Self::reading(file_schema, projection, types);
        columns.typed().then_some(columns)
    }

    /// [`new`](Self::new), also when every column stays text (the reading
    /// then only picks and orders the columns).
    pub fn reading(file_schema: &Schema, projection: Vec<usize>, types: &[DataType]) -> Self {
        let mut fields: Vec<Field> = file_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for (&column, data_type) in projection.iter().zip(types) {
            if decodes_as_cast(data_type) && fields[column].data_type() == &DataType::Utf8 {
                fields[column] = Field::new(fields[column].name(), data_type.clone(), true);
            }
        }
        Self {
            projection,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// Whether a column is decoded to a type other than text.
    fn typed(&self) -> bool {
        self.projection
            .iter()
            .any(|&c| self.schema.field(c).data_type() != &DataType::Utf8)
    }
}

/// Whether arrow's CSV decoder reads a field of this type exactly as a
/// cast from text does (the same values accepted, the same results), so a
/// column can be decoded straight to it.
pub fn decodes_as_cast(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::Date32
    )
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

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray, RecordBatch};
    use datafusion::arrow::datatypes::Int32Type;
    use futures::stream;

    use super::*;

    fn reader(columns: usize) -> CsvReader {
        let options = CsvOptions {
            column_separator: b',',
            line_delimiter: None,
            enclose: None,
            escape: None,
            trim_double_quotes: false,
            skip_lines: 0,
            schema: None,
        };
        let text: Vec<Field> = (1..=columns)
            .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
            .collect();
        let options = CsvOptions {
            schema: Some(Schema::new(text)),
            ..options
        };
        CsvReader::infer(Format::Csv, &options, &[], "t.csv").unwrap()
    }

    /// Reads `body` (in chunks of 5 bytes) in batches of 2 rows.
    async fn read(
        reader: &CsvReader,
        body: &'static str,
        typed: Option<&TypedColumns>,
    ) -> Vec<RecordBatch> {
        let chunks: Vec<std::io::Result<Bytes>> = body
            .as_bytes()
            .chunks(5)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        reader
            .read_columns(stream::iter(chunks).boxed(), "t.csv", 2, typed, &tx)
            .await
            .unwrap();
        drop(tx);
        let mut batches = vec![];
        while let Some(batch) = rx.recv().await {
            batches.push(batch.unwrap());
        }
        batches
    }

    #[tokio::test]
    async fn typed_columns_decode_to_their_type_and_a_bad_batch_again_as_text() {
        let reader = reader(3);
        // Table columns: (c3 INT, c1 DATE, c2 DECIMAL): c2 stays text.
        let types = [
            DataType::Int32,
            DataType::Date32,
            DataType::Decimal128(10, 2),
        ];
        let typed = TypedColumns::new(reader.schema(), vec![2, 0, 1], &types).unwrap();
        let batches = read(
            &reader,
            "2026-01-01,1.50,10\n2026-01-02,2.25,20\n2026-01-03,3.00,x\n2026-01-04,4.00,\\N\n2026-01-05,5.00,50\n",
            Some(&typed),
        )
        .await;
        let rows: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(rows, [2, 2, 1]);
        // Decoded straight to INT and DATE; the decimal column as text.
        let first = &batches[0];
        assert_eq!(first.column(0).data_type(), &DataType::Int32);
        assert_eq!(first.column(1).data_type(), &DataType::Date32);
        assert_eq!(first.column(2).data_type(), &DataType::Utf8);
        assert_eq!(
            first.column(0).as_primitive::<Int32Type>().values(),
            &[10, 20]
        );
        // 'x' is not an INT: the same two rows, as text, in table order.
        let bad = &batches[1];
        assert_eq!(bad.column(0).data_type(), &DataType::Utf8);
        let ids = bad.column(0).as_string::<i32>();
        assert_eq!((ids.value(0), ids.is_null(1)), ("x", true));
        assert_eq!(bad.column(1).as_string::<i32>().value(1), "2026-01-04");
        // Then straight to types again.
        assert_eq!(
            batches[2].column(0).as_primitive::<Int32Type>().value(0),
            50
        );
    }

    #[tokio::test]
    async fn a_file_holds_no_more_rows_than_its_size_bounds() {
        let reader = reader(3);
        // The shortest rows there are: empty fields, two separators, a line
        // end; the last without its line end.
        let body = ",,\n,,\n,,\n,,";
        let bound = reader.rows_at_most(body.len() as u64);
        assert!((4..=5).contains(&bound), "{bound}");
        let chunks = vec![Ok(Bytes::from_static(body.as_bytes()))];
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        reader
            .read_columns(stream::iter(chunks).boxed(), "t.csv", bound, None, &tx)
            .await
            .unwrap();
        drop(tx);
        let batch = rx.recv().await.unwrap().unwrap();
        assert_eq!(batch.num_rows(), 4, "the whole file in one batch");
        assert!(rx.recv().await.is_none());
    }

    #[test]
    fn only_types_the_decoder_reads_as_a_cast_does_are_decoded_directly() {
        let reader = reader(2);
        let text_only = [DataType::Boolean, DataType::Decimal128(10, 2)];
        assert!(TypedColumns::new(reader.schema(), vec![0, 1], &text_only).is_none());
        let typed = TypedColumns::new(
            reader.schema(),
            vec![1, 0],
            &[DataType::Int64, DataType::Utf8],
        )
        .unwrap();
        assert_eq!(typed.schema.field(1).data_type(), &DataType::Int64);
        assert_eq!(typed.schema.field(0).data_type(), &DataType::Utf8);
    }
}
