//! Whether a failure to list or read a source file is a transient fault of
//! the store (the connection was lost, refused or reset, a request timed
//! out, the server answered 5xx or throttled) that a job retries, or a
//! permanent one (missing file or bucket, denied access, bad data).
//!
//! The decision is made from the error values where they are made, never
//! from how they print: object_store's variants, its [`HttpError`] (a
//! request that did not complete), the HTTP status of a failed request, and
//! the I/O error kinds of a connection.

use std::error::Error as StdError;
use std::io;

use object_store::client::{HttpError, HttpErrorKind};

use crate::error::Error;

/// The error for a failure to list or read `uri`: [`Error::Unavailable`]
/// (a job retries it) when `error` is a transient fault, else
/// [`Error::Source`] saying `message()`.
pub fn source_failure(
    uri: String,
    error: &(dyn StdError + 'static),
    message: impl FnOnce() -> String,
) -> Error {
    match transient_cause(error) {
        Some(message) => Error::Unavailable { uri, message },
        None => Error::Source {
            uri,
            message: message(),
        },
    }
}

/// The cause of a transient fault, worded for a user (`the connection was
/// lost`), or `None` when `error` is not transient.
pub fn transient_cause(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(store) = error.downcast_ref::<object_store::Error>() {
            if !matches!(store, object_store::Error::Generic { .. }) {
                // NotFound, PermissionDenied, Unauthenticated, ...: the
                // store answered, and will answer the same again.
                return None;
            }
        }
        if let Some(http) = error.downcast_ref::<HttpError>() {
            return http_cause(http.kind()).map(|cause| match http.kind() {
                HttpErrorKind::Connect => connect_cause(http),
                _ => cause.to_string(),
            });
        }
        if let Some(status) = http_status(error) {
            return transient_status(status).then(|| format!("the server answered HTTP {status}"));
        }
        if let Some(io) = error.downcast_ref::<io::Error>() {
            if let Some(cause) = io_cause(io.kind()) {
                return Some(cause.to_string());
            }
        }
        next = error.source();
    }
    None
}

/// An HTTP request that did not complete is a fault of the connection;
/// a response body that does not decode (not UTF-8, not the XML expected)
/// is not.
fn http_cause(kind: HttpErrorKind) -> Option<&'static str> {
    match kind {
        HttpErrorKind::Connect => Some("cannot connect to the endpoint"),
        HttpErrorKind::Timeout => Some("the request timed out"),
        HttpErrorKind::Interrupted | HttpErrorKind::Request => Some("the connection was lost"),
        HttpErrorKind::Decode => None,
        _ => Some("the request did not complete"),
    }
}

/// What a failed connection says: the cause's prefix that
/// [`at_endpoint`] names the endpoint after.
const CANNOT_CONNECT: &str = "cannot connect to the endpoint";

/// Why a connection to the endpoint could not be made: `cannot connect to
/// the endpoint (connection refused)`, the reason from the innermost
/// error (refused, timed out, a name that does not resolve).
fn connect_cause(error: &(dyn StdError + 'static)) -> String {
    let mut reason = None;
    let mut next = Some(error);
    while let Some(error) = next {
        reason = Some(
            match error.downcast_ref::<io::Error>().map(io::Error::kind) {
                Some(io::ErrorKind::ConnectionRefused) => "connection refused".to_string(),
                Some(io::ErrorKind::TimedOut) => "timed out".to_string(),
                _ => error.to_string(),
            },
        );
        next = error.source();
    }
    match reason {
        Some(reason) => format!("{CANNOT_CONNECT} ({reason})"),
        None => CANNOT_CONNECT.to_string(),
    }
}

/// `error` with the endpoint named when it is a failure to connect to one
/// (the HTTP client's error leaves the request's URL out: it may carry a
/// signature).
pub fn at_endpoint(error: Error, endpoint: Option<&str>) -> Error {
    match (error, endpoint) {
        (Error::Unavailable { uri, message }, Some(endpoint))
            if message.starts_with(CANNOT_CONNECT) =>
        {
            let rest = &message[CANNOT_CONNECT.len()..];
            Error::Unavailable {
                uri,
                message: format!("{CANNOT_CONNECT} {endpoint}{rest}"),
            }
        }
        (error, _) => error,
    }
}

fn io_cause(kind: io::ErrorKind) -> Option<&'static str> {
    use io::ErrorKind::*;
    match kind {
        ConnectionRefused => Some("cannot connect to the endpoint (connection refused)"),
        ConnectionReset | ConnectionAborted | BrokenPipe | NotConnected => {
            Some("the connection was lost")
        }
        TimedOut => Some("the request timed out"),
        _ => None,
    }
}

/// Server errors, throttling and request timeouts pass; other statuses do
/// not.
fn transient_status(status: u16) -> bool {
    status >= 500 || status == 429 || status == 408
}

/// The HTTP status of a request object_store gave up on.
///
/// object_store 0.13 keeps its retry error type private (only its message
/// is public), so the status is read from the one field that message
/// defines for it: `Server returned non-2xx status code: <status> ...`.
fn http_status(error: &(dyn StdError + 'static)) -> Option<u16> {
    const STATUS: &str = "Server returned non-2xx status code: ";
    let text = error.to_string();
    // The last one: the request's URL comes before it.
    let rest = &text[text.rfind(STATUS)? + STATUS.len()..];
    rest.get(..3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_error(source: impl StdError + Send + Sync + 'static) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: Box::new(source),
        }
    }

    #[test]
    fn a_request_that_did_not_complete_is_transient() {
        let lost = HttpError::new(
            HttpErrorKind::Interrupted,
            io::Error::from(io::ErrorKind::ConnectionReset),
        );
        let error = store_error(lost);
        assert_eq!(
            transient_cause(&error).as_deref(),
            Some("the connection was lost")
        );
        // Wrapped the way a byte stream carries it.
        let wrapped = io::Error::other(store_error(HttpError::new(
            HttpErrorKind::Connect,
            io::Error::from(io::ErrorKind::ConnectionRefused),
        )));
        assert_eq!(
            transient_cause(&wrapped).as_deref(),
            Some("cannot connect to the endpoint (connection refused)")
        );
    }

    #[test]
    fn a_connection_that_cannot_be_made_names_the_endpoint_and_why() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let error = store_error(HttpError::new(HttpErrorKind::Connect, refused));
        let failure = source_failure("s3://b/x.csv".into(), &error, String::new);
        let named = at_endpoint(failure, Some("http://127.0.0.1:9"));
        assert_eq!(
            named.to_string(),
            "cannot read 's3://b/x.csv': cannot connect to the endpoint http://127.0.0.1:9 (connection refused)"
        );
        let dns = io::Error::other("dns error: failed to lookup address");
        let error = store_error(HttpError::new(HttpErrorKind::Connect, dns));
        assert_eq!(
            transient_cause(&error).as_deref(),
            Some("cannot connect to the endpoint (dns error: failed to lookup address)")
        );
        // Other faults are left as they are.
        let lost = store_error(HttpError::new(
            HttpErrorKind::Interrupted,
            io::Error::from(io::ErrorKind::ConnectionReset),
        ));
        let failure = source_failure("s3://b/x.csv".into(), &lost, String::new);
        let same = at_endpoint(failure, Some("http://127.0.0.1:9"));
        assert!(
            same.to_string().ends_with("the connection was lost"),
            "{same}"
        );
    }

    #[test]
    fn answers_that_will_not_change_are_permanent() {
        let missing = object_store::Error::NotFound {
            path: "b/x.csv".into(),
            source: Box::new(io::Error::from(io::ErrorKind::ConnectionReset)),
        };
        assert_eq!(transient_cause(&missing), None);
        let truncated = io::Error::new(io::ErrorKind::UnexpectedEof, "ended early");
        assert_eq!(transient_cause(&truncated), None);
        let undecodable = store_error(HttpError::new(
            HttpErrorKind::Decode,
            io::Error::other("invalid utf-8"),
        ));
        assert_eq!(transient_cause(&undecodable), None);
    }

    #[test]
    fn server_errors_and_throttling_are_transient() {
        let status = |s: &str| {
            store_error(io::Error::other(format!(
                "Error performing GET in 1s - Server returned non-2xx status code: {s}: "
            )))
        };
        assert_eq!(
            transient_cause(&status("503 Service Unavailable")).as_deref(),
            Some("the server answered HTTP 503")
        );
        assert!(transient_cause(&status("429 Too Many Requests")).is_some());
        assert_eq!(transient_cause(&status("400 Bad Request")), None);
    }
}
