//! The machine-readable contracts committed in the repository, generated from the code:
//! JSON Schemas of `template.yaml`, the envelope and every payload, an AsyncAPI 3.0 document
//! of the topics, shell completions and the man page. A test fails when the committed files
//! are stale (`FACTORY_UPDATE_CONTRACTS=1 cargo test --test contracts` rewrites them).

use serde_json::{Map, Value, json};

use crate::cli::completions;
use crate::domain::DomainEvent;
use crate::events::{routing, schema};
use crate::template::manifest::Manifest;

fn pretty(value: &Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(value).expect("schemas serialize");
    text.push('\n');
    text.into_bytes()
}

/// The AsyncAPI 3.0 document: one channel per topic, one message per event type, the `cs-*`
/// application properties as headers.
pub fn asyncapi() -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    for topic in routing::TOPICS {
        let mut messages = Map::new();
        let mut refs = Vec::new();
        for event_type in DomainEvent::TYPES
            .iter()
            .filter(|t| routing::routes_to(t, topic))
        {
            messages.insert(
                (*event_type).to_string(),
                json!({"$ref": format!("#/components/messages/{event_type}")}),
            );
            refs.push(json!({"$ref": format!("#/channels/{topic}/messages/{event_type}")}));
        }
        channels.insert(
            topic.to_string(),
            json!({"address": topic, "description": format!("Events routed to {topic}."), "messages": messages}),
        );
        operations.insert(
            format!("send.{topic}"),
            json!({"action": "send", "channel": {"$ref": format!("#/channels/{topic}")}, "messages": refs}),
        );
    }
    let mut messages = Map::new();
    for event_type in DomainEvent::TYPES {
        messages.insert(
            (*event_type).to_string(),
            json!({
                "name": event_type,
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/ApplicationProperties"},
                "payload": {"allOf": [
                    {"$ref": "./envelope.schema.json"},
                    {"type": "object", "properties": {
                        "eventType": {"const": event_type},
                        "payload": {"$ref": format!("./payloads/{event_type}.schema.json")},
                    }},
                ]},
            }),
        );
    }
    let property =
        |what: &str| json!({"type": "string", "description": format!("The envelope's {what}.")});
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "factory events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The canonical event envelope on the factory topics. The message id is the eventId.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {"ApplicationProperties": {
                "type": "object",
                "properties": {
                    "cs-event-type": property("eventType"),
                    "cs-tenant-id": property("tenantId"),
                    "cs-trace-id": property("traceId"),
                    "cs-correlation-id": property("correlationId"),
                },
                "required": ["cs-event-type", "cs-tenant-id", "cs-trace-id", "cs-correlation-id"],
            }},
        },
    })
}

/// Every generated file: (path relative to the repository, bytes).
pub fn files() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        (
            "docs/schemas/template.schema.json".to_string(),
            pretty(&schemars::schema_for!(Manifest).to_value()),
        ),
        (
            "docs/schemas/envelope.schema.json".to_string(),
            pretty(&schema::envelope_schema()),
        ),
    ];
    for event_type in DomainEvent::TYPES {
        let schema = schema::payload_schema(event_type).expect("catalog types have schemas");
        out.push((
            format!("docs/schemas/payloads/{event_type}.schema.json"),
            pretty(&schema),
        ));
    }
    let asyncapi = serde_saphyr::to_string(&asyncapi()).expect("the document serializes");
    out.push((
        "docs/schemas/asyncapi.yaml".to_string(),
        asyncapi.into_bytes(),
    ));
    for shell in completions::SHELLS {
        out.push((
            format!("completions/{}", completions::file_name(shell)),
            completions::script(shell),
        ));
    }
    out.push(("man/factory.1".to_string(), completions::man_page()));
    out
}
