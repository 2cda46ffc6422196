//! `factory events push`: send the events after a target's cursor, batch by batch, moving
//! the cursor only after the broker acknowledged each batch.

use std::time::Instant;

use serde::Serialize;

use super::amqp::AmqpSink;
use super::http::HttpSink;
use super::retry::{Policy, SendError};
use super::servicebus::{ConnectionString, ServiceBusSink};
use super::target::Target;
use crate::clock;
use crate::error::{Error, Result};
use crate::events::{Envelope, routing};
use crate::store::cursors::Cursor;
use crate::store::{LogEvents, OnDamage, Store};

/// An event waiting to be sent: the envelope, its line exactly as logged, and where the line
/// ends in the log.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The parsed envelope.
    pub envelope: Envelope,
    /// The line's bytes (no newline).
    pub line: Vec<u8>,
    /// The log offset just past the line.
    pub end: u64,
}

/// How to push.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Retry bounds.
    pub policy: Policy,
    /// Events per batch at most.
    pub batch: usize,
    /// Stop at an event a RabbitMQ exchange returns for want of a bound queue.
    pub require_route: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: Policy::default(),
            batch: 2000,
            require_route: false,
        }
    }
}

/// What a push did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The target, without credentials.
    pub target: String,
    /// Events acknowledged by this push.
    pub sent: u64,
    /// Batches sent.
    pub batches: u64,
    /// Retries needed.
    pub retries: u64,
    /// The cursor afterwards.
    pub cursor: Cursor,
    /// Seconds the sending took.
    pub seconds: f64,
    /// `exchange event-type` pairs accepted without a bound queue (RabbitMQ): nobody
    /// subscribes to them yet.
    pub unrouted: Vec<String>,
}

enum Sink {
    Amqp(Box<AmqpSink>),
    ServiceBus(ServiceBusSink),
    Http(HttpSink),
}

impl Sink {
    fn new(
        target: &Target,
        require_route: bool,
        connection_string: impl Fn(&str) -> Option<String>,
    ) -> Result<Sink> {
        Ok(match target {
            Target::Amqp(url) => Sink::Amqp(Box::new(AmqpSink::new(url, require_route))),
            Target::Http(url) => Sink::Http(HttpSink::new(url)?),
            Target::ServiceBus(env) => {
                let text = connection_string(env).ok_or_else(|| {
                    Error::new(format!("the environment variable {env} is not set"))
                        .hint(format!("put the Service Bus connection string in {env}"))
                })?;
                Sink::ServiceBus(ServiceBusSink::new(ConnectionString::parse(
                    &text,
                    &format!("${env}"),
                )?)?)
            }
        })
    }

    async fn send(&mut self, batch: &[Pending]) -> Result<(), SendError> {
        match self {
            Sink::Amqp(sink) => sink.send(batch).await,
            Sink::ServiceBus(sink) => sink.send(batch).await,
            Sink::Http(sink) => sink.send(batch).await,
        }
    }

    async fn close(&mut self) {
        if let Sink::Amqp(sink) = self {
            sink.close().await;
        }
    }
}

/// Checks that a cursor belongs to this log: inside it, at a line end, after its last event.
fn check_cursor(store: &Store, target: &Target, cursor: &Cursor) -> Result<()> {
    if store.log_position_fits(cursor.offset, cursor.last_event_id.as_deref())? {
        Ok(())
    } else {
        Err(Error::new(format!("the cursor of {} does not match this store's log", target.display())).hint(format!(
            "delete {}/cursors/{}.json to push everything again (brokers drop duplicates by message id)",
            store.root().display(),
            target.cursor_id()
        )))
    }
}

/// Reads up to `max` pending events; with them, the error that stopped the reading early
/// (a damaged line: the events before it are still sent, and the push stops there).
fn next_batch(events: &mut LogEvents, max: usize) -> (Vec<Pending>, Option<Error>) {
    let mut batch = Vec::with_capacity(max.min(1024));
    while batch.len() < max {
        match events.next_event() {
            Ok(Some(entry)) => batch.push(Pending {
                line: entry.bytes.to_vec(),
                end: entry.end,
                envelope: entry.envelope,
            }),
            Ok(None) => break,
            Err(e) => return (batch, Some(e)),
        }
    }
    (batch, None)
}

/// How many events the log has after `offset` (a status: damaged lines are not counted,
/// and warned about).
pub fn pending_count(store: &Store, offset: u64) -> Result<u64> {
    let Some(mut events) = store.events_from(offset, OnDamage::Warn)? else {
        return Ok(0);
    };
    let mut count = 0;
    while events.next_event()?.is_some() {
        count += 1;
    }
    Ok(count)
}

/// Where each pending event would go, without sending anything: (event id, type, destinations).
pub fn plan(store: &Store, target: &Target) -> Result<Vec<(String, String, Vec<String>)>> {
    let cursors = store.cursors();
    let cursor = cursors.load(&target.cursor_id())?;
    check_cursor(store, target, &cursor)?;
    let mut out = Vec::new();
    // What the push would do: it stops at a damaged line, so the plan does too.
    let Some(mut events) = store.events_from(cursor.offset, OnDamage::Refuse)? else {
        return Ok(out);
    };
    loop {
        let (batch, stopped) = next_batch(&mut events, 1024);
        if let Some(error) = stopped {
            return Err(error);
        }
        if batch.is_empty() {
            return Ok(out);
        }
        for pending in batch {
            let e = pending.envelope;
            let destinations = match target {
                Target::Http(_) => vec![target.display()],
                _ => routing::topics(&e.event_type)
                    .into_iter()
                    .map(|topic| format!("{topic} ({})", e.event_type))
                    .collect(),
            };
            out.push((e.event_id, e.event_type, destinations));
        }
    }
}

/// Pushes every event after the target's cursor. Two pushes to one target take turns.
pub fn push(
    store: &Store,
    target: &Target,
    options: Options,
    connection_string: impl Fn(&str) -> Option<String>,
) -> Result<Report> {
    push_reporting(store, target, options, connection_string, &|_| {})
}

/// A failed send about to be tried again.
#[derive(Debug, Clone)]
pub struct Retry {
    /// What failed.
    pub error: String,
    /// Which retry this is (1 for the first).
    pub number: u32,
    /// The wait before it.
    pub wait: std::time::Duration,
}

/// [`push`], telling `on_retry` of each retry before its wait.
pub fn push_reporting(
    store: &Store,
    target: &Target,
    options: Options,
    connection_string: impl Fn(&str) -> Option<String>,
    on_retry: &dyn Fn(&Retry),
) -> Result<Report> {
    let mut pusher = Pusher::open(target, options, connection_string)?;
    let result = pusher.push_reporting(store, on_retry);
    pusher.close();
    result
}

/// A push target opened once for many pushes (a worker pushes after every command): one
/// connection, instead of a new one each time.
pub struct Pusher {
    target: Target,
    options: Options,
    sink: Sink,
    runtime: &'static tokio::runtime::Runtime,
}

impl Pusher {
    /// Opens `target` (connecting on the first send).
    pub fn open(
        target: &Target,
        options: Options,
        connection_string: impl Fn(&str) -> Option<String>,
    ) -> Result<Pusher> {
        let sink = Sink::new(target, options.require_route, connection_string)?;
        let runtime = crate::runtime::get()?;
        Ok(Pusher {
            target: target.clone(),
            options,
            sink,
            runtime,
        })
    }

    /// Closes the connection politely.
    pub fn close(mut self) {
        self.runtime.block_on(self.sink.close());
    }

    /// Pushes every event of `store` after the target's cursor.
    pub fn push(&mut self, store: &Store) -> Result<Report> {
        self.push_reporting(store, &|_| {})
    }

    /// [`Pusher::push`], telling `on_retry` of each retry before its wait.
    pub fn push_reporting(&mut self, store: &Store, on_retry: &dyn Fn(&Retry)) -> Result<Report> {
        let (target, options) = (&self.target, self.options);
        let cursors = store.cursors();
        let id = target.cursor_id();
        let _lock = cursors.lock(&id)?;
        let mut cursor = cursors.load(&id)?;
        check_cursor(store, target, &cursor)?;
        cursor.target = target.display();
        let sink = &mut self.sink;
        let mut report = Report {
            target: target.display(),
            sent: 0,
            batches: 0,
            retries: 0,
            cursor: cursor.clone(),
            seconds: 0.0,
            unrouted: Vec::new(),
        };
        // A consumer expects every event in order: a damaged line stops the push there.
        let Some(mut events) = store.events_from(cursor.offset, OnDamage::Refuse)? else {
            return Ok(report);
        };
        let started = Instant::now();
        let result = self.runtime.block_on(async {
            loop {
                let (batch, stopped) = next_batch(&mut events, options.batch.max(1));
                let stop = |mut error: Error, sent: u64| -> Result<()> {
                    error.message = format!(
                        "push to {} stopped: {}; {sent} event(s) before it were delivered",
                        target.display(),
                        error.message
                    );
                    Err(error)
                };
                let Some(last) = batch.last() else {
                    return match stopped {
                        Some(error) => stop(error, report.sent),
                        None => Ok(()),
                    };
                };
                let mut attempt = 0;
                loop {
                    match sink.send(&batch).await {
                        Ok(()) => break,
                        Err(error) => {
                            let wait = options.policy.backoff(attempt, &error);
                            if !options.policy.may_retry(attempt, started, wait, &error) {
                                let first = &batch[0].envelope;
                                let tried = if attempt > 0 {
                                    format!(" after {attempt} retries in {:.1} s", started.elapsed().as_secs_f64())
                                } else {
                                    String::new()
                                };
                                return Err(Error::new(format!(
                                    "push to {} stopped at event {} ({}){tried}: {}; {} event(s) before it were delivered",
                                    target.display(),
                                    first.event_id,
                                    first.event_type,
                                    error.message(),
                                    report.sent
                                ))
                                .hint(match error {
                                    SendError::Permanent(_) => "fix the cause at the broker, then push again: it resumes at that event",
                                    _ => "when the broker is reachable, push again: it resumes at that event",
                                }));
                            }
                            on_retry(&Retry {
                                error: error.message().to_string(),
                                number: attempt + 1,
                                wait,
                            });
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                            report.retries += 1;
                        }
                    }
                }
                cursor.offset = last.end;
                cursor.last_event_id = Some(last.envelope.event_id.clone());
                cursor.pushed += batch.len() as u64;
                cursor.updated_at = Some(clock::format_rfc3339(time::OffsetDateTime::now_utc()));
                cursors.save(&id, &cursor)?;
                report.sent += batch.len() as u64;
                report.batches += 1;
                if let Some(error) = stopped {
                    return stop(error, report.sent);
                }
            }
        });
        if let Sink::Amqp(sink) = &self.sink {
            report.unrouted = sink.unrouted.iter().cloned().collect();
        }
        report.seconds = started.elapsed().as_secs_f64();
        report.cursor = cursor;
        result.map(|()| report)
    }
}
