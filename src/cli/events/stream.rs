//! `factory events`: the log's lines, filtered, as JSON Lines, a table or CloudEvents;
//! with `--follow`, as they are appended.

use std::io::Write;
use std::time::Duration;

use super::{EventsArgs, Format};
use crate::cli::App;
use crate::error::{Error, Result};
use crate::events::log::LogReader;
use crate::events::query::Query;
use crate::events::{Envelope, cloudevents};
use crate::store::Store;

/// Prints the events the query matches.
pub(super) fn print(app: &App, store: &Store, mut query: Query, args: &EventsArgs) -> Result<()> {
    let log_path = store.log_path();
    let mut reader = loop {
        match LogReader::open_at(&log_path, 0)? {
            Some(reader) => break reader,
            None if args.follow => std::thread::sleep(Duration::from_millis(200)),
            None => return Ok(()),
        }
    };
    let mut out = app.printer.stream();
    let mut printed = 0u64;
    if args.format == Format::Table {
        out.line(
            format!(
                "{:<24}  {:<30}  {:<40}  SUBJECT",
                "OCCURRED AT", "TYPE", "EVENT ID"
            )
            .as_bytes(),
        )?;
    }
    loop {
        while let Some(line) = reader.next_line()? {
            if args.limit.is_some_and(|limit| printed >= limit) {
                return out.flush();
            }
            if !query.matches(line.bytes, line.number)? {
                continue;
            }
            printed += 1;
            match args.format {
                Format::Jsonl => out.line(line.bytes)?,
                Format::Table | Format::Cloudevents => {
                    let envelope = Envelope::from_line(line.bytes).map_err(|e| {
                        Error::new(format!(
                            "events.jsonl:{}: not an event envelope: {e}",
                            line.number
                        ))
                    })?;
                    out.line(&formatted(&envelope, args.format))?;
                }
            }
        }
        if !args.follow || args.limit.is_some_and(|limit| printed >= limit) {
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
