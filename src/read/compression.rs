//! Opening a source file as a stream of decompressed bytes.

use std::io;

use async_compression::tokio::bufread::{
    BzDecoder, GzipDecoder, Lz4Decoder, ZlibDecoder, ZstdDecoder,
};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncRead;
use tokio_util::io::{ReaderStream, StreamReader};

use super::options::Compression;

/// The decompressed content of a file, chunk by chunk.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// Opens `file`, decompressing it with `compression` (or the codec its
/// suffix implies when `None`).
pub async fn open(
    store: &dyn ObjectStore,
    file: &ObjectMeta,
    compression: Option<Compression>,
) -> object_store::Result<ByteStream> {
    let compression =
        compression.unwrap_or_else(|| Compression::from_suffix(file.location.as_ref()));
    let raw = store
        .get(&file.location)
        .await?
        .into_stream()
        .map_err(io::Error::other);
    if compression == Compression::Plain {
        return Ok(raw.boxed());
    }
    let reader = StreamReader::new(raw);
    let decoder: Box<dyn AsyncRead + Send + Unpin> = match compression {
        Compression::Plain => unreachable!("handled above"),
        Compression::Gzip => {
            let mut d = GzipDecoder::new(reader);
            d.multiple_members(true);
            Box::new(d)
        }
        Compression::Bzip2 => Box::new(BzDecoder::new(reader)),
        Compression::Zstd => Box::new(ZstdDecoder::new(reader)),
        Compression::Lz4 => Box::new(Lz4Decoder::new(reader)),
        Compression::Deflate => Box::new(ZlibDecoder::new(reader)),
    };
    Ok(ReaderStream::new(decoder).boxed())
}

/// Reads at most `limit` bytes of a stream (for schema inference).
pub async fn read_head(mut stream: ByteStream, limit: usize) -> io::Result<(Vec<u8>, bool)> {
    let mut head = Vec::new();
    while let Some(chunk) = stream.next().await {
        head.extend_from_slice(&chunk?);
        if head.len() >= limit {
            return Ok((head, false));
        }
    }
    Ok((head, true))
}
