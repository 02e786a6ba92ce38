//! What `S3()` may reach from the engine's host: which local files
//! ([`LocalFiles`]) and which S3 endpoints ([`Endpoints`]). A SQL user
//! names both in a statement, so both are checked before anything is
//! opened; the operator sets them (`--local-files`, `--s3-endpoints`).

use std::net::IpAddr;

use url::Url;

use super::local_files::LocalFiles;
use crate::error::{Error, Result};

/// The local files and endpoints `S3()` may reach.
#[derive(Debug, Clone, Default)]
pub struct SourceAccess {
    pub local_files: LocalFiles,
    pub endpoints: Endpoints,
}

impl SourceAccess {
    /// Any local file but the warehouse's, any endpoint but the cloud
    /// metadata services.
    pub fn anywhere() -> Self {
        Self::default()
    }
}

/// The S3 endpoints a user may give (`s3.endpoint`, or the host of an
/// `http(s)://` URI).
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `host:port` entries, lower case; `None`: any endpoint.
    allowed: Option<Vec<String>>,
}

/// Host names of cloud metadata services.
const METADATA_HOSTS: [&str; 3] = ["metadata.google.internal", "metadata", "instance-data"];

impl Endpoints {
    /// Any endpoint but the cloud metadata services.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only these `host:port` endpoints (the port may be left out for the
    /// scheme's own: 80, 443).
    pub fn only(allowed: &[String]) -> Self {
        Self {
            allowed: Some(
                allowed
                    .iter()
                    .map(|e| e.trim().to_ascii_lowercase())
                    .collect(),
            ),
        }
    }

    /// Checks `endpoint` (`http(s)://host[:port]`), named by `uri`, before
    /// any connection is made to it.
    pub fn check(&self, uri: &str, endpoint: &str) -> Result<()> {
        let url = Url::parse(endpoint).map_err(|e| Error::InvalidOption {
            key: "s3.endpoint".into(),
            message: format!("'{endpoint}' is not a valid URL: {e}"),
        })?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host_ok = !host.is_empty()
            && matches!(url.scheme(), "http" | "https")
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !host_ok {
            return Err(Error::InvalidOption {
                key: "s3.endpoint".into(),
                message: format!(
                    "'{endpoint}' is not an endpoint such as http://127.0.0.1:9000 or https://s3.us-east-1.amazonaws.com"
                ),
            });
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let metadata = match bare.parse::<IpAddr>() {
            Ok(ip) => is_metadata_address(ip),
            Err(_) => METADATA_HOSTS.contains(&bare),
        };
        if metadata {
            return Err(Error::EndpointRefused(format!(
                "'{uri}': the endpoint {endpoint} is a link-local or cloud metadata address, which S3() never calls"
            )));
        }
        let Some(allowed) = &self.allowed else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or_default();
        let with_port = format!("{host}:{port}");
        if allowed.iter().any(|a| *a == with_port || *a == host) {
            return Ok(());
        }
        Err(Error::EndpointRefused(format!(
            "'{uri}': the endpoint {endpoint} is not one this server calls ({}); the operator allows endpoints with --s3-endpoints HOST:PORT[,...]",
            if allowed.is_empty() {
                "none are allowed".to_string()
            } else {
                allowed.join(", ")
            }
        )))
    }
}

/// Whether `ip` is link-local (169.254.0.0/16, fe80::/10), where cloud
/// metadata services answer, or AWS's IPv6 metadata address
/// (fd00:ec2::254).
pub fn is_metadata_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.is_link_local();
            }
            let aws: std::net::Ipv6Addr = "fd00:ec2::254".parse().expect("valid address");
            v6 == aws || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_addresses_are_link_local_and_aws_s_v6_one() {
        for refused in [
            "169.254.169.254",
            "169.254.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_metadata_address(refused.parse().unwrap()), "{refused}");
        }
        for fine in ["127.0.0.1", "10.0.0.1", "::1", "fd00:ec2::253", "8.8.8.8"] {
            assert!(!is_metadata_address(fine.parse().unwrap()), "{fine}");
        }
    }

    #[test]
    fn endpoints_are_checked_before_any_connection() {
        let any = Endpoints::any();
        any.check("u", "http://127.0.0.1:9000").unwrap();
        for metadata in [
            "http://169.254.169.254",
            "http://[fd00:ec2::254]:80",
            "http://metadata.google.internal",
        ] {
            let error = any.check("u", metadata).unwrap_err().to_string();
            assert!(error.contains("link-local or cloud metadata"), "{error}");
        }
        let only = Endpoints::only(&["127.0.0.1:9000".into(), "s3.example.com".into()]);
        only.check("u", "http://127.0.0.1:9000").unwrap();
        only.check("u", "https://s3.example.com").unwrap();
        let error = only
            .check("u", "http://127.0.0.2:9000")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("is not one this server calls (127.0.0.1:9000, s3.example.com)"),
            "{error}"
        );
        let none = Endpoints::only(&[]);
        assert!(none.check("u", "http://127.0.0.1:9000").is_err());
    }
}
