//! The warehouse: where a tributary engine keeps everything it knows.
//!
//! A warehouse is a local directory (the embedded default) or an
//! `s3://bucket/prefix` URI. It holds the catalog file
//! (`_tributary/catalog.json`) and one Lance dataset per table under
//! `<database>/<table>_<id>.lance`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
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

    /// Storage options to hand to Lance for datasets in this warehouse.
    pub fn storage_options(&self) -> &StorageOptions {
        &self.storage_options
    }

    /// The full URI of a path relative to the warehouse root.
    pub fn uri(&self, relative: &str) -> String {
        format!("{}/{}", self.root, relative)
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

    /// Applies `change` to a copy, persists it, then publishes it.
    pub async fn update<R>(&self, change: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let _guard = self.write_lock.lock().await;
        let mut next = (*self.snapshot()).clone();
        let out = change(&mut next)?;
        let json = serde_json::to_vec_pretty(&next)
            .map_err(|e| Error::Catalog(format!("cannot serialise the {}: {e}", self.what)))?;
        self.warehouse
            .write(self.path, Bytes::from(json))
            .await
            .map_err(|e| Error::Document {
                what: self.what,
                action: "write",
                uri: self.uri(),
                source: Box::new(e),
            })?;
        *self.state.write().expect("document lock poisoned") = Arc::new(next);
        Ok(out)
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
