//! Who, where and when an invocation acts: the envelope fields shared by its events.

use time::OffsetDateTime;

use super::envelope::Envelope;
use crate::clock;
use crate::domain::DomainEvent;
use crate::ids;

/// The envelope fields that do not depend on the event itself, fixed once per invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    /// Required tenant.
    pub tenant_id: String,
    /// Project, if known.
    pub project_id: Option<String>,
    /// Module, if known.
    pub module_id: Option<String>,
    /// From `TRACEPARENT`, or new per invocation.
    pub trace_id: String,
    /// The caller's, or new per invocation.
    pub correlation_id: String,
    /// The caller's `--causation-id`: what caused the first event of a command.
    pub causation_id: Option<String>,
    /// The pinned clock (`FACTORY_NOW`), if any.
    pub pinned_now: Option<OffsetDateTime>,
}

impl EventContext {
    /// A context for tests and tools: tenant set, everything else fresh.
    pub fn for_tenant(tenant_id: &str) -> Self {
        EventContext {
            tenant_id: tenant_id.to_string(),
            project_id: None,
            module_id: None,
            trace_id: ids::new_trace_id(),
            correlation_id: ids::new_id(ids::CORRELATION),
            causation_id: None,
            pinned_now: None,
        }
    }

    /// The current instant, or the pinned one.
    pub fn now(&self) -> OffsetDateTime {
        self.pinned_now.unwrap_or_else(OffsetDateTime::now_utc)
    }

    /// Wraps one command's events in envelopes. Within a command each event is caused by the
    /// one before it; the first is caused by the caller's `--causation-id`, if any.
    pub fn stamp(&self, events: &[DomainEvent]) -> Vec<Envelope> {
        self.stamp_caused(events, &[])
    }

    /// Like [`stamp`](Self::stamp), but `causes[i] = Some(j)` makes event `i` caused by event
    /// `j` of the same command (several events answering one, rather than a chain).
    pub fn stamp_caused(&self, events: &[DomainEvent], causes: &[Option<usize>]) -> Vec<Envelope> {
        let occurred_at = clock::format_rfc3339(self.now());
        let mut causation_id = self.causation_id.clone();
        let mut envelopes: Vec<Envelope> = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            let event_id = ids::new_id(ids::EVENT);
            if let Some(Some(j)) = causes.get(i) {
                causation_id = Some(envelopes[*j].event_id.clone());
            }
            envelopes.push(Envelope {
                event_id: event_id.clone(),
                event_type: event.event_type().to_string(),
                tenant_id: self.tenant_id.clone(),
                project_id: self.project_id.clone(),
                module_id: self.module_id.clone(),
                trace_id: self.trace_id.clone(),
                correlation_id: self.correlation_id.clone(),
                causation_id: causation_id.replace(event_id),
                occurred_at: occurred_at.clone(),
                payload: event.payload(),
            });
        }
        envelopes
    }
}
