//! [`FileSource`]: a fixed list of files in one format, read as a DataFusion
//! table whose partitions stream the files in parallel.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::ExecutionPlan;
use object_store::ObjectMeta;

use super::compression::{self, read_head};
use super::csv::{CsvReader, TypedColumns};
use super::json::JsonReader;
use super::listing::{file_error, read_error};
use super::location::Location;
use super::options::{Compression, CsvOptions, Format, S3Options};
use super::parquet;
use super::read_ahead::ReadAhead;
use crate::error::{Error, Result};

/// Bytes of the first file read to infer a CSV or JSON schema.
const INFER_BYTES: usize = 1 << 20;

/// How one format's files are decoded.
#[derive(Debug, Clone)]
enum Decoder {
    Csv(CsvReader),
    Json(JsonReader),
    Parquet(SchemaRef),
}

impl Decoder {
    fn schema(&self) -> &SchemaRef {
        match self {
            Decoder::Csv(r) => r.schema(),
            Decoder::Json(r) => r.schema(),
            Decoder::Parquet(s) => s,
        }
    }
}

/// Files of one `S3()` call, ready to be scanned.
pub struct FileSource {
    location: Location,
    options: S3Options,
    files: Vec<ObjectMeta>,
    decoder: Decoder,
    /// Bytes of some of the files, read ahead (a job's next batch).
    read_ahead: Option<Arc<ReadAhead>>,
}

impl fmt::Debug for FileSource {
    /// Names the URI and the file count, never the connection options.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("uri", &self.location.uri)
            .field("files", &self.files.len())
            .finish()
    }
}

impl FileSource {
    /// Prepares `files` (in the order given) for reading, inferring the
    /// schema from the first non-empty one.
    pub async fn new(
        location: Location,
        options: S3Options,
        files: Vec<ObjectMeta>,
    ) -> Result<Self> {
        let decoder = infer(&location, &options, &files).await?;
        Ok(Self {
            location,
            options,
            files,
            decoder,
            read_ahead: None,
        })
    }

    /// CSV files whose columns are known already (`schema`, as planning
    /// inferred them), without reading any file now.
    pub fn csv(
        location: Location,
        options: S3Options,
        files: Vec<ObjectMeta>,
        schema: Schema,
    ) -> Result<Self> {
        let known = CsvOptions {
            schema: Some(schema),
            ..options.csv.clone()
        };
        let reader = CsvReader::infer(options.format, &known, &[], &location.uri)?;
        Ok(Self {
            location,
            options,
            files,
            decoder: Decoder::Csv(reader),
            read_ahead: None,
        })
    }

    /// Takes the files' bytes from `read_ahead` where it has them.
    pub fn with_read_ahead(self, read_ahead: Option<Arc<ReadAhead>>) -> Self {
        Self { read_ahead, ..self }
    }

    /// Whether the files are CSV read as text columns, which
    /// [`read_typed`](Self::read_typed) can decode to types instead.
    pub fn reads_csv_text(&self) -> bool {
        matches!(&self.decoder, Decoder::Csv(reader) if reader.reads_text())
    }

    /// Reads file `index` with its columns decoded straight to types (see
    /// [`TypedColumns`]), in batches of at most `batch_size` rows whose
    /// columns are `typed`'s, in its order.
    pub fn read_typed(
        self: &Arc<Self>,
        index: usize,
        typed: Arc<TypedColumns>,
        batch_size: usize,
    ) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(typed.schema.clone(), 2);
        let tx = builder.tx();
        let source = self.clone();
        builder.spawn(async move {
            let file = &source.files[index];
            source.read_file(file, batch_size, Some(&typed), &tx).await
        });
        builder.build()
    }

    /// The columns the files are read as.
    pub fn schema(&self) -> SchemaRef {
        self.decoder.schema().clone()
    }

    /// The files, in reading order.
    pub fn files(&self) -> &[ObjectMeta] {
        &self.files
    }

    /// Whether the files are this machine's (`file://`), not an object
    /// store's.
    pub fn is_local(&self) -> bool {
        self.location.is_local()
    }

    /// The options of the `S3()` call.
    pub fn options(&self) -> &S3Options {
        &self.options
    }

    /// How a file is named in messages (`file:///...`, `s3://...`).
    pub fn display(&self, file: &ObjectMeta) -> String {
        self.location.display(&file.location)
    }

    /// A table over the files, split into at most `partitions` partitions
    /// of consecutive files.
    pub fn into_table(self, partitions: usize) -> Result<S3Table> {
        let schema = self.schema();
        let source = Arc::new(self);
        if matches!(source.decoder, Decoder::Parquet(_)) {
            return Ok(S3Table {
                source,
                partitions,
                streams: None,
            });
        }
        let per_partition = source.files.len().div_ceil(partitions.max(1)).max(1);
        let streams: Vec<Arc<dyn PartitionStream>> = (0..source.files.len())
            .step_by(per_partition)
            .map(|start| {
                Arc::new(FilePartition {
                    source: source.clone(),
                    range: start..(start + per_partition).min(source.files.len()),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        Ok(S3Table {
            streams: Some(StreamingTable::try_new(schema, streams)?),
            partitions,
            source,
        })
    }

    async fn read_file(
        &self,
        file: &ObjectMeta,
        batch_size: usize,
        typed: Option<&TypedColumns>,
        tx: &tokio::sync::mpsc::Sender<DFResult<datafusion::arrow::record_batch::RecordBatch>>,
    ) -> DFResult<()> {
        let display = self.location.display(&file.location);
        let read_ahead = match &self.read_ahead {
            Some(read_ahead) => read_ahead.bytes_of(file).await,
            None => None,
        };
        let bytes = match read_ahead {
            Some(bytes) => Ok(compression::from_bytes(
                bytes,
                file,
                self.options.compression,
            )),
            None => {
                compression::open(self.location.store.as_ref(), file, self.options.compression)
                    .await
            }
        };
        let bytes = bytes.map_err(|e| {
                let error = match e {
                    object_store::Error::NotFound { .. } => Error::Source {
                        uri: display.clone(),
                        message: "the file was listed but is gone now (deleted or moved after listing); nothing of it was loaded".into(),
                    },
                    e => file_error(&self.location, display.clone(), e),
                };
                DataFusionError::External(Box::new(error))
            })?;
        match &self.decoder {
            Decoder::Csv(reader) => {
                let batch_size = match compression::codec_of(file, self.options.compression) {
                    Compression::Plain => reader.rows_at_most(file.size).min(batch_size),
                    _ => batch_size,
                };
                reader
                    .read_columns(bytes, &display, batch_size, typed, tx)
                    .await
            }
            Decoder::Json(reader) => reader.read(bytes, &display, batch_size, tx).await,
            Decoder::Parquet(_) => Err(DataFusionError::Internal(
                "Parquet files are read by DataFusion's Parquet scan".into(),
            )),
        }
    }
}

/// The table an `S3()` call reads, in partitions of consecutive files:
/// CSV and JSON files streamed by tributary's readers, Parquet files by
/// DataFusion's Parquet scan. It keeps its [`FileSource`], which an INSERT
/// that loads the files as a job loads a batch reads itself
/// ([`crate::ingest::one_shot`]).
#[derive(Debug)]
pub struct S3Table {
    source: Arc<FileSource>,
    partitions: usize,
    /// The CSV or JSON files' streams; `None` for Parquet files.
    streams: Option<StreamingTable>,
}

impl S3Table {
    pub fn source(&self) -> &Arc<FileSource> {
        &self.source
    }
}

#[async_trait]
impl TableProvider for S3Table {
    fn schema(&self) -> SchemaRef {
        self.source.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        if let Some(streams) = &self.streams {
            return streams.scan(state, projection, filters, limit).await;
        }
        let source = &self.source;
        let files = (source.files.iter())
            .map(|f| (f.clone(), source.display(f)))
            .collect();
        parquet::scan(
            files,
            &source.location.store,
            &source.schema(),
            self.partitions,
            projection,
            limit,
        )
    }
}

async fn infer(location: &Location, options: &S3Options, files: &[ObjectMeta]) -> Result<Decoder> {
    if options.format == Format::Parquet {
        let first = files.first().ok_or_else(|| Error::NoFilesMatch {
            uri: location.uri.clone(),
        })?;
        let schema =
            parquet::schema(&location.store, first, &location.display(&first.location)).await?;
        return Ok(Decoder::Parquet(schema));
    }
    let limit = match options.format {
        Format::Json if JsonReader::needs_whole_file(&options.json) => usize::MAX,
        _ => INFER_BYTES,
    };
    // The first file with content decides the schema; empty files load as
    // zero rows.
    let mut head = (Vec::new(), true);
    let mut display = location.uri.clone();
    for file in files {
        display = location.display(&file.location);
        let bytes = compression::open(location.store.as_ref(), file, options.compression)
            .await
            .map_err(|e| file_error(location, display.clone(), e))?;
        head = read_head(bytes, limit)
            .await
            .map_err(|e| read_error(&display, &e))?;
        if !head.0.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    let (head, complete) = head;
    Ok(match options.format {
        Format::Json => Decoder::Json(JsonReader::infer(&options.json, &head, complete, &display)?),
        format => Decoder::Csv(CsvReader::infer(format, &options.csv, &head, &display)?),
    })
}

/// A run of consecutive files read one after another by one partition.
struct FilePartition {
    source: Arc<FileSource>,
    range: std::ops::Range<usize>,
}

impl fmt::Debug for FilePartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilePartition(files {:?})", self.range)
    }
}

impl PartitionStream for FilePartition {
    fn schema(&self) -> &SchemaRef {
        self.source.decoder.schema()
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size();
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema().clone(), 2);
        let tx = builder.tx();
        let source = self.source.clone();
        let range = self.range.clone();
        builder.spawn(async move {
            for file in &source.files[range] {
                source.read_file(file, batch_size, None, &tx).await?;
            }
            Ok(())
        });
        builder.build()
    }
}
