//! S3 clients shared while they are in use, one per connection (bucket,
//! endpoint, region, credentials, addressing style). Building a client
//! reads and parses the system's root certificates, a few milliseconds:
//! a job planned its `S3()` call again for every task and paid it each
//! time. A client is dropped with the last location that uses it, and its
//! credentials with it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use object_store::aws::AmazonS3;

/// What makes two S3 clients interchangeable. It holds the credentials,
/// so it has no `Debug`.
#[derive(PartialEq, Eq, Hash)]
pub struct Connection {
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub virtual_hosted: bool,
}

static CLIENTS: LazyLock<Mutex<HashMap<Connection, Weak<AmazonS3>>>> =
    LazyLock::new(Mutex::default);

/// The client in use for `connection`, or a new one from `build`.
pub fn shared<E>(
    connection: Connection,
    build: impl FnOnce() -> Result<AmazonS3, E>,
) -> Result<Arc<AmazonS3>, E> {
    let mut clients = CLIENTS.lock().expect("lock");
    if let Some(client) = clients.get(&connection).and_then(Weak::upgrade) {
        return Ok(client);
    }
    let client = Arc::new(build()?);
    clients.retain(|_, client| client.strong_count() > 0);
    clients.insert(connection, Arc::downgrade(&client));
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::aws::AmazonS3Builder;

    fn connection(secret: &str) -> Connection {
        Connection {
            bucket: "b".into(),
            endpoint: "http://127.0.0.1:9".into(),
            region: "us-east-1".into(),
            access_key: Some("k".into()),
            secret_key: Some(secret.into()),
            session_token: None,
            virtual_hosted: false,
        }
    }

    fn build() -> object_store::Result<AmazonS3> {
        AmazonS3Builder::new()
            .with_bucket_name("b")
            .with_region("us-east-1")
            .with_endpoint("http://127.0.0.1:9")
            .with_allow_http(true)
            .with_access_key_id("k")
            .with_secret_access_key("s")
            .build()
    }

    #[test]
    fn a_connection_in_use_shares_its_client_and_no_other_does() {
        let first = shared(connection("one"), build).unwrap();
        let again = shared(connection("one"), build).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let other = shared(connection("two"), build).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        let weak = Arc::downgrade(&first);
        drop((first, again));
        assert!(
            weak.upgrade().is_none(),
            "a client no location uses is dropped"
        );
        let later = shared(connection("one"), build).unwrap();
        assert!(!Arc::ptr_eq(&later, &other));
    }
}
