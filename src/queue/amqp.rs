//! The command queues on RabbitMQ: every queue durable, dead-lettering into
//! `factory.commands.dlx` with the routing key `QUEUE.dlq`, which is bound to a durable
//! `QUEUE.dlq`; the queues of services that write the registry are declared with
//! `x-single-active-consumer`, so one worker writes at a time and another takes over when
//! it goes. Senders and workers declare the same topology, so either may start first.

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};

use super::catalog;
use super::envelope::CommandEnvelope;
use crate::error::{Error, Result};
use crate::events::routing;
use crate::http::redact_url;

/// The exchange dead-lettered commands go through.
pub const DEAD_LETTER_EXCHANGE: &str = "factory.commands.dlx";
/// The header a dead-lettered command carries its reason in.
pub const REASON_HEADER: &str = "x-factory-error";
/// The header counting how often a command was tried.
pub const ATTEMPT_HEADER: &str = "x-factory-attempt";
/// The header naming the exit code the command would have had on the command line.
pub const EXIT_HEADER: &str = "x-factory-exit-code";

/// A broker error, the URL without its password.
pub fn failed(url: &str, e: lapin::Error) -> Error {
    Error::unavailable(format!("RabbitMQ at {}: {e}", redact_url(url)))
        .hint("check the URL, the credentials and that the broker is running")
}

/// Connects and opens a channel with publisher confirms.
pub async fn open(url: &str) -> Result<(Connection, Channel)> {
    crate::broker::target::register_credentials(url);
    let connection = crate::broker::amqp::connect(url, ConnectionProperties::default())
        .await
        .map_err(|e| failed(url, e))?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| failed(url, e))?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| failed(url, e))?;
    Ok((connection, channel))
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

/// Declares the dead-letter exchange, the topics, and each service's queue and DLQ.
pub async fn declare(channel: &Channel, url: &str, services: &[&str]) -> Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            DEAD_LETTER_EXCHANGE.into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
        .map_err(|e| failed(url, e))?;
    for topic in routing::TOPICS {
        channel
            .exchange_declare(
                topic.into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .map_err(|e| failed(url, e))?;
    }
    let queue_options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    for service in services {
        let queue = catalog::queue(service);
        let dlq = catalog::dead_letter_queue(&queue);
        let mut arguments = FieldTable::default();
        arguments.insert("x-dead-letter-exchange".into(), text(DEAD_LETTER_EXCHANGE));
        arguments.insert("x-dead-letter-routing-key".into(), text(&dlq));
        if catalog::writes_registry(service) {
            arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        }
        channel
            .queue_declare(queue.as_str().into(), queue_options, arguments)
            .await
            .map_err(|e| failed(url, e))?;
        channel
            .queue_declare(dlq.as_str().into(), queue_options, FieldTable::default())
            .await
            .map_err(|e| failed(url, e))?;
        channel
            .queue_bind(
                dlq.as_str().into(),
                DEAD_LETTER_EXCHANGE.into(),
                dlq.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| failed(url, e))?;
    }
    Ok(())
}

/// The properties a command travels with: persistent, its id as the message id, the
/// envelope's fields mirrored as `cs-*` headers, and `extra` headers.
pub fn properties(envelope: &CommandEnvelope, extra: &[(&str, String)]) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert("cs-command-type".into(), text(&envelope.command_type));
    headers.insert("cs-tenant-id".into(), text(&envelope.tenant_id));
    headers.insert("cs-trace-id".into(), text(&envelope.trace_id));
    headers.insert("cs-correlation-id".into(), text(&envelope.correlation_id));
    for (name, value) in extra {
        headers.insert(ShortString::from(*name), text(value));
    }
    BasicProperties::default()
        .with_message_id(envelope.command_id.as_str().into())
        .with_correlation_id(envelope.correlation_id.as_str().into())
        .with_content_type("application/json".into())
        .with_type(envelope.command_type.as_str().into())
        .with_app_id("factory".into())
        .with_delivery_mode(2)
        .with_headers(headers)
}

/// Publishes `body` to `exchange` with `routing_key` and waits for the broker's confirm;
/// a message no queue takes is an error.
pub async fn publish(
    channel: &Channel,
    url: &str,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
) -> Result<()> {
    let options = BasicPublishOptions {
        mandatory: true,
        immediate: false,
    };
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            options,
            body,
            properties,
        )
        .await
        .map_err(|e| failed(url, e))?;
    match confirm.await.map_err(|e| failed(url, e))? {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_)) => Err(Error::new(format!(
            "RabbitMQ has no queue for `{routing_key}` on exchange `{exchange}`"
        ))),
        Confirmation::Nack(None) => Err(Error::new(format!(
            "RabbitMQ refused the message for `{routing_key}`"
        ))),
        Confirmation::NotRequested => unreachable!("confirms are enabled on the channel"),
    }
}

/// A header's text value.
pub fn header(properties: &BasicProperties, name: &str) -> Option<String> {
    let headers = properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        AMQPValue::LongString(value) => Some(value.to_string()),
        AMQPValue::ShortString(value) => Some(value.to_string()),
        AMQPValue::LongInt(n) => Some(n.to_string()),
        AMQPValue::LongLongInt(n) => Some(n.to_string()),
        _ => None,
    }
}
