//! The distribution API over HTTPS, as far as factory needs it: blobs (HEAD, monolithic
//! upload, cross-repository mount, GET checked against the digest), manifests, tags and the
//! referrers API. Auth follows the registry's challenge: Basic with the stored credential,
//! or the Bearer token flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`) that
//! ACR, GHCR and Docker Hub use, with one token per repository and scope.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use reqwest::{Method, StatusCode, header};

use super::credentials::{self, Credential};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::http::failure_kind;

/// The most a manifest or index may weigh (distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The most a token service's answer may weigh: real ones are a few kilobytes.
const MAX_TOKEN_RESPONSE_BYTES: u64 = 1 << 20;
/// The longest token sent back in a header (servers refuse headers far shorter).
const MAX_TOKEN_BYTES: usize = 64 << 10;
/// The most tags a repository's list may hold (its pages are followed to the end).
const MAX_TAGS: usize = 1_000_000;
/// Requests in flight at once while moving blobs or reading manifests, unless set.
pub const DEFAULT_PARALLEL: usize = 8;
/// The most requests in flight a setting may ask for.
pub const MAX_PARALLEL: usize = 64;
/// The largest blob sent in the body of an upload's first request before the registry has
/// shown that it takes uploads in one request: one that does not reads no further than
/// the request's head and asks for the bytes again.
const PROBE_MAX_BYTES: usize = 1 << 20;
/// How often a request the registry answered with a 5xx is sent again (after 0.2, 0.8 and
/// 3.2 s).
const RETRIES: u32 = 3;

/// What a client sent, for reports and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// HTTP requests made.
    pub requests: u64,
    /// Blobs uploaded (PUT).
    pub blobs_uploaded: u64,
    /// Blobs mounted from another repository.
    pub blobs_mounted: u64,
    /// Bytes of blob and manifest bodies sent.
    pub bytes_sent: u64,
    /// Bytes of blob and manifest bodies received.
    pub bytes_received: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    blobs_uploaded: AtomicU64,
    blobs_mounted: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

/// How the registry asked to be spoken to.
#[derive(Debug, Clone, Default)]
enum Scheme {
    /// Not asked yet.
    #[default]
    Unknown,
    /// Basic with the credential on every request.
    Basic,
    /// Bearer tokens from the challenge's realm, one per repository.
    Bearer,
}

/// How a client reaches a registry: the scheme and how many requests it keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Requests in flight at once (1 to [`MAX_PARALLEL`]).
    pub parallel: usize,
    /// Speak plain HTTP (oras's and helm's `--plain-http`), never HTTPS.
    pub plain_http: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallel: DEFAULT_PARALLEL,
            plain_http: false,
        }
    }
}

/// Whether the registry took an upload in one request (`POST …?digest=` with the bytes).
const MONOLITHIC_UNKNOWN: u8 = 0;
const MONOLITHIC_YES: u8 = 1;
const MONOLITHIC_NO: u8 = 2;

struct Inner {
    host: String,
    http: reqwest::Client,
    credential: Option<Credential>,
    tried: Vec<String>,
    scheme: Mutex<Scheme>,
    tokens: Mutex<HashMap<String, String>>,
    /// Repositories (and actions) the client will speak to: a token asked for one of them
    /// is asked for all, so a push negotiates once.
    planned: Mutex<Vec<(String, String)>>,
    /// Plain HTTP: asked for, or found on a loopback host that does not speak TLS.
    plain_http: std::sync::atomic::AtomicBool,
    monolithic: std::sync::atomic::AtomicU8,
    parallel: usize,
    counters: Counters,
}

/// A registry host, with the credential found for it.
pub struct Registry {
    inner: Arc<Inner>,
    runtime: &'static tokio::runtime::Runtime,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registry({})", self.inner.host)
    }
}

/// A manifest as read: its bytes, digest and media type.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The bytes, as the registry keeps them.
    pub bytes: Vec<u8>,
    /// `sha256:` of the bytes.
    pub digest: String,
}

impl Registry {
    /// A client for `host` with the credential its sources give (none: anonymous).
    pub fn connect(host: &str, options: Options) -> Result<Registry> {
        let mut tried = Vec::new();
        let credential = credentials::find(host, &mut tried)?;
        Registry::with_credential(host, credential, tried, options)
    }

    /// A client for `host` with this credential (for `login`, which checks it first).
    pub fn with_credential(
        host: &str,
        credential: Option<Credential>,
        tried: Vec<String>,
        options: Options,
    ) -> Result<Registry> {
        let runtime = crate::runtime::get()?;
        Ok(Registry {
            inner: Arc::new(Inner {
                host: host.to_string(),
                http: crate::http::client()?,
                credential,
                tried,
                scheme: Mutex::new(Scheme::Unknown),
                tokens: Mutex::new(HashMap::new()),
                planned: Mutex::new(Vec::new()),
                plain_http: options.plain_http.into(),
                monolithic: MONOLITHIC_UNKNOWN.into(),
                parallel: options.parallel.clamp(1, MAX_PARALLEL),
                counters: Counters::default(),
            }),
            runtime,
        })
    }

    /// Names the repositories this client will speak to and the actions it needs there
    /// (`pull` or `pull,push`): the Bearer token asked for at the first challenge covers
    /// them all (one `scope` each), so a push or pull negotiates once.
    pub fn plan(&self, repositories: &[(&str, &str)]) {
        let mut planned = self.inner.planned.lock().unwrap_or_else(|e| e.into_inner());
        for (repository, actions) in repositories {
            planned.push((repository.to_string(), actions.to_string()));
        }
    }

    /// Whether the client speaks plain HTTP (asked for, or found on a loopback host).
    pub fn plain_http(&self) -> bool {
        self.inner.plain_http.load(Ordering::Relaxed)
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// Where the credential came from, if there is one.
    pub fn credential_source(&self) -> Option<&str> {
        self.inner.credential.as_ref().map(|c| c.source.as_str())
    }

    /// What was sent and received so far.
    pub fn traffic(&self) -> Traffic {
        let c = &self.inner.counters;
        Traffic {
            requests: c.requests.load(Ordering::Relaxed),
            blobs_uploaded: c.blobs_uploaded.load(Ordering::Relaxed),
            blobs_mounted: c.blobs_mounted.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
        }
    }

    /// `GET /v2/`: whether the registry answers and accepts the credential.
    pub fn ping(&self) -> Result<()> {
        self.runtime.block_on(async {
            let response = self.inner.send(Method::GET, "", "/v2/", None, &[]).await?;
            self.inner
                .expect(response, "/v2/", &[StatusCode::OK])
                .await?;
            Ok(())
        })
    }

    /// Which of `digests` the repository lacks (HEAD, several at once).
    pub fn missing_blobs(&self, repository: &str, digests: &[String]) -> Result<Vec<String>> {
        let parallel = self.inner.parallel;
        let absent = self
            .runtime
            .block_on(each(parallel, digests.to_vec(), |digest| {
                let inner = Arc::clone(&self.inner);
                let repository = repository.to_string();
                Ok(async move {
                    let path = format!("/v2/{repository}/blobs/{digest}");
                    let response = inner
                        .send(Method::HEAD, &repository, &path, None, &[])
                        .await?;
                    let accepted = [StatusCode::OK, StatusCode::NOT_FOUND];
                    let (status, _) = inner.expect(response, &path, &accepted).await?;
                    Ok((status == StatusCode::NOT_FOUND).then_some(digest))
                })
            }))?;
        let mut missing: Vec<String> = absent.into_iter().flatten().collect();
        missing.sort();
        Ok(missing)
    }

    /// Uploads blobs the caller reads on demand (`read(digest)`), several at once; a blob
    /// another repository of the registry holds is mounted instead (`mount_from`).
    pub fn upload_blobs(
        &self,
        repository: &str,
        digests: &[String],
        mount_from: &HashMap<String, String>,
        read: &dyn Fn(&str) -> Result<Vec<u8>>,
    ) -> Result<()> {
        let parallel = self.inner.parallel;
        self.runtime
            .block_on(each(parallel, digests.to_vec(), |digest| {
                let inner = Arc::clone(&self.inner);
                let from = mount_from.get(&digest).cloned();
                let bytes = Bytes::from(read(&digest)?);
                let repository = repository.to_string();
                Ok(async move { inner.put_blob(&repository, &digest, bytes, from).await })
            }))?;
        Ok(())
    }

    /// Uploads one blob held in memory, unless the repository has it.
    pub fn put_blob(&self, repository: &str, bytes: &[u8]) -> Result<String> {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        if !self
            .missing_blobs(repository, std::slice::from_ref(&digest))?
            .is_empty()
        {
            let bytes = Bytes::copy_from_slice(bytes);
            self.runtime
                .block_on(self.inner.put_blob(repository, &digest, bytes, None))?;
        }
        Ok(digest)
    }

    /// A blob's bytes, refused unless they hash to `digest` and weigh at most `max` bytes.
    pub fn blob(&self, repository: &str, digest: &str, max: u64) -> Result<Vec<u8>> {
        self.runtime
            .block_on(self.inner.get_blob(repository, digest, max))
    }

    /// Several blobs at once (see [`Registry::blob`]), in the order asked.
    pub fn blobs(&self, repository: &str, wanted: &[(String, u64)]) -> Result<Vec<Vec<u8>>> {
        self.runtime.block_on(each(
            self.inner.parallel,
            wanted.to_vec(),
            |(digest, max)| {
                let inner = Arc::clone(&self.inner);
                let repository = repository.to_string();
                Ok(async move { inner.get_blob(&repository, &digest, max).await })
            },
        ))
    }

    /// A manifest or index by tag or digest; `None` when there is none.
    pub fn manifest(&self, repository: &str, reference: &str) -> Result<Option<Fetched>> {
        self.runtime
            .block_on(self.inner.get_manifest(repository, reference))
    }

    /// Several manifests at once (see [`Registry::manifest`]), in the order asked.
    pub fn manifests(
        &self,
        repository: &str,
        references: &[String],
    ) -> Result<Vec<Option<Fetched>>> {
        self.runtime.block_on(each(
            self.inner.parallel,
            references.to_vec(),
            |reference| {
                let inner = Arc::clone(&self.inner);
                let repository = repository.to_string();
                Ok(async move { inner.get_manifest(&repository, &reference).await })
            },
        ))
    }

    /// Puts a manifest under a tag or its digest; whether the registry said it indexed the
    /// manifest's `subject` (the `OCI-Subject` header of the referrers API).
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<bool> {
        self.runtime.block_on(async {
            let path = format!("/v2/{repository}/manifests/{reference}");
            let headers = [(header::CONTENT_TYPE, media_type.to_string())];
            let body = Bytes::copy_from_slice(bytes);
            let mut retries = 0;
            loop {
                let response = self
                    .inner
                    .send(Method::PUT, repository, &path, Some(body.clone()), &headers)
                    .await?;
                let status = response.status();
                if status == StatusCode::BAD_REQUEST {
                    let answer = response.bytes().await.unwrap_or_default();
                    // Distribution's filesystem storage rewrites a blob's link file in
                    // place when another upload of the same blob commits
                    // (distribution/distribution#4489): a manifest checked at that moment
                    // reads an empty link and is refused as DIGEST_INVALID, though every
                    // digest it names is sound (they are computed here, and its blobs were
                    // sent first). Publishers at once share blobs (the empty config, a
                    // manifest file), so that answer is passing trouble: ask again.
                    if retries < RETRIES && error_code(&answer).as_deref() == Some("DIGEST_INVALID")
                    {
                        retries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(50 << (2 * retries)))
                            .await;
                        continue;
                    }
                    return Err(self.inner.answered(status, &answer, &path));
                }
                let subject = response.headers().contains_key("oci-subject");
                self.inner
                    .expect(response, &path, &[StatusCode::CREATED])
                    .await?;
                return Ok(subject);
            }
        })
    }

    /// The tags of a repository (none when it does not exist), following `Link` pages
    /// (`n`/`last`) on this host; a registry that pages without end or past [`MAX_TAGS`]
    /// is refused.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>> {
        self.runtime.block_on(async {
            let mut tags = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let mut next = Some(format!("/v2/{repository}/tags/list?n=1000"));
            while let Some(path) = next.take() {
                if !seen.insert(path.clone()) || tags.len() > MAX_TAGS {
                    return Err(Error::new(format!(
                        "{}/{repository} lists its tags in pages without end (more than {MAX_TAGS}, or a page linking back)",
                        self.inner.host
                    ))
                    .hint("the registry is misbehaving; tell its operators"));
                }
                let Some(response) = self.inner.get_optional(repository, &path, &[]).await? else {
                    break;
                };
                // The next page is asked for with this host's credential: a link to
                // another host is not followed.
                let link = response
                    .headers()
                    .get(header::LINK)
                    .and_then(|v| v.to_str().ok())
                    .and_then(next_link)
                    .and_then(|link| same_host(&self.inner.host, link));
                let body = self.inner.body(response, MAX_MANIFEST_BYTES, &path).await?;
                let list: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
                    Error::new(format!(
                        "{}{path} answered something that is not a tag list",
                        self.inner.host
                    ))
                })?;
                tags.extend(
                    list["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str().map(str::to_string)),
                );
                next = link;
            }
            Ok(tags)
        })
    }

    /// The referrers API's image index for `digest`; `None` when the registry has no
    /// referrers API (then the referrers tag schema stands in).
    pub fn referrers(&self, repository: &str, digest: &str) -> Result<Option<Vec<u8>>> {
        self.runtime.block_on(async {
            let path = format!("/v2/{repository}/referrers/{digest}");
            let Some(response) = self.inner.get_optional(repository, &path, &[]).await? else {
                return Ok(None);
            };
            let is_index = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with(super::artifact::INDEX_MEDIA));
            let body = self.inner.body(response, MAX_MANIFEST_BYTES, &path).await?;
            Ok(is_index.then_some(body))
        })
    }
}

/// Runs the request `start` makes for each item, `parallel` in flight at once; the first
/// alone, so that its answer to the auth challenge (and whether the registry takes an
/// upload in one request) serves all the others. The results come in the items' order; the
/// first failure stops the rest.
async fn each<I, T, F, Fut>(parallel: usize, items: Vec<I>, start: F) -> Result<Vec<T>>
where
    F: Fn(I) -> Result<Fut>,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut results: Vec<Option<T>> = Vec::with_capacity(items.len());
    let mut items = items.into_iter().enumerate();
    if let Some((_, first)) = items.next() {
        results.push(Some(start(first)?.await?));
    }
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < parallel {
            let Some((i, item)) = items.next() else { break };
            results.push(None);
            let future = start(item)?;
            running.spawn(async move { (i, future.await) });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, result) = joined.map_err(|e| Error::new(format!("a request task failed: {e}")))?;
        results[i] = Some(result?);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every request answered"))
        .collect())
}

/// The next page of a `Link: </v2/…>; rel="next"` header.
fn next_link(value: &str) -> Option<String> {
    let (target, rel) = value.split_once(';')?;
    rel.contains("next").then(|| {
        target
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string()
    })
}

/// Everything an error says about itself, its sources included.
fn error_text(e: &reqwest::Error) -> String {
    let mut text = format!("{e:?}");
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(error) = source {
        text.push_str(&format!(" | {error}"));
        source = error.source();
    }
    text
}

/// Whether a TLS handshake failed because the server answered in plain HTTP (rustls reads
/// `HTTP/1.1 400` as a record of no known type).
fn speaks_plain_http(e: &reqwest::Error) -> bool {
    let text = error_text(e);
    text.contains("InvalidContentType") || text.contains("corrupt message of type")
}

/// Why the registry's certificate was not accepted, when that is why.
fn certificate_problem(e: &reqwest::Error) -> Option<&'static str> {
    let text = error_text(e);
    if !text.contains("certificate") && !text.contains("Certificate") {
        return None;
    }
    // A CA of the same name as the one trusted fails on the signature, not the issuer.
    Some(
        if text.contains("UnknownIssuer") || text.contains("BadSignature") {
            "it is not signed by a CA this machine trusts"
        } else if text.contains("NotValidForName") {
            "it is not issued for this host name"
        } else if text.contains("Expired") {
            "it has expired"
        } else if text.contains("NotValidYet") {
            "it is not valid yet"
        } else {
            "it was refused"
        },
    )
}

/// Whether the connection was refused: nothing listens at the port.
fn refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = error.source();
    }
    error_text(e).contains("ConnectionRefused")
}

/// A loopback host (`localhost`, 127.0.0.0/8, `[::1]`), with or without a port: docker
/// speaks plain HTTP to these when they do not speak TLS.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a request failed because the answer's head passed the HTTP client's bound
/// (hyper stops reading at a few hundred kilobytes).
fn headers_too_large(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(error) = source {
        if error.to_string().contains("message head is too large") {
            return true;
        }
        source = error.source();
    }
    false
}

/// Why a body was not read.
enum ReadError {
    /// It is longer than allowed (said so by its length, or found while reading).
    TooLarge,
    /// The connection failed.
    Failed(reqwest::Error),
}

/// A response body of at most `max` bytes, read no further than that.
async fn read_bounded(
    mut response: reqwest::Response,
    max: u64,
) -> std::result::Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > max) {
        return Err(ReadError::TooLarge);
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Failed)? {
        if out.len() as u64 + chunk.len() as u64 > max {
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Warnings the registry clients of this process have to give, not yet shown.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The (registry, token service) pairs warned about already: once per process, so a worker
/// serving many commands says it once.
static WARNED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Gives a warning about a registry (a remote that did not answer and was gone past), shown
/// with the others.
pub fn warn(text: String) {
    WARNINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(text);
}

/// The warnings registry clients gave since the last call (drained).
pub fn take_warnings() -> Vec<String> {
    std::mem::take(&mut *WARNINGS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The code of the first error of a registry's error body.
fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value["errors"][0]["code"].as_str().map(str::to_string)
}

/// A next page's link as a path on `host`: a path under `/v2/`, or an `https://` URL of
/// `host`; `None` for anything else.
fn same_host(host: &str, link: String) -> Option<String> {
    let path = match link.strip_prefix("https://") {
        Some(rest) => rest.strip_prefix(host)?.to_string(),
        None => link,
    };
    path.starts_with("/v2/").then_some(path)
}

fn mismatch(host: &str, repository: &str, digest: &str) -> Error {
    Error::new(format!(
        "{host}/{repository} sent bytes that do not match their digest {digest}; nothing was imported"
    ))
    .hint("the registry or something between is corrupting data; tell its operators, and try again")
}

/// One `key=value` of a challenge, unquoted.
fn challenge_param(challenge: &str, key: &str) -> Option<String> {
    let mut rest = challenge;
    while let Some(at) = rest.find(key) {
        let before = rest[..at].chars().last();
        let after = &rest[at + key.len()..];
        if matches!(before, None | Some(' ' | ',')) && after.starts_with('=') {
            let value = &after[1..];
            return Some(match value.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or_default().to_string(),
                None => value
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            });
        }
        rest = after;
    }
    None
}

impl Inner {
    fn url(&self, path: &str) -> String {
        if path.starts_with("https://") || path.starts_with("http://") {
            path.to_string()
        } else {
            format!("{}://{}{path}", self.scheme_name(), self.host)
        }
    }

    fn scheme_name(&self) -> &'static str {
        if self.plain_http.load(Ordering::Relaxed) {
            "http"
        } else {
            "https"
        }
    }

    /// The `scope`s a token is asked for: the challenge's, and every planned repository's,
    /// the actions of one repository merged; and the repositories they name.
    fn scopes(&self, challenge: Option<&str>) -> (Vec<String>, Vec<String>) {
        let mut merged: Vec<(String, Vec<String>)> = Vec::new();
        let mut add = |resource: &str, actions: &str| {
            let at = match merged.iter().position(|(r, _)| r == resource) {
                Some(at) => at,
                None => {
                    merged.push((resource.to_string(), Vec::new()));
                    merged.len() - 1
                }
            };
            for action in actions.split(',').filter(|a| !a.is_empty()) {
                if !merged[at].1.iter().any(|a| a == action) {
                    merged[at].1.push(action.to_string());
                }
            }
        };
        for scope in challenge.unwrap_or_default().split(' ') {
            if let Some((resource, actions)) = scope.rsplit_once(':') {
                add(resource, actions);
            }
        }
        for (repository, actions) in self
            .planned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            add(&format!("repository:{repository}"), actions);
        }
        let repositories = merged
            .iter()
            .filter_map(|(r, _)| r.strip_prefix("repository:").map(str::to_string))
            .collect();
        let scopes = merged
            .into_iter()
            .map(|(resource, actions)| format!("{resource}:{}", actions.join(",")))
            .collect();
        (scopes, repositories)
    }

    fn basic(&self) -> Option<String> {
        self.credential.as_ref().map(|c| {
            let value = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.username, c.secret));
            crate::secrets::register(&value);
            format!("Basic {value}")
        })
    }

    fn authorization(&self, repository: &str) -> Option<String> {
        let scheme = self
            .scheme
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match scheme {
            Scheme::Unknown => None,
            Scheme::Basic => self.basic(),
            Scheme::Bearer => self
                .tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(repository)
                .map(|token| format!("Bearer {token}")),
        }
    }

    /// Whether the credential may go to the realm a Bearer challenge names. Not over plain
    /// HTTP: the registry is spoken to over HTTPS, so a plain realm would be the one place
    /// the password travels in clear (refused even without a credential: the token it gives
    /// could be read or forged on the way). On another host than the registry's it goes, as
    /// docker sends it (Docker Hub's realm is auth.docker.io), with a warning naming the
    /// host, once per process.
    fn check_realm(&self, realm: &str) -> Result<()> {
        let shown = crate::http::without_userinfo(realm.split('?').next().unwrap_or(realm));
        let url = reqwest::Url::parse(realm).map_err(|_| {
            Error::new(format!(
                "the registry {} named `{shown}` as its token service, which is not a URL",
                self.host
            ))
        })?;
        // The scheme the registry itself is spoken to with (HTTPS, always, today).
        let registry = reqwest::Url::parse(&self.url("/"))
            .map_err(|_| Error::new(format!("`{}` is not a registry host", self.host)))?;
        if url.scheme() != "https" && url.scheme() != registry.scheme() {
            return Err(Error::new(format!(
                "the registry {} sends logins to the token service {shown} over plain {}: refused, the credential would travel in clear",
                self.host,
                url.scheme().to_uppercase()
            ))
            .hint("the registry's token service must be served over HTTPS; tell the registry's operators"));
        }
        let realm_host = url.host_str().unwrap_or_default();
        if let Some(credential) = &self.credential
            && registry.host_str() != Some(realm_host)
        {
            let realm_host = match url.port() {
                Some(port) => format!("{realm_host}:{port}"),
                None => realm_host.to_string(),
            };
            let pair = (self.host.clone(), realm_host.clone());
            let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
            if !warned.contains(&pair) {
                warned.push(pair);
                WARNINGS.lock().unwrap_or_else(|e| e.into_inner()).push(format!(
                    "the registry {} sends logins to a token service on another host, {realm_host}: the credential of `{}` (from {}) went there, as docker sends it",
                    self.host, credential.username, credential.source
                ));
            }
        }
        Ok(())
    }

    /// Sends a request; on a 401 answers the challenge once and sends it again.
    async fn send(
        &self,
        method: Method,
        repository: &str,
        path: &str,
        body: Option<Bytes>,
        headers: &[(header::HeaderName, String)],
    ) -> Result<reqwest::Response> {
        let mut answered = false;
        let mut retries = 0;
        loop {
            let mut request = self.http.request(method.clone(), self.url(path));
            for (name, value) in headers {
                request = request.header(name, value);
            }
            if let Some(value) = self.authorization(repository) {
                request = request.header(header::AUTHORIZATION, value);
            }
            if let Some(body) = &body {
                self.counters
                    .bytes_sent
                    .fetch_add(body.len() as u64, Ordering::Relaxed);
                request = request.body(body.clone());
            }
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let response = match request.send().await {
                Ok(response) => response,
                // docker's rule: a loopback registry that does not speak TLS is spoken to
                // over plain HTTP (the bytes never leave the machine).
                Err(e)
                    if !self.plain_http.load(Ordering::Relaxed)
                        && is_loopback(&self.host)
                        && speaks_plain_http(&e) =>
                {
                    self.plain_http.store(true, Ordering::Relaxed);
                    continue;
                }
                Err(e) => return Err(self.unreachable(&e)),
            };
            if self.plain_http.load(Ordering::Relaxed)
                && response.status() == StatusCode::BAD_REQUEST
                && response.version() == reqwest::Version::HTTP_10
            {
                return Err(self.speaks_https(response).await);
            }
            // Every request factory makes is idempotent, so a registry's passing trouble
            // (Distribution answers 500 while another client rewrites the same tag) is
            // met by asking again after a pause.
            if response.status().is_server_error() && retries < RETRIES {
                retries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 << (2 * retries))).await;
                continue;
            }
            if response.status() != StatusCode::UNAUTHORIZED || answered {
                return Ok(response);
            }
            let challenge = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            answered = true;
            if challenge.len() >= 6 && challenge[..6].eq_ignore_ascii_case("bearer") {
                let realm = challenge_param(&challenge, "realm").ok_or_else(|| {
                    Error::new(format!(
                        "{} asked for a Bearer token without naming its realm",
                        self.host
                    ))
                })?;
                self.check_realm(&realm)?;
                let service = challenge_param(&challenge, "service");
                let (scopes, covered) =
                    self.scopes(challenge_param(&challenge, "scope").as_deref());
                *self.scheme.lock().unwrap_or_else(|e| e.into_inner()) = Scheme::Bearer;
                let token = self.token(&realm, service.as_deref(), &scopes).await?;
                let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
                for covered in covered {
                    tokens.insert(covered, token.clone());
                }
                tokens.insert(repository.to_string(), token);
            } else if challenge.len() >= 5 && challenge[..5].eq_ignore_ascii_case("basic") {
                if self.credential.is_none() {
                    return Ok(response);
                }
                *self.scheme.lock().unwrap_or_else(|e| e.into_inner()) = Scheme::Basic;
            } else {
                return Ok(response);
            }
        }
    }

    /// The Bearer token flow: `GET realm?service=…&scope=…`, with Basic auth when there is
    /// a credential (anonymous otherwise); the answer's `token` or `access_token`.
    async fn token(&self, realm: &str, service: Option<&str>, scopes: &[String]) -> Result<String> {
        let mut url = realm.to_string();
        let params = std::iter::once(("service", service))
            .chain(scopes.iter().map(|s| ("scope", Some(s.as_str()))));
        for (key, value) in params {
            if let Some(value) = value {
                let value = percent_encoding::utf8_percent_encode(
                    value,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&format!("{key}={value}"));
            }
        }
        let mut request = self.http.get(&url);
        if let Some(value) = self.basic() {
            request = request.header(header::AUTHORIZATION, value);
        }
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let shown = crate::http::without_userinfo(realm.split('?').next().unwrap_or(realm));
        let response = request.send().await.map_err(|e| {
            Error::unavailable(format!(
                "cannot reach the token service {shown} of {}: {}",
                self.host,
                failure_kind(&e)
            ))
        })?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.refused(status, &format!("the token service {shown}")));
        }
        if !status.is_success() {
            return Err(Error::new(format!(
                "the token service {shown} of {} answered {status}",
                self.host
            )));
        }
        let body = read_bounded(response, MAX_TOKEN_RESPONSE_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge => Error::new(format!(
                    "the token service {shown} of {} answered more than the {MAX_TOKEN_RESPONSE_BYTES} bytes a token answer may weigh",
                    self.host
                ))
                .hint("the token service is misbehaving or is not one; tell the registry's operators"),
                ReadError::Failed(e) => Error::new(format!(
                    "cannot read the token from {shown}: {}",
                    failure_kind(&e)
                )),
            })?;
        let answer: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
            Error::new(format!(
                "the token service {shown} answered something that is not JSON"
            ))
        })?;
        let token = answer["token"]
            .as_str()
            .or_else(|| answer["access_token"].as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::new(format!("the token service {shown} answered no token")))?
            .to_string();
        if token.len() > MAX_TOKEN_BYTES
            || !token.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(Error::new(format!(
                "the token service {shown} of {} answered a token of {} bytes that cannot be sent in a header (at most {MAX_TOKEN_BYTES} printable bytes)",
                self.host,
                token.len()
            ))
            .hint("the token service is misbehaving; tell the registry's operators"));
        }
        crate::secrets::register(&token);
        Ok(token)
    }

    /// Why a request had no answer, told apart as far as the error says: a registry that
    /// speaks plain HTTP, a certificate not trusted (both stay: exit 1, not worth a retry),
    /// nothing listening, or a network that did not answer (unavailable).
    fn unreachable(&self, e: &reqwest::Error) -> Error {
        let host = &self.host;
        if headers_too_large(e) {
            return Error::new(format!(
                "the registry {host} answered with headers too large to read; nothing was read further"
            ))
            .hint("the registry is misbehaving, or the remote's host is not a registry; check it with `factory remote list`");
        }
        let plain = self.plain_http.load(Ordering::Relaxed);
        if !plain && speaks_plain_http(e) {
            return Error::new(format!(
                "the registry {host} speaks plain HTTP, not HTTPS"
            ))
            .hint(format!(
                "if it is meant to (a registry on your own network), add the remote with --plain-http (`factory remote add NAME oci://{host}/NAMESPACE --plain-http`), or pass --plain-http"
            ));
        }
        if let Some(why) = certificate_problem(e) {
            return Error::new(format!(
                "the TLS certificate of the registry {host} is not trusted: {why}"
            ))
            .hint("a registry with a private CA is trusted through SSL_CERT_FILE=/path/to/ca.pem");
        }
        if refused(e) {
            return Error::unavailable(format!(
                "nothing listens at {host} (connection refused)"
            ))
            .hint("check the host and port of the remote (`factory remote list`) and that the registry is running");
        }
        Error::unavailable(format!(
            "cannot reach the registry {host}: {}",
            failure_kind(e)
        ))
        .hint("check the host and port of the remote (`factory remote list`) and that the registry is running")
    }

    /// The error of a plain HTTP request a TLS server answered (Go's `Client sent an HTTP
    /// request to an HTTPS server`, HTTP/1.0 400).
    async fn speaks_https(&self, response: reqwest::Response) -> Error {
        let body = read_bounded(response, 4096).await.unwrap_or_default();
        if String::from_utf8_lossy(&body).contains("HTTPS") {
            return Error::new(format!(
                "the registry {} speaks HTTPS, not plain HTTP",
                self.host
            ))
            .hint("drop --plain-http (for a remote: `factory remote remove NAME` and add it again without it)");
        }
        self.answered(StatusCode::BAD_REQUEST, &body, "/v2/")
    }

    fn refused(&self, status: StatusCode, what: &str) -> Error {
        let tried = if self.tried.is_empty() {
            "no credential source".to_string()
        } else {
            self.tried.join(", ")
        };
        let (message, hint) =
            match (&self.credential, status) {
                (None, StatusCode::UNAUTHORIZED) => (
                    format!(
                        "{what} on {} needs credentials, and none was found (looked in {tried})",
                        self.host
                    ),
                    format!(
                        "run `factory login {}`, or set {} and {} in CI",
                        self.host,
                        credentials::USERNAME_ENV,
                        credentials::PASSWORD_ENV
                    ),
                ),
                (Some(c), StatusCode::UNAUTHORIZED) => (
                    format!(
                        "{what} on {} refused the credential of `{}` from {} (401)",
                        self.host, c.username, c.source
                    ),
                    format!(
                        "run `factory login {}` with a valid password or token",
                        self.host
                    ),
                ),
                (credential, _) => (
                    format!(
                        "{what} on {} denied access (403) to {}",
                        self.host,
                        credential.as_ref().map_or(
                            "an anonymous request".to_string(),
                            |c| format!("`{}` (credential from {})", c.username, c.source)
                        )
                    ),
                    "ask the registry's operators for pull and push rights on the namespace"
                        .to_string(),
                ),
            };
        Error::new(message).hint(hint)
    }

    /// The response if its status is one of `accepted`, else the registry's error.
    async fn expect(
        &self,
        response: reqwest::Response,
        path: &str,
        accepted: &[StatusCode],
    ) -> Result<(StatusCode, reqwest::Response)> {
        let status = response.status();
        if accepted.contains(&status) {
            return Ok((status, response));
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.refused(status, "the registry"));
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(self.answered(status, &body, path))
    }

    /// The error of a registry that answered `status` with `body` (its first error's code
    /// and message).
    fn answered(&self, status: StatusCode, body: &[u8], path: &str) -> Error {
        let reason = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                let error = &v["errors"][0];
                Some(format!(
                    "{}: {}",
                    error["code"].as_str()?,
                    error["message"].as_str().unwrap_or_default()
                ))
            })
            .unwrap_or_else(|| status.to_string());
        let path = path.split('?').next().unwrap_or(path);
        Error::new(format!(
            "the registry {} answered {} to {path}: {}",
            self.host,
            status.as_u16(),
            crate::secrets::redact(&reason)
        ))
    }

    /// A GET whose 404 means "none"; other statuses as [`Inner::expect`] has them.
    async fn get_optional(
        &self,
        repository: &str,
        path: &str,
        headers: &[(header::HeaderName, String)],
    ) -> Result<Option<reqwest::Response>> {
        let response = self
            .send(Method::GET, repository, path, None, headers)
            .await?;
        let accepted = [StatusCode::OK, StatusCode::NOT_FOUND];
        let (status, response) = self.expect(response, path, &accepted).await?;
        Ok((status == StatusCode::OK).then_some(response))
    }

    /// A response body of at most `max` bytes.
    async fn body(&self, response: reqwest::Response, max: u64, path: &str) -> Result<Vec<u8>> {
        let out = read_bounded(response, max).await.map_err(|e| match e {
            ReadError::TooLarge => Error::new(format!(
                "{}{path} is larger than the {max} bytes expected; nothing was imported",
                self.host
            )),
            ReadError::Failed(e) => {
                Error::new(format!("reading {}{path}: {}", self.host, failure_kind(&e)))
            }
        })?;
        self.counters
            .bytes_received
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(out)
    }

    async fn get_manifest(&self, repository: &str, reference: &str) -> Result<Option<Fetched>> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let accept = [(
            header::ACCEPT,
            format!(
                "{},{}",
                super::artifact::MANIFEST_MEDIA,
                super::artifact::INDEX_MEDIA
            ),
        )];
        let Some(response) = self.get_optional(repository, &path, &accept).await? else {
            return Ok(None);
        };
        let bytes = self.body(response, MAX_MANIFEST_BYTES, &path).await?;
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(mismatch(&self.host, repository, reference));
        }
        Ok(Some(Fetched { bytes, digest }))
    }

    async fn get_blob(&self, repository: &str, digest: &str, max: u64) -> Result<Vec<u8>> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let Some(response) = self.get_optional(repository, &path, &[]).await? else {
            return Err(Error::new(format!(
                "{}/{repository} has no blob {digest}; nothing was imported",
                self.host
            ))
            .hint("the artifact is incomplete on the registry; publish the version to it again"));
        };
        let bytes = self.body(response, max, &path).await?;
        if format!("sha256:{}", sha256_hex(&bytes)) != digest {
            return Err(mismatch(&self.host, repository, digest));
        }
        Ok(bytes)
    }

    /// Mounts `digest` from `from` when the registry agrees, else uploads `bytes`: in one
    /// request (`POST …?digest=` with the bytes) where the registry takes that, else `POST`
    /// then one monolithic `PUT`. Whether it does is learnt from the first upload (sent
    /// alone, see [`each`]), which carries its bytes when they are small.
    async fn put_blob(
        &self,
        repository: &str,
        digest: &str,
        bytes: Bytes,
        from: Option<String>,
    ) -> Result<()> {
        let monolithic = self.monolithic.load(Ordering::Relaxed);
        let in_one = from.is_none()
            && (monolithic == MONOLITHIC_YES
                || monolithic == MONOLITHIC_UNKNOWN && bytes.len() <= PROBE_MAX_BYTES);
        let (start, body) = match &from {
            Some(from) => (
                format!("/v2/{repository}/blobs/uploads/?mount={digest}&from={from}"),
                None,
            ),
            None if in_one => (
                format!("/v2/{repository}/blobs/uploads/?digest={digest}"),
                Some(bytes.clone()),
            ),
            None => (format!("/v2/{repository}/blobs/uploads/"), None),
        };
        let headers = [(header::CONTENT_TYPE, "application/octet-stream".to_string())];
        let response = self
            .send(Method::POST, repository, &start, body, &headers)
            .await?;
        let (status, response) = self
            .expect(
                response,
                &start,
                &[StatusCode::CREATED, StatusCode::ACCEPTED],
            )
            .await?;
        if status == StatusCode::CREATED {
            if from.is_some() {
                self.counters.blobs_mounted.fetch_add(1, Ordering::Relaxed);
            } else {
                self.monolithic.store(MONOLITHIC_YES, Ordering::Relaxed);
                self.counters.blobs_uploaded.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(());
        }
        // 202: an upload started (a mount declined, or the bytes of a one-request upload
        // not taken, as CNCF Distribution does): the bytes go in one PUT.
        if in_one {
            self.monolithic.store(MONOLITHIC_NO, Ordering::Relaxed);
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::new(format!(
                    "{} started an upload without a Location",
                    self.host
                ))
            })?
            .to_string();
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{separator}digest={digest}");
        let put = if put.starts_with("http://") && !self.plain_http.load(Ordering::Relaxed) {
            return Err(Error::new(format!(
                "{} sends uploads to plain HTTP ({}): refused, the credential would travel in clear",
                self.host,
                crate::http::redact_url(&location)
            ))
            .hint("the registry is misconfigured behind its TLS proxy; tell its operators"));
        } else if put.starts_with('/') || put.starts_with("https://") || put.starts_with("http://")
        {
            put
        } else {
            format!("/{put}")
        };
        let response = self
            .send(Method::PUT, repository, &put, Some(bytes), &headers)
            .await?;
        self.expect(response, "/v2/…/blobs/uploads/…", &[StatusCode::CREATED])
            .await?;
        self.counters.blobs_uploaded.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_those_docker_speaks_plain_http_to() {
        for host in [
            "localhost:5000",
            "LOCALHOST",
            "127.0.0.1:5000",
            "127.9.8.7",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "ghcr.io",
            "192.0.2.2:5000",
            "localhost.example.com",
            "[fd00::2]:5000",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn one_token_is_asked_for_every_planned_repository() {
        let registry =
            Registry::with_credential("r.example", None, Vec::new(), Options::default()).unwrap();
        registry.plan(&[("ns/t", "pull,push"), ("ns/factory-index", "pull,push")]);
        let (scopes, covered) = registry
            .inner
            .scopes(Some("repository:ns/t:pull repository:ns/other:pull"));
        assert_eq!(
            scopes,
            [
                "repository:ns/t:pull,push",
                "repository:ns/other:pull",
                "repository:ns/factory-index:pull,push"
            ]
        );
        assert_eq!(covered, ["ns/t", "ns/other", "ns/factory-index"]);
    }

    #[test]
    fn challenges_and_links_are_read_as_registries_write_them() {
        let challenge = r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:ns/x:pull,push""#;
        assert_eq!(
            challenge_param(challenge, "realm").unwrap(),
            "https://auth.example/token"
        );
        assert_eq!(
            challenge_param(challenge, "service").unwrap(),
            "registry.example"
        );
        assert_eq!(
            challenge_param(challenge, "scope").unwrap(),
            "repository:ns/x:pull,push"
        );
        assert_eq!(
            challenge_param("Basic realm=basic-realm", "realm").unwrap(),
            "basic-realm"
        );
        assert_eq!(
            next_link(r#"</v2/ns/x/tags/list?n=2&last=b>; rel="next""#).unwrap(),
            "/v2/ns/x/tags/list?n=2&last=b"
        );
        let host = "reg.example:5000";
        for (link, followed) in [
            (
                "/v2/ns/x/tags/list?last=b",
                Some("/v2/ns/x/tags/list?last=b"),
            ),
            (
                "https://reg.example:5000/v2/ns/x/tags/list?last=b",
                Some("/v2/ns/x/tags/list?last=b"),
            ),
            ("https://evil.example/v2/ns/x/tags/list", None),
            ("https://reg.example:5000.evil.example/v2/x", None),
            ("https://reg.example:50001/v2/x", None),
            ("//evil.example/v2/x", None),
        ] {
            assert_eq!(
                same_host(host, link.to_string()).as_deref(),
                followed,
                "{link}"
            );
        }
    }
}
