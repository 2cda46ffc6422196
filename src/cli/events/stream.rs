//! `factory events`: the log's lines, filtered, as JSON Lines, a table or CloudEvents;
//! with `--follow`, as they are appended.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use super::{EventsArgs, Format};
use crate::app::Session;
use crate::cli::App;
use crate::cli::printer::Stream;
use crate::error::{Error, Result};
use crate::events::query::Query;
use crate::events::{Envelope, cloudevents};
use crate::store::{LogEvents, OnDamage, Store};

/// Prints the events the query matches. A damaged line is skipped with a warning (this
/// command only reads), printed as soon as it is met.
pub(super) fn print(
    app: &App,
    session: &Session,
    mut query: Query,
    args: &EventsArgs,
) -> Result<()> {
    let Some(mut events) = open(&session.store, args)? else {
        return Ok(());
    };
    let mut out = app.printer.stream();
    if args.format == Format::Table {
        out.line(
            format!(
                "{:<24}  {:<30}  {:<40}  SUBJECT",
                "OCCURRED AT", "TYPE", "EVENT ID"
            )
            .as_bytes(),
        )?;
    }
    // `--limit N`: the newest N of what matches so far, in order (memory: N lines).
    let mut newest: VecDeque<(Vec<u8>, Envelope)> = VecDeque::new();
    let mut history = args.limit.is_some();
    loop {
        while let Some(entry) = events.next_event()? {
            if !query.matches(&entry.envelope) {
                continue;
            }
            match args.limit {
                Some(limit) if history => {
                    if limit == 0 {
                        continue;
                    }
                    if newest.len() as u64 == limit {
                        newest.pop_front();
                    }
                    newest.push_back((entry.bytes.to_vec(), entry.envelope));
                }
                _ => print_line(&mut out, entry.bytes, &entry.envelope, args.format)?,
            }
        }
        app.warnings(session);
        if history {
            for (line, envelope) in newest.drain(..) {
                print_line(&mut out, &line, &envelope, args.format)?;
            }
            history = false;
        }
        if !args.follow {
            break;
        }
        out.flush()?;
        std::thread::sleep(Duration::from_millis(200));
    }
    out.flush()?;
    if let Some(id) = query.still_waiting() {
        return Err(Error::new(format!("no event `{id}` in the log"))
            .hint("--since takes an event id that is in the log, or an RFC 3339 time"));
    }
    Ok(())
}

/// The log, at its start or (`--follow` alone prints what is appended from now on, as
/// `tail -f` does) at its end; with `--follow`, waited for when it does not exist yet.
fn open<'s>(store: &'s Store, args: &EventsArgs) -> Result<Option<LogEvents<'s>>> {
    let from_end = args.follow && args.since.is_none() && args.limit.is_none();
    let start = if from_end { store.log_end()? } else { 0 };
    loop {
        match store.events_from(start, OnDamage::Warn)? {
            Some(events) => return Ok(Some(events)),
            None if args.follow => std::thread::sleep(Duration::from_millis(200)),
            None => return Ok(None),
        }
    }
}

/// One matching event in the chosen format: its line as logged, or formatted.
fn print_line(out: &mut Stream, bytes: &[u8], envelope: &Envelope, format: Format) -> Result<()> {
    match format {
        Format::Jsonl => out.line(bytes),
        Format::Table | Format::Cloudevents => out.line(&formatted(envelope, format)),
    }
}

/// One event as a table row or a CloudEvents document.
fn formatted(envelope: &Envelope, format: Format) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(256);
    if format == Format::Table {
        let _ = write!(
            bytes,
            "{:<24}  {:<30}  {:<40}  {}",
            envelope.occurred_at,
            envelope.event_type,
            envelope.event_id,
            cloudevents::subject(envelope).unwrap_or("-")
        );
    } else {
        serde_json::to_writer(&mut bytes, &cloudevents::structured(envelope))
            .expect("a CloudEvent serializes");
    }
    bytes
}
