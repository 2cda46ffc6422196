//! Reading the log. The store is the only module that opens `events.jsonl`; everything else
//! reads it through [`Store::events_from`] (by position), [`Store::template_events`] (by
//! aggregate) or a [`CommandIndex`] (by command id), and all of them apply one rule to a
//! line (docs/store.md, "A line that is not an event"):
//!
//! - a blank line (nothing but white space) is skipped: it is not damage;
//! - a line that is not an event envelope, or whose payload this version cannot read, is
//!   damaged: a reader made with [`OnDamage::Refuse`] stops there with an error naming
//!   `events.jsonl:LINE`; one made with [`OnDamage::Warn`] skips it and leaves a warning
//!   naming it (once per line and command) among the store's notices.
//!
//! Commands that write, and `events push`, refuse; commands that only read warn and answer
//! from the readable lines. `factory store rebuild` moves damaged lines aside.

use std::collections::{HashMap, HashSet};

use super::Store;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::events::log::{self, LogReader};

/// What a reader does at a damaged line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDamage {
    /// Stop with an error naming the line: commands that write, and `events push`, which
    /// must not leave out an event a consumer expects.
    Refuse,
    /// Skip it with a warning naming the line: commands that only read.
    Warn,
}

/// At most this many damaged lines are warned about one by one in one command.
const WARNED_LINES: usize = 10;

/// What one line of the log is.
// Short-lived, one line at a time: not worth boxing the event.
#[allow(clippy::large_enum_variant)]
pub(super) enum Line {
    /// Nothing but white space.
    Blank,
    /// An event; `event` is `None` for a type this version does not know (kept as it is).
    Event {
        envelope: Envelope,
        event: Option<DomainEvent>,
    },
    /// Not a readable event, and why.
    Damaged(String),
}

impl Line {
    /// The one rule for a line of the log.
    pub(super) fn read(bytes: &[u8]) -> Line {
        if log::is_blank(bytes) {
            return Line::Blank;
        }
        let envelope = match Envelope::from_line(bytes) {
            Ok(envelope) => envelope,
            Err(e) => return Line::Damaged(format!("not an event envelope: {e}")),
        };
        match DomainEvent::from_parts(&envelope.event_type, &envelope.payload) {
            Ok(event) => Line::Event { envelope, event },
            Err(e) => Line::Damaged(format!(
                "event {} ({}) has a payload this version cannot read: {e}",
                envelope.event_id, envelope.event_type
            )),
        }
    }
}

/// One event of the log.
#[derive(Debug)]
pub struct Entry<'a> {
    /// Byte offset of its line.
    pub start: u64,
    /// Byte offset just past its newline.
    pub end: u64,
    /// The line exactly as logged, without its newline.
    pub bytes: &'a [u8],
    /// The envelope.
    pub envelope: Envelope,
    /// The typed event; `None` for a type this version does not know.
    pub event: Option<DomainEvent>,
}

/// The events of the log from a byte offset, in log order, under one [`OnDamage`] rule.
/// Only whole lines are read: a line being appended is returned once it is complete (so a
/// reader that reached the end can be asked again, as `events --follow` does).
pub struct LogEvents<'s> {
    store: &'s Store,
    reader: LogReader,
    on_damage: OnDamage,
    /// The number of the line the reader started at, once a message needed it.
    first_line: Option<u64>,
    start: u64,
    skipped: u64,
    first_skipped_at: Option<u64>,
}

impl<'s> LogEvents<'s> {
    pub(super) fn new(
        store: &'s Store,
        reader: LogReader,
        start: u64,
        on_damage: OnDamage,
    ) -> Self {
        LogEvents {
            store,
            reader,
            on_damage,
            first_line: (start == 0).then_some(1),
            start,
            skipped: 0,
            first_skipped_at: None,
        }
    }

    /// The offset just past the last line read.
    pub fn offset(&self) -> u64 {
        self.reader.offset()
    }

    /// How many damaged lines this reader skipped (always 0 with [`OnDamage::Refuse`]).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Where the first damaged line it skipped starts: everything before it was readable.
    pub fn first_skipped_at(&self) -> Option<u64> {
        self.first_skipped_at
    }

    /// The next event; `None` at the end of what is written so far.
    pub fn next_event(&mut self) -> Result<Option<Entry<'_>>> {
        let (start, end, envelope, event) = loop {
            let Some(line) = self.reader.next_line()? else {
                return Ok(None);
            };
            let (start, end, number) = (line.start, line.end, line.number);
            match Line::read(line.bytes) {
                Line::Blank => continue,
                Line::Event { envelope, event } => break (start, end, envelope, event),
                Line::Damaged(why) => {
                    let number = self.line_number(number)?;
                    match self.on_damage {
                        OnDamage::Refuse => return Err(damaged(number, &why)),
                        OnDamage::Warn => {
                            self.skipped += 1;
                            self.first_skipped_at.get_or_insert(start);
                            self.store.warn_damaged(number, &why);
                        }
                    }
                }
            }
        };
        Ok(Some(Entry {
            start,
            end,
            bytes: self.reader.last_line(),
            envelope,
            event,
        }))
    }

    /// The line number in the file of the reader's `nth` line (counted from where it began).
    fn line_number(&mut self, nth: u64) -> Result<u64> {
        let first = match self.first_line {
            Some(first) => first,
            None => {
                let first = log::line_number_at(&self.store.log_path(), self.start)?;
                self.first_line = Some(first);
                first
            }
        };
        Ok(first + nth - 1)
    }
}

/// The error of a reader that refuses a damaged line.
pub(super) fn damaged(line: u64, why: &str) -> Error {
    Error::new(format!("events.jsonl:{line} is damaged: {why}")).hint(
        "`factory store rebuild` moves damaged lines to recovered/ (`factory store check` lists them); until then commands that write refuse, and commands that only read skip them with a warning",
    )
}

impl Store {
    /// The events of the log from byte `offset` (0: the start; a position a reader or a push
    /// cursor took earlier); `Ok(None)` when there is no log yet.
    pub fn events_from(&self, offset: u64, on_damage: OnDamage) -> Result<Option<LogEvents<'_>>> {
        Ok(LogReader::open_at(&self.log_path(), offset)?
            .map(|reader| LogEvents::new(self, reader, offset, on_damage)))
    }

    /// Where the whole lines of the log end now (0 when there is none): where a reader of
    /// what is appended from now on starts (never inside a line being written).
    pub fn log_end(&self) -> Result<u64> {
        let path = self.log_path();
        match log::torn_tail(&path)? {
            Some(whole) => Ok(whole),
            None => log::len(&path),
        }
    }

    /// Whether a position taken from this log still fits it: inside it, at the end of a line,
    /// and the last event before it is `last_event_id` (`None`: no event before it).
    pub fn log_position_fits(&self, offset: u64, last_event_id: Option<&str>) -> Result<bool> {
        let path = self.log_path();
        Ok(offset <= log::len(&path)?
            && log::last_event_id_before(&path, offset)?.as_deref() == last_event_id)
    }

    /// The events about one template (the aggregate: events whose payload names it as its
    /// `templateId`), in log order. Lines that do not mention the id are passed over
    /// unparsed; the others follow `on_damage`.
    pub fn template_events(
        &self,
        template_id: &str,
        on_damage: OnDamage,
    ) -> Result<Vec<(Envelope, DomainEvent)>> {
        let mut out = Vec::new();
        let Some(mut reader) = LogReader::open_at(&self.log_path(), 0)? else {
            return Ok(out);
        };
        let needle = memchr::memmem::Finder::new(template_id.as_bytes());
        while let Some(line) = reader.next_line()? {
            if needle.find(line.bytes).is_none() {
                continue;
            }
            match Line::read(line.bytes) {
                Line::Event {
                    envelope,
                    event: Some(event),
                } if envelope.payload.get("templateId").and_then(|v| v.as_str())
                    == Some(template_id) =>
                {
                    out.push((envelope, event))
                }
                Line::Damaged(why) => match on_damage {
                    OnDamage::Refuse => return Err(damaged(line.number, &why)),
                    OnDamage::Warn => self.warn_damaged(line.number, &why),
                },
                _ => {}
            }
        }
        Ok(out)
    }

    /// Warns once per command about a damaged line a reader skipped; after
    /// [`WARNED_LINES`] lines, once more for all the others.
    fn warn_damaged(&self, line: u64, why: &str) {
        let mut warned = self.damage_warned.borrow_mut();
        if !warned.insert(line) {
            return;
        }
        match warned.len() {
            n if n <= WARNED_LINES => self.notice(format!(
                "events.jsonl:{line} is damaged ({why}); skipped it and answered from the readable lines. `factory store rebuild` moves damaged lines to recovered/ (`factory store check` lists them); until then commands that write refuse"
            )),
            n if n == WARNED_LINES + 1 => self.notice(
                "more lines of events.jsonl are damaged and were skipped; `factory store check` lists them all".into(),
            ),
            _ => {}
        }
    }
}

/// The events each command caused: the causation chain from a command id (`cmd-…`, the
/// first event's causation id) through every event caused by one in the chain. Kept up to
/// date incrementally (one pass over what the log gained since the last call), so it lives
/// longer than one store handle: a worker keeps one for all its commands.
#[derive(Debug, Default)]
pub struct CommandIndex {
    /// Where the index has read to, and the last event there (to notice a rewritten log).
    offset: u64,
    last_event_id: Option<String>,
    events: HashMap<String, Vec<String>>,
    /// Event id → the command whose chain it is in.
    chains: HashMap<String, String>,
}

impl CommandIndex {
    /// The ids of the events `command_id` caused, after reading what the log gained. A
    /// damaged line stops it (a command handled twice is worse than one refused).
    pub fn events_of(&mut self, store: &Store, command_id: &str) -> Result<Vec<String>> {
        if !store.log_position_fits(self.offset, self.last_event_id.as_deref())? {
            // `store rebuild` rewrote the log: start again.
            *self = CommandIndex::default();
        }
        if let Some(mut events) = store.events_from(self.offset, OnDamage::Refuse)? {
            while let Some(entry) = events.next_event()? {
                self.offset = entry.end;
                let envelope = entry.envelope;
                self.last_event_id = Some(envelope.event_id.clone());
                let Some(cause) = envelope.causation_id else {
                    continue;
                };
                let command = if cause.starts_with("cmd-") {
                    Some(cause)
                } else {
                    self.chains.get(&cause).cloned()
                };
                if let Some(command) = command {
                    self.chains
                        .insert(envelope.event_id.clone(), command.clone());
                    self.events
                        .entry(command)
                        .or_default()
                        .push(envelope.event_id);
                }
            }
            self.offset = events.offset();
        }
        Ok(self.events.get(command_id).cloned().unwrap_or_default())
    }
}

/// Line numbers already warned about, per store handle (one command).
pub(super) type Warned = std::cell::RefCell<HashSet<u64>>;

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope line of a type this version does not know (readable, kept as it is).
    fn line(id: &str, cause: Option<&str>) -> String {
        serde_json::json!({
            "eventId": id, "eventType": "SomethingNew", "tenantId": "t", "projectId": null,
            "moduleId": null, "traceId": "0af7651916cd43dd8448eb211c80319c",
            "correlationId": "c", "causationId": cause,
            "occurredAt": "2026-01-01T00:00:00.000Z", "payload": {}
        })
        .to_string()
            + "\n"
    }

    fn store_with(text: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(&dir.path().join("s"), None).unwrap();
        std::fs::write(store.log_path(), text).unwrap();
        (dir, store)
    }

    fn ids(store: &Store, offset: u64, on_damage: OnDamage) -> Result<Vec<String>> {
        let mut events = store.events_from(offset, on_damage)?.unwrap();
        let mut out = Vec::new();
        while let Some(entry) = events.next_event()? {
            out.push(entry.envelope.event_id);
        }
        Ok(out)
    }

    #[test]
    fn blank_lines_are_skipped_and_a_damaged_line_is_named_by_its_line_in_the_file() {
        let first = line("evt-1", None);
        let text = format!(
            "{first}\n  \n{}garbage\n{}\n\n",
            line("evt-2", None),
            line("evt-3", None)
        );
        let (_dir, store) = store_with(&text);
        // Refused, named by its line in the file even when the reader starts further on.
        let refused = ids(&store, 0, OnDamage::Refuse).unwrap_err();
        assert!(
            refused
                .message
                .starts_with("events.jsonl:5 is damaged: not an event envelope"),
            "{}",
            refused.message
        );
        let refused = ids(&store, first.len() as u64, OnDamage::Refuse).unwrap_err();
        assert!(
            refused.message.starts_with("events.jsonl:5 is damaged"),
            "{}",
            refused.message
        );
        // Skipped with one warning per line, however many readers meet it.
        assert_eq!(
            ids(&store, 0, OnDamage::Warn).unwrap(),
            ["evt-1", "evt-2", "evt-3"]
        );
        assert_eq!(
            ids(&store, first.len() as u64, OnDamage::Warn).unwrap(),
            ["evt-2", "evt-3"]
        );
        let notices = store.take_notices();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].starts_with("events.jsonl:5 is damaged (not an event envelope"));
        // Blank lines alone: no event, no damage.
        let (_dir, blank) = store_with("\n \n\n");
        assert!(ids(&blank, 0, OnDamage::Refuse).unwrap().is_empty());
    }

    #[test]
    fn an_unreadable_payload_is_damage_and_warnings_stop_after_ten_lines() {
        let bad = line("evt-9", None).replace("SomethingNew", "TemplateRegistered");
        let (_dir, store) = store_with(&format!("{bad}{}", "x\n".repeat(30)));
        let refused = ids(&store, 0, OnDamage::Refuse).unwrap_err();
        assert!(refused.message.contains("events.jsonl:1 is damaged: event evt-9 (TemplateRegistered) has a payload this version cannot read"), "{}", refused.message);
        assert!(ids(&store, 0, OnDamage::Warn).unwrap().is_empty());
        let notices = store.take_notices();
        assert_eq!(notices.len(), WARNED_LINES + 1);
        assert!(notices[WARNED_LINES].contains("`factory store check` lists them all"));
    }

    #[test]
    fn the_command_index_follows_chains_and_starts_again_when_the_log_is_rewritten() {
        let (_dir, store) = store_with(&format!(
            "{}{}\n{}",
            line("evt-1", Some("cmd-a")),
            line("evt-2", Some("evt-1")),
            line("evt-3", None)
        ));
        let mut index = CommandIndex::default();
        assert_eq!(
            index.events_of(&store, "cmd-a").unwrap(),
            ["evt-1", "evt-2"]
        );
        assert!(index.events_of(&store, "cmd-b").unwrap().is_empty());
        // Appended: read incrementally.
        let mut log = std::fs::read_to_string(store.log_path()).unwrap();
        log.push_str(&line("evt-4", Some("cmd-b")));
        std::fs::write(store.log_path(), &log).unwrap();
        assert_eq!(index.events_of(&store, "cmd-b").unwrap(), ["evt-4"]);
        // Rewritten (as `store rebuild` does): the index starts again rather than misread.
        std::fs::write(store.log_path(), line("evt-5", Some("cmd-c"))).unwrap();
        assert_eq!(index.events_of(&store, "cmd-c").unwrap(), ["evt-5"]);
        assert!(index.events_of(&store, "cmd-a").unwrap().is_empty());
        // A damaged line stops it.
        std::fs::write(
            store.log_path(),
            format!("{}oops\n", line("evt-5", Some("cmd-c"))),
        )
        .unwrap();
        let refused = index.events_of(&store, "cmd-c").unwrap_err();
        assert!(
            refused.message.starts_with("events.jsonl:2 is damaged"),
            "{}",
            refused.message
        );
    }
}
