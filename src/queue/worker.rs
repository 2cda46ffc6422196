//! The worker's transport: commands taken from the services' queues (RabbitMQ, or Service
//! Bus over REST), each given to a [`Handler`] (the application's: the CLI's use cases), its
//! events published through the handler (the log is the outbox), and the delivery settled
//! only after both. Transient failures are tried again up to `max_attempts`, then
//! dead-lettered with the reason in a header; permanent ones are dead-lettered at once.
//! SIGTERM and SIGINT stop it taking, let what is in flight finish, and leave the rest queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};

use super::amqp::{self, ATTEMPT_HEADER, DEAD_LETTER_EXCHANGE, EXIT_HEADER, REASON_HEADER};
use super::catalog;
use super::envelope::CommandEnvelope;
use super::servicebus;
use crate::broker::servicebus::ConnectionString;
use crate::error::{Error, Result};

/// The largest command a worker reads (envelope and payload): answers and keys beyond it
/// are no template's, and would be recorded in the log and sent to every topic.
pub const MAX_COMMAND_BYTES: usize = 1 << 20;

/// What handling a command came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The command's events are in the log: appended now, or by an earlier delivery.
    Recorded {
        /// Their ids.
        events: Vec<String>,
        /// The exit code the command line would have given (0, 1 or 3).
        exit_code: u8,
        /// A failure to report in the dead-letter queue as well (the event records it).
        failure: Option<String>,
        /// Found done already: nothing was done again.
        again: bool,
    },
    /// Refused for good (a malformed command, a template that is not there): to the
    /// dead-letter queue now.
    Rejected {
        /// Why.
        reason: String,
        /// 1 or 2.
        exit_code: u8,
    },
    /// Failed without recording anything, for a reason that may pass; worth another attempt.
    Failed {
        /// Why.
        reason: String,
    },
}

/// One command handled, as the worker's log line tells it (celery's "Task … succeeded in
/// 0.5s"): what it was, what became of it, how long it took and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Processed {
    /// Its type, when the message was an envelope that says it.
    pub command_type: Option<String>,
    /// Its id, likewise.
    pub command_id: Option<String>,
    /// The queue it came from.
    pub queue: String,
    /// Which delivery this was (1 for the first).
    pub attempt: u32,
    /// `succeeded`, `failed` (taken and failed, exit 1 or 3; with exit 1 a copy goes to the
    /// dead-letter queue too), `duplicate` (found done by an earlier delivery), `retrying`,
    /// `dead-lettered` (refused as malformed, exit 2), or `requeued` (put back untouched:
    /// the push or the broker failed).
    pub outcome: &'static str,
    /// The exit code the command line would have given, when there is one.
    pub exit_code: Option<u8>,
    /// From delivery to settlement, in milliseconds.
    pub duration_ms: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// Hears each command handled.
pub type Log = Arc<dyn Fn(&Processed) + Send + Sync>;

/// What the transport asks of the application, each call made off the I/O thread.
pub trait Handler: Send + Sync + 'static {
    /// Handles one command to its outcome.
    fn handle(&self, envelope: &CommandEnvelope, redelivered: bool) -> Handled;
    /// A command given up on: its failure recorded where the catalog has an event for it;
    /// whether anything was recorded.
    fn give_up(&self, envelope: &CommandEnvelope, reason: &str) -> bool;
    /// Publishes what the log holds beyond the broker's cursor.
    fn publish(&self) -> Result<()>;
    /// Ends the handler's connections (the worker stops).
    fn close(&self) {}
}

/// Where the commands come from.
pub enum Source {
    /// `amqp://…` (or `amqps://…`).
    Amqp(String),
    /// A Service Bus namespace.
    ServiceBus(ConnectionString),
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Commands whose outcome was recorded (including those found done).
    pub handled: u64,
    /// Attempts that failed (each tried again or dead-lettered).
    pub failed: u64,
    /// Commands dead-lettered.
    pub dead_lettered: u64,
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

struct Shared<H> {
    handler: H,
    log: Log,
    options: WorkerOptions,
    counters: Counters,
    transport: Transport,
}

/// Where commands come from and what settles them.
enum Transport {
    /// RabbitMQ: acks, a copy through the dead-letter exchange, a copy for a retry.
    Amqp { channel: Channel, url: String },
    /// Service Bus over REST: complete, abandon, a copy to `QUEUE.dlq`, lock renewal.
    ServiceBus { queues: Arc<servicebus::Queues> },
}

/// A command as its transport delivered it.
struct Incoming {
    queue: String,
    body: Vec<u8>,
    attempt: u32,
    redelivered: bool,
    receipt: Receipt,
}

enum Receipt {
    Amqp(Box<lapin::message::Delivery>),
    ServiceBus(servicebus::Locked),
}

/// What becomes of a delivery once handled.
enum Action {
    /// Done: acked (completed), counted.
    Complete,
    /// Given up on: dead-lettered with the reason, then acked.
    DeadLetter { reason: String, exit_code: u8 },
    /// Tried again later.
    Retry { reason: String },
}

impl<H: Handler> Shared<H> {
    /// Settles a delivery; an error leaves it to come back.
    async fn settle(&self, incoming: &Incoming, action: Action) -> Result<()> {
        match (&self.transport, &incoming.receipt) {
            (Transport::Amqp { channel, url }, Receipt::Amqp(delivery)) => {
                match action {
                    Action::Complete => {}
                    Action::DeadLetter { reason, exit_code } => {
                        let headers = [
                            (REASON_HEADER, reason),
                            (EXIT_HEADER, exit_code.to_string()),
                            (ATTEMPT_HEADER, incoming.attempt.to_string()),
                        ];
                        let properties = with_headers(&delivery.properties, &headers);
                        let dlq = catalog::dead_letter_queue(&incoming.queue);
                        amqp::publish(
                            channel,
                            url,
                            DEAD_LETTER_EXCHANGE,
                            &dlq,
                            &incoming.body,
                            properties,
                        )
                        .await?;
                    }
                    Action::Retry { reason } => {
                        let headers = [
                            (ATTEMPT_HEADER, (incoming.attempt + 1).to_string()),
                            (REASON_HEADER, reason),
                        ];
                        let properties = with_headers(&delivery.properties, &headers);
                        amqp::publish(
                            channel,
                            url,
                            "",
                            &incoming.queue,
                            &incoming.body,
                            properties,
                        )
                        .await?;
                    }
                }
                delivery
                    .acker
                    .ack(BasicAckOptions::default())
                    .await
                    .map_err(|e| amqp::failed(url, e))?;
                Ok(())
            }
            (Transport::ServiceBus { queues, .. }, Receipt::ServiceBus(locked)) => match action {
                Action::Complete => queues.complete(&incoming.queue, locked).await,
                Action::DeadLetter { reason, exit_code } => {
                    let extra = [
                        (REASON_HEADER.to_string(), reason),
                        (EXIT_HEADER.to_string(), exit_code.to_string()),
                        (ATTEMPT_HEADER.to_string(), incoming.attempt.to_string()),
                    ];
                    queues.dead_letter(&incoming.queue, locked, &extra).await
                }
                // Abandoned, it comes back with its delivery count one higher.
                Action::Retry { .. } => queues.abandon(&incoming.queue, locked).await,
            },
            _ => unreachable!("a delivery is settled by the transport it came from"),
        }
    }

    /// Puts a delivery back untouched (a failed push, a stop).
    async fn release(&self, incoming: &Incoming) {
        match (&self.transport, &incoming.receipt) {
            (Transport::Amqp { .. }, Receipt::Amqp(delivery)) => {
                let requeue = lapin::options::BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                };
                let _ = delivery.acker.nack(requeue).await;
            }
            (Transport::ServiceBus { queues, .. }, Receipt::ServiceBus(locked)) => {
                let _ = queues.abandon(&incoming.queue, locked).await;
            }
            _ => {}
        }
    }
}

/// Serves commands until SIGTERM or SIGINT; `report` hears the health every interval.
pub fn run<H: Handler>(
    source: Source,
    options: WorkerOptions,
    handler: H,
    report: &(dyn Fn(Health) + Sync),
    log: Log,
) -> Result<Health> {
    crate::runtime::block_on(async {
        let names: Vec<&str> = options.services.iter().map(String::as_str).collect();
        let capacity = usize::from(options.prefetch.max(1)) * names.len();
        let (sender, mut deliveries) = tokio::sync::mpsc::channel::<Incoming>(capacity);
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (transport, connection, tags) = match source {
            Source::Amqp(url) => {
                let (connection, channel) = amqp::open(&url).await?;
                amqp::declare(&channel, &url, &names).await?;
                channel
                    .basic_qos(options.prefetch, BasicQosOptions::default())
                    .await
                    .map_err(|e| amqp::failed(&url, e))?;
                let mut tags = Vec::new();
                for service in &names {
                    let queue = catalog::queue(service);
                    let tag = format!("factory-worker-{}-{service}", std::process::id());
                    let mut consumer = channel
                        .basic_consume(
                            queue.as_str().into(),
                            tag.as_str().into(),
                            BasicConsumeOptions::default(),
                            FieldTable::default(),
                        )
                        .await
                        .map_err(|e| amqp::failed(&url, e))?;
                    tags.push(tag);
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        while let Some(Ok(delivery)) = consumer.next().await {
                            let attempt = amqp::header(&delivery.properties, ATTEMPT_HEADER)
                                .and_then(|a| a.parse().ok())
                                .unwrap_or(1);
                            let incoming = Incoming {
                                queue: queue.clone(),
                                body: delivery.data.clone(),
                                attempt,
                                redelivered: delivery.redelivered || attempt > 1,
                                receipt: Receipt::Amqp(Box::new(delivery)),
                            };
                            if sender.send(incoming).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                (Transport::Amqp { channel, url }, Some(connection), tags)
            }
            Source::ServiceBus(connection) => {
                let queues = Arc::new(servicebus::Queues::new(connection)?);
                for service in &names {
                    let (queue, queues, sender, stopping) = (
                        catalog::queue(service),
                        Arc::clone(&queues),
                        sender.clone(),
                        Arc::clone(&stopping),
                    );
                    tokio::spawn(async move {
                        while !stopping.load(Ordering::Relaxed) {
                            match queues.receive(&queue, Duration::from_secs(5)).await {
                                Ok(Some(locked)) => {
                                    let attempt = locked.delivery_count.max(1);
                                    let incoming = Incoming {
                                        queue: queue.clone(),
                                        body: locked.body.clone(),
                                        attempt,
                                        redelivered: attempt > 1,
                                        receipt: Receipt::ServiceBus(locked),
                                    };
                                    if sender.send(incoming).await.is_err() {
                                        break;
                                    }
                                }
                                // An empty answer may come at once (an emulator): do not spin.
                                Ok(None) | Err(_) => {
                                    tokio::time::sleep(Duration::from_millis(100)).await
                                }
                            }
                        }
                    });
                }
                (Transport::ServiceBus { queues }, None, Vec::new())
            }
        };
        drop(sender);
        let shared = Arc::new(Shared {
            handler,
            log,
            options: options.clone(),
            counters: Counters::default(),
            transport,
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Error::new(format!("cannot watch for SIGTERM: {e}")))?;
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| Error::new(format!("cannot watch for SIGINT: {e}")))?;
        let mut tick = tokio::time::interval(options.health_every);
        tick.tick().await;
        // Whether the deliveries ended without being asked to: the broker went away.
        let lost = loop {
            tokio::select! {
                next = deliveries.recv() => {
                    let Some(incoming) = next else { break true };
                    let slot = Arc::clone(&slots).acquire_owned().await.expect("the semaphore stays open");
                    let shared = Arc::clone(&shared);
                    shared.counters.in_flight.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        process(&shared, incoming).await;
                        shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
                        drop(slot);
                    });
                }
                _ = terminate.recv() => break false,
                _ = interrupt.recv() => break false,
                _ = tick.tick() => report(shared.counters.health()),
            }
        };
        // Stop taking; what is in flight finishes; what was taken ahead goes back.
        stopping.store(true, Ordering::Relaxed);
        if let Transport::Amqp { channel, .. } = &shared.transport {
            for tag in &tags {
                let _ = channel
                    .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
                    .await;
            }
        }
        deliveries.close();
        while let Ok(incoming) = deliveries.try_recv() {
            shared.release(&incoming).await;
        }
        let _ = slots.acquire_many(options.concurrency.max(1) as u32).await;
        let health = shared.counters.health();
        let inner = Arc::clone(&shared);
        let _ = tokio::task::spawn_blocking(move || inner.handler.close()).await;
        if let Some(connection) = connection {
            let _ = connection.close(200, "worker stopped".into()).await;
        }
        if lost {
            report(health);
            return Err(Error::unavailable(format!(
                "the broker closed the connection after {} command(s) were handled; what was not acknowledged stays queued",
                health.handled
            ))
            .hint("start the worker again (a supervisor restarts it on a non-zero exit)"));
        }
        Ok(health)
    })
}

/// Handles one delivery to its end: completed after its events are appended and
/// published, tried again, or dead-lettered.
async fn process<H: Handler>(shared: &Arc<Shared<H>>, mut incoming: Incoming) {
    let started = std::time::Instant::now();
    let mut line = Processed {
        command_type: None,
        command_id: None,
        queue: incoming.queue.clone(),
        attempt: incoming.attempt,
        outcome: "requeued",
        exit_code: None,
        duration_ms: 0,
        error: None,
    };
    // A long generation keeps its Service Bus lock, renewed until just before it is
    // settled (a renewal never races the completion).
    let stop_renewing = Arc::new(tokio::sync::Notify::new());
    let renewing = match (&shared.transport, &incoming.receipt) {
        (Transport::ServiceBus { queues }, Receipt::ServiceBus(locked)) => {
            let (queues, queue, locked) =
                (Arc::clone(queues), incoming.queue.clone(), locked.clone());
            let stop = Arc::clone(&stop_renewing);
            Some(tokio::spawn(async move {
                let every = (locked.lock_for / 2).max(Duration::from_millis(200));
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => { let _ = queues.renew(&queue, &locked).await; }
                        _ = stop.notified() => break,
                    }
                }
            }))
        }
        _ => None,
    };
    let attempt = incoming.attempt;
    let parsed = match incoming.body.len() {
        size if size > MAX_COMMAND_BYTES => {
            // Dead-lettered without its body: a copy that size is what the broker (or a
            // consumer of the dead-letter queue) would choke on next.
            incoming.body = Vec::new();
            Err(Error::usage(format!(
                "the command is {size} bytes, more than the {MAX_COMMAND_BYTES} a command may be; it was not read, and its body is not kept"
            )))
        }
        _ => CommandEnvelope::parse(&incoming.body),
    };
    (line.command_type, line.command_id) = match &parsed {
        Ok(envelope) => (
            Some(envelope.command_type.clone()),
            Some(envelope.command_id.clone()),
        ),
        Err(_) => named_in(&incoming.body),
    };
    let mut recorded = None;
    let (action, counter) = match parsed {
        Err(e) => (
            Ok(Action::DeadLetter {
                reason: e.message,
                exit_code: 2,
            }),
            Some(&shared.counters.dead_lettered),
        ),
        Ok(envelope) => {
            let (inner, for_task, redelivered) =
                (Arc::clone(shared), envelope.clone(), incoming.redelivered);
            let handled =
                tokio::task::spawn_blocking(move || inner.handler.handle(&for_task, redelivered))
                    .await
                    .unwrap_or_else(|e| Handled::Failed {
                        reason: format!("the handler stopped: {e}"),
                    });
            match handled {
                Handled::Recorded {
                    failure,
                    exit_code,
                    again,
                    ..
                } => {
                    recorded = Some((exit_code, again));
                    let published = publish_events(shared).await;
                    let action = match failure {
                        Some(reason) => Action::DeadLetter {
                            reason,
                            exit_code: exit_code.max(1),
                        },
                        None => Action::Complete,
                    };
                    (published.map(|()| action), Some(&shared.counters.handled))
                }
                Handled::Rejected { reason, exit_code } => {
                    give_up(shared, &envelope, &reason).await;
                    (
                        Ok(Action::DeadLetter { reason, exit_code }),
                        Some(&shared.counters.dead_lettered),
                    )
                }
                Handled::Failed { reason } if attempt < shared.options.max_attempts => {
                    shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                    (Ok(Action::Retry { reason }), None)
                }
                Handled::Failed { reason } => {
                    shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                    give_up(shared, &envelope, &reason).await;
                    let reason = format!("{reason} (after {attempt} attempts)");
                    (
                        Ok(Action::DeadLetter {
                            reason,
                            exit_code: 1,
                        }),
                        Some(&shared.counters.dead_lettered),
                    )
                }
            }
        }
    };
    // The push failed, or the broker did: the command comes back (its events, if
    // appended, are found and published then).
    // A retry waits a moment first, the command still held.
    if let Ok(Action::Retry { .. }) = &action {
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
    if let Some(renewing) = renewing {
        stop_renewing.notify_one();
        let _ = renewing.await;
    }
    (line.outcome, line.exit_code, line.error) = summary(&action, recorded);
    let settled = match action {
        Ok(action) => shared.settle(&incoming, action).await,
        Err(e) => Err(e),
    };
    match settled {
        Ok(()) => {
            if let Some(counter) = counter {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(e) => {
            shared.release(&incoming).await;
            (line.outcome, line.exit_code, line.error) = ("requeued", None, Some(e.message));
        }
    }
    line.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (shared.log)(&line);
}

/// The log line's outcome, exit code and error for what is about to be done with a
/// delivery; `recorded` is a recorded command's exit code and whether it was found done. A
/// command taken and failed is `failed` though a copy goes to the dead-letter queue too;
/// one refused as malformed (exit 2) is `dead-lettered`, as `send --wait` says.
fn summary(
    action: &Result<Action>,
    recorded: Option<(u8, bool)>,
) -> (&'static str, Option<u8>, Option<String>) {
    let (exit_code, again) = recorded.unwrap_or_default();
    match action {
        Ok(Action::Complete) if again => ("duplicate", Some(exit_code), None),
        Ok(Action::Complete) if exit_code == 0 => ("succeeded", Some(0), None),
        Ok(Action::Complete) => ("failed", Some(exit_code), None),
        Ok(Action::DeadLetter { reason, exit_code }) => (
            if *exit_code == 2 {
                "dead-lettered"
            } else {
                "failed"
            },
            Some(*exit_code),
            Some(reason.clone()),
        ),
        Ok(Action::Retry { reason }) => ("retrying", None, Some(reason.clone())),
        Err(e) => ("requeued", None, Some(e.message.clone())),
    }
}

/// The type and id a message that is no valid envelope still names, for the log line.
fn named_in(body: &[u8]) -> (Option<String>, Option<String>) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_string);
    (field("commandType"), field("commandId"))
}

/// A command given up on: its failure recorded where the catalog has an event for it.
async fn give_up<H: Handler>(shared: &Arc<Shared<H>>, envelope: &CommandEnvelope, reason: &str) {
    let (inner, envelope, reason) = (Arc::clone(shared), envelope.clone(), reason.to_string());
    let recorded =
        tokio::task::spawn_blocking(move || inner.handler.give_up(&envelope, &reason)).await;
    if matches!(recorded, Ok(true)) {
        let _ = publish_events(shared).await;
    }
}

/// Publishes the events through the handler, off the I/O thread.
async fn publish_events<H: Handler>(shared: &Arc<Shared<H>>) -> Result<()> {
    let inner = Arc::clone(shared);
    tokio::task::spawn_blocking(move || inner.handler.publish())
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
