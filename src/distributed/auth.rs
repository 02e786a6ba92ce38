//! Who may send a worker plans: the processes that hold the warehouse's
//! secret key. Each request to a worker carries [`TOKEN_HEADER`], an HMAC
//! of the warehouse's root under the key; a worker refuses a request
//! without its own token, so a process of another warehouse, or with
//! another key, cannot run plans on it.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::DataFusionError;
use datafusion_distributed::grpc::{BoxCloneSyncChannel, DefaultChannelResolver};
use datafusion_distributed::{ChannelResolver, WorkerChannel};
use http::HeaderValue;
use tonic::{Request, Status};
use url::Url;

use crate::error::{Error, Result};
use crate::job::{default_key_path, SecretKey};

/// The request header that carries the token.
pub(crate) const TOKEN_HEADER: &str = "x-tributary-worker-token";

/// The token of the processes of the warehouse at `root`.
pub(crate) fn token_for(root: &str) -> Result<Arc<str>> {
    let key = SecretKey::load_or_create(&default_key_path())?;
    Ok(key.derive(&format!("tributary worker of {root}")).into())
}

/// The worker side: refuses a request whose token is not `token`.
pub(crate) fn check_token(
    token: Arc<str>,
    root: String,
) -> impl Fn(Request<()>) -> std::result::Result<Request<()>, Status> + Clone {
    move |request: Request<()>| {
        let given = request.metadata().get(TOKEN_HEADER);
        let equal = |g: &tonic::metadata::MetadataValue<_>| {
            aws_lc_rs::constant_time::verify_slices_are_equal(g.as_bytes(), token.as_bytes())
                .is_ok()
        };
        if given.is_some_and(equal) {
            return Ok(request);
        }
        Err(Status::unauthenticated(format!(
            "this tributary worker serves the warehouse {root} and takes plans only from its processes: start the process with the same warehouse and the same secret key file (TRIBUTARY_SECRET_KEY_FILE)"
        )))
    }
}

/// The calling side: datafusion-distributed's channels, with the token on
/// every request (workers call other workers with it too).
#[derive(Clone)]
pub(crate) struct TokenChannels {
    channels: DefaultChannelResolver,
    token: HeaderValue,
}

impl TokenChannels {
    pub(crate) fn new(token: &str) -> Result<Self> {
        let token = HeaderValue::from_str(token)
            .map_err(|_| Error::Workers("the worker token is not a valid header value".into()))?;
        Ok(Self {
            channels: DefaultChannelResolver::default(),
            token,
        })
    }
}

#[async_trait]
impl ChannelResolver for TokenChannels {
    async fn get_worker_client_for_url(
        &self,
        url: &Url,
    ) -> std::result::Result<Box<dyn WorkerChannel>, DataFusionError> {
        let channel = self.channels.get_channel(url).await?;
        let token = self.token.clone();
        let with_token = tower::ServiceBuilder::new()
            .map_request(move |mut request: http::Request<tonic::body::Body>| {
                request.headers_mut().insert(TOKEN_HEADER, token.clone());
                request
            })
            .service(channel);
        Ok(datafusion_distributed::grpc::create_worker_client(
            BoxCloneSyncChannel::new(with_token),
        ))
    }
}
