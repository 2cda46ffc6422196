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
use crate::queue::servicebus;

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
    transport: Transport,
    /// The events' way to the topics, kept open between commands.
    pusher: Mutex<Option<broker::push::Pusher>>,
}

/// Where commands come from, what settles them, and where events go.
enum Transport {
    /// RabbitMQ: acks, a copy through the dead-letter exchange, a copy for a retry.
    Amqp { channel: Channel, url: String },
    /// Service Bus over REST: complete, abandon, a copy to `QUEUE.dlq`, lock renewal.
    ServiceBus {
        queues: Arc<servicebus::Queues>,
        /// The `servicebus:NAME` events are pushed to.
        target: String,
    },
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

impl Shared {
    /// The push target the events go to.
    fn target(&self) -> Result<Target> {
        match &self.transport {
            Transport::Amqp { url, .. } => Ok(Target::Amqp(url.clone())),
            Transport::ServiceBus { target, .. } => Target::parse(target),
        }
    }

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
        let names: Vec<&str> = options.services.iter().map(String::as_str).collect();
        let capacity = usize::from(options.prefetch.max(1)) * names.len();
        let (sender, mut deliveries) = tokio::sync::mpsc::channel::<Incoming>(capacity);
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (transport, connection, tags) = match Target::parse(&options.url)? {
            Target::Amqp(url) => {
                let (connection, channel) = amqp::open(&url).await?;
                amqp::declare(&channel, &url, &names).await?;
                channel.basic_qos(options.prefetch, BasicQosOptions::default()).await.map_err(|e| amqp::failed(&url, e))?;
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
                            let attempt = amqp::header(&delivery.properties, ATTEMPT_HEADER).and_then(|a| a.parse().ok()).unwrap_or(1);
                            let incoming = Incoming { queue: queue.clone(), body: delivery.data.clone(), attempt, redelivered: delivery.redelivered || attempt > 1, receipt: Receipt::Amqp(Box::new(delivery)) };
                            if sender.send(incoming).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                (Transport::Amqp { channel, url }, Some(connection), tags)
            }
            Target::ServiceBus(env) => {
                let text = Session::open(worker.settings.clone())?.store.config().push.connection_string(&env).ok_or_else(|| {
                    Error::usage(format!("no Service Bus connection string in ${env} or store.yaml's push.connectionStrings"))
                })?;
                let queues = Arc::new(servicebus::Queues::new(crate::broker::servicebus::ConnectionString::parse(&text, &env)?));
                for service in &names {
                    let (queue, queues, sender, stopping) = (catalog::queue(service), Arc::clone(&queues), sender.clone(), Arc::clone(&stopping));
                    tokio::spawn(async move {
                        while !stopping.load(Ordering::Relaxed) {
                            match queues.receive(&queue, Duration::from_secs(5)).await {
                                Ok(Some(locked)) => {
                                    let attempt = locked.delivery_count.max(1);
                                    let incoming = Incoming { queue: queue.clone(), body: locked.body.clone(), attempt, redelivered: attempt > 1, receipt: Receipt::ServiceBus(locked) };
                                    if sender.send(incoming).await.is_err() {
                                        break;
                                    }
                                }
                                // An empty answer may come at once (an emulator): do not spin.
                                Ok(None) | Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                            }
                        }
                    });
                }
                (Transport::ServiceBus { queues, target: format!("servicebus:{env}") }, None, Vec::new())
            }
            Target::Http(_) => return Err(Error::usage("a worker takes commands from amqp://… or servicebus:NAME, not an HTTP endpoint")),
        };
        drop(sender);
        let shared = Arc::new(Shared { worker, options: options.clone(), index: Mutex::new(CommandIndex::default()), counters: Counters::default(), transport, pusher: Mutex::new(None) });
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
                    let Some(incoming) = next else { break };
                    let slot = Arc::clone(&slots).acquire_owned().await.expect("the semaphore stays open");
                    let shared = Arc::clone(&shared);
                    shared.counters.in_flight.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        process(&shared, incoming).await;
                        shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
                        drop(slot);
                    });
                }
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
                _ = tick.tick() => report(shared.counters.health()),
            }
        }
        // Stop taking; what is in flight finishes; what was taken ahead goes back.
        stopping.store(true, Ordering::Relaxed);
        if let Transport::Amqp { channel, .. } = &shared.transport {
            for tag in &tags {
                let _ = channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()).await;
            }
        }
        deliveries.close();
        while let Ok(incoming) = deliveries.try_recv() {
            shared.release(&incoming).await;
        }
        let _ = slots.acquire_many(options.concurrency.max(1) as u32).await;
        let health = shared.counters.health();
        let pusher = shared.pusher.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(pusher) = pusher {
            // Its own runtime closes it, outside this one.
            let _ = tokio::task::spawn_blocking(move || pusher.close()).await;
        }
        if let Some(connection) = connection {
            let _ = connection.close(200, "worker stopped".into()).await;
        }
        Ok(health)
    })
}

/// Handles one delivery to its end: completed after its events are appended and
/// published, tried again, or dead-lettered.
async fn process(shared: &Arc<Shared>, incoming: Incoming) {
    // A long generation keeps its Service Bus lock, renewed until just before it is
    // settled (a renewal never races the completion).
    let stop_renewing = Arc::new(tokio::sync::Notify::new());
    let renewing = match (&shared.transport, &incoming.receipt) {
        (Transport::ServiceBus { queues, .. }, Receipt::ServiceBus(locked)) => {
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
    let (action, counter) = match CommandEnvelope::parse(&incoming.body) {
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
            let handled = tokio::task::spawn_blocking(move || {
                command::handle(&inner.worker, &inner.index, &for_task, redelivered)
            })
            .await
            .unwrap_or_else(|e| Handled::Failed {
                reason: format!("the handler stopped: {e}"),
            });
            match handled {
                Handled::Recorded {
                    failure, exit_code, ..
                } => {
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
        Err(_) => shared.release(&incoming).await,
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
        // One connection for every push of this worker; opened again after a failure.
        let mut pusher = inner.pusher.lock().unwrap_or_else(|e| e.into_inner());
        if pusher.is_none() {
            let options = broker::push::Options {
                require_route: push.require_route,
                ..Default::default()
            };
            *pusher = Some(broker::push::Pusher::open(
                &inner.target()?,
                options,
                |name| push.connection_string(name),
            )?);
        }
        let pushed = pusher.as_mut().expect("just opened").push(&session.store);
        if pushed.is_err() {
            *pusher = None;
        }
        pushed.map(|_| ())
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
    if let Target::ServiceBus(env) = Target::parse(&request.url)? {
        return runtime.block_on(send_to_service_bus(
            settings,
            &env,
            &queue,
            &envelope,
            request.wait,
        ));
    }
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

/// Sends a command to a Service Bus queue (`MessageId` = the command id without `cmd-`,
/// as the event push writes event ids). The outcome is not awaited there: events go to
/// topics, whose subscriptions the platform owns.
async fn send_to_service_bus(
    settings: &Settings,
    env: &str,
    queue: &str,
    envelope: &CommandEnvelope,
    wait: Option<Duration>,
) -> Result<Sent> {
    if wait.is_some() {
        return Err(Error::usage("--wait needs RabbitMQ: on Service Bus the outcome arrives on the topics' subscriptions")
            .hint("read the outcome from a subscription to factory.integration, matched by the command's correlation id"));
    }
    let session = Session::open(settings.clone())?;
    let text = session
        .store
        .config()
        .push
        .connection_string(env)
        .ok_or_else(|| {
            Error::usage(format!(
                "no Service Bus connection string in ${env} or store.yaml's push.connectionStrings"
            ))
        })?;
    let queues = servicebus::Queues::new(crate::broker::servicebus::ConnectionString::parse(
        &text, env,
    )?);
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
