//! TLS and ports for the servers the tests start: a throw-away CA with a certificate for
//! 127.0.0.1, free loopback ports, and waiting for a server to listen.

use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A CA, and a certificate for 127.0.0.1 signed by it: (CA PEM, cert PEM, key PEM).
pub fn test_ca() -> (String, String, String) {
    let (ca, cert, key) = issue();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// The same for a server the test runs itself: (CA PEM, cert DER, PKCS#8 key DER).
pub fn test_ca_der() -> (String, Vec<u8>, Vec<u8>) {
    let (ca, cert, key) = issue();
    (ca.pem(), cert.der().to_vec(), key.serialize_der())
}

fn issue() -> (rcgen::Certificate, rcgen::Certificate, rcgen::KeyPair) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "factory test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca, cert, key)
}

/// A loopback port nothing listens on (yet), never the same twice in a test process: the
/// kernel may hand a port just released to the next caller, and two registries started by
/// tests at once would then share one (the second fails to start, and its test speaks to
/// the first).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Waits until something listens on `port`.
pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
