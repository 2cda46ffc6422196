//! `factory events`: stream the log (JSON Lines, a table or CloudEvents), follow it, print
//! its schemas, and push it to brokers.

use std::io::{ErrorKind, Write};
use std::time::Duration;

use serde_json::json;

use super::{App, out};
use crate::broker::cursor::Cursors;
use crate::broker::retry::Policy;
use crate::broker::{Target, push};
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::events::log::LogReader;
use crate::events::query::{Filter, Query, Since};
use crate::events::{Envelope, cloudevents, schema};

/// Arguments of `events`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: Option<EventsCommand>,
    /// Only events of this type (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Only events routed to this topic.
    #[arg(long)]
    topic: Option<String>,
    /// Only events after this event id, or at or after this RFC 3339 time.
    #[arg(long, value_name = "TIME|EVENT_ID")]
    since: Option<String>,
    /// Only events about this template (name or id).
    #[arg(long)]
    template: Option<String>,
    /// Print at most this many events.
    #[arg(long)]
    limit: Option<u64>,
    /// Keep printing events as they are appended, like `tail -f`.
    #[arg(long, short)]
    follow: bool,
    /// How to print each event.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// The log's lines, unchanged.
    Jsonl,
    /// One line per event for people.
    Table,
    /// CloudEvents 1.0 structured JSON, one per line.
    Cloudevents,
}

#[derive(Debug, clap::Subcommand)]
enum EventsCommand {
    /// Print the JSON Schema of the envelope and every payload, or of one event type's payload.
    Schema {
        /// An event type, or `envelope`.
        event_type: Option<String>,
    },
    /// Send the events after a target's cursor to a broker, in log order.
    Push(PushArgs),
}

/// Arguments of `events push`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["to", "status"]))]
pub struct PushArgs {
    /// amqp://user:pass@host:port/vhost, servicebus:ENV_NAME, or an http(s):// CloudEvents endpoint.
    #[arg(long, value_name = "TARGET")]
    to: Option<String>,
    /// Show each target's cursor and how many events wait.
    #[arg(long)]
    status: bool,
    /// Show what would go where; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Retries of a failing batch before giving up.
    #[arg(long, default_value_t = 8)]
    max_retries: u32,
    /// Seconds after which no retry starts.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    deadline: u64,
    /// Events per batch (one confirm wait, one cursor write per batch).
    #[arg(long, default_value_t = 2000)]
    batch: usize,
}

/// Runs `events`.
pub fn run(app: &App, args: EventsArgs) -> Result<()> {
    match args.command {
        Some(EventsCommand::Schema { event_type }) => {
            return print_schema(app, event_type.as_deref());
        }
        Some(EventsCommand::Push(push_args)) => return run_push(app, push_args),
        None => {}
    }
    for t in &args.types {
        if !DomainEvent::TYPES.contains(&t.as_str()) {
            return Err(
                Error::usage(format!("`{t}` is not an event type")).hint(format!(
                    "event types are: {}",
                    DomainEvent::TYPES.join(", ")
                )),
            );
        }
    }
    let session = app.session()?;
    let store = &session.store;
    let template_id = match &args.template {
        Some(key) => {
            let state = store.state()?;
            Some(
                state
                    .template(key)
                    .map_or_else(|| key.clone(), |t| t.id.clone()),
            )
        }
        None => None,
    };
    app.warnings(&session);
    let filter = Filter {
        types: args.types,
        topic: args.topic,
        since: args.since.as_deref().map(Since::parse).transpose()?,
        // The global --correlation-id and --tenant flags filter here; their environment
        // variables do not (they say what new events carry).
        correlation_id: app.global.correlation_id.clone(),
        tenant: app.global.tenant.clone(),
        template_id,
    };
    let mut query = Query::new(filter)?;
    let log_path = store.log_path();
    let mut reader = loop {
        match LogReader::open_at(&log_path, 0)? {
            Some(reader) => break reader,
            None if args.follow => std::thread::sleep(Duration::from_millis(200)),
            None => return Ok(()),
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut printed = 0u64;
    if args.format == Format::Table {
        let _ = writeln!(
            out,
            "{:<24}  {:<30}  {:<40}  SUBJECT",
            "OCCURRED AT", "TYPE", "EVENT ID"
        );
    }
    loop {
        while let Some(line) = reader.next_line()? {
            if args.limit.is_some_and(|limit| printed >= limit) {
                return finish(&mut out);
            }
            if !query.matches(line.bytes, line.number)? {
                continue;
            }
            printed += 1;
            let written = match args.format {
                Format::Jsonl => out.write_all(line.bytes).and_then(|_| out.write_all(b"\n")),
                Format::Table | Format::Cloudevents => {
                    let envelope = Envelope::from_line(line.bytes).map_err(|e| {
                        Error::new(format!(
                            "events.jsonl:{}: not an event envelope: {e}",
                            line.number
                        ))
                    })?;
                    if args.format == Format::Table {
                        writeln!(
                            out,
                            "{:<24}  {:<30}  {:<40}  {}",
                            envelope.occurred_at,
                            envelope.event_type,
                            envelope.event_id,
                            cloudevents::subject(&envelope).unwrap_or("-")
                        )
                    } else {
                        serde_json::to_writer(&mut out, &cloudevents::structured(&envelope))
                            .map_err(std::io::Error::other)
                            .and_then(|_| out.write_all(b"\n"))
                    }
                }
            };
            if let Err(e) = written {
                return if e.kind() == ErrorKind::BrokenPipe {
                    Ok(())
                } else {
                    Err(Error::new(format!("cannot write to stdout: {e}")))
                };
            }
        }
        if !args.follow || args.limit.is_some_and(|limit| printed >= limit) {
            break;
        }
        if let Err(e) = out.flush() {
            return if e.kind() == ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(Error::new(format!("cannot write to stdout: {e}")))
            };
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    finish(&mut out)?;
    if let Some(id) = query.still_waiting() {
        return Err(Error::new(format!("no event `{id}` in the log"))
            .hint("--since takes an event id that is in the log, or an RFC 3339 time"));
    }
    Ok(())
}

fn finish(out: &mut impl Write) -> Result<()> {
    match out.flush() {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            Err(Error::new(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn print_schema(app: &App, event_type: Option<&str>) -> Result<()> {
    let doc = match event_type {
        None => schema::all_schemas(),
        Some("envelope") => schema::envelope_schema(),
        Some(t) => schema::payload_schema(t).ok_or_else(|| {
            Error::usage(format!("`{t}` is not an event type")).hint(format!(
                "event types are: envelope, {}",
                DomainEvent::TYPES.join(", ")
            ))
        })?,
    };
    app.printer.json_document(&doc);
    Ok(())
}

fn run_push(app: &App, args: PushArgs) -> Result<()> {
    let session = app.session()?;
    let store = &session.store;
    if args.status {
        let cursors = Cursors::new(store.root().join("cursors"));
        let mut rows = Vec::new();
        for (id, cursor) in cursors.all()? {
            let pending = push::pending_count(store, cursor.offset)?;
            rows.push(json!({"id": id, "target": cursor.target, "pushed": cursor.pushed, "pending": pending,
                "lastEventId": cursor.last_event_id, "updatedAt": cursor.updated_at}));
        }
        if app.json() {
            app.printer.json_document(
                &json!({ "targets": rows, "unpushedFromStart": push::pending_count(store, 0)? }),
            );
        } else if app.human() {
            if rows.is_empty() {
                out!(
                    app.printer,
                    "No pushes yet; {} events in the log.",
                    push::pending_count(store, 0)?
                );
            }
            for row in rows {
                out!(
                    app.printer,
                    "{}  pushed {}  pending {}  last {}",
                    row["target"].as_str().unwrap_or_default(),
                    row["pushed"],
                    row["pending"],
                    row["lastEventId"].as_str().unwrap_or("-")
                );
            }
        }
        return Ok(());
    }
    let target = Target::parse(args.to.as_deref().expect("clap requires --to or --status"))?;
    if args.dry_run {
        let plan = push::plan(store, &target)?;
        if app.json() {
            app.printer.json_document(&json!({
                "target": target.display(),
                "pending": plan.len(),
                "events": plan.iter().map(|(id, t, to)| json!({"eventId": id, "eventType": t, "to": to})).collect::<Vec<_>>(),
            }));
        } else if app.human() {
            for (id, event_type, to) in &plan {
                out!(app.printer, "{id}  {event_type:<30} -> {}", to.join(", "));
            }
            out!(
                app.printer,
                "{} event(s) would be pushed to {} (dry run)",
                plan.len(),
                target.display()
            );
        }
        return Ok(());
    }
    let options = push::Options {
        policy: Policy {
            max_retries: args.max_retries,
            deadline: Duration::from_secs(args.deadline),
            ..Policy::default()
        },
        batch: args.batch,
    };
    let report = push::push(store, &target, options, |name| {
        store.config().push.connection_string(name)
    })?;
    if app.json() {
        app.printer.json_document(&report);
    } else if app.human() {
        if report.sent == 0 {
            out!(
                app.printer,
                "Nothing to push to {}: it has every event.",
                report.target
            );
        } else {
            let rate = report.sent as f64 / report.seconds.max(1e-6);
            out!(
                app.printer,
                "Pushed {} event(s) to {} in {} batch(es), {:.2} s ({rate:.0} events/s{})",
                report.sent,
                report.target,
                report.batches,
                report.seconds,
                if report.retries > 0 {
                    format!(", {} retries", report.retries)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}
