//! The machine-readable contracts committed in the repository, generated from the code:
//! JSON Schemas of `template.yaml`, the envelope and every payload, an AsyncAPI 3.0 document
//! of the topics, shell completions and the man page. A test fails when the committed files
//! are stale (`FACTORY_UPDATE_CONTRACTS=1 cargo test --test contracts` rewrites them).

use serde_json::{Map, Value, json};

use crate::cli::completions;
use crate::domain::DomainEvent;
use crate::events::{routing, schema};
use crate::queue::{catalog, envelope as command_envelope};
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
    // The command queues: one channel each, received by workers, with the command types
    // the catalog sends there.
    for service in catalog::services() {
        let queue = catalog::queue(service);
        let mut queue_messages = Map::new();
        let mut refs = Vec::new();
        for spec in catalog::COMMANDS.iter().filter(|s| s.service == service) {
            queue_messages.insert(
                spec.command_type.to_string(),
                json!({"$ref": format!("#/components/messages/{}", spec.command_type)}),
            );
            refs.push(
                json!({"$ref": format!("#/channels/{queue}/messages/{}", spec.command_type)}),
            );
            let single = if spec.writes_registry {
                " (single active consumer: it writes the registry)"
            } else {
                ""
            };
            messages.insert(
                spec.command_type.to_string(),
                json!({
                    "name": spec.command_type,
                    "contentType": "application/json",
                    "summary": format!("A command; its outcome is {}{single}.", spec.outcome),
                    "payload": {"allOf": [
                        {"$ref": "./commands/envelope.schema.json"},
                        {"type": "object", "properties": {
                            "commandType": {"const": spec.command_type},
                            "payload": {"$ref": format!("./commands/{}.schema.json", spec.command_type)},
                        }},
                    ]},
                }),
            );
        }
        channels.insert(
            queue.clone(),
            json!({
                "address": queue,
                "description": format!("Commands for the {service} service; refused ones go to {}.", catalog::dead_letter_queue(&catalog::queue(service))),
                "messages": queue_messages,
            }),
        );
        operations.insert(
            format!("receive.{queue}"),
            json!({"action": "receive", "channel": {"$ref": format!("#/channels/{queue}")}, "messages": refs}),
        );
    }
    let property =
        |what: &str| json!({"type": "string", "description": format!("The envelope's {what}.")});
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "factory events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The canonical event envelope on the factory topics (the message id is the eventId), and the command envelope on the services' command queues (the message id is the commandId).",
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
    out.push((
        "docs/schemas/commands/envelope.schema.json".to_string(),
        pretty(&command_envelope::schema()),
    ));
    for spec in catalog::COMMANDS {
        let schema = crate::app::Command::payload_schema(spec.command_type)
            .expect("catalog types have schemas");
        out.push((
            format!("docs/schemas/commands/{}.schema.json", spec.command_type),
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
