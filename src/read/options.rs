//! The options of the `S3(...)` table function, validated, with Doris's
//! names and defaults.

use datafusion::arrow::datatypes::{Field, Schema};

use crate::catalog::SqlType;
use crate::error::Result;
use crate::parse::options::{invalid, OptionBag};

/// Option keys whose values are secrets: never shown in output or errors.
pub const SECRET_OPTIONS: &[&str] = &["s3.access_key", "s3.secret_key", "s3.session_token"];

/// A file format `S3()` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Headerless CSV: columns `c1..cN`, strings.
    Csv,
    /// CSV whose first line names the columns.
    CsvWithNames,
    /// CSV whose first line names the columns and second line types them.
    CsvWithNamesAndTypes,
    Json,
    Parquet,
}

/// A compression codec of source files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Plain,
    Gzip,
    Bzip2,
    Zstd,
    Lz4,
    /// zlib-wrapped deflate, as Hadoop's `.deflate` files.
    Deflate,
}

impl Compression {
    /// The codec a file name's suffix implies.
    pub fn from_suffix(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        match lower.rsplit_once('.').map(|(_, ext)| ext) {
            Some("gz" | "gzip") => Compression::Gzip,
            Some("bz2") => Compression::Bzip2,
            Some("zst" | "zstd") => Compression::Zstd,
            Some("lz4") => Compression::Lz4,
            Some("deflate" | "zz") => Compression::Deflate,
            _ => Compression::Plain,
        }
    }
}

/// CSV dialect options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub column_separator: u8,
    /// `None`: `\n` or `\r\n`.
    pub line_delimiter: Option<u8>,
    pub enclose: Option<u8>,
    pub escape: Option<u8>,
    pub trim_double_quotes: bool,
    pub skip_lines: usize,
    /// Column names and types given by `csv_schema`.
    pub schema: Option<Schema>,
}

/// JSON options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOptions {
    pub read_json_by_line: bool,
    pub strip_outer_array: bool,
    pub json_root: Option<String>,
    pub jsonpaths: Option<Vec<String>>,
}

impl JsonOptions {
    /// Whether records can be streamed line by line straight into the
    /// decoder, or each file must be parsed and reshaped first.
    pub fn is_plain(&self) -> bool {
        !self.strip_outer_array && self.json_root.is_none() && self.jsonpaths.is_none()
    }
}

/// Connection options for S3-compatible storage.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Connection {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub use_path_style: bool,
}

impl std::fmt::Debug for S3Connection {
    /// Never prints credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Connection")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("use_path_style", &self.use_path_style)
            .finish_non_exhaustive()
    }
}

/// All options of one `S3()` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    pub uri: String,
    pub format: Format,
    /// `None`: inferred per file from its suffix.
    pub compression: Option<Compression>,
    pub csv: CsvOptions,
    pub json: JsonOptions,
    pub connection: S3Connection,
}

impl S3Options {
    /// Validates `"key" = "value"` pairs (keys case-insensitive); a key
    /// not read here is refused, naming those that are.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self> {
        let mut bag = OptionBag::new(pairs)?;
        // Where and how to connect first: the list of known keys starts so.
        let uri = bag.take("uri").ok_or_else(|| {
            invalid(
                "uri",
                "is required, e.g. \"uri\" = \"s3://bucket/path/*.csv\"",
            )
        })?;
        let connection = S3Connection {
            endpoint: bag.take("s3.endpoint").filter(|v| !v.is_empty()),
            region: bag.take("s3.region").filter(|v| !v.is_empty()),
            access_key: bag.take("s3.access_key").filter(|v| !v.is_empty()),
            secret_key: bag.take("s3.secret_key").filter(|v| !v.is_empty()),
            session_token: bag.take("s3.session_token").filter(|v| !v.is_empty()),
            use_path_style: bag.take_bool("use_path_style", false)?,
        };
        let format = match bag.take("format").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => {
                return Err(invalid(
                    "format",
                    "is required: csv, csv_with_names, csv_with_names_and_types, json or parquet",
                ))
            }
            Some("csv") => Format::Csv,
            Some("csv_with_names") => Format::CsvWithNames,
            Some("csv_with_names_and_types") => Format::CsvWithNamesAndTypes,
            Some("json") => Format::Json,
            Some("parquet") => Format::Parquet,
            Some(other) => {
                return Err(invalid(
                    "format",
                    format!("'{other}' is not a format; use csv, csv_with_names, csv_with_names_and_types, json or parquet"),
                ))
            }
        };
        let compression = match bag
            .take("compress_type")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("") => None,
            Some("plain") => Some(Compression::Plain),
            Some("gz" | "gzip") => Some(Compression::Gzip),
            Some("bz2" | "bzip2") => Some(Compression::Bzip2),
            Some("zstd") => Some(Compression::Zstd),
            Some("lz4" | "lz4frame") => Some(Compression::Lz4),
            Some("deflate") => Some(Compression::Deflate),
            Some(other) => {
                return Err(invalid(
                    "compress_type",
                    format!("'{other}' is not supported; use plain, gz, bz2, zstd, lz4 or deflate"),
                ))
            }
        };
        let csv = CsvOptions {
            column_separator: match bag.take("column_separator") {
                Some(v) => single_byte("column_separator", &v)?,
                None => b'\t',
            },
            line_delimiter: match bag.take("line_delimiter").map(|v| unescape(&v)) {
                None => None,
                Some(v) if v == b"\n" || v == b"\r\n" => None,
                Some(v) if v.len() == 1 => Some(v[0]),
                Some(_) => return Err(invalid("line_delimiter", "must be one byte, or \\r\\n")),
            },
            enclose: bag
                .take("enclose")
                .filter(|v| !v.is_empty())
                .map(|v| single_byte("enclose", &v))
                .transpose()?,
            escape: bag
                .take("escape")
                .filter(|v| !v.is_empty())
                .map(|v| single_byte("escape", &v))
                .transpose()?,
            trim_double_quotes: bag.take_bool("trim_double_quotes", false)?,
            skip_lines: bag
                .take_parsed("skip_lines", "a non-negative integer", |v| v.parse().ok())?
                .unwrap_or(0),
            schema: bag.take("csv_schema").map(|v| csv_schema(&v)).transpose()?,
        };
        let json = JsonOptions {
            read_json_by_line: bag.take_bool("read_json_by_line", true)?,
            strip_outer_array: bag.take_bool("strip_outer_array", false)?,
            json_root: bag.take("json_root").filter(|v| !v.is_empty()),
            jsonpaths: bag.take("jsonpaths").map(|v| jsonpaths(&v)).transpose()?,
        };
        bag.finish()?;
        Ok(Self {
            uri,
            format,
            compression,
            csv,
            json,
            connection,
        })
    }
}

/// `\t`, `\n`, `\r`, `\\`, `\xHH` escapes as Doris accepts them in separators.
fn unescape(value: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'\\', Some(b't')) => out.push(b'\t'),
            (b'\\', Some(b'n')) => out.push(b'\n'),
            (b'\\', Some(b'r')) => out.push(b'\r'),
            (b'\\', Some(b'\\')) => out.push(b'\\'),
            (b'\\', Some(b'x'))
                if bytes.len() >= i + 4 && u8::from_str_radix(&value[i + 2..i + 4], 16).is_ok() =>
            {
                out.push(u8::from_str_radix(&value[i + 2..i + 4], 16).unwrap());
                i += 4;
                continue;
            }
            (b, _) => {
                out.push(b);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    out
}

fn single_byte(key: &str, value: &str) -> Result<u8> {
    match unescape(value).as_slice() {
        [b] => Ok(*b),
        _ => Err(invalid(
            key,
            format!("'{value}' must be a single byte (e.g. ',', '\\t' or '\\x01')"),
        )),
    }
}

/// `"k1:int;k2:varchar(10);k3:decimal(10,2)"`
fn csv_schema(value: &str) -> Result<Schema> {
    let mut fields = Vec::new();
    for column in value.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let (name, ty) = column.split_once(':').ok_or_else(|| {
            invalid(
                "csv_schema",
                format!("'{column}' is not name:type (e.g. \"id:int;name:string\")"),
            )
        })?;
        let (type_name, args) = match ty.trim().split_once('(') {
            None => (ty.trim(), vec![]),
            Some((n, rest)) => {
                let args = rest
                    .trim_end_matches(')')
                    .split(',')
                    .map(|a| a.trim().parse::<u64>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| invalid("csv_schema", format!("bad type arguments in '{ty}'")))?;
                (n.trim(), args)
            }
        };
        let sql_type = SqlType::from_parts(type_name, &args)
            .map_err(|e| invalid("csv_schema", e.to_string()))?;
        fields.push(Field::new(
            name.trim().to_lowercase(),
            sql_type.arrow_type(),
            true,
        ));
    }
    if fields.is_empty() {
        return Err(invalid("csv_schema", "names no column"));
    }
    Ok(Schema::new(fields))
}

/// `'["$.id", "$.name"]'`
fn jsonpaths(value: &str) -> Result<Vec<String>> {
    let paths: Vec<String> = serde_json::from_str(value).map_err(|_| {
        invalid(
            "jsonpaths",
            format!("'{value}' is not a JSON array of paths like [\"$.id\", \"$.name\"]"),
        )
    })?;
    if paths.is_empty() || paths.iter().any(|p| !p.starts_with('$')) {
        return Err(invalid(
            "jsonpaths",
            "every path must start with $, e.g. [\"$.id\"]",
        ));
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Result<S3Options> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        S3Options::parse(&pairs)
    }

    #[test]
    fn defaults_follow_doris() {
        let o = opts(&[("URI", "s3://b/k.csv"), ("format", "csv")]).unwrap();
        assert_eq!(o.csv.column_separator, b'\t');
        assert_eq!(o.csv.line_delimiter, None);
        assert!(o.json.read_json_by_line);
        assert!(!o.connection.use_path_style);
        assert_eq!(o.compression, None);
    }

    #[test]
    fn rejects_bad_options_naming_them() {
        let e = opts(&[
            ("uri", "s3://b/k"),
            ("format", "csv"),
            ("colum_separator", ","),
        ]);
        assert!(e.unwrap_err().to_string().contains("colum_separator"));
        let e = opts(&[("uri", "s3://b/k"), ("format", "xml")]);
        assert!(e.unwrap_err().to_string().contains("'xml' is not a format"));
        let e = opts(&[
            ("uri", "s3://b/k"),
            ("format", "csv"),
            ("column_separator", "||"),
        ]);
        assert!(e.unwrap_err().to_string().contains("single byte"));
        assert_eq!(
            opts(&[
                ("uri", "x"),
                ("format", "csv"),
                ("column_separator", "\\x01")
            ])
            .unwrap()
            .csv
            .column_separator,
            1
        );
    }

    #[test]
    fn parses_csv_schema() {
        let o = opts(&[
            ("uri", "x"),
            ("format", "csv"),
            ("csv_schema", "id:int; amount:decimal(10,2)"),
        ])
        .unwrap();
        let schema = o.csv.schema.unwrap();
        assert_eq!(schema.field(1).name(), "amount");
        assert_eq!(
            schema.field(1).data_type(),
            &datafusion::arrow::datatypes::DataType::Decimal128(10, 2)
        );
    }
}
