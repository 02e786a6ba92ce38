//! Where an `S3()` call reads: the URI parsed as Doris parses it, and the
//! object store (DataFusion's object_store version) that reaches it.

use std::net::IpAddr;
use std::path::{Component, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use globset::{GlobBuilder, GlobMatcher};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use super::access::{Endpoints, SourceAccess};
use super::local_files::LocalFiles;
use super::options::S3Connection;
use crate::error::{Error, Result};

/// How long to wait for a TCP connection to the endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to keep retrying a failing request in total.
const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

/// A parsed source location: a store, and a key pattern within it.
#[derive(Clone)]
pub struct Location {
    /// The URI as the user wrote it, or for a local path without a scheme
    /// the absolute `file://` URI it stands for (for messages and jobs).
    pub uri: String,
    /// `s3://bucket` or `file://`: a prefix for displaying file paths.
    pub display_root: String,
    pub store: Arc<dyn ObjectStore>,
    /// The key pattern, e.g. `orders/2024-*.csv`.
    pub pattern: String,
    /// The directory to list: the pattern's part before its first glob
    /// character, up to the last `/`.
    pub list_prefix: Path,
    /// The S3 endpoint (`http://127.0.0.1:9000`), for messages; `None`
    /// for local files.
    pub endpoint: Option<String>,
    /// For local files: which of them may be read (each listed file is
    /// checked, links resolved).
    pub local_files: Option<std::sync::Arc<LocalFiles>>,
    matcher: GlobMatcher,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location").field("uri", &self.uri).finish()
    }
}

/// Refuses a bucket, region or credential that no S3 request can carry
/// (the HTTP client would fail to build the request, or its headers).
fn check_s3_names(uri: &str, bucket: &str, region: &str, connection: &S3Connection) -> Result<()> {
    let bucket_ok = !bucket.is_empty()
        && bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !bucket_ok {
        return Err(malformed(
            uri,
            format!("names bucket '{bucket}', which is not a valid bucket name (letters, digits, '.', '-', '_')"),
        ));
    }
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::InvalidOption {
            key: "s3.region".into(),
            message: format!("'{region}' is not a region name such as us-east-1"),
        });
    }
    let credentials = [
        ("s3.access_key", &connection.access_key),
        ("s3.secret_key", &connection.secret_key),
        ("s3.session_token", &connection.session_token),
    ];
    for (key, value) in credentials {
        if value
            .as_ref()
            .is_some_and(|v| !v.chars().all(|c| c.is_ascii_graphic()))
        {
            return Err(Error::InvalidOption {
                key: key.into(),
                message: "holds characters no S3 request can carry (spaces, control or non-ASCII characters)".into(),
            });
        }
    }
    Ok(())
}

fn malformed(uri: &str, why: impl Into<String>) -> Error {
    Error::InvalidOption {
        key: "uri".into(),
        message: format!("'{uri}' {}", why.into()),
    }
}

/// Whether `uri` names local files, as [`Location::parse`] reads it: a
/// `file:` URI (the scheme in any case) or a path without a scheme.
pub fn is_local_uri(uri: &str) -> bool {
    match Url::parse(uri) {
        Ok(url) => url.scheme() == "file",
        Err(error) => error == url::ParseError::RelativeUrlWithoutBase,
    }
}

/// A URI without a scheme is a path on the local disk, relative to the
/// current directory unless absolute (as DuckDB reads `data/*.csv`): its
/// absolute `file://` form, or `None` for a URI with a scheme.
fn local_path_uri(uri: &str) -> Result<Option<String>> {
    if !matches!(
        Url::parse(uri),
        Err(url::ParseError::RelativeUrlWithoutBase)
    ) {
        return Ok(None);
    }
    let cwd = std::env::current_dir().map_err(|e| {
        malformed(
            uri,
            format!("is a relative path, but the current directory cannot be read: {e}"),
        )
    })?;
    let absolute: PathBuf = cwd
        .join(uri)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    Ok(Some(format!("file://{}", absolute.display())))
}

impl Location {
    /// Parses `uri` (`s3://bucket/key`, `http(s)://endpoint/bucket/key`,
    /// `http(s)://bucket.endpoint/key`, `file:///abs/path`, or a local path
    /// without a scheme) and connects.
    pub fn parse(uri: &str, connection: &S3Connection, access: &SourceAccess) -> Result<Self> {
        // A local path is named in messages as the file:// URI it became.
        let local = local_path_uri(uri)?;
        let uri = local.as_deref().unwrap_or(uri);
        let url =
            Url::parse(uri).map_err(|e| malformed(uri, format!("is not a valid URI: {e}")))?;
        match url.scheme() {
            "file" => Self::local(uri, &url, &access.local_files),
            "s3" | "s3a" | "oss" | "cos" | "obs" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| malformed(uri, "names no bucket: use s3://bucket/path"))?;
                let endpoint = connection.endpoint.clone().ok_or_else(|| Error::InvalidOption {
                    key: "s3.endpoint".into(),
                    message: "is required for s3:// URIs, e.g. \"s3.endpoint\" = \"http://127.0.0.1:9000\" or \"https://s3.us-east-1.amazonaws.com\"".into(),
                })?;
                let key = key_pattern(&url).trim_start_matches('/').to_string();
                Self::s3(uri, bucket, &key, &endpoint, connection, &access.endpoints)
            }
            "http" | "https" => {
                let host = url
                    .host_str()
                    .ok_or_else(|| malformed(uri, "names no host"))?;
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                let path = key_pattern(&url).trim_start_matches('/').to_string();
                let path_style = connection.use_path_style || is_ip_or_localhost(host);
                let (bucket, key, endpoint_host) = if path_style {
                    let (bucket, key) = path
                        .split_once('/')
                        .ok_or_else(|| malformed(uri, "names no key after the bucket"))?;
                    (bucket.to_string(), key.to_string(), host.to_string())
                } else {
                    let (bucket, endpoint_host) = host.split_once('.').ok_or_else(|| {
                        malformed(uri, "is not virtual-hosted style (http://bucket.endpoint/key); set \"use_path_style\" = \"true\" for http://endpoint/bucket/key")
                    })?;
                    (bucket.to_string(), path, endpoint_host.to_string())
                };
                let endpoint = format!("{}://{endpoint_host}{port}", url.scheme());
                Self::s3(uri, &bucket, &key, &endpoint, connection, &access.endpoints)
            }
            other => Err(malformed(
                uri,
                format!("has unsupported scheme '{other}': use s3://, http(s):// or file://"),
            )),
        }
    }

    fn local(uri: &str, url: &Url, local_files: &LocalFiles) -> Result<Self> {
        let path = key_pattern(url);
        if url.host_str().is_some_and(|h| !h.is_empty()) || !path.starts_with('/') {
            return Err(malformed(
                uri,
                "must be an absolute path: file:///dir/*.csv",
            ));
        }
        // The pattern's literal part: a directory, or the file itself.
        let literal = &path[..path.find(['*', '?', '[', '{']).unwrap_or(path.len())];
        local_files.check(uri, std::path::Path::new(literal))?;
        let store = LocalFileSystem::new();
        let location = Self::new(
            uri,
            "file://",
            Arc::new(store),
            path.trim_start_matches('/'),
        )?;
        Ok(Self {
            local_files: Some(Arc::new(local_files.clone())),
            ..location
        })
    }

    fn s3(
        uri: &str,
        bucket: &str,
        key: &str,
        endpoint: &str,
        connection: &S3Connection,
        endpoints: &Endpoints,
    ) -> Result<Self> {
        let endpoint = if endpoint.contains("://") {
            endpoint.to_string()
        } else {
            format!("https://{endpoint}")
        };
        endpoints.check(uri, &endpoint)?;
        let region = connection
            .region
            .clone()
            .ok_or_else(|| Error::InvalidOption {
                key: "s3.region".into(),
                message: "is required, e.g. \"s3.region\" = \"us-east-1\"".into(),
            })?;
        check_s3_names(uri, bucket, &region, connection)?;
        let endpoint_host = Url::parse(&endpoint)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let virtual_hosted = !connection.use_path_style && !is_ip_or_localhost(&endpoint_host);
        // Client options first: they replace the whole set, allow_http included.
        let mut builder = AmazonS3Builder::new()
            .with_http_connector(crate::metrics::CountingConnector::default())
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(REQUEST_TIMEOUT),
            )
            .with_bucket_name(bucket)
            .with_region(&region)
            .with_endpoint(&endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(virtual_hosted)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: RETRY_TIMEOUT,
                ..Default::default()
            });
        builder = match (&connection.access_key, &connection.secret_key) {
            (Some(access), Some(secret)) => {
                let b = builder
                    .with_access_key_id(access)
                    .with_secret_access_key(secret);
                match &connection.session_token {
                    Some(token) => b.with_token(token),
                    None => b,
                }
            }
            // No credentials: anonymous requests, never a lookup of
            // credentials from the environment or a metadata endpoint.
            (None, None) => builder.with_skip_signature(true),
            (Some(_), None) => {
                return Err(Error::InvalidOption {
                    key: "s3.secret_key".into(),
                    message: "is required when s3.access_key is given".into(),
                })
            }
            (None, Some(_)) => {
                return Err(Error::InvalidOption {
                    key: "s3.access_key".into(),
                    message: "is required when s3.secret_key is given".into(),
                })
            }
        };
        let shared_by = super::clients::Connection {
            bucket: bucket.to_string(),
            endpoint: endpoint.clone(),
            region: region.clone(),
            access_key: connection.access_key.clone(),
            secret_key: connection.secret_key.clone(),
            session_token: connection.session_token.clone(),
            virtual_hosted,
        };
        let store = super::clients::shared(shared_by, || builder.build())
            .map_err(|e| malformed(uri, format!("cannot be reached: {e}")))?;
        let location = Self::new(uri, &format!("s3://{bucket}/"), store, key)?;
        Ok(Self {
            endpoint: Some(endpoint),
            ..location
        })
    }

    fn new(
        uri: &str,
        display_root: &str,
        store: Arc<dyn ObjectStore>,
        pattern: &str,
    ) -> Result<Self> {
        if pattern.is_empty() || pattern.ends_with('/') {
            return Err(malformed(
                uri,
                "names a directory: add a file name or a pattern such as *.csv",
            ));
        }
        let matcher = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| malformed(uri, format!("has an invalid pattern: {e}")))?
            .compile_matcher();
        let literal_end = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
        let dir = match pattern[..literal_end].rfind('/') {
            Some(i) => &pattern[..i],
            None => "",
        };
        Ok(Self {
            uri: uri.to_string(),
            display_root: display_root.to_string(),
            store,
            pattern: pattern.to_string(),
            list_prefix: Path::from(dir),
            endpoint: None,
            local_files: None,
            matcher,
        })
    }

    /// Whether a key matches the pattern.
    pub fn matches(&self, key: &Path) -> bool {
        self.matcher.is_match(key.as_ref())
    }

    /// Whether the files are on the local disk.
    pub fn is_local(&self) -> bool {
        self.display_root == "file://"
    }

    /// A key as the user would write it (`s3://bucket/key`, `file:///key`).
    pub fn display(&self, key: &Path) -> String {
        if self.is_local() {
            format!("file:///{key}")
        } else {
            format!("{}{key}", self.display_root)
        }
    }
}

fn is_ip_or_localhost(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
}

/// The key pattern of a URI: its path, with what a URL parser takes for a
/// query (`?` is a glob character here) or fragment put back, decoded.
fn key_pattern(url: &Url) -> String {
    let mut pattern = url.path().to_string();
    if let Some(query) = url.query() {
        pattern.push('?');
        pattern.push_str(query);
    }
    if let Some(fragment) = url.fragment() {
        pattern.push('#');
        pattern.push_str(fragment);
    }
    decode(&pattern)
}

/// Percent-decodes a URI path (`%20` → space), keeping glob characters.
fn decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> S3Connection {
        S3Connection {
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: Some("us-east-1".into()),
            access_key: Some("a".into()),
            secret_key: Some("s".into()),
            session_token: None,
            use_path_style: false,
        }
    }

    #[test]
    fn parses_doris_uri_forms() {
        let l = Location::parse(
            "s3://bucket/orders/2024-*.csv",
            &conn(),
            &SourceAccess::anywhere(),
        )
        .unwrap();
        assert_eq!(l.list_prefix.as_ref(), "orders");
        assert!(l.matches(&Path::from("orders/2024-01.csv")));
        assert!(!l.matches(&Path::from("orders/sub/2024-01.csv")));
        let l = Location::parse(
            "http://127.0.0.1:9000/bucket/dir/{a,b}.csv",
            &conn(),
            &SourceAccess::anywhere(),
        )
        .unwrap();
        assert_eq!(l.display(&Path::from("dir/a.csv")), "s3://bucket/dir/a.csv");
        assert!(l.matches(&Path::from("dir/b.csv")));
        let l = Location::parse(
            "https://bucket.s3.example.com/x/f?.json",
            &conn(),
            &SourceAccess::anywhere(),
        )
        .unwrap();
        assert_eq!(l.display(&Path::from("x/f1.json")), "s3://bucket/x/f1.json");
        let l = Location::parse(
            "file:///tmp/data/part-[0-9].csv",
            &conn(),
            &SourceAccess::anywhere(),
        )
        .unwrap();
        assert_eq!(l.list_prefix.as_ref(), "tmp/data");
    }

    #[test]
    fn malformed_uris_are_named() {
        let e = Location::parse("ftp://x/y", &conn(), &SourceAccess::anywhere())
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported scheme 'ftp'"), "{e}");
        let e = Location::parse("s3://bucket/dir/", &conn(), &SourceAccess::anywhere())
            .unwrap_err()
            .to_string();
        assert!(e.contains("names a directory"), "{e}");
        let mut c = conn();
        c.endpoint = None;
        let e = Location::parse("s3://b/k.csv", &c, &SourceAccess::anywhere())
            .unwrap_err()
            .to_string();
        assert!(e.contains("s3.endpoint"), "{e}");
    }

    #[test]
    fn local_uris_are_told_as_parse_reads_them() {
        for local in [
            "/tmp/x.csv",
            "data/*.csv",
            "file:///x",
            "FILE:///etc/passwd",
            "/d/a://b.csv",
        ] {
            assert!(is_local_uri(local), "{local}");
        }
        for remote in ["s3://b/k", "http://127.0.0.1:9000/b/k", "S3://b/k"] {
            assert!(!is_local_uri(remote), "{remote}");
        }
    }
}
