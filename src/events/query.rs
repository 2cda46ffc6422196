//! Filters over the log, applied line by line so memory stays flat however long it is.

use time::OffsetDateTime;

use super::{Envelope, routing};
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

    /// Whether the event passes.
    pub fn matches(&mut self, envelope: &Envelope) -> bool {
        if let Some(id) = &self.waiting_for {
            if envelope.event_id == *id {
                self.waiting_for = None;
            }
            return false;
        }
        let f = &self.filter;
        if !f.types.is_empty() && !f.types.contains(&envelope.event_type) {
            return false;
        }
        if let Some(topic) = &f.topic
            && !routing::routes_to(&envelope.event_type, topic)
        {
            return false;
        }
        if let Some(Since::Time(since)) = &f.since {
            match clock::parse_rfc3339(&envelope.occurred_at) {
                Ok(at) if at >= *since => {}
                _ => return false,
            }
        }
        if let Some(c) = &f.correlation_id
            && envelope.correlation_id != *c
        {
            return false;
        }
        if let Some(t) = &f.tenant
            && envelope.tenant_id != *t
        {
            return false;
        }
        if let Some(t) = &f.template_id
            && envelope.payload.get("templateId").and_then(|v| v.as_str()) != Some(t.as_str())
        {
            return false;
        }
        true
    }
}
