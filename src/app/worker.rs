//! `factory worker` and `factory send`: commands over RabbitMQ. The worker takes commands
//! from its services' queues, handles each through [`super::command::handle`] (the CLI's
//! use cases), pushes the events to the topics with the existing push machinery (the log is
//! the outbox, publisher confirms), and acks only after both. Failures are tried again up
//! to `max_attempts`, then dead-lettered with the reason in a header; SIGTERM and SIGINT stop
//! it taking, let what is in flight finish, and leave the rest queued.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};

use super::command::{self, CommandIndex, Handled, WorkerSettings};
use super::{Session, Settings};
use crate::broker::{self, Target};
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::queue::amqp::{self, ATTEMPT_HEADER, DEAD_LETTER_EXCHANGE, EXIT_HEADER, REASON_HEADER};
use crate::queue::catalog;
use crate::queue::envelope::CommandEnvelope;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `amqp://…`: the commands come from here and the events go here.
    pub url: String,
    /// The services whose queues it serves.
    pub services: Vec<String>,
    /// Commands handled at once.
    pub concurrency: usize,
    /// Commands the broker sends ahead per queue.
    pub prefetch: u16,
    /// Attempts before a failing command is dead-lettered.
    pub max_attempts: u32,
    /// How often a health line is reported.
    pub health_every: Duration,
}

/// What a worker has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// Commands whose outcome was recorded (including those found done).
    pub handled: u64,
    /// Commands dead-lettered.
    pub dead_lettered: u64,
    /// Attempts that failed (each tried again or dead-lettered).
    pub failed: u64,
    /// Being handled now.
    pub in_flight: u64,
}

#[derive(Default)]
struct Counters {
    handled: AtomicU64,
    dead_lettered: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
}

impl Counters {
    fn health(&self) -> Health {
        Health {
            handled: self.handled.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// The services a `--services` list names (all of them when empty).
pub fn services(named: &[String]) -> Result<Vec<String>> {
    let known = catalog::services();
    if named.is_empty() {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    for name in named {
        if !known.contains(&name.as_str()) {
            return Err(Error::usage(format!("`{name}` is not a service"))
                .hint(format!("the services are: {}", known.join(", "))));
        }
    }
    Ok(named.to_vec())
}

struct Shared {
    worker: WorkerSettings,
    options: WorkerOptions,
    index: Mutex<CommandIndex>,
    counters: Counters,
    channel: Channel,
}

/// Serves commands until SIGTERM or SIGINT; `report` hears the health every interval.
pub fn run_worker(
    worker: WorkerSettings,
    options: WorkerOptions,
    report: &(dyn Fn(Health) + Sync),
) -> Result<Health> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the I/O runtime: {e}")))?;
    runtime.block_on(async {
        let url = options.url.clone();
        let (connection, channel) = amqp::open(&url).await?;
        let names: Vec<&str> = options.services.iter().map(String::as_str).collect();
        amqp::declare(&channel, &url, &names).await?;
        channel
            .basic_qos(options.prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| amqp::failed(&url, e))?;
        let (sender, mut deliveries) = tokio::sync::mpsc::channel(usize::from(options.prefetch.max(1)) * names.len());
        let mut tags = Vec::new();
        for service in &names {
            let queue = catalog::queue(service);
            let tag = format!("factory-worker-{}-{service}", std::process::id());
            let mut consumer = channel
                .basic_consume(queue.as_str().into(), tag.as_str().into(), BasicConsumeOptions::default(), FieldTable::default())
                .await
                .map_err(|e| amqp::failed(&url, e))?;
            tags.push(tag);
            let sender = sender.clone();
            tokio::spawn(async move {
                while let Some(Ok(delivery)) = consumer.next().await {
                    if sender.send((queue.clone(), delivery)).await.is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let shared = Arc::new(Shared {
            worker,
            options: options.clone(),
            index: Mutex::new(CommandIndex::default()),
            counters: Counters::default(),
            channel: channel.clone(),
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Error::new(format!("cannot watch for SIGTERM: {e}")))?;
        let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| Error::new(format!("cannot watch for SIGINT: {e}")))?;
        let mut tick = tokio::time::interval(options.health_every);
        tick.tick().await;
        loop {
            tokio::select! {
                next = deliveries.recv() => {
                    let Some((queue, delivery)) = next else { break };
                    let slot = Arc::clone(&slots).acquire_owned().await.expect("the semaphore stays open");
                    let shared = Arc::clone(&shared);
                    shared.counters.in_flight.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        process(&shared, &queue, delivery).await;
                        shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
                        drop(slot);
                    });
                }
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
                _ = tick.tick() => report(shared.counters.health()),
            }
        }
        // Stop taking; what is in flight finishes; what was sent ahead is requeued when
        // the channel closes unacknowledged.
        for tag in &tags {
            let _ = channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()).await;
        }
        let _ = slots.acquire_many(options.concurrency.max(1) as u32).await;
        let health = shared.counters.health();
        let _ = connection.close(200, "worker stopped".into()).await;
        Ok(health)
    })
}

/// Handles one delivery to its end: acked after its events are appended and published,
/// tried again, or dead-lettered.
async fn process(shared: &Arc<Shared>, queue: &str, delivery: lapin::message::Delivery) {
    let attempt: u32 = amqp::header(&delivery.properties, ATTEMPT_HEADER)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let outcome = match CommandEnvelope::parse(&delivery.data) {
        Err(e) => Err((e.message, 2)),
        Ok(envelope) => {
            let (inner, redelivered) = (Arc::clone(shared), delivery.redelivered || attempt > 1);
            let for_task = envelope.clone();
            let handled = tokio::task::spawn_blocking(move || {
                command::handle(&inner.worker, &inner.index, &for_task, redelivered)
            })
            .await
            .unwrap_or_else(|e| Handled::Failed {
                reason: format!("the handler stopped: {e}"),
            });
            Ok((envelope, handled))
        }
    };
    let url = &shared.options.url;
    let dead_letter = |reason: String, exit_code: u8| {
        let properties = with_headers(
            &delivery.properties,
            &[
                (REASON_HEADER, reason),
                (EXIT_HEADER, exit_code.to_string()),
                (ATTEMPT_HEADER, attempt.to_string()),
            ],
        );
        let dlq = catalog::dead_letter_queue(queue);
        let channel = shared.channel.clone();
        let body = delivery.data.clone();
        async move { amqp::publish(&channel, url, DEAD_LETTER_EXCHANGE, &dlq, &body, properties).await }
    };
    let settled = match outcome {
        Err((reason, exit_code)) => dead_letter(reason, exit_code)
            .await
            .map(|()| Some(&shared.counters.dead_lettered)),
        Ok((envelope, handled)) => match handled {
            Handled::Recorded { failure, .. } => match publish_events(shared).await {
                Err(e) => Err(e),
                Ok(()) => match failure {
                    Some(reason) => dead_letter(reason, 1)
                        .await
                        .map(|()| Some(&shared.counters.handled)),
                    None => Ok(Some(&shared.counters.handled)),
                },
            },
            Handled::Rejected { reason, exit_code } => {
                give_up(shared, &envelope, &reason).await;
                dead_letter(reason, exit_code)
                    .await
                    .map(|()| Some(&shared.counters.dead_lettered))
            }
            Handled::Failed { reason } if attempt < shared.options.max_attempts => {
                shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                let properties = with_headers(
                    &delivery.properties,
                    &[
                        (ATTEMPT_HEADER, (attempt + 1).to_string()),
                        (REASON_HEADER, reason),
                    ],
                );
                amqp::publish(&shared.channel, url, "", queue, &delivery.data, properties)
                    .await
                    .map(|()| None)
            }
            Handled::Failed { reason } => {
                shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                give_up(shared, &envelope, &reason).await;
                dead_letter(format!("{reason} (after {attempt} attempts)"), 1)
                    .await
                    .map(|()| Some(&shared.counters.dead_lettered))
            }
        },
    };
    match settled {
        // Settled (a retry is a new message at the back of the queue).
        Ok(counter) => {
            if let Some(counter) = counter {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            let _ = delivery.acker.ack(BasicAckOptions::default()).await;
        }
        // The broker or the push failed: the command stays unacknowledged and comes back
        // (its events, if appended, are found and published then).
        Err(_) => {
            let _ = delivery
                .acker
                .nack(lapin::options::BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await;
        }
    }
}

/// A command given up on: its failure recorded where the catalog has an event for it.
async fn give_up(shared: &Arc<Shared>, envelope: &CommandEnvelope, reason: &str) {
    let (inner, envelope, reason) = (Arc::clone(shared), envelope.clone(), reason.to_string());
    let recorded = tokio::task::spawn_blocking(move || {
        command::record_failed_execution(&inner.worker, &envelope, &reason)
    })
    .await;
    if matches!(recorded, Ok(Ok(ref ids)) if !ids.is_empty()) {
        let _ = publish_events(shared).await;
    }
}

/// Pushes what the store's log holds beyond the broker's cursor (the outbox).
async fn publish_events(shared: &Arc<Shared>) -> Result<()> {
    let inner = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        let session = Session::open(inner.worker.settings.clone())?;
        let push = &session.store.config().push;
        let options = broker::push::Options {
            require_route: push.require_route,
            ..Default::default()
        };
        broker::push::push(
            &session.store,
            &Target::Amqp(inner.options.url.clone()),
            options,
            |name| push.connection_string(name),
        )?;
        Ok(())
    })
    .await
    .map_err(|e| Error::new(format!("the push stopped: {e}")))?
}

/// The delivery's properties with these headers set.
fn with_headers(properties: &BasicProperties, extra: &[(&str, String)]) -> BasicProperties {
    let mut headers = properties.headers().clone().unwrap_or_default();
    for (name, value) in extra {
        headers.insert(
            (*name).into(),
            lapin::types::AMQPValue::LongString(value.as_str().into()),
        );
    }
    properties.clone().with_headers(headers)
}

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

/// A command to send.
#[derive(Debug, Clone)]
pub struct SendCommand {
    /// `amqp://…`.
    pub url: String,
    /// VerbNoun.
    pub command_type: String,
    /// Its payload.
    pub payload: serde_json::Value,
    /// The service whose queue it goes to (default: the catalog's for the type).
    pub service: Option<String>,
    /// Send it even when it does not fit its schema (to test a worker's dead-lettering).
    pub unchecked: bool,
    /// Wait this long for the outcome.
    pub wait: Option<Duration>,
}

/// Puts a command on its queue; with `wait`, waits for its outcome event (matched by
/// causation) or its dead-lettering.
pub fn send_command(settings: &Settings, request: SendCommand) -> Result<Sent> {
    let spec = catalog::find(&request.command_type);
    if !request.unchecked {
        crate::queue::Command::parse(&request.command_type, &request.payload)?;
    }
    let service = match (&request.service, spec) {
        (Some(service), _) => services(std::slice::from_ref(service))?.remove(0),
        (None, Some(spec)) => spec.service.to_string(),
        (None, None) => {
            return Err(
                crate::queue::Command::parse(&request.command_type, &request.payload).unwrap_err(),
            );
        }
    };
    let queue = catalog::queue(&service);
    let envelope = CommandEnvelope {
        command_id: crate::ids::new_id(crate::ids::COMMAND),
        command_type: request.command_type.clone(),
        tenant_id: settings
            .tenant
            .clone()
            .unwrap_or_else(|| crate::store::config::DEFAULT_TENANT.to_string()),
        project_id: settings.project.clone(),
        module_id: settings.module.clone(),
        trace_id: settings.trace_id.clone(),
        correlation_id: settings.correlation_id.clone(),
        causation_id: settings.causation_id.clone(),
        issued_at: crate::clock::format_rfc3339(time::OffsetDateTime::now_utc()),
        payload: request.payload.clone(),
    };
    let outcome_type = spec.map(|s| s.outcome);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the I/O runtime: {e}")))?;
    runtime.block_on(async {
        let url = &request.url;
        let (connection, channel) = amqp::open(url).await?;
        amqp::declare(&channel, url, &[service.as_str()]).await?;
        let mut watch = None;
        if request.wait.is_some() {
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
            amqp::properties(&envelope, &[]),
        )
        .await?;
        let mut sent = Sent {
            command_id: envelope.command_id.clone(),
            queue: queue.clone(),
            outcome: None,
            dead_lettered: None,
            exit_code: 0,
        };
        if let (Some(mut watch), Some(wait)) = (watch, request.wait) {
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

/// The exit code the command line gives for an outcome event.
fn outcome_exit_code(event: &Envelope) -> u8 {
    let payload = &event.payload;
    match event.event_type.as_str() {
        "TemplateExecuted" if payload["status"] == "Failed" => 1,
        "TemplateValidated" if payload["passed"] == false => 3,
        "CompatibilityEvaluated" if payload["compatible"] == false => 3,
        "TemplateUpgradePlanCreated" if payload["conflictCount"].as_u64().unwrap_or(0) > 0 => 3,
        _ => 0,
    }
}
