//! `factory send`: a command put on its service's queue, and with `--wait` its outcome
//! awaited on the topics (matched by causation) or its dead-lettering.

use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;

use super::amqp::{self, DEAD_LETTER_EXCHANGE, EXIT_HEADER, REASON_HEADER};
use super::catalog;
use super::envelope::CommandEnvelope;
use super::servicebus;
use crate::broker::servicebus::ConnectionString;
use crate::error::{Error, Result};
use crate::events::Envelope;

/// What `send` did.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `cmd-…`.
    pub command_id: String,
    /// The queue it went to.
    pub queue: String,
    /// With `--wait`: the outcome event.
    pub outcome: Option<Envelope>,
    /// With `--wait`: the reason it was dead-lettered.
    pub dead_lettered: Option<String>,
    /// The exit code the command line would give (with `--wait`).
    pub exit_code: u8,
}

/// Where a command goes.
pub enum Destination {
    /// `amqp://…` (or `amqps://…`).
    Amqp(String),
    /// A Service Bus namespace.
    ServiceBus(ConnectionString),
}

/// Puts a command on `queue`; with `wait`, waits for its outcome event of type
/// `outcome_type` (matched by causation) or its dead-lettering.
pub fn send(
    destination: Destination,
    service: &str,
    envelope: &CommandEnvelope,
    outcome_type: Option<&str>,
    wait: Option<Duration>,
) -> Result<Sent> {
    let queue = catalog::queue(service);
    let url = match destination {
        Destination::ServiceBus(connection) => {
            return crate::runtime::block_on(send_to_service_bus(
                connection, &queue, envelope, wait,
            ));
        }
        Destination::Amqp(url) => url,
    };
    crate::runtime::block_on(async {
        let url = &url;
        let (connection, channel) = amqp::open(url).await?;
        amqp::declare(&channel, url, &[service]).await?;
        let mut watch = None;
        if wait.is_some() {
            let options = QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            };
            let waiting = channel
                .queue_declare("".into(), options, FieldTable::default())
                .await
                .map_err(|e| amqp::failed(url, e))?;
            let name = waiting.name().to_string();
            for topic in crate::events::routing::TOPICS {
                channel
                    .queue_bind(
                        name.as_str().into(),
                        topic.into(),
                        "#".into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await
                    .map_err(|e| amqp::failed(url, e))?;
            }
            let dlq = catalog::dead_letter_queue(&queue);
            channel
                .queue_bind(
                    name.as_str().into(),
                    DEAD_LETTER_EXCHANGE.into(),
                    dlq.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| amqp::failed(url, e))?;
            let consume = BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            };
            watch = Some(
                channel
                    .basic_consume(
                        name.as_str().into(),
                        "factory-send".into(),
                        consume,
                        FieldTable::default(),
                    )
                    .await
                    .map_err(|e| amqp::failed(url, e))?,
            );
        }
        amqp::publish(
            &channel,
            url,
            "",
            &queue,
            &envelope.to_bytes(),
            amqp::properties(envelope, &[]),
        )
        .await?;
        let mut sent = Sent {
            command_id: envelope.command_id.clone(),
            queue: queue.clone(),
            outcome: None,
            dead_lettered: None,
            exit_code: 0,
        };
        if let (Some(mut watch), Some(wait)) = (watch, wait) {
            let started = tokio::time::Instant::now();
            let mut chain = std::collections::HashSet::from([envelope.command_id.clone()]);
            let waited = loop {
                // A failed outcome may be followed by the command's dead-lettering, whose
                // exit code (2 for a malformed command) is the one to give.
                let left = match &sent.outcome {
                    Some(_) if sent.exit_code != 0 => Duration::from_secs(2)
                        .saturating_sub(started.elapsed())
                        .min(wait),
                    Some(_) => break Ok(()),
                    None => wait.saturating_sub(started.elapsed()),
                };
                let Ok(Some(Ok(message))) = tokio::time::timeout(left, watch.next()).await else {
                    break if sent.outcome.is_some() {
                        Ok(())
                    } else {
                        Err(())
                    };
                };
                if message.exchange.as_str() == DEAD_LETTER_EXCHANGE {
                    let id = message
                        .properties
                        .message_id()
                        .as_ref()
                        .map(|m| m.to_string());
                    if id.as_deref() == Some(envelope.command_id.as_str()) {
                        sent.dead_lettered = Some(
                            amqp::header(&message.properties, REASON_HEADER).unwrap_or_default(),
                        );
                        sent.exit_code = amqp::header(&message.properties, EXIT_HEADER)
                            .and_then(|c| c.parse().ok())
                            .unwrap_or(1);
                        break Ok(());
                    }
                    continue;
                }
                let Ok(event) = Envelope::from_line(&message.data) else {
                    continue;
                };
                if !event
                    .causation_id
                    .as_ref()
                    .is_some_and(|c| chain.contains(c))
                {
                    continue;
                }
                chain.insert(event.event_id.clone());
                if sent.outcome.is_none() && Some(event.event_type.as_str()) == outcome_type {
                    sent.exit_code = outcome_exit_code(&event);
                    sent.outcome = Some(event);
                }
            };
            if waited.is_err() {
                let _ = connection.close(200, "send done".into()).await;
                return Err(Error::new(format!(
                    "no outcome for {} within {} s; it stays on {queue}",
                    envelope.command_id,
                    wait.as_secs()
                ))
                .hint("is a worker serving that queue? `factory worker --from URL` starts one"));
            }
        }
        let _ = connection.close(200, "send done".into()).await;
        Ok(sent)
    })
}

/// Sends a command to a Service Bus queue (`MessageId` = the command id without `cmd-`,
/// as the event push writes event ids). The outcome is not awaited there: events go to
/// topics, whose subscriptions the platform owns.
async fn send_to_service_bus(
    connection: ConnectionString,
    queue: &str,
    envelope: &CommandEnvelope,
    wait: Option<Duration>,
) -> Result<Sent> {
    if wait.is_some() {
        return Err(Error::usage("--wait needs RabbitMQ: on Service Bus the outcome arrives on the topics' subscriptions")
            .hint("read the outcome from a subscription to factory.integration, matched by the command's correlation id"));
    }
    let queues = servicebus::Queues::new(connection)?;
    let broker = serde_json::json!({
        "MessageId": envelope.command_id.trim_start_matches("cmd-"),
        "CorrelationId": envelope.correlation_id,
        "Label": envelope.command_type,
        "ContentType": "application/json",
    });
    let properties = vec![
        ("cs-command-type".to_string(), envelope.command_type.clone()),
        ("cs-tenant-id".to_string(), envelope.tenant_id.clone()),
        ("cs-trace-id".to_string(), envelope.trace_id.clone()),
        (
            "cs-correlation-id".to_string(),
            envelope.correlation_id.clone(),
        ),
    ];
    queues
        .send(queue, &envelope.to_bytes(), broker, &properties)
        .await?;
    Ok(Sent {
        command_id: envelope.command_id.clone(),
        queue: queue.to_string(),
        outcome: None,
        dead_lettered: None,
        exit_code: 0,
    })
}

/// The exit code the command line gives for an outcome event (0 for a type this build
/// does not know).
fn outcome_exit_code(event: &Envelope) -> u8 {
    crate::domain::DomainEvent::from_parts(&event.event_type, &event.payload)
        .ok()
        .flatten()
        .map_or(0, |e| e.outcome_exit_code())
}
