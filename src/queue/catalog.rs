//! The command catalog's routing: each command type, the service whose queue it goes to
//! (`factory.templates.{service}.commands`), whether it writes the registry (one active
//! consumer at a time) and the event that reports its outcome. The payload of each type is
//! its request type in `app` ([`crate::app::Command`]), defined once.

/// One command type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// VerbNoun.
    pub command_type: &'static str,
    /// The service that handles it.
    pub service: &'static str,
    /// Writes the registry: consumed by a single active consumer.
    pub writes_registry: bool,
    /// The event type that reports the outcome (`send --wait` waits for it).
    pub outcome: &'static str,
}

const fn spec(
    command_type: &'static str,
    service: &'static str,
    writes_registry: bool,
    outcome: &'static str,
) -> CommandSpec {
    CommandSpec {
        command_type,
        service,
        writes_registry,
        outcome,
    }
}

/// Every command type of the platform.
pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "RegisterTemplate",
        "template-registry",
        true,
        "TemplateRegistered",
    ),
    spec(
        "CreateTemplateVersion",
        "template-registry",
        true,
        "TemplateVersionCreated",
    ),
    spec(
        "PublishTemplate",
        "template-registry",
        true,
        "TemplatePublished",
    ),
    spec(
        "ValidateTemplate",
        "template-validation",
        false,
        "TemplateValidated",
    ),
    spec(
        "GenerateScaffold",
        "scaffold-engine",
        false,
        "TemplateExecuted",
    ),
    spec(
        "EvaluateCompatibility",
        "compatibility-engine",
        false,
        "CompatibilityEvaluated",
    ),
    spec(
        "PlanTemplateUpgrade",
        "upgrade-planner",
        false,
        "TemplateUpgradePlanCreated",
    ),
    spec(
        "RegisterLibrary",
        "library-registry",
        true,
        "LibraryRegistered",
    ),
    spec(
        "CreateLibraryVersion",
        "library-registry",
        true,
        "LibraryVersionCreated",
    ),
    spec(
        "ScanDependencies",
        "dependency-scanner",
        false,
        "DependencyScanned",
    ),
    spec(
        "PublishPackage",
        "library-registry",
        true,
        "LibraryPublished",
    ),
    spec(
        "AdvisePackageUpgrade",
        "dependency-scanner",
        false,
        "DependencyScanned",
    ),
];

/// The services, each once, in catalog order.
pub fn services() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for spec in COMMANDS {
        if !out.contains(&spec.service) {
            out.push(spec.service);
        }
    }
    out
}

/// A command type's entry.
pub fn find(command_type: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|s| s.command_type == command_type)
}

/// The queue of a service.
pub fn queue(service: &str) -> String {
    format!("factory.templates.{service}.commands")
}

/// The dead-letter queue of a queue.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dlq")
}

/// Whether a service's commands write the registry.
pub fn writes_registry(service: &str) -> bool {
    COMMANDS
        .iter()
        .any(|s| s.service == service && s.writes_registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_queue_and_an_outcome_in_the_event_catalog() {
        for spec in COMMANDS {
            assert!(
                crate::domain::DomainEvent::TYPES.contains(&spec.outcome),
                "{}",
                spec.outcome
            );
        }
        assert_eq!(
            queue("scaffold-engine"),
            "factory.templates.scaffold-engine.commands"
        );
        assert!(writes_registry("template-registry"));
        assert!(!writes_registry("scaffold-engine"));
    }
}
