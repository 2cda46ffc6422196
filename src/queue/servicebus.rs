//! The command queues on Azure Service Bus, through its REST runtime API: send
//! (`POST {queue}/messages`), peek-lock receive (`POST {queue}/messages/head?timeout=N`,
//! answered 201 with the message and its `BrokerProperties`, or 204), complete (`DELETE` of
//! the message's lock URL), abandon (`PUT`), renew the lock (`POST`). The REST API has no
//! dead-letter operation (only AMQP clients have one), so a command given up on is sent to
//! the sibling queue `QUEUE.dlq` with its reason in the `x-factory-error` property, then
//! completed: the same names as on RabbitMQ. SAS tokens as the event push makes them.

use std::time::Duration;

use serde_json::{Value, json};

use crate::broker::servicebus::{ConnectionString, sas_token};
use crate::error::{Error, Result};
use crate::http::failure_kind;

/// A namespace's queues.
pub struct Queues {
    connection: ConnectionString,
    http: reqwest::Client,
}

/// A message received under a lock.
#[derive(Debug, Clone)]
pub struct Locked {
    /// Its body.
    pub body: Vec<u8>,
    /// Its `MessageId`.
    pub message_id: String,
    /// How often it was delivered (1 the first time).
    pub delivery_count: u32,
    /// The URL of its lock (complete, abandon, renew).
    pub lock_url: String,
    /// How long the lock holds from now.
    pub lock_for: Duration,
    /// Its custom properties (headers that are not the broker's).
    pub properties: Vec<(String, String)>,
}

fn now_unix() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

impl Queues {
    /// The queues of the namespace in `connection`.
    pub fn new(connection: ConnectionString) -> crate::Result<Queues> {
        Ok(Queues {
            connection,
            http: crate::http::client()?,
        })
    }

    fn token(&self, entity: &str) -> String {
        let resource = format!("{}{entity}", self.connection.base_url);
        sas_token(
            &resource,
            &self.connection.key_name,
            &self.connection.key,
            now_unix() + 3600,
        )
    }

    fn failed(&self, what: &str, e: reqwest::Error) -> Error {
        Error::new(format!("Service Bus {what}: {}", failure_kind(&e)))
            .hint("check the connection string's endpoint and that the namespace is reachable")
    }

    fn refused(what: &str, status: reqwest::StatusCode) -> Error {
        Error::new(format!("Service Bus refused to {what} ({status})"))
            .hint("check the queue exists and the shared access key may send, listen and manage it")
    }

    /// Sends a message to `queue` with `MessageId`, `CorrelationId`, `Label` and custom
    /// properties (quoted, as the REST API reads strings).
    pub async fn send(
        &self,
        queue: &str,
        body: &[u8],
        broker: Value,
        properties: &[(String, String)],
    ) -> Result<()> {
        let url = format!("{}{queue}/messages", self.connection.base_url);
        let mut request = self
            .http
            .post(&url)
            .header("authorization", self.token(queue))
            .header("content-type", "application/json")
            .header("brokerproperties", broker.to_string())
            .body(body.to_vec());
        for (name, value) in properties {
            request = request.header(name.as_str(), format!("\"{}\"", value.replace('"', "'")));
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.failed(&format!("send to {queue}"), e))?;
        if !response.status().is_success() {
            return Err(Self::refused(
                &format!("send to {queue}"),
                response.status(),
            ));
        }
        Ok(())
    }

    /// Receives and locks the next message of `queue`, waiting up to `wait`; `None` if none
    /// came.
    pub async fn receive(&self, queue: &str, wait: Duration) -> Result<Option<Locked>> {
        let url = format!(
            "{}{queue}/messages/head?timeout={}",
            self.connection.base_url,
            wait.as_secs().max(1)
        );
        let response = self
            .http
            .post(&url)
            .header("authorization", self.token(queue))
            .header("content-length", "0")
            .timeout(wait + Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| self.failed(&format!("receive from {queue}"), e))?;
        match response.status().as_u16() {
            204 => return Ok(None),
            201 => {}
            _ => {
                return Err(Self::refused(
                    &format!("receive from {queue}"),
                    response.status(),
                ));
            }
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let broker: Value = header("brokerproperties")
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or_else(|| {
                Error::new(format!(
                    "Service Bus answered a receive from {queue} without BrokerProperties"
                ))
            })?;
        let message_id = broker["MessageId"].as_str().unwrap_or_default().to_string();
        let lock_token = broker["LockToken"].as_str().unwrap_or_default().to_string();
        let lock_url = header("location").unwrap_or_else(|| {
            format!(
                "{}{queue}/messages/{message_id}/{lock_token}",
                self.connection.base_url
            )
        });
        let lock_for = broker["LockedUntilUtc"]
            .as_str()
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc2822)
                    .or_else(|_| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                    })
                    .ok()
            })
            .map(|until| (until - time::OffsetDateTime::now_utc()).max(time::Duration::ZERO))
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or(Duration::from_secs(30));
        let properties = response
            .headers()
            .iter()
            .filter(|(name, _)| {
                name.as_str().starts_with("x-factory-") || name.as_str().starts_with("cs-")
            })
            .filter_map(|(name, value)| {
                Some((
                    name.to_string(),
                    value.to_str().ok()?.trim_matches('"').to_string(),
                ))
            })
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.failed(&format!("receive from {queue}"), e))?
            .to_vec();
        Ok(Some(Locked {
            body,
            message_id,
            delivery_count: broker["DeliveryCount"].as_u64().unwrap_or(1) as u32,
            lock_url,
            lock_for,
            properties,
        }))
    }

    async fn on_lock(
        &self,
        queue: &str,
        message: &Locked,
        method: reqwest::Method,
        what: &str,
    ) -> Result<()> {
        let response = self
            .http
            .request(method, &message.lock_url)
            .header("authorization", self.token(queue))
            .header("content-length", "0")
            .send()
            .await
            .map_err(|e| self.failed(&format!("{what} on {queue}"), e))?;
        if !response.status().is_success() {
            return Err(Self::refused(
                &format!("{what} a message of {queue}"),
                response.status(),
            ));
        }
        Ok(())
    }

    /// Completes (deletes) a locked message.
    pub async fn complete(&self, queue: &str, message: &Locked) -> Result<()> {
        self.on_lock(queue, message, reqwest::Method::DELETE, "complete")
            .await
    }

    /// Abandons (unlocks) a locked message: it is delivered again.
    pub async fn abandon(&self, queue: &str, message: &Locked) -> Result<()> {
        self.on_lock(queue, message, reqwest::Method::PUT, "abandon")
            .await
    }

    /// Renews a message's lock, for a long generation.
    pub async fn renew(&self, queue: &str, message: &Locked) -> Result<()> {
        self.on_lock(queue, message, reqwest::Method::POST, "renew the lock of")
            .await
    }

    /// Sends a copy to `QUEUE.dlq` with the reason, then completes the original.
    pub async fn dead_letter(
        &self,
        queue: &str,
        message: &Locked,
        extra: &[(String, String)],
    ) -> Result<()> {
        let dlq = super::catalog::dead_letter_queue(queue);
        let broker = json!({"MessageId": message.message_id, "ContentType": "application/json"});
        let mut properties = message.properties.clone();
        properties.retain(|(name, _)| !extra.iter().any(|(n, _)| n == name));
        properties.extend(extra.iter().cloned());
        self.send(&dlq, &message.body, broker, &properties).await?;
        self.complete(queue, message).await
    }
}
