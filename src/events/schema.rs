//! JSON Schemas (2020-12) of the envelope and every payload, generated from the Rust types.

use serde_json::{Map, Value};

use super::envelope::Envelope;
use crate::domain::DomainEvent;

/// The envelope's schema.
pub fn envelope_schema() -> Value {
    schemars::schema_for!(Envelope).to_value()
}

/// A payload's schema, or `None` for a type not in the catalog.
pub fn payload_schema(event_type: &str) -> Option<Value> {
    DomainEvent::payload_schema(event_type).map(|s| s.to_value())
}

/// Every schema in one document: `{"envelope": …, "payloads": {"Type": …}}`.
pub fn all_schemas() -> Value {
    let mut payloads = Map::new();
    for event_type in DomainEvent::TYPES {
        payloads.insert(
            (*event_type).to_string(),
            payload_schema(event_type).expect("catalog types have schemas"),
        );
    }
    serde_json::json!({ "envelope": envelope_schema(), "payloads": payloads })
}
