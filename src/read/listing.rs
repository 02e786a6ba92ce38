//! Listing the files an `S3()` pattern matches, in lexicographic order.

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectMeta;

use super::location::Location;
use crate::error::{Error, Result};

/// Lists the files matching the location's pattern whose keys sort after
/// `start_after` (all files when `None`), in lexicographic key order, with
/// one listing of the pattern's directory that starts after the offset.
pub async fn list_files(
    location: &Location,
    start_after: Option<&Path>,
) -> Result<Vec<ObjectMeta>> {
    let prefix = (!location.list_prefix.as_ref().is_empty()).then_some(&location.list_prefix);
    let listing = match start_after {
        Some(offset) => location.store.list_with_offset(prefix, offset),
        None => location.store.list(prefix),
    };
    let mut files: Vec<ObjectMeta> = listing
        .try_filter(|meta| futures::future::ready(location.matches(&meta.location)))
        .try_collect()
        .await
        .map_err(|e| source_error(location, e))?;
    // S3 lists in key order; local directories do not.
    files.sort_by(|a, b| a.location.cmp(&b.location));
    if let Some(offset) = start_after {
        files.retain(|f| &f.location > offset);
    }
    Ok(files)
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

/// An object store failure while reading `location`, with its URI.
/// Errors that may pass (the endpoint is down, slow or throttling) become
/// [`Error::Unavailable`], which a job retries.
pub fn source_error(location: &Location, error: object_store::Error) -> Error {
    let uri = location.uri.clone();
    let message = describe_store_error(&error);
    if is_transient(&error) {
        Error::Unavailable { uri, message }
    } else {
        Error::Source { uri, message }
    }
}

/// Whether an object store error is a fault that may pass.
fn is_transient(error: &object_store::Error) -> bool {
    if !matches!(error, object_store::Error::Generic { .. }) {
        return false;
    }
    const MARKERS: [&str; 14] = [
        "error sending request",
        "connection refused",
        "connection reset",
        "connection closed",
        "timed out",
        "timeout",
        "dns error",
        "slowdown",
        "throttl",
        "service unavailable",
        "internal error",
        "status 500",
        "status 503",
        "retries",
    ];
    let text = error.to_string().to_ascii_lowercase();
    MARKERS.iter().any(|m| text.contains(m))
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
        _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
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
