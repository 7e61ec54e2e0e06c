//! `s3://bucket/prefix` roots: the book read from, and the outputs
//! published to, any S3-compatible object store (AWS S3, MinIO, Alibaba OSS,
//! Tencent COS) through arrow-rs's `object_store`, configured by the
//! standard AWS variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP=true`).
//!
//! The rest of the program stays synchronous and path-based: a path is
//! either a local path or the text `s3://bucket/key`, and everything that
//! differs for a remote one is here: listing a folder ([`list`]), the size
//! of a file ([`size`]), reading a file's bytes ([`RemoteFile`], a Parquet
//! `ChunkReader`, and [`read_all`] for small files), and, for publication
//! (`output::remote`), [`upload`] and [`delete_all`].
//!
//! Why a `ChunkReader` and not the async Parquet reader: the reader already
//! chooses which row groups and columns to decode (partitions by row-group
//! statistics, projection to the contract's columns); a `ChunkReader` that
//! knows the file's column chunks from its footer fetches exactly the
//! chunks the decoder asks for, one ranged GET per column chunk of a row
//! group read, and nothing else. The footer is fetched once per file per
//! process (a 64 KiB suffix GET, a second GET only for a larger footer).
//! Every request is counted ([`traffic`]) and the manifest records the
//! totals, so a test can check that unread columns were not fetched.
//!
//! Errors: a missing bucket or object to read is exit 3 (input missing),
//! like a missing local folder; a missing bucket to publish to is exit 6
//! (output); refused credentials, an unreachable endpoint or a store that
//! keeps failing after its retries is exit 11 (object store).

use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig,
};

use crate::error::{fail, FailureKind};

const SCHEME: &str = "s3://";

/// The suffix fetched to find a file's footer: big enough for the footer of
/// any loans or contacts file with a few hundred row groups.
const TAIL: u64 = 64 * 1024;

/// Whether an input path names an object (`s3://...`) rather than a local file.
pub fn is_remote(path: &FsPath) -> bool {
    path.to_str().is_some_and(|s| s.starts_with(SCHEME))
}

/// The bucket and key of an `s3://bucket/key` path.
fn locate(path: &FsPath) -> Result<(String, Key)> {
    let text = path.to_str().unwrap_or_default();
    let rest = text.strip_prefix(SCHEME).unwrap_or(text);
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(fail(
            FailureKind::Config,
            format!("'{text}' names no bucket (expected s3://bucket/prefix)"),
        ));
    }
    let key = Key::parse(key.trim_end_matches('/')).map_err(|e| {
        fail(
            FailureKind::Config,
            format!("'{text}' is not a valid object path: {e}"),
        )
    })?;
    Ok((bucket.to_string(), key))
}

/// One runtime for the whole process: the reader's threads (rayon) block on
/// it for each request; two workers drive the HTTP connections.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("arrears-s3")
            .enable_all()
            .build()
            .expect("a tokio runtime starts")
    })
}

/// The store of a bucket, built once from the environment.
fn store(bucket: &str) -> Result<Arc<dyn ObjectStore>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let mut stores = STORES
        .get_or_init(Default::default)
        .lock()
        .expect("store map");
    if let Some(s) = stores.get(bucket) {
        return Ok(s.clone());
    }
    // A nightly job should fail within a minute, not the library's default
    // of retrying for three: few retries, short connect timeout.
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
    };
    let client = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(120));
    // The client options first, then the AWS_* variables as
    // `AmazonS3Builder::from_env` reads them (that one would be overwritten
    // by options set after it, AWS_ALLOW_HTTP among them).
    let mut builder = AmazonS3Builder::new()
        .with_client_options(client)
        .with_retry(retry);
    for (key, value) in std::env::vars() {
        if key.starts_with("AWS_") {
            if let Ok(k) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(k, value);
            }
        }
    }
    let built = builder
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| {
            fail(
                FailureKind::Storage,
                format!("cannot configure the object store for bucket '{bucket}' from the AWS_* variables: {e}"),
            )
        })?;
    let s: Arc<dyn ObjectStore> = Arc::new(built);
    stores.insert(bucket.to_string(), s.clone());
    Ok(s)
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Requests made and bytes fetched from object stores by this process.
pub fn traffic() -> (u64, u64) {
    (
        REQUESTS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

fn count(bytes: u64) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(bytes, Ordering::Relaxed);
}

/// An object store's error as the run's failure: what was being done, on
/// which `s3://` path, and the exit code of its kind.
fn failure(doing: &str, url: &str, e: object_store::Error) -> anyhow::Error {
    failure_as(FailureKind::InputMissing, doing, url, e)
}

/// [`failure`] for a request made to publish: a missing bucket is an
/// output error (exit 6), not missing input.
fn output_failure(doing: &str, url: &str, e: object_store::Error) -> anyhow::Error {
    failure_as(FailureKind::Output, doing, url, e)
}

fn failure_as(
    missing: FailureKind,
    doing: &str,
    url: &str,
    e: object_store::Error,
) -> anyhow::Error {
    use object_store::Error as E;
    let status = match &e {
        E::NotFound { .. } => Some(404),
        E::PermissionDenied { .. } => Some(403),
        E::Unauthenticated { .. } => Some(401),
        other => http_status(other),
    };
    match status {
        Some(404) => fail(
            missing,
            format!("{doing} '{url}': no such bucket or object: {e}"),
        ),
        Some(401 | 403) => fail(
            FailureKind::Storage,
            format!(
                "{doing} '{url}': the object store refused the credentials \
                 (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): {e}"
            ),
        ),
        _ => fail(
            FailureKind::Storage,
            format!(
                "{doing} '{url}': the object store failed or could not be reached \
                 (AWS_ENDPOINT_URL, network): {e}"
            ),
        ),
    }
}

/// The HTTP status a store's error carries, when the library did not map
/// it to a variant (a listing's 403 or 404 arrives as `Generic`). The
/// status is only in the error's text: the type holding it is private.
fn http_status(e: &(dyn std::error::Error + 'static)) -> Option<u16> {
    const MARK: &str = "status code: ";
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if let Some(i) = text.find(MARK) {
            let code = &text[i + MARK.len()..];
            return code.get(..3).and_then(|c| c.parse().ok());
        }
        next = err.source();
    }
    None
}

/// One entry of a listed folder (local or remote: `discovery` lists both).
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub is_dir: bool,
}

/// What the listings so far said of each object (size, ETag, time of last
/// change), so that [`size`] and [`version`] need no request.
fn sizes() -> &'static Mutex<HashMap<String, object_store::ObjectMeta>> {
    static SIZES: OnceLock<Mutex<HashMap<String, object_store::ObjectMeta>>> = OnceLock::new();
    SIZES.get_or_init(Default::default)
}

/// The folders (common prefixes) and objects directly under `dir`. A prefix
/// with nothing under it lists empty: object stores have no empty folders.
pub fn list(dir: &FsPath) -> Result<Vec<Entry>> {
    let url = dir.to_string_lossy().trim_end_matches('/').to_string();
    let (bucket, key) = locate(dir)?;
    let store = store(&bucket)?;
    let prefix = (!key.as_ref().is_empty()).then_some(&key);
    let listed = runtime()
        .block_on(store.list_with_delimiter(prefix))
        .map_err(|e| failure("listing", &url, e))?;
    count(0);
    let name_of = |k: &Key| k.filename().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for p in &listed.common_prefixes {
        let name = name_of(p);
        out.push(Entry {
            path: PathBuf::from(format!("{url}/{name}")),
            name,
            is_dir: true,
        });
    }
    let mut known = sizes().lock().expect("size map");
    for o in &listed.objects {
        let name = name_of(&o.location);
        let path = format!("{url}/{name}");
        known.insert(path.clone(), o.clone());
        out.push(Entry {
            path: PathBuf::from(path),
            name,
            is_dir: false,
        });
    }
    Ok(out)
}

/// Whether anything is stored under `dir` (a "folder" exists).
pub fn exists_dir(dir: &FsPath) -> Result<bool> {
    Ok(!list(dir)?.is_empty())
}

/// The size of an object in bytes (from its listing when it was listed).
pub fn size(path: &FsPath) -> Result<u64> {
    Ok(meta(path)?.size)
}

/// What an object holds, as the store says it: its ETag (a hash of its
/// content on every S3-compatible store) and time of last change. An object
/// rewritten in place, even to the same size, says something else.
pub fn version(path: &FsPath) -> Result<String> {
    let m = meta(path)?;
    Ok(format!(
        "etag {} modified {}",
        m.e_tag.as_deref().unwrap_or("none"),
        m.last_modified.to_rfc3339()
    ))
}

/// An object's listing entry, from the listings so far or a HEAD request.
fn meta(path: &FsPath) -> Result<object_store::ObjectMeta> {
    let url = path.to_string_lossy().to_string();
    if let Some(m) = sizes().lock().expect("size map").get(&url) {
        return Ok(m.clone());
    }
    let (bucket, key) = locate(path)?;
    let meta = runtime()
        .block_on(store(&bucket)?.head(&key))
        .map_err(|e| failure("looking up", &url, e))?;
    count(0);
    Ok(meta)
}

/// The whole of a small object (a manifest); `None` when there is none.
pub fn read_all(path: &FsPath) -> Result<Option<Bytes>> {
    let url = path.to_string_lossy().to_string();
    let (bucket, key) = locate(path)?;
    let store = store(&bucket)?;
    let got = runtime().block_on(async {
        match store.get(&key).await {
            Ok(r) => r.bytes().await.map(Some),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    });
    let got = got.map_err(|e| failure("reading", &url, e))?;
    count(got.as_ref().map_or(0, |b| b.len() as u64));
    Ok(got)
}

/// Files at most this large are uploaded in one PUT; larger ones in parts.
const ONE_PUT: u64 = 32 * 1024 * 1024;
/// Test hook: overrides [`ONE_PUT`] (`0` sends every file in parts, so the
/// object-store test covers multipart uploads without a large book).
const ONE_PUT_VAR: &str = "ARREARS_ONE_PUT_BYTES";
/// The part size of a multipart upload (S3 wants at least 5 MiB).
const PART: usize = 16 * 1024 * 1024;

/// Uploads the local file `local` to the object `path`. A single PUT (or
/// the completion of a multipart upload) makes the object appear whole:
/// nobody ever reads half an object.
pub fn upload(local: &FsPath, path: &FsPath) -> Result<()> {
    let url = path.to_string_lossy().to_string();
    let (bucket, key) = locate(path)?;
    let store = store(&bucket)?;
    let io = |e: std::io::Error| {
        fail(
            FailureKind::Output,
            format!("reading the staged file '{}': {e}", local.display()),
        )
    };
    let mut file = std::fs::File::open(local).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let one_put = std::env::var(ONE_PUT_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ONE_PUT);
    if len <= one_put {
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes).map_err(io)?;
        runtime()
            .block_on(store.put(&key, Bytes::from(bytes).into()))
            .map_err(|e| output_failure("uploading", &url, e))?;
        count(0);
        return Ok(());
    }
    let upload = runtime()
        .block_on(store.put_multipart(&key))
        .map_err(|e| output_failure("starting the upload of", &url, e))?;
    let mut parts = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
    let mut buf = vec![0u8; PART];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        // At most two parts in flight: memory stays a few parts, however
        // large the file.
        runtime()
            .block_on(parts.wait_for_capacity(2))
            .map_err(|e| output_failure("uploading", &url, e))?;
        parts.write(&buf[..n]);
        count(0);
    }
    runtime()
        .block_on(parts.finish())
        .map_err(|e| output_failure("finishing the upload of", &url, e))?;
    count(0);
    Ok(())
}

/// Deletes every object under the folder `dir`; returns how many.
pub fn delete_all(dir: &FsPath) -> Result<usize> {
    let mut n = 0;
    for e in list(dir)? {
        if e.is_dir {
            n += delete_all(&e.path)?;
        } else {
            let url = e.path.to_string_lossy().to_string();
            let (bucket, key) = locate(&e.path)?;
            runtime()
                .block_on(store(&bucket)?.delete(&key))
                .map_err(|err| output_failure("deleting", &url, err))?;
            count(0);
            n += 1;
        }
    }
    Ok(n)
}

/// What the footer tells about a file: its length, the last bytes of it
/// (holding the footer), and where each column chunk lies.
struct Footer {
    len: u64,
    tail_start: u64,
    tail: Bytes,
    /// Column chunks' byte ranges with their row group and column, by start.
    chunks: Vec<Chunk>,
}

/// A column chunk: its bytes in the file, its row group and its column.
#[derive(Clone, Debug, PartialEq)]
struct Chunk {
    range: Range<u64>,
    group: usize,
    column: usize,
}

/// Which columns the decoder asked for, so that the next row group's are
/// fetched together: the reader decodes the same columns of every row
/// group it reads, one row group after the other.
#[derive(Default)]
struct Pattern {
    group: usize,
    /// Columns asked for in `group`.
    now: Vec<usize>,
    /// Columns asked for in the row group read before it.
    before: Vec<usize>,
}

/// A Parquet file on an object store, read by column chunk.
pub struct RemoteFile {
    url: String,
    store: Arc<dyn ObjectStore>,
    key: Key,
    footer: Arc<Footer>,
    /// Column chunks fetched for the row group being read; a chunk of
    /// another row group replaces them (the decoder reads row group by
    /// row group), so at most one row group's columns are held.
    cache: Mutex<Vec<(Chunk, Bytes)>>,
    pattern: Mutex<Pattern>,
}

impl RemoteFile {
    pub fn open(path: &FsPath) -> Result<RemoteFile> {
        static FOOTERS: OnceLock<Mutex<HashMap<String, Arc<Footer>>>> = OnceLock::new();
        let url = path.to_string_lossy().to_string();
        let (bucket, key) = locate(path)?;
        let store = store(&bucket)?;
        let cached = FOOTERS
            .get_or_init(Default::default)
            .lock()
            .expect("footer map")
            .get(&url)
            .cloned();
        let footer = match cached {
            Some(f) => f,
            None => {
                let f = Arc::new(read_footer(&url, &*store, &key)?);
                FOOTERS
                    .get_or_init(Default::default)
                    .lock()
                    .expect("footer map")
                    .insert(url.clone(), f.clone());
                f
            }
        };
        Ok(RemoteFile {
            url,
            store,
            key,
            footer,
            cache: Mutex::new(Vec::new()),
            pattern: Mutex::new(Pattern::default()),
        })
    }

    fn fetch(&self, range: Range<u64>) -> parquet::errors::Result<Bytes> {
        let got = runtime()
            .block_on(self.store.get_range(&self.key, range.clone()))
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
        self.checked(range, got)
    }

    /// Counts a fetched range, and refuses one shorter than asked for.
    fn checked(&self, range: Range<u64>, got: Bytes) -> parquet::errors::Result<Bytes> {
        count(got.len() as u64);
        if got.len() as u64 != range.end - range.start {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{}: asked for bytes {range:?}, got {}",
                self.url,
                got.len()
            )));
        }
        Ok(got)
    }

    /// A buffer that holds byte `start` and the `end` after it: the footer
    /// tail, a cached column chunk, the column chunk fetched now, or (for
    /// bytes outside every chunk) exactly the range asked for.
    fn buffer(&self, start: u64, end: u64) -> parquet::errors::Result<(u64, Bytes)> {
        let f = &self.footer;
        if end > f.len {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{}: read past the end of the object (damaged Parquet metadata)",
                self.url
            )));
        }
        if start >= f.tail_start {
            return Ok((f.tail_start, f.tail.clone()));
        }
        let mut cache = self.cache.lock().expect("chunk cache");
        let i = f.chunks.partition_point(|c| c.range.start <= start);
        let chunk = (i > 0 && end <= f.chunks[i - 1].range.end).then(|| &f.chunks[i - 1]);
        let prefetch = chunk.map(|c| self.note(c)).unwrap_or_default();
        if let Some((c, b)) = cache
            .iter()
            .find(|(c, _)| c.range.start <= start && end <= c.range.end)
        {
            return Ok((c.range.start, b.clone()));
        }
        let Some(chunk) = chunk else {
            drop(cache);
            return Ok((start, self.fetch(start..end)?));
        };
        // The chunk asked for, and on the first miss of a row group the
        // chunks of the columns asked for in the row group before, all at
        // once: one round trip per row group instead of one per column.
        let mut wanted = vec![chunk.clone()];
        if !cache.iter().any(|(c, _)| c.group == chunk.group) {
            wanted.extend(
                f.chunks
                    .iter()
                    .filter(|c| c.group == chunk.group && c != &chunk)
                    .filter(|c| prefetch.contains(&c.column))
                    .cloned(),
            );
        }
        let got = self.fetch_all(wanted.iter().map(|c| c.range.clone()).collect())?;
        cache.retain(|(c, _)| c.group == chunk.group);
        cache.extend(wanted.into_iter().zip(got));
        let b = cache
            .iter()
            .find(|(c, _)| c == chunk)
            .map(|(_, b)| b.clone())
            .expect("just fetched");
        Ok((chunk.range.start, b))
    }

    /// Records that the decoder asked for `chunk`; returns the columns to
    /// fetch with it if it starts a row group (those of the row group
    /// before).
    fn note(&self, chunk: &Chunk) -> Vec<usize> {
        let mut p = self.pattern.lock().expect("read pattern");
        if p.group != chunk.group {
            p.before = std::mem::take(&mut p.now);
            p.group = chunk.group;
        }
        if !p.now.contains(&chunk.column) {
            p.now.push(chunk.column);
        }
        p.before.clone()
    }

    /// Fetches byte ranges concurrently, in order.
    fn fetch_all(&self, ranges: Vec<Range<u64>>) -> parquet::errors::Result<Vec<Bytes>> {
        if ranges.len() == 1 {
            return Ok(vec![self.fetch(ranges[0].clone())?]);
        }
        let tasks: Vec<_> = ranges
            .iter()
            .map(|r| {
                let (store, key, r) = (self.store.clone(), self.key.clone(), r.clone());
                runtime().spawn(async move { store.get_range(&key, r).await })
            })
            .collect();
        let mut out = Vec::with_capacity(ranges.len());
        for (task, range) in tasks.into_iter().zip(ranges) {
            let got = runtime()
                .block_on(task)
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
            out.push(self.checked(range, got)?);
        }
        Ok(out)
    }
}

fn read_footer(url: &str, store: &dyn ObjectStore, key: &Key) -> Result<Footer> {
    let opts = GetOptions {
        range: Some(GetRange::Suffix(TAIL)),
        ..Default::default()
    };
    let got = runtime()
        .block_on(async {
            let r = store.get_opts(key, opts).await?;
            let (len, range) = (r.meta.size, r.range.clone());
            r.bytes().await.map(|b| (len, range, b))
        })
        .map_err(|e| failure("reading", url, e))?;
    let (len, range, mut tail) = got;
    count(tail.len() as u64);
    let mut tail_start = range.start;
    let n = tail.len();
    let mut chunks = Vec::new();
    if n >= 8 && &tail[n - 4..] == b"PAR1" {
        let meta_len = u32::from_le_bytes(tail[n - 8..n - 4].try_into().expect("4 bytes")) as u64;
        let need = meta_len + 8;
        if need > n as u64 && need <= len {
            let start = len - need;
            let more = runtime()
                .block_on(store.get_range(key, start..len))
                .map_err(|e| failure("reading", url, e))?;
            count(more.len() as u64);
            tail = more;
            tail_start = start;
        }
        let n = tail.len();
        let meta_len = meta_len as usize;
        if meta_len + 8 <= n {
            // A footer that does not decode leaves the chunk list empty: the
            // Parquet reader decodes the same bytes and reports the damage.
            if let Ok(meta) = parquet::file::metadata::ParquetMetaDataReader::decode_metadata(
                &tail[n - 8 - meta_len..n - 8],
            ) {
                for (group, rg) in meta.row_groups().iter().enumerate() {
                    for (column, c) in rg.columns().iter().enumerate() {
                        let (s, l) = c.byte_range();
                        chunks.push(Chunk {
                            range: s..s + l,
                            group,
                            column,
                        });
                    }
                }
            }
        }
    }
    chunks.sort_by_key(|c| c.range.start);
    Ok(Footer {
        len,
        tail_start,
        tail,
        chunks,
    })
}

impl parquet::file::reader::Length for RemoteFile {
    fn len(&self) -> u64 {
        self.footer.len
    }
}

impl RemoteFile {
    pub fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let (at, b) = self.buffer(start, start + length as u64)?;
        let from = (start - at) as usize;
        Ok(b.slice(from..from + length))
    }

    /// A reader from `start` to the end of the buffer holding it; reading
    /// past that end is an error, as for a local file (see `guard`).
    pub fn get_read(&self, start: u64) -> parquet::errors::Result<StrictSlice> {
        let (at, b) = self.buffer(start, start + 1)?;
        Ok(StrictSlice(b.slice((start - at) as usize..)))
    }
}

/// Bytes read in order, with a read past their end an error.
pub struct StrictSlice(Bytes);

impl Read for StrictSlice {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.0.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "read past the end of a column chunk (damaged Parquet metadata)",
            ));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        let _ = self.0.split_to(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_paths_split_into_bucket_and_key() {
        let (b, k) = locate(FsPath::new("s3://book/nightly/loans/")).unwrap();
        assert_eq!((b.as_str(), k.as_ref()), ("book", "nightly/loans"));
        let (b, k) = locate(FsPath::new("s3://book")).unwrap();
        assert_eq!((b.as_str(), k.as_ref()), ("book", ""));
        assert!(locate(FsPath::new("s3:///x")).is_err());
        assert!(is_remote(FsPath::new("s3://b/k")));
        assert!(!is_remote(FsPath::new("/data/s3://b")));
    }

    #[test]
    fn a_strict_slice_refuses_to_read_past_its_end() {
        let mut s = StrictSlice(Bytes::from_static(b"abc"));
        let mut buf = [0u8; 2];
        assert_eq!(s.read(&mut buf).unwrap(), 2);
        assert_eq!(s.read(&mut buf).unwrap(), 1);
        assert!(s.read(&mut buf).is_err());
    }
}
