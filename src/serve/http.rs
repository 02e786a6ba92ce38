//! The HTTP port (`serve --http`): the status page at `/` and
//! `/jobs/<name>` ([`super::page`]) and Prometheus metrics at `/metrics`
//! ([`crate::metrics`]), for the users and passwords of the MySQL port
//! (HTTP basic auth; over TLS when the server has a certificate), each
//! seeing the jobs they may see.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::auth::{admit, verify_plain, Refused};
use super::page;
use crate::engine::Engine;

/// Serves the HTTP port on `listener` until `shutdown` completes.
pub async fn serve_http(
    engine: Engine,
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept an HTTP connection");
                    continue;
                }
            },
        };
        let engine = engine.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let served = match acceptor {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => serve_connection(engine, stream).await,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "TLS handshake failed on the HTTP port");
                        return;
                    }
                },
                None => serve_connection(engine, stream).await,
            };
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "HTTP connection ended with an error");
            }
        });
    }
}

async fn serve_connection(
    engine: Engine,
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
) -> hyper::Result<()> {
    let service = service_fn(move |request| {
        let engine = engine.clone();
        async move { Ok::<_, Infallible>(respond(&engine, request).await) }
    });
    http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await
}

type Reply = Response<Full<Bytes>>;

async fn respond(engine: &Engine, request: Request<Incoming>) -> Reply {
    if request.method() != Method::GET {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET is served here: the status page at /, metrics at /metrics",
        );
    }
    let path = request.uri().path().to_string();
    let known = path == "/" || path == "/metrics" || path.starts_with("/jobs/");
    if !known {
        return text(
            StatusCode::NOT_FOUND,
            "not found: the status page is at /, the metrics at /metrics",
        );
    }
    let user = match login(engine, &request).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    let session = engine.session_as(&user);
    let served = match path.as_str() {
        "/metrics" => engine
            .metrics()
            .render(&session)
            .await
            .map(|m| Some((m, crate::metrics::CONTENT_TYPE))),
        "/" => page::jobs_page(&session).await.map(|p| Some((p, HTML))),
        _ => {
            let name = percent_encoding::percent_decode_str(&path["/jobs/".len()..])
                .decode_utf8_lossy()
                .to_string();
            page::job_page(&session, &name)
                .await
                .map(|p| p.map(|p| (p, HTML)))
        }
    };
    match served {
        Ok(Some((body, content_type))) => {
            let mut reply = Response::new(Full::new(Bytes::from(body)));
            reply
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            reply
        }
        Ok(None) => text(
            StatusCode::NOT_FOUND,
            "no such job, or not one you may see: the jobs are listed at /",
        ),
        Err(error) => {
            tracing::warn!(%error, path = %path, "cannot answer an HTTP request");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("cannot read the job store now: {error}"),
            )
        }
    }
}

const HTML: &str = "text/html; charset=utf-8";

/// The user the request's basic auth names, once their password is
/// checked as a MySQL login's is (and counted toward its lockout).
async fn login(engine: &Engine, request: &Request<Incoming>) -> Result<String, Reply> {
    let challenge = || {
        let mut reply = text(
            StatusCode::UNAUTHORIZED,
            "log in with a tributary user and password (HTTP basic auth), as on the MySQL port",
        );
        reply.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tributary\", charset=\"UTF-8\""),
        );
        reply
    };
    let Some((user, password)) = basic_credentials(request) else {
        return Err(challenge());
    };
    match admit(engine.catalog(), &user, |stored| {
        verify_plain(&password, stored)
    })
    .await
    {
        Ok(()) => Ok(user),
        Err(Refused::Locked(until)) => {
            tracing::warn!(user = %user, until = %until, "HTTP login refused: the account is locked after failed logins");
            Err(text(
                StatusCode::FORBIDDEN,
                &format!("the account '{user}' is locked after failed logins until {until}"),
            ))
        }
        Err(refused) => {
            tracing::warn!(user = %user, reason = ?refused, "HTTP login refused");
            Err(challenge())
        }
    }
}

/// `user` and `password` of an `Authorization: Basic ...` header.
fn basic_credentials(request: &Request<Incoming>) -> Option<(String, String)> {
    let header = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn text(status: StatusCode, message: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    reply
}
