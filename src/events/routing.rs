//! Routing, a pure function of the event type: which topics carry an event, and the
//! application properties mirrored from the envelope for broker-side filtering.

use super::envelope::Envelope;

/// The topic of the template events.
pub const TEMPLATE_TOPIC: &str = "factory.templates.template";
/// The topic of the library events.
pub const LIBRARY_TOPIC: &str = "factory.templates.library";
/// The topic of the promoted integration events.
pub const INTEGRATION_TOPIC: &str = "factory.integration";
/// Every topic, in the order DESIGN.md lists them.
pub const TOPICS: [&str; 3] = [TEMPLATE_TOPIC, LIBRARY_TOPIC, INTEGRATION_TOPIC];

/// The eight events promoted to `factory.integration`.
pub const INTEGRATION_EVENTS: [&str; 8] = [
    "TemplatePublished",
    "TemplateVersionCreated",
    "TemplateExecuted",
    "ScaffoldGenerated",
    "TemplateValidated",
    "CompatibilityEvaluated",
    "LibraryPublished",
    "DependencyScanned",
];

const LIBRARY_EVENTS: [&str; 5] = [
    "LibraryRegistered",
    "LibraryVersionCreated",
    "DependencyScanned",
    "LibraryPublished",
    "ApiClientCataloged",
];

/// The topic that owns an event type: the library topic for library events, the template
/// topic for everything else.
pub fn home_topic(event_type: &str) -> &'static str {
    if LIBRARY_EVENTS.contains(&event_type) {
        LIBRARY_TOPIC
    } else {
        TEMPLATE_TOPIC
    }
}

/// Whether an event type is one of the eight promoted integration events.
pub fn is_integration(event_type: &str) -> bool {
    INTEGRATION_EVENTS.contains(&event_type)
}

/// Every topic an event type is sent to: its home topic, then `factory.integration` when
/// promoted.
pub fn topics(event_type: &str) -> Vec<&'static str> {
    let mut topics = vec![home_topic(event_type)];
    if is_integration(event_type) {
        topics.push(INTEGRATION_TOPIC);
    }
    topics
}

/// Whether an event type travels on `topic`.
pub fn routes_to(event_type: &str, topic: &str) -> bool {
    home_topic(event_type) == topic || (topic == INTEGRATION_TOPIC && is_integration(event_type))
}

/// The `cs-*` application properties mirrored from the envelope.
pub fn properties(envelope: &Envelope) -> [(&'static str, &str); 4] {
    [
        ("cs-event-type", envelope.event_type.as_str()),
        ("cs-tenant-id", envelope.tenant_id.as_str()),
        ("cs-trace-id", envelope.trace_id.as_str()),
        ("cs-correlation-id", envelope.correlation_id.as_str()),
    ]
}

/// Where commands travel for a service: `factory.templates.{service}.commands`.
pub fn command_topic(service: &str) -> String {
    format!("factory.templates.{service}.commands")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DomainEvent;

    #[test]
    fn every_catalog_event_has_a_home_and_eight_are_promoted() {
        let promoted: Vec<_> = DomainEvent::TYPES
            .iter()
            .filter(|t| is_integration(t))
            .collect();
        assert_eq!(promoted.len(), 8);
        for t in INTEGRATION_EVENTS {
            assert!(DomainEvent::TYPES.contains(&t), "{t} is in the catalog");
        }
        assert_eq!(
            topics("TemplateRegistered"),
            vec!["factory.templates.template"]
        );
        assert_eq!(
            topics("LibraryPublished"),
            vec!["factory.templates.library", "factory.integration"]
        );
        assert_eq!(
            topics("ScaffoldGenerated"),
            vec!["factory.templates.template", "factory.integration"]
        );
        assert_eq!(
            topics("ApiClientCataloged"),
            vec!["factory.templates.library"]
        );
        assert!(routes_to("DependencyScanned", INTEGRATION_TOPIC));
        assert!(!routes_to("LibraryRegistered", INTEGRATION_TOPIC));
        assert_eq!(
            command_topic("library"),
            "factory.templates.library.commands"
        );
    }

    #[test]
    fn properties_mirror_the_envelope() {
        let envelope = Envelope {
            event_id: "evt-x".into(),
            event_type: "TemplatePublished".into(),
            tenant_id: "acme".into(),
            project_id: None,
            module_id: None,
            trace_id: "t".into(),
            correlation_id: "c".into(),
            causation_id: None,
            occurred_at: String::new(),
            payload: serde_json::Value::Null,
        };
        assert_eq!(
            properties(&envelope),
            [
                ("cs-event-type", "TemplatePublished"),
                ("cs-tenant-id", "acme"),
                ("cs-trace-id", "t"),
                ("cs-correlation-id", "c"),
            ]
        );
    }
}
