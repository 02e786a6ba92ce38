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

/// How many local files one blocking task checks and reads the metadata
/// of: a backlog's files are read a chunk per thread hop, not one each.
const METADATA_CHUNK: usize = 64;

/// [`files_after`] in a local directory: the names under the pattern's
/// directory (without reading each file's metadata, which a backlog of
/// many files would make slow), sorted, then each file's metadata as the
/// stream reaches it, a chunk at a time.
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
        let walk = tokio::task::spawn_blocking(move || Walk::of(directory, &stop))
            .await
            .map_err(|e| listing_stopped(location, &e))?
            .map_err(|e| read_error(&location.uri, &e))?;
        let walk = Arc::new(walk);
        let mut keys: Vec<(Path, usize)> = walk
            .files
            .iter()
            .enumerate()
            .filter_map(|(i, found)| Some((Path::from_absolute_path(&found.path).ok()?, i)))
            .filter(|(key, _)| {
                start_after.is_none_or(|offset| key > offset) && location.matches(key)
            })
            .collect();
        keys.sort();
        // Without a location's own limits any file may be read.
        let local_files = location.local_files.clone().unwrap_or_default();
        let refusing = local_files.clone();
        let metadata = stream::iter(keys)
            .chunks(METADATA_CHUNK)
            .map(move |chunk| {
                let walk = walk.clone();
                let local_files = local_files.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        chunk
                            .into_iter()
                            .map(|(key, i)| {
                                let seen = walk.see(&walk.files[i], &local_files);
                                (key, seen)
                            })
                            .collect::<Vec<_>>()
                    })
                    .await
                    .map_err(|e| listing_stopped(location, &e))
                }
            })
            .buffered(2)
            .map_ok(|chunk| stream::iter(chunk).map(Ok))
            .try_flatten()
            .try_filter_map(move |(key, seen)| {
                futures::future::ready(match seen {
                    Ok(Seen::File(metadata)) => Ok(Some(local_meta(key, &metadata))),
                    // Deleted since its name was read: not listed, as if
                    // the listing had come a moment later.
                    Ok(Seen::Gone) => Ok(None),
                    Ok(Seen::Refused) => Err(refusing.refused(&location.display(&key))),
                    Err(e) => Err(read_error(&location.display(&key), &e)),
                })
            });
        Ok::<_, Error>(metadata)
    })
    .try_flatten()
    .boxed()
}

/// A local listing's blocking task that did not finish (it panicked or
/// the runtime is shutting down).
fn listing_stopped(location: &Location, error: &tokio::task::JoinError) -> Error {
    Error::Source {
        uri: location.uri.clone(),
        message: format!("the directory listing stopped: {error}"),
    }
}

/// Tells a directory walk to stop when dropped.
#[derive(Default)]
struct Walking(Arc<AtomicBool>);

impl Drop for Walking {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The files under a directory and its subdirectories.
struct Walk {
    /// The directory walked.
    directory: std::path::PathBuf,
    /// The directory with its links resolved (`None` when it does not
    /// exist).
    real_directory: Option<std::path::PathBuf>,
    files: Vec<Found>,
}

/// A file a [`Walk`] found.
struct Found {
    path: std::path::PathBuf,
    /// Whether a link led to it (the file itself or a directory on the
    /// way): only such a file needs resolving before the allowed roots
    /// are checked; any other is the resolved directory plus its name.
    linked: bool,
}

/// What a listing sees of one file it found.
enum Seen {
    File(std::fs::Metadata),
    Gone,
    /// A link out of the allowed roots.
    Refused,
}

impl Walk {
    /// Walks `directory` (no files when it does not exist).
    fn of(directory: std::path::PathBuf, stop: &AtomicBool) -> std::io::Result<Self> {
        let real_directory = std::fs::canonicalize(&directory).ok();
        let mut files = Vec::new();
        let mut directories = vec![(directory.clone(), false)];
        while let Some((dir, linked)) = directories.pop() {
            if stop.load(Ordering::Relaxed) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "the listing was cancelled",
                ));
            }
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let mut kind = entry.file_type()?;
                let link = kind.is_symlink();
                if link {
                    match std::fs::metadata(entry.path()) {
                        Ok(target) => kind = target.file_type(),
                        Err(_) => continue,
                    }
                }
                let linked = linked || link;
                if kind.is_dir() {
                    directories.push((entry.path(), linked));
                } else if kind.is_file() {
                    files.push(Found {
                        path: entry.path(),
                        linked,
                    });
                }
            }
        }
        Ok(Self {
            directory,
            real_directory,
            files,
        })
    }

    /// Checks `found` against `local_files` (links resolved) and reads its
    /// metadata.
    fn see(&self, found: &Found, local_files: &LocalFiles) -> std::io::Result<Seen> {
        let real = match self.resolved(found) {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Seen::Gone),
            Err(e) => return Err(e),
        };
        if !local_files.allows(&real) {
            return Ok(Seen::Refused);
        }
        match std::fs::metadata(&found.path) {
            Ok(metadata) => Ok(Seen::File(metadata)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Seen::Gone),
            Err(e) => Err(e),
        }
    }

    /// `found`'s path with its links resolved: the resolved directory and
    /// its name, unless a link led to it.
    fn resolved(&self, found: &Found) -> std::io::Result<std::path::PathBuf> {
        if let (Some(real_directory), false) = (&self.real_directory, found.linked) {
            if let Ok(name) = found.path.strip_prefix(&self.directory) {
                return Ok(real_directory.join(name));
            }
        }
        std::fs::canonicalize(&found.path)
    }
}

/// A local file's listing entry, its entity tag made as object_store's
/// local store makes it (inode, modification time, size), so that the
/// ledger records the same tag whichever of the two read the file.
fn local_meta(key: Path, metadata: &std::fs::Metadata) -> ObjectMeta {
    use std::os::unix::fs::MetadataExt;
    let modified = metadata.modified().ok();
    let micros = modified
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default()
        .as_micros();
    ObjectMeta {
        location: key,
        last_modified: modified.map(Into::into).unwrap_or_default(),
        size: metadata.len(),
        e_tag: Some(format!(
            "{:x}-{micros:x}-{:x}",
            metadata.ino(),
            metadata.len()
        )),
        version: None,
    }
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
