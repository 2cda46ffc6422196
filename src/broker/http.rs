//! CloudEvents over HTTP: binary mode for a single event, a batch body for several; and the
//! status classification shared with the Service Bus sink.

use std::time::Duration;

use super::push::Pending;
use super::retry::SendError;
use super::target::redact_url;
use crate::events::{Envelope, cloudevents};

/// An HTTP client with factory's settings (rustls on ring, timeouts).
pub fn client() -> reqwest::Client {
    // Installing twice is harmless; the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("factory/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}

/// Sorts an HTTP answer: success, worth retrying, or final.
pub fn classify(response: &reqwest::Response, what: &str) -> Result<(), SendError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let message = format!("{what}: HTTP {status}");
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Err(match status.as_u16() {
        429 | 503 => SendError::Throttled(message, retry_after),
        408 | 500..=599 => SendError::Transient(message),
        _ => SendError::Permanent(message),
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

/// A failed request (no answer): always worth retrying.
pub fn unreachable(what: &str, e: reqwest::Error) -> SendError {
    SendError::Transient(format!("{what}: {}", failure_kind(&e)))
}

/// Posts CloudEvents to one endpoint.
pub struct HttpSink {
    url: String,
    client: reqwest::Client,
}

impl HttpSink {
    /// A sink for `url`.
    pub fn new(url: &str) -> Self {
        HttpSink {
            url: url.to_string(),
            client: client(),
        }
    }

    /// Sends one event in binary mode, several as a batch.
    pub async fn send(&mut self, batch: &[Pending]) -> Result<(), SendError> {
        let what = format!("CloudEvents endpoint {}", redact_url(&self.url));
        let request = match batch {
            [one] => {
                let (headers, body) = cloudevents::binary(&one.envelope);
                let mut request = self.client.post(&self.url).body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request
            }
            _ => {
                let envelopes: Vec<Envelope> = batch.iter().map(|p| p.envelope.clone()).collect();
                self.client
                    .post(&self.url)
                    .header("content-type", "application/cloudevents-batch+json")
                    .body(cloudevents::batch(&envelopes))
            }
        };
        let response = request.send().await.map_err(|e| unreachable(&what, e))?;
        classify(&response, &what)
    }
}
