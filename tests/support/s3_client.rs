//! A client of an S3-compatible server on 127.0.0.1 (the tests' moto, the
//! benchmark's SeaweedFS), with explicit credentials and region: nothing is
//! left for the client to look up.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::ObjectStore;

/// Explicit credentials and region of a loopback server's clients.
pub struct Credentials {
    pub access_key: &'static str,
    pub secret_key: &'static str,
    pub region: &'static str,
}

/// A client for `bucket` on the server at `endpoint` (`http://127.0.0.1:port`).
pub fn loopback_client(
    endpoint: &str,
    bucket: &str,
    credentials: &Credentials,
) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(credentials.region)
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_access_key_id(credentials.access_key)
            .with_secret_access_key(credentials.secret_key)
            .build()
            .expect("S3 client"),
    )
}
