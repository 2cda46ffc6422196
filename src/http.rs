//! HTTP as every adapter uses it (broker sinks, NuGet feeds): one client with factory's
//! settings, failure kinds that never repeat a URL, and URLs with their credentials removed.

use std::time::Duration;

/// An HTTP client with factory's settings (rustls on ring, timeouts); an error when TLS
/// cannot be set up (an `SSL_CERT_FILE` holding no certificate, say).
pub fn client() -> crate::Result<reqwest::Client> {
    // Installing twice is harmless; the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("factory/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            let source = std::error::Error::source(&e).map(ToString::to_string);
            crate::Error::new(format!(
                "cannot set up HTTPS: {}",
                source.unwrap_or_else(|| e.to_string())
            ))
            .hint("check SSL_CERT_FILE and SSL_CERT_DIR: they must name PEM certificates, or be unset")
        })
}

/// What kind of failure a request without an answer was. reqwest's own message can repeat
/// the URL (and a query string with a key in it), so only the kind is ever shown.
pub fn failure_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    }
}

/// Registers the password of a URL (as written and percent-decoded) as a secret, so it is
/// masked wherever it turns up.
pub fn register_password(url: &str) {
    if let Ok(url) = reqwest::Url::parse(url)
        && let Some(password) = url.password()
    {
        crate::secrets::register(password);
        if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
            crate::secrets::register(&decoded);
        }
    }
}

/// A URL fit to print: the password replaced by `***`, the query string by `?***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, "?***"),
        None => (rest, ""),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    // `user:***@host` everywhere; a user name that is the password itself (guest:guest)
    // would show it, so it is masked too, the same way in every message.
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, password)) if name == password => format!("***:***@{host}"),
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// The URL without a user name, password or token in its authority (`scheme://host/path`);
/// text that is not `scheme://…` is returned as it is.
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}
