//! RabbitMQ over AMQP 0-9-1 with lapin: a durable topic exchange per topic, routing key =
//! event type, persistent messages with publisher confirms and `mandatory`, so an unroutable
//! message is never a silent drop: by default it is reported (a topic without subscribers
//! accepts events, as Service Bus topics do), with `require_route` it stops the push.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};

use super::push::Pending;
use super::retry::SendError;
use crate::events::routing;
use crate::http::redact_url;

/// A connection to one broker, opened on first use and again after a failure.
pub struct AmqpSink {
    url: String,
    open: Option<(Connection, Channel)>,
    require_route: bool,
    /// `exchange routing-key` pairs RabbitMQ returned for want of a bound queue.
    pub unrouted: std::collections::BTreeSet<String>,
}

/// Opens a connection to `url`, for events and commands alike. `amqps://` is TLS (rustls on
/// ring, the broker's certificate checked against the system's CAs, or the bundle
/// `SSL_CERT_FILE` names, as for HTTPS) or an error: lapin is built with its rustls
/// connector, so it never falls back to a plain connection. A failed handshake is named for
/// what it most likely is.
pub async fn connect(url: &str, properties: ConnectionProperties) -> lapin::Result<Connection> {
    // The process's provider is ring, as for HTTPS (installing twice is harmless).
    let _ = rustls::crypto::ring::default_provider().install_default();
    Connection::connect(url, properties)
        .await
        .map_err(|e| match tls_failure(url, &e) {
            Some(why) => std::io::Error::other(why).into(),
            None => e,
        })
}

/// What a failed TLS handshake with `url` means, when it was one.
fn tls_failure(url: &str, e: &lapin::Error) -> Option<String> {
    if !url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("amqps://"))
    {
        return None;
    }
    // The handshake's own words, without lapin's "IO error: " in front.
    let text = match e.kind() {
        lapin::ErrorKind::IOError(io) => io.to_string(),
        _ => e.to_string(),
    };
    if text.contains("InvalidContentType") || text.contains("corrupt message") {
        Some(format!(
            "the broker did not answer TLS ({text}); nothing was sent in clear: amqps:// needs the broker's TLS port (5671 by default), amqp:// is its plain one"
        ))
    } else if text.contains("certificate") || text.contains("Certificate") {
        Some(format!(
            "the broker's TLS certificate was refused ({text}): a broker with a private CA needs SSL_CERT_FILE pointing at the CA's PEM file"
        ))
    } else {
        None
    }
}

fn lost(url: &str, e: lapin::Error) -> SendError {
    let message = format!("RabbitMQ at {}: {e}", redact_url(url));
    // A refused login or vhost does not get better by retrying.
    if message.contains("ACCESS_REFUSED") || message.contains("NOT_ALLOWED") {
        SendError::Permanent(message)
    } else {
        SendError::Transient(message)
    }
}

impl AmqpSink {
    /// A sink for `url` (not connected yet).
    pub fn new(url: &str, require_route: bool) -> Self {
        AmqpSink {
            url: url.to_string(),
            open: None,
            require_route,
            unrouted: Default::default(),
        }
    }

    async fn channel(&mut self) -> Result<&Channel, SendError> {
        if self.open.is_none() {
            let connection = connect(&self.url, ConnectionProperties::default())
                .await
                .map_err(|e| lost(&self.url, e))?;
            let channel = connection
                .create_channel()
                .await
                .map_err(|e| lost(&self.url, e))?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| lost(&self.url, e))?;
            for topic in routing::TOPICS {
                let options = ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                };
                channel
                    .exchange_declare(
                        topic.into(),
                        ExchangeKind::Topic,
                        options,
                        FieldTable::default(),
                    )
                    .await
                    .map_err(|e| lost(&self.url, e))?;
            }
            self.open = Some((connection, channel));
        }
        Ok(&self.open.as_ref().expect("just opened").1)
    }

    /// Publishes a batch to every topic of each event and waits for all confirms.
    pub async fn send(&mut self, batch: &[Pending]) -> Result<(), SendError> {
        let result = self.publish(batch).await;
        if matches!(result, Err(SendError::Transient(_))) {
            // Start over on a fresh connection next time.
            self.open = None;
        }
        result
    }

    async fn publish(&mut self, batch: &[Pending]) -> Result<(), SendError> {
        let url = self.url.clone();
        let channel = self.channel().await?;
        let mut confirms = Vec::with_capacity(batch.len() * 2);
        for pending in batch {
            let envelope = &pending.envelope;
            let mut headers = FieldTable::default();
            for (name, value) in routing::properties(envelope) {
                headers.insert(name.into(), AMQPValue::LongString(LongString::from(value)));
            }
            let properties = BasicProperties::default()
                .with_message_id(envelope.event_id.as_str().into())
                .with_correlation_id(envelope.correlation_id.as_str().into())
                .with_content_type("application/json".into())
                .with_type(envelope.event_type.as_str().into())
                .with_app_id("factory".into())
                .with_delivery_mode(2)
                .with_headers(headers);
            let options = BasicPublishOptions {
                mandatory: true,
                immediate: false,
            };
            for topic in routing::topics(&envelope.event_type) {
                let confirm = channel
                    .basic_publish(
                        topic.into(),
                        envelope.event_type.as_str().into(),
                        options,
                        &pending.line,
                        properties.clone(),
                    )
                    .await
                    .map_err(|e| lost(&url, e))?;
                confirms.push((pending, topic, confirm));
            }
        }
        let require_route = self.require_route;
        let mut unrouted = Vec::new();
        for (pending, topic, confirm) in confirms {
            match confirm.await.map_err(|e| lost(&url, e))? {
                Confirmation::Ack(None) => {}
                // Accepted by the exchange, but no queue is bound for it.
                Confirmation::Ack(Some(_)) if !require_route => {
                    unrouted.push(format!("{topic} {}", pending.envelope.event_type));
                }
                Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_)) => {
                    return Err(SendError::Permanent(format!(
                        "exchange {topic} has no queue bound for routing key {}, so RabbitMQ returned event {} (--require-route)",
                        pending.envelope.event_type, pending.envelope.event_id
                    )));
                }
                Confirmation::Nack(None) => {
                    return Err(SendError::Transient(format!(
                        "RabbitMQ refused event {} on exchange {topic}",
                        pending.envelope.event_id
                    )));
                }
                Confirmation::NotRequested => unreachable!("confirms are enabled on the channel"),
            }
        }
        self.unrouted.extend(unrouted);
        Ok(())
    }

    /// Closes the connection politely.
    pub async fn close(&mut self) {
        if let Some((connection, _)) = self.open.take() {
            let _ = connection.close(200, "push done".into()).await;
        }
    }
}
