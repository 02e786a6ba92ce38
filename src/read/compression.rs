//! Opening a source file as a stream of decompressed bytes.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use async_compression::tokio::bufread::{
    BzDecoder, GzipDecoder, Lz4Decoder, ZlibDecoder, ZstdDecoder,
};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{GetResult, GetResultPayload, ObjectMeta, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncRead;
use tokio_util::io::{ReaderStream, StreamReader};

use super::options::Compression;

/// The decompressed content of a file, chunk by chunk.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// Bytes read from a local file per blocking read. object_store's own
/// stream reads 8 KiB per blocking task, which costs more than parsing them.
const LOCAL_CHUNK: u64 = 1 << 20;

/// The codec `file` is read with: `compression`, or the one its suffix
/// implies when `None`.
pub fn codec_of(file: &ObjectMeta, compression: Option<Compression>) -> Compression {
    compression.unwrap_or_else(|| Compression::from_suffix(file.location.as_ref()))
}

/// Opens `file`, decompressing it with `compression` (or the codec its
/// suffix implies when `None`).
pub async fn open(
    store: &dyn ObjectStore,
    file: &ObjectMeta,
    compression: Option<Compression>,
) -> object_store::Result<ByteStream> {
    let raw = raw_stream(store.get(&file.location).await?)?;
    Ok(decoded(raw, codec_of(file, compression)))
}

/// `file`'s bytes, read already, decompressed as [`open`] would.
pub fn from_bytes(bytes: Bytes, file: &ObjectMeta, compression: Option<Compression>) -> ByteStream {
    let raw = futures::stream::once(futures::future::ready(Ok(bytes))).boxed();
    decoded(raw, codec_of(file, compression))
}

/// `raw` decompressed with `compression`.
fn decoded(raw: ByteStream, compression: Compression) -> ByteStream {
    if compression == Compression::Plain {
        return raw;
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
    ReaderStream::new(decoder).boxed()
}

/// The bytes of a GET: local files in large chunks, anything else as the
/// store streams it.
fn raw_stream(get: GetResult) -> object_store::Result<ByteStream> {
    let range = get.range.clone();
    match get.payload {
        GetResultPayload::File(mut file, path) => {
            file.seek(SeekFrom::Start(range.start)).map_err(|source| {
                object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: format!("cannot seek in {}: {source}", path.display()).into(),
                }
            })?;
            Ok(local_chunks(file, range.end - range.start, path))
        }
        GetResultPayload::Stream(stream) => Ok(stream.map_err(io::Error::other).boxed()),
    }
}

/// `remaining` bytes of `file` from its current position, read on the
/// blocking pool in chunks of [`LOCAL_CHUNK`]. A file that ends early
/// (truncated while being read) is an error, not a shorter load.
fn local_chunks(file: File, remaining: u64, path: PathBuf) -> ByteStream {
    futures::stream::try_unfold(
        (file, remaining, path),
        |(file, remaining, path)| async move {
            if remaining == 0 {
                return Ok(None);
            }
            tokio::task::spawn_blocking(move || {
                let mut chunk = Vec::with_capacity(remaining.min(LOCAL_CHUNK) as usize);
                let mut reader = file.take(remaining.min(LOCAL_CHUNK));
                let read = reader.read_to_end(&mut chunk)? as u64;
                if read == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "{} ended {remaining} bytes early: it changed while being read",
                            path.display()
                        ),
                    ));
                }
                let state = (reader.into_inner(), remaining - read, path);
                Ok(Some((Bytes::from(chunk), state)))
            })
            .await
            .map_err(io::Error::other)?
        },
    )
    .boxed()
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_local(content: &[u8], listed: u64) -> io::Result<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, content).unwrap();
        let file = File::open(&path).unwrap();
        let chunks: Vec<Bytes> = local_chunks(file, listed, path).try_collect().await?;
        Ok(chunks.concat())
    }

    #[tokio::test]
    async fn local_files_are_read_whole_in_large_chunks() {
        let content: Vec<u8> = (0..(5 * LOCAL_CHUNK / 2)).map(|i| i as u8).collect();
        let read = read_local(&content, content.len() as u64).await.unwrap();
        assert_eq!(read, content);
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_size_is_an_error() {
        let error = read_local(b"1,a\n2,b\n", 100).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(
            error.to_string().contains("changed while being read"),
            "{error}"
        );
    }
}
