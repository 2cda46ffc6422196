//! A hostile OCI registry for the tests: HTTPS on a loopback port (a certificate from a
//! test CA), answering `GET`/`HEAD /v2/…` with whatever manifests and blobs a test crafted,
//! byte for byte, and keeping a list of what it was asked. It checks nothing: it serves
//! what no real registry would take (sizes that lie, records that name other templates).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::tls::test_ca_der;

/// What a path answers.
#[derive(Clone)]
enum Body {
    /// These bytes, with their length.
    Bytes(Vec<u8>),
    /// Bytes without end (no length), until the client hangs up.
    Endless,
}

#[derive(Default)]
struct Shared {
    /// Path (without query) → (content type, body).
    routes: HashMap<String, (String, Body)>,
    /// Tags by repository.
    tags: HashMap<String, Vec<String>>,
    /// `METHOD PATH` of every request.
    asked: Vec<String>,
}

/// The registry; it serves until the test process ends.
pub struct FakeRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA its certificate is signed by (for SSL_CERT_FILE).
    pub ca: PathBuf,
    _scratch: tempfile::TempDir,
    shared: Arc<Mutex<Shared>>,
    /// Body bytes written to clients.
    served: Arc<AtomicU64>,
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl FakeRegistry {
    /// Starts serving on a free loopback port.
    pub fn start() -> FakeRegistry {
        let scratch = tempfile::tempdir().unwrap();
        let (ca, cert, key) = test_ca_der();
        let ca_path = scratch.path().join("ca.pem");
        std::fs::write(&ca_path, ca).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert)],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
        )
        .unwrap();
        let config = Arc::new(config);
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let served = Arc::new(AtomicU64::new(0));
        let (serving, counting) = (Arc::clone(&shared), Arc::clone(&served));
        std::thread::spawn(move || {
            for stream in socket.incoming().flatten() {
                let (config, shared, served) = (
                    Arc::clone(&config),
                    Arc::clone(&serving),
                    Arc::clone(&counting),
                );
                std::thread::spawn(move || serve(stream, config, &shared, &served));
            }
        });
        FakeRegistry {
            host: format!("127.0.0.1:{port}"),
            ca: ca_path,
            _scratch: scratch,
            shared,
            served,
        }
    }

    /// Serves `bytes` as a blob of `repository`; its digest.
    pub fn blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = digest(bytes);
        self.route(
            &format!("/v2/{repository}/blobs/{digest}"),
            "application/octet-stream",
            Body::Bytes(bytes.to_vec()),
        );
        digest
    }

    /// Serves endless bytes as the blob `digest` of `repository`.
    pub fn endless_blob(&self, repository: &str, digest: &str) {
        self.route(
            &format!("/v2/{repository}/blobs/{digest}"),
            "application/octet-stream",
            Body::Endless,
        );
    }

    /// Serves a manifest (or index) of `repository` by its digest and, with `tag`, under it
    /// (listed in the repository's tags); its digest.
    pub fn manifest(
        &self,
        repository: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let digest = digest(bytes);
        for reference in std::iter::once(digest.as_str()).chain(tag) {
            self.route(
                &format!("/v2/{repository}/manifests/{reference}"),
                media_type,
                Body::Bytes(bytes.to_vec()),
            );
        }
        if let Some(tag) = tag {
            let mut shared = self.shared.lock().unwrap();
            let tags = shared.tags.entry(repository.to_string()).or_default();
            tags.push(tag.to_string());
            let list = serde_json::json!({"name": repository, "tags": tags});
            shared.routes.insert(
                format!("/v2/{repository}/tags/list"),
                (
                    "application/json".to_string(),
                    Body::Bytes(list.to_string().into_bytes()),
                ),
            );
        }
        digest
    }

    fn route(&self, path: &str, media_type: &str, body: Body) {
        self.shared
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), (media_type.to_string(), body));
    }

    /// `METHOD PATH` of every request so far.
    pub fn asked(&self) -> Vec<String> {
        self.shared.lock().unwrap().asked.clone()
    }

    /// Body bytes sent so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

/// Answers one request on a connection, then closes it.
fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    shared: &Mutex<Shared>,
    served: &AtomicU64,
) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, stream));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim_end().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let answer = {
        let mut shared = shared.lock().unwrap();
        shared.asked.push(format!("{method} {target}"));
        shared.routes.get(&path).cloned()
    };
    let writer = reader.get_mut();
    let head_only = method == "HEAD";
    match answer {
        None => {
            let body = r#"{"errors":[{"code":"NOT_FOUND","message":"not here"}]}"#;
            let _ = write!(
                writer,
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                if head_only { "" } else { body }
            );
        }
        Some((media_type, Body::Bytes(bytes))) => {
            let _ = write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: {media_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            if !head_only && writer.write_all(&bytes).is_ok() {
                served.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
        }
        Some((media_type, Body::Endless)) => {
            let _ = write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: {media_type}\r\nConnection: close\r\n\r\n"
            );
            // Bounded all the same (4 GiB), so that a client that reads without limit ends
            // the test rather than running it forever.
            let chunk = vec![b'x'; 64 << 10];
            for _ in 0..(1 << 16) {
                if head_only || writer.write_all(&chunk).is_err() {
                    break;
                }
                served.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = writer.flush();
    writer.conn.send_close_notify();
    let _ = writer.flush();
}
