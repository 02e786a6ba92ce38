//! TLS for the server's clients (`--tls-cert`, `--tls-key`): a rustls
//! configuration from PEM files. A client that asks for TLS in its
//! handshake gets it; with `--require-tls` one that does not is refused
//! at login ([`super::connection`]).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::error::{Error, Result};

/// The server's TLS configuration: the certificate chain in `cert` and
/// its private key in `key`, both PEM.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let unreadable = |what: &str, path: &Path, error: &dyn std::fmt::Display| {
        Error::Tls(format!(
            "cannot read the {what} '{}': {error}; give a PEM file (openssl writes one)",
            path.display()
        ))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| unreadable("certificate", cert, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| unreadable("certificate", cert, &e))?;
    if chain.is_empty() {
        return Err(unreadable("certificate", cert, &"it holds no certificate"));
    }
    let private_key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| unreadable("private key", key, &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(chain, private_key)
        })
        .map_err(|e| {
            Error::Tls(format!(
                "the certificate '{}' and the key '{}' cannot serve TLS: {e}; give the key of that certificate",
                cert.display(),
                key.display()
            ))
        })?;
    Ok(Arc::new(config))
}
