//! `factory events`: stream the log (JSON Lines, a table or CloudEvents), follow it, print
//! its schemas, and push it to brokers.

mod push;
mod stream;

use super::App;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::events::query::{Filter, Query, Since};
use crate::events::schema;

// Arguments of `events`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct EventsArgs {
    #[command(subcommand)]
    command: Option<EventsCommand>,
    /// Only events of this type (repeatable).
    #[arg(long = "type", value_name = "TYPE", add = clap_complete::ArgValueCandidates::new(crate::cli::complete::event_types))]
    pub(super) types: Vec<String>,
    /// Only events routed to this topic.
    #[arg(long, add = clap_complete::ArgValueCandidates::new(crate::cli::complete::topics))]
    topic: Option<String>,
    /// Only events after this event id, at or after this RFC 3339 time, or within this
    /// duration (30m, 2h, 7d).
    #[arg(long, value_name = "TIME|EVENT_ID|DURATION")]
    since: Option<String>,
    /// Only events about this template (name or id).
    #[arg(long)]
    template: Option<String>,
    /// Print only the newest N matching events (oldest first, like `journalctl -n`).
    #[arg(long, value_name = "N")]
    pub(super) limit: Option<u64>,
    /// Keep printing events as they are appended, like `tail -f`; starts at the end of the
    /// log unless --since or --limit ask for history.
    #[arg(long, short)]
    pub(super) follow: bool,
    /// How to print each event.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub(super) format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Format {
    /// The log's lines, unchanged.
    Jsonl,
    /// One line per event for people.
    Table,
    /// CloudEvents 1.0 structured JSON, one per line.
    Cloudevents,
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
enum EventsCommand {
    /// Print the JSON Schema of the envelope and every payload, or of one event type's payload.
    Schema {
        /// An event type, or `envelope`.
        event_type: Option<String>,
    },
    /// Send the events after a target's cursor to a broker, in log order.
    Push(PushArgs),
}

// Arguments of `events push`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["to", "status"]))]
pub(crate) struct PushArgs {
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
    /// Stop at an event a RabbitMQ exchange has no queue bound for (default: push it and
    /// warn; push.requireRoute in store.yaml sets this too).
    #[arg(long)]
    require_route: bool,
}

/// Runs `events`.
pub(crate) fn run(app: &App, args: EventsArgs) -> Result<()> {
    match args.command {
        Some(EventsCommand::Schema { event_type }) => {
            return print_schema(app, event_type.as_deref());
        }
        Some(EventsCommand::Push(push_args)) => return push::run(app, push_args),
        None => {}
    }
    for t in &args.types {
        if !DomainEvent::TYPES.contains(&t.as_str()) {
            return Err(not_an_event_type(t, ""));
        }
    }
    let session = app.session()?;
    let store = &session.store;
    let template_id = match &args.template {
        Some(key) => {
            let state = store.state_for_reading()?;
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
        types: args.types.clone(),
        topic: args.topic.clone(),
        since: args
            .since
            .as_deref()
            .map(|s| Since::parse(s, app.settings.render.now()))
            .transpose()?,
        // The global --correlation-id and --tenant flags filter here; their environment
        // variables do not (they say what new events carry).
        correlation_id: app.filters.correlation_id.clone(),
        tenant: app.filters.tenant.clone(),
        template_id,
    };
    stream::print(app, &session, Query::new(filter)?, &args)
}

/// A type that is none of the event types: the nearest one named when it looks like a typo
/// (the list, fifteen names long, only when nothing is near).
fn not_an_event_type(typed: &str, also: &str) -> Error {
    let types = DomainEvent::TYPES.iter().copied();
    match crate::suggest::closest(typed, types) {
        Some(near) => Error::usage(format!(
            "`{typed}` is not an event type (did you mean `{near}`?)"
        ))
        .hint(format!("`factory events schema` lists them; --type {near}")),
        None => Error::usage(format!("`{typed}` is not an event type")).hint(format!(
            "event types are: {also}{}",
            DomainEvent::TYPES.join(", ")
        )),
    }
}

fn print_schema(app: &App, event_type: Option<&str>) -> Result<()> {
    let doc = match event_type {
        None => schema::all_schemas(),
        Some("envelope") => schema::envelope_schema(),
        Some(t) => schema::payload_schema(t).ok_or_else(|| not_an_event_type(t, "envelope, "))?,
    };
    app.printer.json_document(&doc);
    Ok(())
}
