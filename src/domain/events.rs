//! The event catalog of DESIGN.md section 3: one payload struct per event type.
//!
//! Payload fields are camelCase. A breaking change to a payload is a new type with a `V2`
//! suffix, never an edit of an existing struct.
//!
//! Fields the catalog names need no doc comment of their own: docs/events.md describes each,
//! and a doc comment here would also become its description in the published JSON Schemas.
#![allow(missing_docs)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a template version's files came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    /// `path` for a local folder, `git` for a repository.
    pub kind: SourceKind,
    /// The folder path or repository URL.
    pub uri: String,
    /// The resolved commit for git sources; `null` otherwise.
    pub commit: Option<String>,
    /// The folder inside the repository that holds the template, if not its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
}

/// A template was added to the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRegistered {
    pub template_id: String,
    pub name: String,
    pub title: String,
    pub category: String,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    /// The folder or URL the template was registered from (a URL without credentials, with
    /// `#REF` when one was named).
    pub source: String,
    /// The folder inside the repository that holds the template (`--directory`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
}

/// A template version's files were snapshotted into the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateVersionCreated {
    pub template_id: String,
    pub template_version_id: String,
    /// Semantic version, `X.Y.Z`.
    pub version: String,
    pub source_ref: SourceRef,
    /// The tree hash of the template's files (DESIGN.md section 6).
    pub content_hash: String,
    pub file_count: u64,
    pub byte_count: u64,
    /// The rendering engine, `minijinja`.
    pub engine: String,
    /// The object (`sha256:…`) listing the snapshot's files, modes and blobs.
    pub tree: String,
}

/// The parameters of a template version, as a JSON Schema 2020-12 document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateParameterSchemaDefined {
    pub template_id: String,
    pub template_version_id: String,
    pub schema_id: String,
    pub parameter_count: u64,
    pub schema: Value,
}

/// Where a template's files came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A local folder.
    Path,
    /// A git repository.
    Git,
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceKind::Path => "path",
            SourceKind::Git => "git",
        })
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ExecutionStatus {
    /// The output was placed.
    Succeeded,
    /// Nothing was placed.
    Failed,
}

/// How one validation check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// No finding.
    Pass,
    /// A problem: the validation fails.
    Fail,
    /// Worth a look; does not fail.
    Warn,
    /// Not run (an earlier problem made it meaningless).
    Skip,
}

impl CheckStatus {
    /// As the envelope writes it: `pass`, `fail`, `warn`, `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Warn => "warn",
            CheckStatus::Skip => "skip",
        }
    }
}

/// The outcome of one validation check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutcome {
    /// The check's stable id, such as `template/syntax`.
    pub check: String,
    /// `pass`, `fail`, `warn` or `skip`.
    pub status: CheckStatus,
    pub message: String,
    /// `file:line:col`, a file, a parameter or a test name; `null` when global.
    pub location: Option<String>,
}

/// A template version was validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateValidated {
    pub template_id: String,
    pub template_version_id: String,
    pub validation_id: String,
    pub passed: bool,
    pub checks: Vec<CheckOutcome>,
    /// The content hash the validation ran on.
    pub content_hash: String,
}

/// A validated template version was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplatePublished {
    pub template_id: String,
    pub template_version_id: String,
    pub version: String,
    pub publication_id: String,
    pub content_hash: String,
    /// The registry artifact published with it (`oci://HOST/REPOSITORY@sha256:…`), when
    /// the version was published to a remote; absent for a publication in the store only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
}

/// `generate` was asked to render a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateExecutionRequested {
    pub execution_id: String,
    pub template_id: Option<String>,
    pub template_version_id: Option<String>,
    /// The answers, without secrets.
    pub parameters: serde_json::Map<String, Value>,
    /// The output folder.
    pub target: String,
}

/// A library a scaffold references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryUse {
    pub package_name: String,
    pub version: String,
}

/// A scaffold was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScaffoldGenerated {
    pub execution_id: String,
    pub scaffold_output_id: String,
    pub template_id: Option<String>,
    pub template_version_id: Option<String>,
    pub libraries: Vec<LibraryUse>,
    /// The git repository initialised for the output, if any.
    pub repository: Option<String>,
    pub content_hash: String,
    pub file_count: u64,
    pub byte_count: u64,
}

/// A template execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateExecuted {
    pub execution_id: String,
    /// The stored template executed (`null` for a folder or repository); so
    /// `events --template` finds every event of an execution.
    #[serde(default)]
    pub template_id: Option<String>,
    /// The stored version executed (`null` for a folder or repository).
    #[serde(default)]
    pub template_version_id: Option<String>,
    /// `Succeeded` or `Failed`.
    pub status: ExecutionStatus,
    pub scaffold_output_id: Option<String>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// A composition of templates and libraries was judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompatibilityEvaluated {
    pub matrix_id: String,
    pub scope: String,
    pub subjects: Vec<String>,
    pub compatible: bool,
    pub verdicts: Vec<Value>,
    pub conflicts: Vec<Value>,
}

/// An upgrade of a generated project was planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateUpgradePlanCreated {
    pub plan_id: String,
    pub execution_id: String,
    pub template_id: String,
    pub from_version: String,
    pub to_version: String,
    pub steps: Vec<Value>,
    pub conflict_count: u64,
}

/// A library was added to the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryRegistered {
    pub library_id: String,
    pub package_name: String,
    pub area: Option<String>,
    pub ecosystem: String,
    /// What the library is for.
    #[serde(default)]
    pub description: Option<String>,
}

/// A direct dependency of a library version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyRange {
    pub package_name: String,
    pub range: String,
}

/// A library release was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryVersionCreated {
    pub library_id: String,
    pub library_version_id: String,
    pub version: String,
    pub target_frameworks: Vec<String>,
    pub dependencies: Vec<DependencyRange>,
    /// Versions pinned by a lock file next to the project, if any.
    #[serde(default)]
    pub locked: Vec<LibraryUse>,
    /// The project file the dependencies were read from, if any.
    #[serde(default)]
    pub manifest: Option<String>,
}

/// A library version's dependency graph was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyScanned {
    pub library_id: String,
    pub library_version_id: String,
    pub graph_id: String,
    pub node_count: u64,
    pub edge_count: u64,
    pub conflict_count: u64,
    pub advisories: Vec<Value>,
    pub graph: Value,
}

/// A library package was pushed to a feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryPublished {
    pub library_id: String,
    pub library_version_id: String,
    pub publication_id: String,
    pub feed_ref: String,
    pub package_hash: String,
}

/// An API client library was cataloged from its OpenAPI document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiClientCataloged {
    pub library_id: String,
    pub client_name: String,
    pub spec_ref: String,
    pub operation_count: u64,
}

macro_rules! catalog {
    ($($name:ident),* $(,)?) => {
        /// Every event of the catalog, with its payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum DomainEvent {
            $(
                #[allow(missing_docs)]
                $name($name),
            )*
        }

        impl DomainEvent {
            /// Every event type name, in catalog order.
            pub const TYPES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// The event's type name, NounVerbPastTense.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(DomainEvent::$name(_) => stringify!($name),)*
                }
            }

            /// The payload as a JSON object.
            pub fn payload(&self) -> Value {
                let value = match self {
                    $(DomainEvent::$name(p) => serde_json::to_value(p),)*
                };
                value.expect("payload structs always serialize")
            }

            /// Reads a payload of a known type; `Ok(None)` for a type this build does not know.
            pub fn from_parts(event_type: &str, payload: &Value) -> serde_json::Result<Option<Self>> {
                match event_type {
                    $(stringify!($name) => <$name>::deserialize(payload).map(|p| Some(DomainEvent::$name(p))),)*
                    _ => Ok(None),
                }
            }

            /// The JSON Schema of a payload type, or `None` for an unknown type.
            pub fn payload_schema(event_type: &str) -> Option<schemars::Schema> {
                match event_type {
                    $(stringify!($name) => Some(schemars::schema_for!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

catalog!(
    TemplateRegistered,
    TemplateVersionCreated,
    TemplateParameterSchemaDefined,
    TemplateValidated,
    TemplatePublished,
    TemplateExecutionRequested,
    ScaffoldGenerated,
    TemplateExecuted,
    CompatibilityEvaluated,
    TemplateUpgradePlanCreated,
    LibraryRegistered,
    LibraryVersionCreated,
    DependencyScanned,
    LibraryPublished,
    ApiClientCataloged,
);

impl DomainEvent {
    /// The exit code the command line gives for a command whose outcome this event is: 1
    /// for a failed run, 3 for a negative verdict, else 0. `factory send --wait` has only
    /// the event to go by.
    pub fn outcome_exit_code(&self) -> u8 {
        match self {
            DomainEvent::TemplateExecuted(e) if e.status == ExecutionStatus::Failed => 1,
            DomainEvent::TemplateValidated(e) if !e.passed => 3,
            DomainEvent::CompatibilityEvaluated(e) if !e.compatible => 3,
            DomainEvent::TemplateUpgradePlanCreated(e) if e.conflict_count > 0 => 3,
            _ => 0,
        }
    }
}
