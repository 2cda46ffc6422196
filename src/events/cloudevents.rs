//! The envelope as a CloudEvents 1.0 event: structured JSON (for `events --format
//! cloudevents` and HTTP batches) and the binary-mode HTTP headers.

use serde_json::{Map, Value, json};

use super::envelope::Envelope;
use crate::hash::sha256_hex;

/// The payload fields that name what an event is about, most specific first.
const SUBJECT_FIELDS: [&str; 7] = [
    "templateVersionId",
    "templateId",
    "executionId",
    "libraryVersionId",
    "libraryId",
    "matrixId",
    "planId",
];

/// `source`: where events of this tenant come from.
pub fn source(envelope: &Envelope) -> String {
    format!("/factory/{}", envelope.tenant_id)
}

/// `subject`: the id of the aggregate the event is about, when the payload names one.
pub fn subject(envelope: &Envelope) -> Option<&str> {
    SUBJECT_FIELDS
        .iter()
        .find_map(|field| envelope.payload.get(*field).and_then(Value::as_str))
}

/// A W3C `traceparent` carrying the envelope's trace id; the parent id is derived from the
/// event id, so it is stable across re-sends.
pub fn traceparent(envelope: &Envelope) -> String {
    let parent = &sha256_hex(envelope.event_id.as_bytes())[..16];
    format!("00-{}-{parent}-01", envelope.trace_id)
}

/// Every context attribute except `data`, as (name, value) pairs; absent ones left out.
pub fn attributes(envelope: &Envelope) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("specversion", "1.0".to_string()),
        ("id", envelope.event_id.clone()),
        ("source", source(envelope)),
        ("type", envelope.event_type.clone()),
    ];
    if let Some(subject) = subject(envelope) {
        out.push(("subject", subject.to_string()));
    }
    out.push(("time", envelope.occurred_at.clone()));
    out.push(("datacontenttype", "application/json".to_string()));
    out.push(("tenantid", envelope.tenant_id.clone()));
    if let Some(project) = &envelope.project_id {
        out.push(("projectid", project.clone()));
    }
    if let Some(module) = &envelope.module_id {
        out.push(("moduleid", module.clone()));
    }
    out.push(("correlationid", envelope.correlation_id.clone()));
    if let Some(causation) = &envelope.causation_id {
        out.push(("causationid", causation.clone()));
    }
    out.push(("traceparent", traceparent(envelope)));
    out
}

/// The structured-mode JSON event.
pub fn structured(envelope: &Envelope) -> Value {
    let mut event = Map::new();
    for (name, value) in attributes(envelope) {
        event.insert(name.to_string(), Value::String(value));
    }
    event.insert("data".to_string(), envelope.payload.clone());
    Value::Object(event)
}

/// The binary-mode HTTP headers (`ce-*`, values percent-encoded where the binding asks) and
/// the body, the payload.
pub fn binary(envelope: &Envelope) -> (Vec<(String, String)>, Vec<u8>) {
    let mut headers = Vec::new();
    for (name, value) in attributes(envelope) {
        if name == "datacontenttype" {
            headers.push(("content-type".to_string(), value));
        } else {
            headers.push((format!("ce-{name}"), encode_header(&value)));
        }
    }
    let body = serde_json::to_vec(&envelope.payload).expect("payloads serialize");
    (headers, body)
}

/// Percent-encodes space, `"`, `%` and anything outside printable ASCII, as the CloudEvents
/// HTTP binding requires for header values.
fn encode_header(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'%');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// A batch body (`application/cloudevents-batch+json`).
pub fn batch(envelopes: &[Envelope]) -> Vec<u8> {
    let events: Vec<Value> = envelopes.iter().map(structured).collect();
    serde_json::to_vec(&json!(events)).expect("events serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            event_id: "evt-01a2".into(),
            event_type: "TemplatePublished".into(),
            tenant_id: "acme corp".into(),
            project_id: None,
            module_id: Some("m".into()),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            correlation_id: "corr-1".into(),
            causation_id: None,
            occurred_at: "2026-06-11T09:05:00.000Z".into(),
            payload: json!({"templateId": "tpl-1", "templateVersionId": "tv-1", "version": "1.0.0"}),
        }
    }

    #[test]
    fn structured_and_binary_carry_the_envelope() {
        let e = envelope();
        let s = structured(&e);
        assert_eq!(s["specversion"], "1.0");
        assert_eq!(s["id"], "evt-01a2");
        assert_eq!(s["type"], "TemplatePublished");
        assert_eq!(s["subject"], "tv-1");
        assert_eq!(s["source"], "/factory/acme corp");
        assert_eq!(s["data"]["version"], "1.0.0");
        assert!(s.get("projectid").is_none() && s.get("causationid").is_none());
        assert_eq!(s["moduleid"], "m");
        assert!(
            s["traceparent"]
                .as_str()
                .unwrap()
                .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        );
        let (headers, body) = binary(&e);
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("ce-source"), Some("/factory/acme%20corp"));
        assert_eq!(get("content-type"), Some("application/json"));
        assert_eq!(get("ce-tenantid"), Some("acme%20corp"));
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), e.payload);
    }
}
