//! Listing the files an `S3()` pattern matches, in lexicographic order.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use datafusion::error::DataFusionError;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};

use super::fault::{at_endpoint, source_failure};
use super::local_files::LocalFiles;
use super::location::Location;
use crate::error::{Error, Result};

/// The files matching the location's pattern whose keys sort after
/// `start_after` (all files when `None`), in lexicographic key order, as a
/// stream: one listing that starts after the offset, read page by page as
/// the stream is read, so a reader that stops early lists no further.
/// (Local directories do not list in key order: their names are read whole
/// and sorted, and a file's size is read when the stream reaches it.)
pub fn files_after<'a>(
    location: &'a Location,
    start_after: Option<&'a Path>,
) -> BoxStream<'a, Result<ObjectMeta>> {
    files_after_in_pages(location, start_after).0
}

/// [`files_after`], with how far the listing has read into the store's
/// pages.
pub fn files_after_in_pages<'a>(
    location: &'a Location,
    start_after: Option<&'a Path>,
) -> (BoxStream<'a, Result<ObjectMeta>>, Pages) {
    if location.is_local() {
        return (local_files_after(location, start_after), Pages::unpaged());
    }
    let prefix = (!location.list_prefix.as_ref().is_empty()).then_some(&location.list_prefix);
    let listing = match start_after {
        Some(offset) => location.store.list_with_offset(prefix, offset),
        None => location.store.list(prefix),
    };
    let pages = Pages::paged();
    let read = pages.keys_read.clone();
    let listing = listing
        .inspect_ok(move |_| {
            read.fetch_add(1, Ordering::Relaxed);
        })
        .map_err(move |e| source_error(location, e))
        .try_filter(move |meta| {
            let after = start_after.is_none_or(|offset| &meta.location > offset);
            futures::future::ready(after && location.matches(&meta.location))
        })
        .boxed();
    (listing, pages)
}

/// Keys in a page of an S3 listing: ListObjectsV2's default, which AWS,
/// MinIO, SeaweedFS and moto keep to.
pub const PAGE_KEYS: u64 = 1_000;

/// How far a listing has read into its store's pages (every key, those
/// its pattern leaves out too), so that a reader can stop before it
/// would cost one more request.
#[derive(Debug, Clone)]
pub struct Pages {
    keys_read: Arc<AtomicU64>,
    paged: bool,
}

impl Pages {
    fn paged() -> Self {
        Self {
            keys_read: Arc::default(),
            paged: true,
        }
    }

    /// A listing that reads no pages (a local directory, a stream made
    /// in memory): reading on costs no request.
    pub fn unpaged() -> Self {
        Self {
            keys_read: Arc::default(),
            paged: false,
        }
    }

    /// How many more keys the listing gives from the page it has read.
    pub fn left_in_page(&self) -> u64 {
        if !self.paged {
            return u64::MAX;
        }
        match self.keys_read.load(Ordering::Relaxed) {
            0 => 0,
            read => (PAGE_KEYS - read % PAGE_KEYS) % PAGE_KEYS,
        }
    }
}

/// How many local files' metadata a listing reads at once.
const METADATA_READS: usize = 16;

/// [`files_after`] in a local directory: the names under the pattern's
/// directory (without reading each file's metadata, which a backlog of
/// many files would make slow), sorted, then each file's metadata as the
/// stream reaches it.
fn local_files_after<'a>(
    location: &'a Location,
    start_after: Option<&'a Path>,
) -> BoxStream<'a, Result<ObjectMeta>> {
    let directory = std::path::Path::new("/").join(location.list_prefix.as_ref());
    stream::once(async move {
        // The walk stops when the listing is dropped (a statement cancelled
        // or past its time limit), not only when it is done.
        let walking = Walking::default();
        let stop = walking.0.clone();
        let paths = tokio::task::spawn_blocking(move || files_under(&directory, &stop))
            .await
            .map_err(|e| Error::Source {
                uri: location.uri.clone(),
                message: format!("the directory listing stopped: {e}"),
            })?;
        let mut keys: Vec<Path> = paths
            .map_err(|e| read_error(&location.uri, &e))?
            .into_iter()
            .filter_map(|path| Path::from_absolute_path(path).ok())
            .filter(|key| start_after.is_none_or(|offset| key > offset) && location.matches(key))
            .collect();
        keys.sort();
        if let Some(local_files) = &location.local_files {
            for key in &keys {
                check_resolved(location, local_files, key)?;
            }
        }
        // A file deleted since its name was read is not listed, as if the
        // listing had come a moment later. Several files' metadata is read
        // at once, in order, each on a blocking thread.
        let metadata = stream::iter(keys)
            .map(move |key| async move {
                match location.store.head(&key).await {
                    Ok(meta) => Ok(Some(meta)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(source_error(location, e)),
                }
            })
            .buffered(METADATA_READS)
            .try_filter_map(|meta| futures::future::ready(Ok(meta)));
        Ok::<_, Error>(metadata)
    })
    .try_flatten()
    .boxed()
}

/// Tells a directory walk to stop when dropped.
#[derive(Default)]
struct Walking(Arc<AtomicBool>);

impl Drop for Walking {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Refuses a matching file that `local_files` does not allow once its
/// links are resolved (a link out of the allowed roots).
fn check_resolved(location: &Location, local_files: &LocalFiles, key: &Path) -> Result<()> {
    let path = std::path::Path::new("/").join(key.as_ref());
    let allowed = match std::fs::canonicalize(&path) {
        Ok(real) => local_files.allows(&real),
        // Deleted since it was listed: the listing leaves it out.
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    if allowed {
        return Ok(());
    }
    Err(local_files.refused(&location.display(key)))
}

/// The files under `directory` and its subdirectories (none when it does
/// not exist).
fn files_under(
    directory: &std::path::Path,
    stop: &AtomicBool,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let mut directories = vec![directory.to_path_buf()];
    while let Some(directory) = directories.pop() {
        if stop.load(Ordering::Relaxed) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the listing was cancelled",
            ));
        }
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let mut kind = entry.file_type()?;
            if kind.is_symlink() {
                match std::fs::metadata(entry.path()) {
                    Ok(target) => kind = target.file_type(),
                    Err(_) => continue,
                }
            }
            if kind.is_dir() {
                directories.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
}

/// All of [`files_after`].
pub async fn list_files(
    location: &Location,
    start_after: Option<&Path>,
) -> Result<Vec<ObjectMeta>> {
    files_after(location, start_after).try_collect().await
}

/// Lists the matching files, failing when there is none.
pub async fn list_all(location: &Location) -> Result<Vec<ObjectMeta>> {
    let files = list_files(location, None).await?;
    if files.is_empty() {
        return Err(Error::NoFilesMatch {
            uri: location.uri.clone(),
        });
    }
    Ok(files)
}

/// The first `count` matching files (fewer when there are fewer), listing
/// no further than it takes to find them.
pub async fn first_files(location: &Location, count: usize) -> Result<Vec<ObjectMeta>> {
    files_after(location, None).take(count).try_collect().await
}

/// The files named by `keys` that exist, and the keys of those that do not.
pub async fn files_named(
    location: &Location,
    keys: &[String],
) -> Result<(Vec<ObjectMeta>, Vec<String>)> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for key in keys {
        match location.store.head(&Path::from(key.as_str())).await {
            Ok(meta) => found.push(meta),
            Err(object_store::Error::NotFound { .. }) => missing.push(key.clone()),
            Err(e) => return Err(source_error(location, e)),
        }
    }
    Ok((found, missing))
}

/// An object store failure while reading `location`, with its URI (and
/// its endpoint, when it could not be reached).
pub fn source_error(location: &Location, error: object_store::Error) -> Error {
    file_error(location, location.uri.clone(), error)
}

/// An object store failure about `uri` (a file) of `location`, naming the
/// endpoint when it could not be reached.
pub fn file_error(location: &Location, uri: String, error: object_store::Error) -> Error {
    at_endpoint(store_error(uri, error), location.endpoint.as_deref())
}

/// An object store failure about `uri` (a pattern or one file). Faults
/// that may pass (see [`transient_cause`]) become [`Error::Unavailable`],
/// which a job retries.
pub fn store_error(uri: String, error: object_store::Error) -> Error {
    source_failure(uri, &error, || describe_store_error(&error))
}

/// A failure while streaming the bytes of `file`: the store's error as the
/// stream carries it, or a local read error.
pub fn read_error(file: &str, error: &std::io::Error) -> Error {
    source_failure(file.to_string(), error, || {
        match error
            .get_ref()
            .and_then(|e| e.downcast_ref::<object_store::Error>())
        {
            Some(store) => describe_store_error(store),
            None => error.to_string(),
        }
    })
}

/// [`read_error`] for use inside a DataFusion stream.
pub fn stream_read_error(file: &str, error: &std::io::Error) -> DataFusionError {
    DataFusionError::External(Box::new(read_error(file, error)))
}

/// A file whose content cannot be decoded, for use inside a DataFusion
/// stream.
pub fn decode_error(file: &str, message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::External(Box::new(Error::Source {
        uri: file.to_string(),
        message: message.to_string(),
    }))
}

/// A short, credential-free description of an object store error.
pub fn describe_store_error(error: &object_store::Error) -> String {
    if let object_store::Error::NotFound { path, .. } = error {
        return format!("not found: {path}");
    }
    let text = error.to_string();
    // S3 error bodies are XML: keep the code and message.
    let message = match (
        between(&text, "<Code>", "</Code>"),
        between(&text, "<Message>", "</Message>"),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => without_code_locations(&text),
    };
    let denied = matches!(
        error,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || [
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    ]
    .iter()
    .any(|code| message.starts_with(code));
    if denied {
        format!("{message} (check s3.access_key and s3.secret_key)")
    } else {
        message
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = from + text[from..].find(end)?;
    Some(&text[from..to])
}

/// The text with its whitespace collapsed and without the source-code
/// locations some HTTP errors append (`, /rustc/<hash>/library/...rs:1:2`).
fn without_code_locations(text: &str) -> String {
    text.split(", ")
        .filter(|part| !(part.starts_with('/') && part.contains(".rs:")))
        .collect::<Vec<_>>()
        .join(", ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
