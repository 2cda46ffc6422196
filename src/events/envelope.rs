//! The ten-field envelope, a public contract: field names, order and meaning are fixed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::DomainEvent;
use crate::error::{Error, Result};

/// One line of the log. Serde writes the fields in declaration order, which is the order
/// DESIGN.md section 3 gives; keep it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "factory event envelope")]
pub struct Envelope {
    /// `evt-` + a lower-case UUIDv7; the consumers' idempotency key.
    #[schemars(regex(
        pattern = r"^evt-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
    ))]
    pub event_id: String,
    /// NounVerbPastTense, from the catalog.
    #[schemars(regex(pattern = r"^[A-Z][A-Za-z0-9]+$"))]
    pub event_type: String,
    /// The tenant; always present.
    #[schemars(length(min = 1))]
    pub tenant_id: String,
    /// The project, or `null` when unknown.
    pub project_id: Option<String>,
    /// The module, or `null` when unknown.
    pub module_id: Option<String>,
    /// A W3C trace id: 32 lower-case hex digits.
    #[schemars(regex(pattern = r"^[0-9a-f]{32}$"))]
    pub trace_id: String,
    /// The caller's correlation id, or one made up per invocation.
    #[schemars(length(min = 1))]
    pub correlation_id: String,
    /// The eventId that caused this event, or `null`.
    pub causation_id: Option<String>,
    /// RFC 3339, UTC, ending in `Z`.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"))]
    pub occurred_at: String,
    /// The event's own fields, camelCase.
    pub payload: Value,
}

impl Envelope {
    /// Parses one log line.
    pub fn from_line(line: &[u8]) -> serde_json::Result<Envelope> {
        serde_json::from_slice(line)
    }

    /// The typed event, `Ok(None)` for a type this build does not know.
    pub fn event(&self) -> Result<Option<DomainEvent>> {
        DomainEvent::from_parts(&self.event_type, &self.payload).map_err(|e| {
            Error::new(format!(
                "event {} ({}) has a payload this version cannot read: {e}",
                self.event_id, self.event_type
            ))
            .hint("run `factory store check` to see the state of the log")
        })
    }

    /// Serialises to one line, newline included, appended to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(&mut *out, self).expect("an envelope always serializes");
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_serialize_in_design_order() {
        let envelope = Envelope {
            event_id: "evt-1".into(),
            event_type: "TemplateRegistered".into(),
            tenant_id: "t".into(),
            project_id: None,
            module_id: Some("m".into()),
            trace_id: "0".repeat(32),
            correlation_id: "c".into(),
            causation_id: None,
            occurred_at: "2026-01-01T00:00:00.000Z".into(),
            payload: serde_json::json!({"b": 1, "a": 2}),
        };
        let mut line = Vec::new();
        envelope.write_line(&mut line);
        let text = String::from_utf8(line).unwrap();
        let keys: Vec<usize> = [
            "eventId",
            "eventType",
            "tenantId",
            "projectId",
            "moduleId",
            "traceId",
            "correlationId",
            "causationId",
            "occurredAt",
            "payload",
        ]
        .iter()
        .map(|k| text.find(&format!("\"{k}\"")).unwrap())
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.contains(r#""projectId":null"#));
        assert!(text.contains(r#"{"b":1,"a":2}"#), "payload keeps its order");
        assert!(text.ends_with("}\n"));
    }
}
