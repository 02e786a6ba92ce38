//! How a table's columns are encoded in its Lance files, chosen by the
//! table property `"compression"` in Doris's terms and kept as Lance field
//! metadata, which every file written after it (appends, compaction)
//! follows.
//!
//! | `"compression"`        | strings                        | decimals | other columns |
//! |------------------------|--------------------------------|----------|---------------|
//! | `zstd` (the default)   | Lance's compact encodings (FSST, dictionaries) | LZ4 | Lance's |
//! | `lz4`                  | LZ4                            | LZ4      | Lance's       |
//! | `none`                 | uncompressed, one value after another (`fullzip`) | uncompressed | Lance's |
//!
//! Lance stores a decimal as its full 16 bytes and packs no bits of it:
//! LZ4 over those values takes a `DECIMAL(12,2)` column of amounts to
//! about a third of its size, and scans it as fast.
//!
//! Every column also carries Lance's RLE threshold, set to Lance's own
//! default: the same files, without Lance estimating runs of every block
//! it could not run-length encode anyway.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use lance::Dataset;
use lance_file::version::LanceFileVersion;
use lance_file::writer::FileWriterOptions;

use crate::error::{Error, Result};

/// The table property naming the encoding of new files.
pub const COMPRESSION: &str = "compression";

/// The Lance file format every table is written in, pinned so that a
/// newer Lance does not change what old tables' new files are.
pub const FILE_VERSION: LanceFileVersion = LanceFileVersion::V2_2;

/// How Lance's file writer handles the arrays it is given: it keeps them
/// rather than copying each buffered slice (the arrays come from
/// tributary's own readers, not over the Arrow C data interface, where a
/// small child array could keep a whole foreign batch alive).
pub fn file_writer_options() -> FileWriterOptions {
    FileWriterOptions {
        keep_original_array: Some(true),
        ..Default::default()
    }
}

const COMPRESSION_KEY: &str = "lance-encoding:compression";
const STRUCTURAL_ENCODING_KEY: &str = "lance-encoding:structural-encoding";
const RLE_THRESHOLD_KEY: &str = "lance-encoding:rle-threshold";
/// Lance's default threshold: a block is run-length encoded when it has
/// fewer runs than half its values.
const RLE_THRESHOLD: &str = "0.5";

/// The encoding of a table's new files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Lance's compact encodings: the smallest files.
    #[default]
    Compact,
    /// LZ4 strings: less CPU per row loaded, larger files.
    Lz4,
    /// Uncompressed strings: the least CPU per row loaded, the largest files.
    None,
}

impl Compression {
    /// The compression `properties` choose (the default without one); an
    /// error names a value that is not one.
    pub fn from_properties(properties: &BTreeMap<String, String>) -> Result<Self> {
        let Some(value) = properties.get(COMPRESSION) else {
            return Ok(Compression::default());
        };
        match value.to_ascii_lowercase().as_str() {
            "zstd" | "default" => Ok(Compression::Compact),
            "lz4" | "lz4f" | "lz4hc" => Ok(Compression::Lz4),
            "none" | "no" => Ok(Compression::None),
            other => Err(Error::InvalidTable(format!(
                "\"compression\" = \"{other}\" is not one tributary writes: use \"zstd\" (the default, smallest files), \"lz4\" or \"none\" (fastest loads)"
            ))),
        }
    }

    /// The Lance field metadata a column of `data_type` is written with.
    pub fn field_metadata(self, data_type: &DataType) -> HashMap<String, String> {
        let mut metadata =
            HashMap::from([(RLE_THRESHOLD_KEY.to_string(), RLE_THRESHOLD.to_string())]);
        if is_decimal(data_type) && self != Compression::None {
            metadata.insert(COMPRESSION_KEY.into(), "lz4".into());
        }
        if !is_string(data_type) {
            return metadata;
        }
        match self {
            Compression::Compact => {}
            Compression::Lz4 => {
                metadata.insert(COMPRESSION_KEY.into(), "lz4".into());
            }
            Compression::None => {
                metadata.insert(COMPRESSION_KEY.into(), "none".into());
                metadata.insert(STRUCTURAL_ENCODING_KEY.into(), "fullzip".into());
            }
        }
        metadata
    }

    /// `schema` with each field's metadata for this compression.
    pub fn encoded(self, schema: &Schema) -> SchemaRef {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| self.encoded_field(f))
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// `field` with its metadata for this compression.
    pub fn encoded_field(self, field: &Field) -> Field {
        field
            .clone()
            .with_metadata(self.field_metadata(field.data_type()))
    }

    /// Sets the field metadata of `dataset`'s columns to this
    /// compression's, in one Lance commit: the files written from now on
    /// follow it, those there are stay as they are.
    pub async fn apply(self, dataset: &mut Dataset) -> Result<()> {
        let updates: Vec<(u32, HashMap<String, String>)> = dataset
            .schema()
            .fields
            .iter()
            .map(|f| {
                let mut metadata = f.metadata.clone();
                metadata.retain(|k, _| !k.starts_with("lance-encoding:"));
                metadata.extend(self.field_metadata(&f.data_type()));
                (f.id as u32, metadata)
            })
            .collect();
        let uri = dataset.uri().to_string();
        dataset
            .replace_field_metadata(updates)
            .await
            .map_err(|e| Error::lance(&uri, e))
    }
}

fn is_string(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn is_decimal(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Decimal128(..) | DataType::Decimal256(..)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doris_compression_names_choose_lance_encodings() {
        let of = |v: &str| {
            Compression::from_properties(&BTreeMap::from([(COMPRESSION.into(), v.into())]))
        };
        assert_eq!(of("ZSTD").unwrap(), Compression::Compact);
        assert_eq!(of("lz4").unwrap(), Compression::Lz4);
        assert_eq!(of("none").unwrap(), Compression::None);
        assert!(of("snappy").unwrap_err().to_string().contains("\"lz4\""));
        let none = Compression::None.field_metadata(&DataType::Utf8);
        assert_eq!(
            none.get(STRUCTURAL_ENCODING_KEY).map(String::as_str),
            Some("fullzip")
        );
        let ints = Compression::None.field_metadata(&DataType::Int64);
        assert_eq!(ints.get(COMPRESSION_KEY), None);
        assert_eq!(ints.get(RLE_THRESHOLD_KEY).map(String::as_str), Some("0.5"));
        let decimals = Compression::Compact.field_metadata(&DataType::Decimal128(12, 2));
        assert_eq!(
            decimals.get(COMPRESSION_KEY).map(String::as_str),
            Some("lz4")
        );
        let raw = Compression::None.field_metadata(&DataType::Decimal128(12, 2));
        assert_eq!(raw.get(COMPRESSION_KEY), None);
    }
}
