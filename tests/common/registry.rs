//! A real OCI registry for the tests: CNCF Distribution (Debian's `docker-registry`,
//! installed by `scripts/registry-install`) on a loopback port, with TLS from a test CA and
//! either htpasswd Basic auth or the token flow against a token service the test serves
//! (JWTs signed with ES256 by a key whose certificate the registry trusts).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use serde_json::json;

use super::http::Listener;
use super::tls::{free_port, test_ca, wait_for_port};

/// Whether the registry binary is here (else the test says what to run).
pub fn installed() -> bool {
    Path::new("/usr/bin/docker-registry").is_file()
}

/// A running registry; stopped on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Its folder: config, certificates, storage, log.
    pub dir: PathBuf,
    _scratch: tempfile::TempDir,
    /// The CA its certificate is signed by (for SSL_CERT_FILE).
    pub ca: PathBuf,
    /// The token service, for the token flow.
    pub token_service: Option<Listener>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How clients authenticate.
pub enum Auth {
    /// htpasswd Basic auth for this user and password.
    Basic(&'static str, &'static str),
    /// Bearer tokens from a token service that accepts this user and password, at the realm
    /// the registry names.
    Token(&'static str, &'static str, Realm),
    /// Anyone may pull and push.
    None,
}

/// Where the registry's challenge sends clients for tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    /// `https://127.0.0.1:PORT/token`: the registry's own host (another port).
    SameHost,
    /// `https://localhost:PORT/token`: another host name than the registry's `127.0.0.1`.
    OtherHost,
    /// `http://127.0.0.1:PORT/token`: plain HTTP, which clients must refuse.
    PlainHttp,
}

impl Registry {
    /// Starts a registry in a folder of its own (removed with it).
    pub fn start(auth: Auth) -> Registry {
        Registry::start_with(auth, true)
    }

    /// Starts a registry without auth over plain HTTP, as Debian's docker-registry runs
    /// out of the box, listening on every address (reached as 127.0.0.1 and as the
    /// machine's own address).
    pub fn start_plain() -> Registry {
        Registry::start_with(Auth::None, false)
    }

    fn start_with(auth: Auth, tls: bool) -> Registry {
        assert!(
            installed(),
            "docker-registry is missing: run scripts/registry-install"
        );
        let scratch = tempfile::tempdir().unwrap();
        let dir = &scratch.path().join("registry");
        std::fs::create_dir_all(dir).unwrap();
        let (ca, cert, key) = test_ca();
        let path = |name: &str| dir.join(name);
        std::fs::write(path("ca.pem"), ca).unwrap();
        std::fs::write(path("cert.pem"), &cert).unwrap();
        std::fs::write(path("key.pem"), &key).unwrap();
        let port = free_port();
        let (auth_yaml, token_service) = match auth {
            Auth::None => (String::new(), None),
            Auth::Basic(user, password) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd runs (scripts/registry-install)");
                assert!(out.status.success());
                std::fs::write(path("htpasswd"), out.stdout).unwrap();
                (
                    format!(
                        "  htpasswd:\n    realm: factory-test\n    path: {}\n",
                        path("htpasswd").display()
                    ),
                    None,
                )
            }
            Auth::Token(user, password, realm) => {
                // Over TLS with the registry's own certificate (for localhost and
                // 127.0.0.1, from the CA the clients trust), unless plain HTTP is the point.
                let tls = (realm != Realm::PlainHttp).then_some((cert.as_str(), key.as_str()));
                let (service, cert_pem) = token_service(user, password, tls);
                std::fs::write(path("token-cert.pem"), cert_pem).unwrap();
                let url = match realm {
                    Realm::SameHost | Realm::PlainHttp => service.url.clone(),
                    Realm::OtherHost => format!("https://localhost:{}", service.port),
                };
                (
                    format!(
                        "  token:\n    realm: {url}/token\n    service: factory-test-registry\n    issuer: factory-test-issuer\n    rootcertbundle: {}\n",
                        path("token-cert.pem").display()
                    ),
                    Some(service),
                )
            }
        };
        let tls_yaml = if tls {
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                path("cert.pem").display(),
                path("key.pem").display()
            )
        } else {
            String::new()
        };
        let auth_yaml = if auth_yaml.is_empty() {
            String::new()
        } else {
            format!("auth:\n{auth_yaml}")
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {}:{port}\n{tls_yaml}{auth_yaml}",
            path("data").display(),
            if tls { "127.0.0.1" } else { "0.0.0.0" },
        );
        std::fs::write(path("config.yml"), config).unwrap();
        let log = std::fs::File::create(path("registry.log")).unwrap();
        let child = Command::new("/usr/bin/docker-registry")
            .arg("serve")
            .arg(path("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        wait_for_port(port);
        Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
            _scratch: scratch,
            ca: path("ca.pem"),
            token_service,
        }
    }

    /// The access log lines so far (`"METHOD URI HTTP/…" STATUS …`).
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("registry.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("127.0.0.1 - "))
            .map(str::to_string)
            .collect()
    }

    /// How many requests of `method` to a URI starting with `prefix` answered `status`.
    pub fn count(&self, method: &str, prefix: &str, status: u16) -> usize {
        let needle = format!("\"{method} {prefix}");
        self.access_log()
            .iter()
            .filter(|l| l.contains(&needle) && l.contains(&format!("\" {status} ")))
            .count()
    }

    /// The file holding a blob in the registry's storage.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// `curl` against the registry with the test CA: (status, body).
    pub fn curl(&self, user: &str, password: &str, path: &str, accept: &str) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "--cacert"])
            .arg(&self.ca)
            .args(["-u", &format!("{user}:{password}")])
            .args(["-H", &format!("Accept: {accept}")])
            .args(["-w", "\n%{http_code}"])
            .arg(format!("https://{}{path}", self.host))
            .output()
            .expect("curl runs (scripts/registry-install)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap();
        (status.trim().parse().unwrap(), body.to_string())
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token service on loopback (over TLS with `tls`'s certificate and key, else plain HTTP):
/// Basic auth `user`/`password`, answering with a JWT that grants the scopes asked for.
/// Returns it and the PEM of the certificate that signs.
fn token_service(
    user: &'static str,
    password: &'static str,
    tls: Option<(&str, &str)>,
) -> (Listener, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "factory test token signer");
    let cert = params.self_signed(&key).unwrap();
    let x5c = base64::engine::general_purpose::STANDARD.encode(cert.der());
    let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &key.serialize_der(),
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let handler = move |request: &super::http::Request| {
        if request.header("authorization") != Some(expected.as_str()) {
            return (401, r#"{"details":"bad credentials"}"#.to_string());
        }
        let query = request.path.split_once('?').map_or("", |(_, q)| q);
        let mut access = Vec::new();
        for pair in query.split('&') {
            let Some(scope) = pair.strip_prefix("scope=") else {
                continue;
            };
            let scope = super::http::percent_decode(scope);
            for one in scope.split(' ') {
                let parts: Vec<&str> = one.split(':').collect();
                if parts.len() == 3 {
                    access.push(json!({"type": parts[0], "name": parts[1], "actions": parts[2].split(',').collect::<Vec<_>>()}));
                }
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
        let claims = json!({
            "iss": "factory-test-issuer", "sub": user, "aud": "factory-test-registry",
            "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", access.len()),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = signer
            .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        let token = format!("{signing_input}.{}", b64url(signature.as_ref()));
        (200, json!({"token": token, "expires_in": 300}).to_string())
    };
    let listener = match tls {
        Some((cert_pem, key_pem)) => Listener::start_tls_with_headers(
            cert_pem,
            key_pem,
            Arc::new(move |request| {
                let (status, body) = handler(request);
                (status, Vec::new(), body)
            }),
        ),
        None => Listener::start_with(Arc::new(handler)),
    };
    (listener, cert.pem())
}
