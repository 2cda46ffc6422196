//! `factory events`: the log's lines, filtered, as JSON Lines, a table or CloudEvents;
//! with `--follow`, as they are appended.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use super::{EventsArgs, Format};
use crate::cli::App;
use crate::cli::printer::Stream;
use crate::error::{Error, Result};
use crate::events::log::LogReader;
use crate::events::query::Query;
use crate::events::{Envelope, cloudevents};
use crate::store::Store;

/// Prints the events the query matches.
pub(super) fn print(app: &App, store: &Store, mut query: Query, args: &EventsArgs) -> Result<()> {
    let Some(mut reader) = open(store, args)? else {
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
    let mut newest: VecDeque<Vec<u8>> = VecDeque::new();
    let mut history = args.limit.is_some();
    loop {
        while let Some(line) = reader.next_line()? {
            if !query.matches(line.bytes, line.number)? {
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
                    newest.push_back(line.bytes.to_vec());
                }
                _ => print_line(&mut out, line.bytes, line.number, args.format)?,
            }
        }
        if history {
            for line in newest.drain(..) {
                print_line(&mut out, &line, 0, args.format)?;
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
fn open(store: &Store, args: &EventsArgs) -> Result<Option<LogReader>> {
    let log_path = store.log_path();
    let from_end = args.follow && args.since.is_none() && args.limit.is_none();
    let start = if from_end {
        std::fs::metadata(&log_path).map_or(0, |m| m.len())
    } else {
        0
    };
    loop {
        match LogReader::open_at(&log_path, start)? {
            Some(reader) => return Ok(Some(reader)),
            None if args.follow => std::thread::sleep(Duration::from_millis(200)),
            None => return Ok(None),
        }
    }
}

/// One matching line in the chosen format.
fn print_line(out: &mut Stream, bytes: &[u8], number: u64, format: Format) -> Result<()> {
    match format {
        Format::Jsonl => out.line(bytes),
        Format::Table | Format::Cloudevents => {
            let envelope = Envelope::from_line(bytes).map_err(|e| {
                Error::new(format!("events.jsonl:{number}: not an event envelope: {e}"))
            })?;
            out.line(&formatted(&envelope, format))
        }
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
