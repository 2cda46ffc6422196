//! Filters over the log, applied line by line so memory stays flat however long it is.

use std::borrow::Cow;

use serde::Deserialize;
use time::OffsetDateTime;

use super::routing;
use crate::clock;
use crate::error::{Error, Result};

/// Where a query starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Since {
    /// Events that occurred at or after this instant.
    Time(OffsetDateTime),
    /// Events after the one with this id.
    EventId(String),
}

impl Since {
    /// Parses `--since`: an event id (`evt-…`), an RFC 3339 time, or a duration back from
    /// `now` (`45s`, `30m`, `2h`, `7d`, `1w`).
    pub fn parse(text: &str, now: OffsetDateTime) -> Result<Since> {
        if text.starts_with("evt-") {
            return Ok(Since::EventId(text.to_string()));
        }
        if let Some(ago) = duration(text) {
            return Ok(Since::Time(now - ago));
        }
        clock::parse_rfc3339(text).map(Since::Time).map_err(|e| {
            e.hint("--since takes an event id (evt-…), an RFC 3339 time such as 2026-06-11T09:05:00Z, or a duration such as 30m, 2h or 7d")
        })
    }
}

/// `45s`, `30m`, `2h`, `7d`, `1w` as a duration.
fn duration(text: &str) -> Option<time::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    Some(time::Duration::seconds(amount.checked_mul(seconds)?))
}

/// The parts of an envelope a filter looks at, borrowed from the line where possible.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeHead<'a> {
    /// The event id.
    #[serde(borrow)]
    pub event_id: Cow<'a, str>,
    /// The event type.
    #[serde(borrow)]
    pub event_type: Cow<'a, str>,
    /// The tenant.
    #[serde(borrow)]
    pub tenant_id: Cow<'a, str>,
    /// The correlation id.
    #[serde(borrow)]
    pub correlation_id: Cow<'a, str>,
    /// When it occurred.
    #[serde(borrow)]
    pub occurred_at: Cow<'a, str>,
    /// The payload's template id, if it has one.
    #[serde(borrow, default)]
    pub payload: PayloadHead<'a>,
}

/// The payload fields a filter looks at.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadHead<'a> {
    /// The template the event is about.
    #[serde(borrow, default)]
    pub template_id: Option<Cow<'a, str>>,
}

/// What `factory events` keeps.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep these event types (any of them); empty keeps all.
    pub types: Vec<String>,
    /// Keep events routed to this topic.
    pub topic: Option<String>,
    /// Keep events from here on.
    pub since: Option<Since>,
    /// Keep events with this correlation id.
    pub correlation_id: Option<String>,
    /// Keep events of this tenant.
    pub tenant: Option<String>,
    /// Keep events about this template id.
    pub template_id: Option<String>,
}

/// A running query: the filter plus where `--since EVENT_ID` has got to.
#[derive(Debug)]
pub struct Query {
    filter: Filter,
    waiting_for: Option<String>,
}

impl Query {
    /// Starts a query.
    pub fn new(filter: Filter) -> Result<Query> {
        if let Some(topic) = &filter.topic
            && !routing::TOPICS.contains(&topic.as_str())
        {
            return Err(Error::usage(format!("unknown topic `{topic}`"))
                .hint(format!("topics are: {}", routing::TOPICS.join(", "))));
        }
        let waiting_for = match &filter.since {
            Some(Since::EventId(id)) => Some(id.clone()),
            _ => None,
        };
        Ok(Query {
            filter,
            waiting_for,
        })
    }

    /// Whether `--since EVENT_ID` named an event that has not been seen yet.
    pub fn still_waiting(&self) -> Option<&str> {
        self.waiting_for.as_deref()
    }

    /// Whether the line's event passes; `line_number` is for the error on a bad line.
    pub fn matches(&mut self, line: &[u8], line_number: u64) -> Result<bool> {
        let head: EnvelopeHead = serde_json::from_slice(line).map_err(|e| {
            Error::new(format!(
                "events.jsonl:{line_number}: not an event envelope: {e}"
            ))
            .hint("run `factory store check` to see the state of the log")
        })?;
        if let Some(id) = &self.waiting_for {
            if head.event_id == id.as_str() {
                self.waiting_for = None;
            }
            return Ok(false);
        }
        let f = &self.filter;
        if !f.types.is_empty() && !f.types.iter().any(|t| t.as_str() == head.event_type) {
            return Ok(false);
        }
        if let Some(topic) = &f.topic
            && !routing::routes_to(&head.event_type, topic)
        {
            return Ok(false);
        }
        if let Some(Since::Time(since)) = &f.since {
            match clock::parse_rfc3339(&head.occurred_at) {
                Ok(at) if at >= *since => {}
                _ => return Ok(false),
            }
        }
        if let Some(c) = &f.correlation_id
            && head.correlation_id != c.as_str()
        {
            return Ok(false);
        }
        if let Some(t) = &f.tenant
            && head.tenant_id != t.as_str()
        {
            return Ok(false);
        }
        if let Some(t) = &f.template_id
            && head.payload.template_id.as_deref() != Some(t.as_str())
        {
            return Ok(false);
        }
        Ok(true)
    }
}
