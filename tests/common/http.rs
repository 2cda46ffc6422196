//! A small HTTP/1.1 listener on loopback that records requests and answers with scripted
//! statuses, standing in for Service Bus and CloudEvents receivers, and (over TLS) for token
//! services and misbehaving registries.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers a request with a status and a body.
pub type Handler = Arc<dyn Fn(&Request) -> (u16, String) + Send + Sync>;

/// Answers a request with a status, headers and a body.
pub type HeaderHandler =
    Arc<dyn Fn(&Request) -> (u16, Vec<(String, String)>, String) + Send + Sync>;

/// Writes the whole HTTP response itself, for answers too large to hold in memory; the
/// connection is closed after it.
pub type RawHandler = Arc<dyn Fn(&Request, &mut dyn Write) + Send + Sync>;

#[derive(Default)]
struct Shared {
    requests: Vec<Request>,
    script: VecDeque<u16>,
    handler: Option<Handler>,
    header_handler: Option<HeaderHandler>,
    raw_handler: Option<RawHandler>,
}

/// The listener; it runs until the test process ends.
#[derive(Clone)]
pub struct Listener {
    pub url: String,
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    delay: Duration,
}

impl Listener {
    /// Starts listening; requests are answered with `script` in order, then 201.
    pub fn start(script: &[u16]) -> Listener {
        Self::start_with_delay(script, Duration::ZERO)
    }

    /// Starts listening; `handler` answers every request.
    pub fn start_with(handler: Handler) -> Listener {
        let listener = Self::start(&[]);
        listener.shared.lock().unwrap().handler = Some(handler);
        listener
    }

    /// Starts listening; `handler` answers every request, headers too.
    pub fn start_with_headers(handler: HeaderHandler) -> Listener {
        let listener = Self::start(&[]);
        listener.shared.lock().unwrap().header_handler = Some(handler);
        listener
    }

    /// Like `start`, answering each request after `delay`.
    pub fn start_with_delay(script: &[u16], delay: Duration) -> Listener {
        Self::listen(script, delay, None)
    }

    /// Starts listening over TLS with this certificate and key (PEM), at
    /// `https://HOST:PORT` (the certificate says which host names are right); `handler`
    /// answers every request, headers too.
    pub fn start_tls_with_headers(
        cert_pem: &str,
        key_pem: &str,
        handler: HeaderHandler,
    ) -> Listener {
        let listener = Self::listen(&[], Duration::ZERO, Some(server_config(cert_pem, key_pem)));
        listener.shared.lock().unwrap().header_handler = Some(handler);
        listener
    }

    /// Starts listening over plain HTTP; `handler` writes every response itself (bytes that
    /// are not text: a zip archive).
    pub fn start_raw(handler: RawHandler) -> Listener {
        let listener = Self::start(&[]);
        listener.shared.lock().unwrap().raw_handler = Some(handler);
        listener
    }

    /// Like `start_tls_with_headers`, with a handler that writes the response itself.
    pub fn start_tls_raw(cert_pem: &str, key_pem: &str, handler: RawHandler) -> Listener {
        let listener = Self::listen(&[], Duration::ZERO, Some(server_config(cert_pem, key_pem)));
        listener.shared.lock().unwrap().raw_handler = Some(handler);
        listener
    }

    fn listen(script: &[u16], delay: Duration, tls: Option<Arc<rustls::ServerConfig>>) -> Listener {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = Listener {
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            shared: Arc::new(Mutex::new(Shared {
                requests: Vec::new(),
                script: script.iter().copied().collect(),
                handler: None,
                header_handler: None,
                raw_handler: None,
            })),
            delay,
        };
        let serving = listener.clone();
        std::thread::spawn(move || {
            for stream in socket.incoming().flatten() {
                let serving = serving.clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        serving.serve(rustls::StreamOwned::new(connection, stream));
                    }
                    None => serving.serve(stream),
                });
            }
        });
        listener
    }

    fn serve(&self, stream: impl Read + Write) {
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            std::thread::sleep(self.delay);
            let request = Request {
                method,
                path,
                headers,
                body,
            };
            let raw = self.shared.lock().unwrap().raw_handler.clone();
            if let Some(raw) = raw {
                self.shared.lock().unwrap().requests.push(request.clone());
                raw(&request, reader.get_mut());
                let _ = reader.get_mut().flush();
                return;
            }
            let (status, answer_headers, answer) = {
                let mut shared = self.shared.lock().unwrap();
                let answer = match (&shared.header_handler, &shared.handler) {
                    (Some(handler), _) => handler(&request),
                    (None, Some(handler)) => {
                        let (status, body) = handler(&request);
                        (status, Vec::new(), body)
                    }
                    (None, None) => (
                        shared.script.pop_front().unwrap_or(201),
                        Vec::new(),
                        String::new(),
                    ),
                };
                shared.requests.push(request);
                answer
            };
            let mut extra = if status == 429 {
                "Retry-After: 1\r\n".to_string()
            } else {
                String::new()
            };
            for (name, value) in answer_headers {
                extra.push_str(&format!("{name}: {value}\r\n"));
            }
            let response = format!(
                "HTTP/1.1 {status} Scripted\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            );
            if reader.get_mut().write_all(response.as_bytes()).is_err()
                || reader.get_mut().flush().is_err()
            {
                return;
            }
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.shared.lock().unwrap().requests.clear();
    }

    /// Adds statuses to answer with next.
    pub fn script(&self, statuses: &[u16]) {
        self.shared
            .lock()
            .unwrap()
            .script
            .extend(statuses.iter().copied());
    }
}

/// Decodes `%XX` escapes (and `+` as a space), as a form or query string has them.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A TLS server configuration (ring, TLS 1.2 and 1.3) for this certificate and key.
fn server_config(cert_pem: &str, key_pem: &str) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    Arc::new(config)
}
