//! Azure Service Bus over its REST API: a SAS token per topic, `BrokerProperties` with the
//! event id as MessageId (GUID form, as MassTransit expects), `cs-*` properties as quoted
//! headers, and batches in the documented JSON batch body up to about 200 KB.

use std::collections::HashMap;

use base64::Engine;
use hmac::{KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::http::{classify, unreachable};
use super::push::Pending;
use super::retry::SendError;
use crate::error::{Error, Result};
use crate::events::{Envelope, routing};
use crate::http::client;

/// What `encodeURIComponent` leaves alone.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A batch body stays under this many bytes (the service takes 256 KB).
pub const BATCH_BYTES: usize = 200 * 1024;

/// The parts of a connection string that matter here.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// `https://<namespace>/` (or `http://` for the development emulator).
    pub base_url: String,
    /// The shared access key's name.
    pub key_name: String,
    /// The shared access key, used as given (its bytes are the HMAC key).
    pub key: String,
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ConnectionString({}, {}, ***)",
            self.base_url, self.key_name
        )
    }
}

/// Registers the `SharedAccessKey` of a connection string (or of anything that looks like
/// one) as a secret, so no message that quotes it shows it.
pub fn register_key(text: &str) {
    for part in text.split(';') {
        if let Some((key, value)) = part.split_once('=')
            && key.trim().eq_ignore_ascii_case("SharedAccessKey")
        {
            crate::secrets::register(value.trim());
        }
    }
}

impl ConnectionString {
    /// Parses `Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…` (and
    /// `UseDevelopmentEmulator=true`, which means plain HTTP). `origin` names where it came
    /// from in errors, which never quote it.
    pub fn parse(text: &str, origin: &str) -> Result<ConnectionString> {
        register_key(text);
        let mut parts: HashMap<String, String> = HashMap::new();
        for part in text.split(';').filter(|p| !p.trim().is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                Error::new(format!(
                    "{origin} is not a Service Bus connection string (a part has no `=`)"
                ))
            })?;
            parts.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        let get = |key: &str, shown: &str| {
            parts.get(key).cloned().ok_or_else(|| {
                Error::new(format!("{origin} has no {shown}"))
                    .hint("copy the connection string from the namespace's Shared access policies")
            })
        };
        let endpoint = get("endpoint", "Endpoint")?;
        let host = endpoint
            .strip_prefix("sb://")
            .or_else(|| endpoint.strip_prefix("https://"))
            .or_else(|| endpoint.strip_prefix("http://"))
            .ok_or_else(|| Error::new(format!("{origin}: Endpoint must start with sb://")))?
            .trim_end_matches('/');
        let emulator = parts
            .get("usedevelopmentemulator")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let scheme = if emulator { "http" } else { "https" };
        Ok(ConnectionString {
            base_url: format!("{scheme}://{host}/"),
            key_name: get("sharedaccesskeyname", "SharedAccessKeyName")?,
            key: get("sharedaccesskey", "SharedAccessKey")?,
        })
    }
}

/// A SAS token for `resource`: HMAC-SHA256 with the key's bytes over the URL-encoded
/// resource, a newline and the expiry.
pub fn sas_token(resource: &str, key_name: &str, key: &str, expiry: u64) -> String {
    let encoded = utf8_percent_encode(resource, URI_COMPONENT).to_string();
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{encoded}\n{expiry}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let signature = utf8_percent_encode(&signature, URI_COMPONENT);
    format!("SharedAccessSignature sr={encoded}&sig={signature}&se={expiry}&skn={key_name}")
}

/// The event id's UUID, the form .NET and MassTransit read as a GUID.
pub fn message_id(envelope: &Envelope) -> &str {
    envelope
        .event_id
        .strip_prefix("evt-")
        .unwrap_or(&envelope.event_id)
}

fn broker_properties(envelope: &Envelope) -> Value {
    json!({
        "MessageId": message_id(envelope),
        "CorrelationId": envelope.correlation_id,
        "Label": envelope.event_type,
        "ContentType": "application/json",
    })
}

/// Sends to the topics of a namespace.
pub struct ServiceBusSink {
    connection: ConnectionString,
    client: reqwest::Client,
}

fn now_unix() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

impl ServiceBusSink {
    /// A sink for the namespace in `connection`.
    pub fn new(connection: ConnectionString) -> crate::Result<Self> {
        Ok(ServiceBusSink {
            connection,
            client: client()?,
        })
    }

    /// Sends each event to each of its topics; per topic, one message alone or batches.
    pub async fn send(&mut self, batch: &[Pending]) -> Result<(), SendError> {
        let mut by_topic: Vec<(&str, Vec<&Pending>)> = Vec::new();
        for pending in batch {
            for topic in routing::topics(&pending.envelope.event_type) {
                match by_topic.iter_mut().find(|(t, _)| *t == topic) {
                    Some((_, list)) => list.push(pending),
                    None => by_topic.push((topic, vec![pending])),
                }
            }
        }
        for (topic, events) in by_topic {
            for chunk in chunks(&events) {
                self.send_topic(topic, chunk).await?;
            }
        }
        Ok(())
    }

    async fn send_topic(&self, topic: &str, events: &[&Pending]) -> Result<(), SendError> {
        let resource = format!("{}{topic}", self.connection.base_url);
        let url = format!("{resource}/messages");
        let what = format!("Service Bus topic {topic}");
        // A 401 gets one retry with a fresh token (a clock skew or an expired one), then stops.
        for refreshed in [false, true] {
            let token = sas_token(
                &resource,
                &self.connection.key_name,
                &self.connection.key,
                now_unix() + 3600,
            );
            let request = match events {
                [one] => {
                    let mut request = self
                        .client
                        .post(&url)
                        .header("authorization", token)
                        .header("content-type", "application/json")
                        .header(
                            "brokerproperties",
                            broker_properties(&one.envelope).to_string(),
                        )
                        .body(one.line.clone());
                    for (name, value) in routing::properties(&one.envelope) {
                        request = request.header(name, format!("\"{value}\""));
                    }
                    request
                }
                _ => self
                    .client
                    .post(&url)
                    .header("authorization", token)
                    .header("content-type", "application/vnd.microsoft.servicebus.json")
                    .body(batch_body(events)),
            };
            let response = request.send().await.map_err(|e| unreachable(&what, e))?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED && !refreshed {
                continue;
            }
            return classify(&response, &what);
        }
        unreachable!("the loop returns on its second pass")
    }
}

/// The documented batch body: one object per message with `Body`, `BrokerProperties` and
/// `UserProperties`.
pub fn batch_body(events: &[&Pending]) -> Vec<u8> {
    let messages: Vec<Value> = events
        .iter()
        .map(|p| {
            let mut user = Map::new();
            for (name, value) in routing::properties(&p.envelope) {
                user.insert(name.to_string(), Value::String(value.to_string()));
            }
            json!({
                "Body": String::from_utf8_lossy(&p.line),
                "BrokerProperties": broker_properties(&p.envelope),
                "UserProperties": user,
            })
        })
        .collect();
    serde_json::to_vec(&messages).expect("messages serialize")
}

/// Splits a topic's events into runs whose batch body stays under [`BATCH_BYTES`].
fn chunks<'a>(events: &'a [&'a Pending]) -> Vec<&'a [&'a Pending]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, pending) in events.iter().enumerate() {
        // The line is escaped into a JSON string and wrapped with properties: allow for both.
        let estimate = pending.line.len() * 5 / 4 + 512;
        if i > start && size + estimate > BATCH_BYTES {
            out.push(&events[start..i]);
            start = i;
            size = 0;
        }
        size += estimate;
    }
    if start < events.len() {
        out.push(&events[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_token_matches_the_known_answer() {
        let token = sas_token(
            "https://contoso.servicebus.windows.net/factory.templates.template",
            "RootManageSharedAccessKey",
            "c2VjcmV0LWtleS1mb3ItdGVzdHM=",
            1_700_000_000,
        );
        assert!(
            token.contains("sig=4SNG%2BwNPlx1Z831pWZxEVVmrVNV%2FVOdrUB%2FU11qkEJ8%3D"),
            "{token}"
        );
        assert!(token.starts_with(
            "SharedAccessSignature sr=https%3A%2F%2Fcontoso.servicebus.windows.net%2Ffactory.templates.template&"
        ));
        assert!(token.ends_with("&se=1700000000&skn=RootManageSharedAccessKey"));
    }

    #[test]
    fn connection_strings_parse_without_showing_the_key() {
        let c = ConnectionString::parse(
            "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=abc=",
            "FACTORY_SB",
        )
        .unwrap();
        assert_eq!(c.base_url, "https://contoso.servicebus.windows.net/");
        assert_eq!(c.key, "abc=");
        assert!(!format!("{c:?}").contains("abc="));
        let local = ConnectionString::parse(
            "Endpoint=sb://127.0.0.1:5300;SharedAccessKeyName=k;SharedAccessKey=s;UseDevelopmentEmulator=true",
            "X",
        )
        .unwrap();
        assert_eq!(local.base_url, "http://127.0.0.1:5300/");
        let err = ConnectionString::parse("Endpoint=sb://x/;SharedAccessKey=secret", "FACTORY_SB")
            .unwrap_err();
        assert!(err.message.contains("no SharedAccessKeyName") && !err.message.contains("secret"));
    }
}
