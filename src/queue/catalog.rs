//! The command catalog: each command type, the service whose queue it goes to
//! (`factory.templates.{service}.commands`), whether it writes the registry (one active
//! consumer at a time) and the event that reports its outcome; and a payload type per
//! command, whose JSON Schema is generated like the events'.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

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

/// `RegisterTemplate`: register a template found at a location the worker can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterTemplate {
    /// A folder on the worker's machine or a git URL[#REF].
    pub location: String,
    /// A name instead of the manifest's.
    #[serde(default)]
    pub name: Option<String>,
    /// The owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// The ref of a repository.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// The template's folder inside a repository.
    #[serde(default)]
    pub directory: Option<String>,
}

/// `CreateTemplateVersion`: snapshot a registered template as a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTemplateVersion {
    /// The template's name or id.
    pub template: String,
    /// The number; or `bump`.
    #[serde(default)]
    pub version: Option<String>,
    /// `major`, `minor` or `patch` of the highest version, when no number is given.
    #[serde(default)]
    pub bump: Option<String>,
    /// Where to snapshot from (default: where it was registered from).
    #[serde(default)]
    pub from: Option<String>,
}

/// `ValidateTemplate`: validate a stored version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidateTemplate {
    /// `NAME@VERSION`.
    pub template: String,
    /// Also render the pairwise combinations of bools and choices.
    #[serde(default)]
    pub matrix: bool,
}

/// `PublishTemplate`: publish a validated version (and push it to a remote).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishTemplate {
    /// `NAME@VERSION`.
    pub template: String,
    /// A registry remote of the worker's store.
    #[serde(default)]
    pub to: Option<String>,
}

/// Where a generated scaffold goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaffoldTarget {
    /// A folder relative to the worker's `--output-root`, never outside it.
    #[serde(default)]
    pub folder: Option<String>,
    /// A git repository URL to push a commit of the output to.
    #[serde(default)]
    pub repository: Option<String>,
    /// The branch of `repository`.
    #[serde(default)]
    pub branch: Option<String>,
}

/// `GenerateScaffold`: render a template into a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateScaffold {
    /// `NAME[@VERSION]` in the store (or a remote of it), a folder or a git URL.
    pub template: String,
    /// The answers.
    #[serde(default)]
    pub answers: Map<String, Value>,
    /// Where the output goes.
    pub target: ScaffoldTarget,
    /// The runtime to judge RuntimeRequires against.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Allow a version that is not published.
    #[serde(default)]
    pub allow_draft: bool,
}

/// `EvaluateCompatibility`: judge a composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvaluateCompatibility {
    /// Templates, `NAME[@VERSION]`.
    #[serde(default)]
    pub templates: Vec<String>,
    /// Libraries, `NAME[@RANGE]`.
    #[serde(default)]
    pub libraries: Vec<String>,
    /// The runtime.
    #[serde(default)]
    pub runtime: Option<String>,
}

/// `PlanTemplateUpgrade`: plan (never apply) an upgrade of a project under the output root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanTemplateUpgrade {
    /// The generated project, relative to the worker's `--output-root`.
    pub folder: String,
    /// The version to move to (default: the newest published).
    #[serde(default)]
    pub to: Option<String>,
}

/// `RegisterLibrary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterLibrary {
    /// The package name.
    pub name: String,
    /// `nuget`, `cargo` or `npm`.
    #[serde(default = "nuget")]
    pub ecosystem: String,
    /// The area.
    #[serde(default)]
    pub area: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

fn nuget() -> String {
    "nuget".to_string()
}

/// `CreateLibraryVersion`: a release with its declared dependencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLibraryVersion {
    /// The library.
    pub library: String,
    /// The version.
    pub version: String,
    /// `NAME@RANGE` dependencies.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Target frameworks.
    #[serde(default)]
    pub frameworks: Vec<String>,
}

/// `ScanDependencies`: resolve a release's dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanDependencies {
    /// `NAME@VERSION`.
    pub library: String,
}

/// `PublishPackage`: push a package to a feed (not served from queues: see docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishPackage {
    /// `NAME@VERSION`.
    pub library: String,
    /// The feed.
    pub feed: String,
}

/// `AdvisePackageUpgrade`: advice for a release's dependencies (not served from queues).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvisePackageUpgrade {
    /// `NAME@VERSION`.
    pub library: String,
}

/// A command with its typed payload.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Command {
    RegisterTemplate(RegisterTemplate),
    CreateTemplateVersion(CreateTemplateVersion),
    PublishTemplate(PublishTemplate),
    ValidateTemplate(ValidateTemplate),
    GenerateScaffold(GenerateScaffold),
    EvaluateCompatibility(EvaluateCompatibility),
    PlanTemplateUpgrade(PlanTemplateUpgrade),
    RegisterLibrary(RegisterLibrary),
    CreateLibraryVersion(CreateLibraryVersion),
    ScanDependencies(ScanDependencies),
    PublishPackage(PublishPackage),
    AdvisePackageUpgrade(AdvisePackageUpgrade),
}

fn typed<T: serde::de::DeserializeOwned>(command_type: &str, payload: &Value) -> Result<T> {
    serde_json::from_value(payload.clone()).map_err(|e| {
        Error::usage(format!(
            "the payload of {command_type} does not fit its schema: {e}"
        ))
        .hint(format!(
            "`factory commands schema {command_type}` prints the schema"
        ))
    })
}

impl Command {
    /// The typed command of an envelope; an unknown type or a payload that does not fit
    /// its schema is a usage error (the command is dead-lettered, not retried).
    pub fn parse(command_type: &str, payload: &Value) -> Result<Command> {
        Ok(match command_type {
            "RegisterTemplate" => Command::RegisterTemplate(typed(command_type, payload)?),
            "CreateTemplateVersion" => {
                Command::CreateTemplateVersion(typed(command_type, payload)?)
            }
            "PublishTemplate" => Command::PublishTemplate(typed(command_type, payload)?),
            "ValidateTemplate" => Command::ValidateTemplate(typed(command_type, payload)?),
            "GenerateScaffold" => Command::GenerateScaffold(typed(command_type, payload)?),
            "EvaluateCompatibility" => {
                Command::EvaluateCompatibility(typed(command_type, payload)?)
            }
            "PlanTemplateUpgrade" => Command::PlanTemplateUpgrade(typed(command_type, payload)?),
            "RegisterLibrary" => Command::RegisterLibrary(typed(command_type, payload)?),
            "CreateLibraryVersion" => Command::CreateLibraryVersion(typed(command_type, payload)?),
            "ScanDependencies" => Command::ScanDependencies(typed(command_type, payload)?),
            "PublishPackage" => Command::PublishPackage(typed(command_type, payload)?),
            "AdvisePackageUpgrade" => Command::AdvisePackageUpgrade(typed(command_type, payload)?),
            other => {
                let names = COMMANDS.iter().map(|s| s.command_type);
                return Err(Error::usage(format!(
                    "`{other}` is not a command type{}",
                    crate::suggest::did_you_mean(other, names)
                ))
                .hint("`factory commands list` lists the command types"));
            }
        })
    }
}

/// A payload's JSON Schema, or `None` for a type not in the catalog.
pub fn payload_schema(command_type: &str) -> Option<Value> {
    let schema = match command_type {
        "RegisterTemplate" => schemars::schema_for!(RegisterTemplate),
        "CreateTemplateVersion" => schemars::schema_for!(CreateTemplateVersion),
        "PublishTemplate" => schemars::schema_for!(PublishTemplate),
        "ValidateTemplate" => schemars::schema_for!(ValidateTemplate),
        "GenerateScaffold" => schemars::schema_for!(GenerateScaffold),
        "EvaluateCompatibility" => schemars::schema_for!(EvaluateCompatibility),
        "PlanTemplateUpgrade" => schemars::schema_for!(PlanTemplateUpgrade),
        "RegisterLibrary" => schemars::schema_for!(RegisterLibrary),
        "CreateLibraryVersion" => schemars::schema_for!(CreateLibraryVersion),
        "ScanDependencies" => schemars::schema_for!(ScanDependencies),
        "PublishPackage" => schemars::schema_for!(PublishPackage),
        "AdvisePackageUpgrade" => schemars::schema_for!(AdvisePackageUpgrade),
        _ => return None,
    };
    Some(schema.to_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_queue_a_schema_and_an_outcome_in_the_event_catalog() {
        for spec in COMMANDS {
            assert!(
                payload_schema(spec.command_type).is_some(),
                "{}",
                spec.command_type
            );
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
        let refused = Command::parse("GenerateScaffold", &serde_json::json!({"template": 1}));
        assert!(
            refused
                .unwrap_err()
                .message
                .contains("does not fit its schema")
        );
        assert!(Command::parse("MakeCoffee", &serde_json::json!({})).is_err());
    }
}
