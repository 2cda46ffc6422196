//! `factory events`: stream the log as JSON Lines, filtered; `factory events schema`.

use std::io::{ErrorKind, Write};

use super::{App, output, print_notices};
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::events::log::LogReader;
use crate::events::query::{Filter, Query, Since};
use crate::events::schema;

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
    /// Only events with this correlation id.
    #[arg(long = "correlation", value_name = "ID")]
    correlation: Option<String>,
    /// Only events about this template (name or id).
    #[arg(long)]
    template: Option<String>,
    /// Print at most this many events.
    #[arg(long)]
    limit: Option<u64>,
}

#[derive(Debug, clap::Subcommand)]
enum EventsCommand {
    /// Print the JSON Schema of the envelope and every payload, or of one event type's payload.
    Schema {
        /// An event type, or `envelope`.
        event_type: Option<String>,
    },
}

/// Runs `events`.
pub fn run(app: &App, args: EventsArgs) -> Result<()> {
    if let Some(EventsCommand::Schema { event_type }) = args.command {
        let doc = match event_type.as_deref() {
            None => schema::all_schemas(),
            Some("envelope") => schema::envelope_schema(),
            Some(t) => schema::payload_schema(t).ok_or_else(|| {
                Error::usage(format!("`{t}` is not an event type")).hint(format!(
                    "event types are: envelope, {}",
                    DomainEvent::TYPES.join(", ")
                ))
            })?,
        };
        output::print_json(&doc);
        return Ok(());
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
    let store = app.store()?;
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
    print_notices(app, &store);
    let filter = Filter {
        types: args.types,
        topic: args.topic,
        since: args.since.as_deref().map(Since::parse).transpose()?,
        correlation_id: args
            .correlation
            .or_else(|| app.global.correlation_id.clone().filter(|_| false)),
        tenant: None,
        template_id,
    };
    let mut query = Query::new(filter)?;
    let Some(mut reader) = LogReader::open_at(&store.log_path(), 0)? else {
        return Ok(());
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut printed = 0u64;
    while let Some(line) = reader.next_line()? {
        if args.limit.is_some_and(|limit| printed >= limit) {
            break;
        }
        if !query.matches(line.bytes, line.number)? {
            continue;
        }
        printed += 1;
        let written = out.write_all(line.bytes).and_then(|_| out.write_all(b"\n"));
        if let Err(e) = written {
            return if e.kind() == ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(Error::new(format!("cannot write to stdout: {e}")))
            };
        }
    }
    match out.flush() {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            return Err(Error::new(format!("cannot write to stdout: {e}")));
        }
        _ => {}
    }
    if let Some(id) = query.still_waiting() {
        return Err(Error::new(format!("no event `{id}` in the log"))
            .hint("--since takes an event id that is in the log, or an RFC 3339 time"));
    }
    Ok(())
}
