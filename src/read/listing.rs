//! Listing the files an `S3()` pattern matches, in lexicographic order.

use datafusion::error::DataFusionError;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::ObjectMeta;

use super::fault::source_failure;
use super::location::Location;
use crate::error::{Error, Result};

/// The files matching the location's pattern whose keys sort after
/// `start_after` (all files when `None`), in lexicographic key order, as a
/// stream: one listing that starts after the offset, read page by page as
/// the stream is read, so a reader that stops early lists no further.
/// (Local directories do not list in key order: they are read whole and
/// sorted.)
pub fn files_after<'a>(
    location: &'a Location,
    start_after: Option<&'a Path>,
) -> BoxStream<'a, Result<ObjectMeta>> {
    let prefix = (!location.list_prefix.as_ref().is_empty()).then_some(&location.list_prefix);
    let listing = match start_after {
        Some(offset) => location.store.list_with_offset(prefix, offset),
        None => location.store.list(prefix),
    };
    let matching = listing
        .map_err(move |e| source_error(location, e))
        .try_filter(move |meta| {
            let after = start_after.is_none_or(|offset| &meta.location > offset);
            futures::future::ready(after && location.matches(&meta.location))
        });
    if !location.is_local() {
        return matching.boxed();
    }
    stream::once(async move {
        let mut files: Vec<ObjectMeta> = matching.try_collect().await?;
        files.sort_by(|a, b| a.location.cmp(&b.location));
        Ok::<_, Error>(stream::iter(files.into_iter().map(Ok)))
    })
    .try_flatten()
    .boxed()
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

/// An object store failure while reading `location`, with its URI.
pub fn source_error(location: &Location, error: object_store::Error) -> Error {
    store_error(location.uri.clone(), error)
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
