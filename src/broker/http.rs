//! CloudEvents over HTTP: binary mode for a single event, a batch body for several; and the
//! status classification shared with the Service Bus sink.

use std::time::Duration;

use super::push::Pending;
use super::retry::SendError;
use crate::events::{Envelope, cloudevents};
use crate::http::client;
use crate::http::{failure_kind, redact_url};

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
    pub fn new(url: &str) -> crate::Result<Self> {
        Ok(HttpSink {
            url: url.to_string(),
            client: client()?,
        })
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
