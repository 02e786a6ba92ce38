//! The warehouse: where a tributary engine keeps everything it knows.
//!
//! A warehouse is a local directory (the embedded default) or an
//! `s3://bucket/prefix` URI. It holds the catalog file
//! (`_tributary/catalog.json`) and one Lance dataset per table under
//! `tables/<id>.lance` (tables made by earlier builds keep the location
//! they were made with, `<database>/<table>_<id>.lance`). Nothing is
//! written or deleted outside it ([`Warehouse::check_inside`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::error::{Error, Result};

/// Storage options for an S3 warehouse, keyed as object_store and Lance name
/// them (`aws_endpoint`, `aws_region`, `aws_access_key_id`, ...). Doris-style
/// keys (`s3.endpoint`, `s3.region`, `s3.access_key`, `s3.secret_key`,
/// `s3.session_token`) are accepted and translated.
pub type StorageOptions = HashMap<String, String>;

/// An opened warehouse location.
#[derive(Debug)]
pub struct Warehouse {
    /// Absolute directory path or `s3://bucket/prefix`, without trailing `/`.
    root: String,
    storage_options: StorageOptions,
    store: Arc<dyn ObjectStore>,
    /// Path of the warehouse root inside `store`.
    prefix: Path,
    /// The directory, for a local warehouse.
    local_dir: Option<PathBuf>,
}

impl Warehouse {
    /// Opens (creating a local directory if needed) the warehouse at `location`.
    pub fn open(location: &str, options: &StorageOptions) -> Result<Self> {
        let err = |message: String| Error::Warehouse {
            location: location.to_string(),
            message,
        };
        if location.contains("://") && !location.starts_with("file://") {
            let url = Url::parse(location).map_err(|e| err(e.to_string()))?;
            if url.scheme() != "s3" {
                return Err(err(format!(
                    "unsupported scheme '{}': use a local directory or s3://bucket/prefix",
                    url.scheme()
                )));
            }
            let storage_options = normalize_storage_options(options);
            let (store, prefix) = object_store::parse_url_opts(&url, &storage_options)
                .map_err(|e| err(e.to_string()))?;
            return Ok(Self {
                root: location.trim_end_matches('/').to_string(),
                storage_options,
                store: Arc::from(store),
                prefix,
                local_dir: None,
            });
        }
        let dir = PathBuf::from(location.strip_prefix("file://").unwrap_or(location));
        std::fs::create_dir_all(&dir).map_err(|e| err(format!("cannot create directory: {e}")))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| err(format!("cannot resolve directory: {e}")))?;
        let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            root: dir.to_string_lossy().trim_end_matches('/').to_string(),
            storage_options: StorageOptions::new(),
            store: Arc::new(store),
            prefix: Path::default(),
            local_dir: Some(dir),
        })
    }

    /// The warehouse root as given to Lance (absolute path or URI).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The local directory of a local warehouse; `None` on S3.
    pub fn local_dir(&self) -> Option<&std::path::Path> {
        self.local_dir.as_deref()
    }

    /// Storage options to hand to Lance for datasets in this warehouse.
    pub fn storage_options(&self) -> &StorageOptions {
        &self.storage_options
    }

    /// The full URI of a path relative to the warehouse root.
    pub fn uri(&self, relative: &str) -> String {
        format!("{}/{}", self.root, relative)
    }

    /// Refuses a relative path that could lead out of the warehouse (empty,
    /// absolute, or with a `..`, `.` or empty component): checked before
    /// anything is written or deleted there.
    pub fn check_inside(&self, relative: &str) -> Result<()> {
        let escapes = relative.is_empty()
            || relative.starts_with('/')
            || relative.contains('\\')
            || relative
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..");
        if escapes {
            return Err(Error::Warehouse {
                location: self.root.clone(),
                message: format!(
                    "'{relative}' is not a path inside the warehouse; nothing was written or deleted"
                ),
            });
        }
        Ok(())
    }

    fn path(&self, relative: &str) -> Path {
        self.prefix
            .parts()
            .chain(Path::from(relative).parts())
            .collect()
    }

    /// Reads a file of the warehouse; `None` if it does not exist.
    pub async fn read(&self, relative: &str) -> Result<Option<Bytes>> {
        match self.store.get(&self.path(relative)).await {
            Ok(result) => Ok(Some(result.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a file of the warehouse atomically: readers see the old or the
    /// new content, never a part (a rename on local disk, a single PUT on S3).
    pub async fn write(&self, relative: &str, content: Bytes) -> Result<()> {
        self.store
            .put(&self.path(relative), PutPayload::from_bytes(content))
            .await?;
        Ok(())
    }

    /// Reads a file with the version it has (for [`Warehouse::write_if_unchanged`]).
    pub async fn read_versioned(&self, relative: &str) -> Result<Versioned> {
        match self.store.get(&self.path(relative)).await {
            Ok(result) => {
                let version = UpdateVersion {
                    e_tag: result.meta.e_tag.clone(),
                    version: result.meta.version.clone(),
                };
                Ok(Versioned {
                    bytes: Some(result.bytes().await?),
                    version: Some(version),
                })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(Versioned {
                bytes: None,
                version: None,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a file atomically unless another process wrote it since
    /// `read` (created it, when it did not exist then); `false` when it
    /// did, and nothing was written. On S3 the write is conditional
    /// (`If-Match` the ETag read, `If-None-Match: *` for a new file); in a
    /// local directory the caller holds the file's [`Warehouse::lock`], so
    /// nobody else wrote it.
    pub async fn write_if_unchanged(
        &self,
        relative: &str,
        content: Bytes,
        read: &Versioned,
    ) -> Result<bool> {
        if self.local_dir.is_some() {
            self.write(relative, content).await?;
            return Ok(true);
        }
        let mode = match &read.version {
            Some(version) => PutMode::Update(version.clone()),
            None => PutMode::Create,
        };
        let options = PutOptions {
            mode,
            ..Default::default()
        };
        let written = self
            .store
            .put_opts(
                &self.path(relative),
                PutPayload::from_bytes(content),
                options,
            )
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(object_store::Error::Precondition { .. })
            | Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Holds off other processes' changes to a file of a local warehouse
    /// while it is read, changed and written: an exclusive OS lock on a
    /// `.lock` file beside it, released when the guard drops. `None` on S3,
    /// where writes are conditional instead.
    pub async fn lock(&self, relative: &str) -> Result<Option<FileLock>> {
        let Some(dir) = &self.local_dir else {
            return Ok(None);
        };
        let path = dir.join(format!("{relative}.lock"));
        let file = tokio::task::spawn_blocking(move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|opened| opened)
        .map_err(|e| Error::Warehouse {
            location: self.uri(relative),
            message: format!("cannot open its lock file: {e}"),
        })?;
        // Held for milliseconds by a process that reads, changes and writes
        // the file; one that holds it longer is stopped or hung.
        let deadline = tokio::time::Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(FileLock(file))),
                Err(std::fs::TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Warehouse {
                        location: self.uri(relative),
                        message: format!(
                            "another process has held its lock for {}s (is it stopped?); nothing was changed: try again once it runs or has exited",
                            LOCK_WAIT.as_secs()
                        ),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::Warehouse {
                        location: self.uri(relative),
                        message: format!("cannot lock the file: {e}"),
                    })
                }
            }
        }
    }

    /// The files under a relative directory, as paths relative to it, in
    /// no particular order (none when it does not exist).
    pub async fn list(&self, relative: &str) -> Result<Vec<String>> {
        let directory = self.path(relative);
        let files: Vec<object_store::ObjectMeta> =
            self.store.list(Some(&directory)).try_collect().await?;
        Ok(files
            .into_iter()
            .filter_map(|meta| {
                let parts: Vec<_> = meta.location.prefix_match(&directory)?.collect();
                Some(
                    parts
                        .iter()
                        .map(|p| p.as_ref())
                        .collect::<Vec<_>>()
                        .join("/"),
                )
            })
            .collect())
    }

    /// Deletes every file under a relative prefix (a dropped table's dataset).
    pub async fn delete_prefix(&self, relative: &str) -> Result<()> {
        self.check_inside(relative)?;
        if let Some(dir) = &self.local_dir {
            // Removes the directories too, which object_store leaves behind.
            return match tokio::fs::remove_dir_all(dir.join(relative)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Warehouse {
                    location: self.root.clone(),
                    message: format!("cannot delete {relative}: {e}"),
                }),
                _ => Ok(()),
            };
        }
        let prefix = self.path(relative);
        let locations = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }
}

/// A file's content as read, and the version it was read at.
#[derive(Debug)]
pub struct Versioned {
    /// `None` when the file did not exist.
    pub bytes: Option<Bytes>,
    version: Option<UpdateVersion>,
}

/// An exclusive lock on a file of a local warehouse (see
/// [`Warehouse::lock`]); closing the file releases it.
#[derive(Debug)]
pub struct FileLock(#[allow(dead_code)] std::fs::File);

/// How long a change waits for another process's lock on a local file.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How many times a change is applied again on top of another process's
/// before the update gives up.
const MAX_ATTEMPTS: usize = 20;

/// A JSON document of the warehouse (the catalog, the job store), held in
/// memory and changed whole: modify a copy, write it atomically, then
/// publish it. Readers see the old or the new version, never a mix, and a
/// failed change or write leaves both the file and the memory as they were.
#[derive(Debug)]
pub struct Document<T> {
    warehouse: Arc<Warehouse>,
    path: &'static str,
    /// What the document is, for messages ("catalog", "job store").
    what: &'static str,
    state: RwLock<Arc<T>>,
    /// Serialises changes.
    write_lock: tokio::sync::Mutex<()>,
}

impl<T: Clone + Serialize + DeserializeOwned> Document<T> {
    /// Reads the document at `path`, or starts with `empty()`.
    pub async fn load(
        warehouse: Arc<Warehouse>,
        path: &'static str,
        what: &'static str,
        empty: impl FnOnce() -> T,
    ) -> Result<Self> {
        let read = warehouse.read(path).await.map_err(|e| Error::Document {
            what,
            action: "read",
            uri: warehouse.uri(path),
            source: Box::new(e),
        })?;
        let state = match read {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Catalog(format!(
                    "{} is not a valid {what}: {e}",
                    warehouse.uri(path)
                ))
            })?,
            None => empty(),
        };
        Ok(Self {
            warehouse,
            path,
            what,
            state: RwLock::new(Arc::new(state)),
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The warehouse the document lives in.
    pub fn warehouse(&self) -> &Arc<Warehouse> {
        &self.warehouse
    }

    /// The document's full URI.
    pub fn uri(&self) -> String {
        self.warehouse.uri(self.path)
    }

    /// The current version.
    pub fn snapshot(&self) -> Arc<T> {
        self.state.read().expect("document lock poisoned").clone()
    }

    /// Applies `change` to the document as it is in the warehouse now,
    /// writes it unless another process wrote it meanwhile, then publishes
    /// it. Read, change and write are one step against other processes (a
    /// conditional write on S3, a file lock in a local directory): when
    /// another process wrote first, `change` is applied again to its
    /// version, so no process's change is ever lost. Whatever `change`
    /// decides, this process sees the other processes' changes from then on.
    pub async fn update<R>(&self, mut change: impl FnMut(&mut T) -> Result<R>) -> Result<R> {
        let _guard = self.write_lock.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            let _lock = self.warehouse.lock(self.path).await?;
            let read = self
                .warehouse
                .read_versioned(self.path)
                .await
                .map_err(|e| self.failed("read", e))?;
            if let Some(bytes) = &read.bytes {
                let current = self.parse(bytes)?;
                *self.state.write().expect("document lock poisoned") = Arc::new(current);
            }
            let mut next = (*self.snapshot()).clone();
            let out = change(&mut next)?;
            let json = serde_json::to_vec_pretty(&next)
                .map_err(|e| Error::Catalog(format!("cannot serialise the {}: {e}", self.what)))?;
            let written = self
                .warehouse
                .write_if_unchanged(self.path, Bytes::from(json), &read)
                .await
                .map_err(|e| self.failed("write", e))?;
            if written {
                *self.state.write().expect("document lock poisoned") = Arc::new(next);
                return Ok(out);
            }
            tracing::debug!(
                document = self.what,
                "written by another process meanwhile; applying the change again"
            );
        }
        Err(Error::Catalog(format!(
            "the {} at {} kept being changed by other processes; nothing was changed: run the statement again",
            self.what,
            self.uri()
        )))
    }

    /// Reads the document again from the warehouse (other processes may
    /// have changed it); `true` when it changed.
    pub async fn refresh(&self) -> Result<bool>
    where
        T: PartialEq,
    {
        // Not beside an update of this process: a read from before its
        // write would be published over it.
        let _guard = self.write_lock.lock().await;
        let Some(bytes) = self
            .warehouse
            .read(self.path)
            .await
            .map_err(|e| self.failed("read", e))?
        else {
            return Ok(false);
        };
        let current = self.parse(&bytes)?;
        let mut state = self.state.write().expect("document lock poisoned");
        if **state == current {
            return Ok(false);
        }
        *state = Arc::new(current);
        Ok(true)
    }

    fn parse(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| {
            Error::Catalog(format!("{} is not a valid {}: {e}", self.uri(), self.what))
        })
    }

    fn failed(&self, action: &'static str, error: Error) -> Error {
        Error::Document {
            what: self.what,
            action,
            uri: self.uri(),
            source: Box::new(error),
        }
    }
}

/// Translates Doris-style `s3.*` keys to object_store keys, and defaults
/// to path-style requests and plain HTTP for `http://` endpoints.
pub fn normalize_storage_options(options: &StorageOptions) -> StorageOptions {
    let mut out = StorageOptions::new();
    for (key, value) in options {
        let key = match key.to_ascii_lowercase().as_str() {
            "s3.endpoint" => "aws_endpoint".to_string(),
            "s3.region" => "aws_region".to_string(),
            "s3.access_key" => "aws_access_key_id".to_string(),
            "s3.secret_key" => "aws_secret_access_key".to_string(),
            "s3.session_token" => "aws_session_token".to_string(),
            other => other.to_string(),
        };
        out.insert(key, value.clone());
    }
    if let Some(endpoint) = out.get("aws_endpoint").cloned() {
        if endpoint.starts_with("http://") {
            out.entry("allow_http".into())
                .or_insert_with(|| "true".into());
        }
        out.entry("aws_virtual_hosted_style_request".into())
            .or_insert_with(|| "false".into());
    }
    out
}
