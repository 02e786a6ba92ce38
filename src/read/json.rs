//! Reading JSON files: one object per line (`read_json_by_line`), or whole
//! documents reshaped by `strip_outer_array`, `json_root` and `jsonpaths`.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::reader::{infer_json_schema_from_iterator, Decoder, ReaderBuilder};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use futures::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc::Sender;

use super::compression::ByteStream;
use super::csv::send;
use super::listing::{decode_error, stream_read_error};
use super::options::JsonOptions;
use crate::error::{Error, Result};

/// How many records schema inference looks at.
const INFER_RECORDS: usize = 1000;

/// JSON options and the schema files are read with.
#[derive(Debug, Clone)]
pub struct JsonReader {
    options: JsonOptions,
    schema: SchemaRef,
}

impl JsonReader {
    /// Infers the schema from the start of a file (`head`; `complete` when
    /// it is the whole file).
    pub fn infer(options: &JsonOptions, head: &[u8], complete: bool, file: &str) -> Result<Self> {
        let records = if options.is_plain() {
            // Only whole lines of a partial head are parsed.
            let usable = if complete {
                head
            } else {
                &head[..memchr::memrchr(b'\n', head).map_or(0, |i| i + 1)]
            };
            records(usable, options).map_err(|message| Error::Source {
                uri: file.to_string(),
                message,
            })?
        } else {
            records(head, options).map_err(|message| Error::Source {
                uri: file.to_string(),
                message,
            })?
        };
        let schema = infer_json_schema_from_iterator(records.iter().take(INFER_RECORDS).map(Ok))
            .map_err(|e| Error::Source {
                uri: file.to_string(),
                message: format!("cannot infer a schema: {e}"),
            })?;
        Ok(Self {
            options: options.clone(),
            schema: Arc::new(schema),
        })
    }

    /// Whether inference needs the whole first file rather than its head.
    pub fn needs_whole_file(options: &JsonOptions) -> bool {
        !options.is_plain() || !options.read_json_by_line
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn decoder(&self, batch_size: usize) -> DFResult<Decoder> {
        Ok(ReaderBuilder::new(self.schema.clone())
            .with_batch_size(batch_size)
            .with_coerce_primitive(true)
            .build_decoder()?)
    }

    /// Decodes one file, sending batches of at most `batch_size` rows.
    pub async fn read(
        &self,
        mut bytes: ByteStream,
        file: &str,
        batch_size: usize,
        tx: &Sender<DFResult<RecordBatch>>,
    ) -> DFResult<()> {
        let mut decoder = self.decoder(batch_size)?;
        let fail = |e: String| decode_error(file, e);
        if self.options.is_plain() {
            while let Some(chunk) = bytes.next().await {
                let chunk = chunk.map_err(|e| stream_read_error(file, &e))?;
                decode_all(&mut decoder, chunk, tx, &fail).await?;
            }
        } else {
            let mut whole = Vec::new();
            while let Some(chunk) = bytes.next().await {
                whole.extend_from_slice(&chunk.map_err(|e| stream_read_error(file, &e))?);
            }
            let mut ndjson = Vec::new();
            for record in records(&whole, &self.options).map_err(fail)? {
                serde_json::to_writer(&mut ndjson, &record).map_err(|e| fail(e.to_string()))?;
                ndjson.push(b'\n');
            }
            decode_all(&mut decoder, Bytes::from(ndjson), tx, &fail).await?;
        }
        if let Some(batch) = decoder.flush().map_err(|e| fail(e.to_string()))? {
            send(tx, batch).await?;
        }
        Ok(())
    }
}

/// Feeds a chunk to the decoder, sending each batch it fills.
async fn decode_all(
    decoder: &mut Decoder,
    mut chunk: Bytes,
    tx: &Sender<DFResult<RecordBatch>>,
    fail: &impl Fn(String) -> DataFusionError,
) -> DFResult<()> {
    while !chunk.is_empty() {
        let consumed = decoder.decode(&chunk).map_err(|e| fail(e.to_string()))?;
        chunk = chunk.slice(consumed..);
        // The decoder stops consuming when a batch is full.
        if !chunk.is_empty() {
            match decoder.flush().map_err(|e| fail(e.to_string()))? {
                Some(batch) => send(tx, batch).await?,
                None if consumed == 0 => return Err(fail("the decoder made no progress".into())),
                None => {}
            }
        }
    }
    Ok(())
}

/// Parses JSON text into records, applying the reshaping options.
fn records(text: &[u8], options: &JsonOptions) -> std::result::Result<Vec<Value>, String> {
    let documents: Vec<Value> = if options.read_json_by_line {
        text.split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
            .map(|(i, line)| {
                serde_json::from_slice(line)
                    .map_err(|e| format!("line {}: invalid JSON: {e}", i + 1))
            })
            .collect::<std::result::Result<_, _>>()?
    } else if text.iter().all(u8::is_ascii_whitespace) {
        vec![]
    } else {
        vec![serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))?]
    };
    let mut out = Vec::new();
    for document in documents {
        let document = match &options.json_root {
            Some(root) => select(&document, root)
                .ok_or_else(|| format!("json_root '{root}' is not in the document"))?
                .clone(),
            None => document,
        };
        match document {
            Value::Array(items) if options.strip_outer_array => out.extend(items),
            Value::Array(_) => {
                return Err(
                    "the document is a JSON array: set \"strip_outer_array\" = \"true\"".into(),
                )
            }
            other if options.strip_outer_array => {
                return Err(format!(
                    "strip_outer_array is set but the document is not an array: {}",
                    truncate(&other.to_string())
                ))
            }
            other => out.push(other),
        }
    }
    if let Some(paths) = &options.jsonpaths {
        out = out.iter().map(|record| project(record, paths)).collect();
    }
    Ok(out)
}

/// A record of the values at `paths`, named after each path's last step.
fn project(record: &Value, paths: &[String]) -> Value {
    let mut object = Map::new();
    for path in paths {
        let last_step = path
            .rsplit(['.', '$'])
            .find(|s| !s.is_empty())
            .unwrap_or(path);
        // `$.tags[1]` names `tags`: the key before any index.
        let name = last_step.split('[').next().unwrap_or(last_step).to_string();
        object.insert(name, select(record, path).cloned().unwrap_or(Value::Null));
    }
    Value::Object(object)
}

/// The value at a simple JSON path: `$`, `$.a.b`, `$.a[0].b`.
fn select<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for step in path
        .trim_start_matches('$')
        .split('.')
        .filter(|s| !s.is_empty())
    {
        let (key, indexes) = match step.find('[') {
            Some(i) => (&step[..i], &step[i..]),
            None => (step, ""),
        };
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> JsonOptions {
        JsonOptions {
            read_json_by_line: false,
            strip_outer_array: true,
            json_root: Some("$.data".into()),
            jsonpaths: Some(vec!["$.id".into(), "$.user.name".into()]),
        }
    }

    #[test]
    fn reshapes_documents() {
        let text = br#"{"data": [{"id": 1, "user": {"name": "a"}}, {"id": 2}]}"#;
        let out = records(text, &opts()).unwrap();
        assert_eq!(out[0], serde_json::json!({"id": 1, "name": "a"}));
        assert_eq!(out[1], serde_json::json!({"id": 2, "name": null}));
        let mut o = opts();
        o.strip_outer_array = false;
        assert!(records(text, &o).unwrap_err().contains("strip_outer_array"));
    }

    #[test]
    fn a_path_names_its_column_by_its_last_key_digits_and_all() {
        let mut o = opts();
        o.json_root = None;
        o.jsonpaths = Some(vec!["$.k1".into(), "$.k2".into(), "$.tags[1]".into()]);
        let text = br#"[{"k1": 1, "k2": 2, "tags": ["a", "b"]}]"#;
        let out = records(text, &o).unwrap();
        assert_eq!(out[0], serde_json::json!({"k1": 1, "k2": 2, "tags": "b"}));
    }
}
