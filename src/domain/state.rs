//! Aggregate state folded from the log, and `apply`, the only way it changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::events::*;

/// Where a template version is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersionStatus {
    /// Snapshotted, not validated yet.
    Draft,
    /// The last validation passed.
    Validated,
    /// The last validation failed.
    Invalid,
    /// Published; final.
    Published,
}

impl VersionStatus {
    /// The status as users see it.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "Draft",
            VersionStatus::Validated => "Validated",
            VersionStatus::Invalid => "Invalid",
            VersionStatus::Published => "Published",
        }
    }
}

/// The last validation of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationSummary {
    /// The validation run's id.
    pub validation_id: String,
    /// Whether every check passed.
    pub passed: bool,
    /// The content hash it ran on.
    pub content_hash: String,
    /// How many checks failed.
    pub failed_checks: usize,
    /// When it ran.
    pub at: String,
}

/// A version of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateVersion {
    /// `tv-…`.
    pub id: String,
    /// Semantic version.
    pub version: String,
    /// Lifecycle status.
    pub status: VersionStatus,
    /// The tree hash of its files.
    pub content_hash: String,
    /// The tree object listing its files.
    pub tree: String,
    /// How many files.
    pub file_count: u64,
    /// How many bytes.
    pub byte_count: u64,
    /// Where the files came from.
    pub source_ref: SourceRef,
    /// The parameter schema's id, once defined.
    pub schema_id: Option<String>,
    /// How many parameters.
    pub parameter_count: u64,
    /// The parameter schema.
    pub schema: Option<serde_json::Value>,
    /// When it was created.
    pub created_at: String,
    /// The latest validation.
    pub validation: Option<ValidationSummary>,
    /// The publication id, once published.
    pub publication_id: Option<String>,
    /// When it was published.
    pub published_at: Option<String>,
}

/// A registered template and its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// `tpl-…`.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Category (service, library, …).
    pub category: String,
    /// Owner, if given.
    pub owner: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Where it was registered from.
    pub source: String,
    /// When it was registered.
    pub registered_at: String,
    /// Its versions in the order they were created.
    pub versions: Vec<TemplateVersion>,
}

impl Template {
    /// A version by its number or id.
    pub fn version(&self, key: &str) -> Option<&TemplateVersion> {
        self.versions
            .iter()
            .find(|v| v.version == key || v.id == key)
    }

    /// The highest version by semver order.
    pub fn latest(&self) -> Option<&TemplateVersion> {
        self.versions
            .iter()
            .max_by(|a, b| semver_cmp(&a.version, &b.version))
    }

    /// The highest published version.
    pub fn latest_published(&self) -> Option<&TemplateVersion> {
        self.versions
            .iter()
            .filter(|v| v.status == VersionStatus::Published)
            .max_by(|a, b| semver_cmp(&a.version, &b.version))
    }

    fn version_mut(&mut self, id: &str) -> Option<&mut TemplateVersion> {
        self.versions.iter_mut().find(|v| v.id == id)
    }
}

fn semver_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// Everything the log says, folded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Templates by id.
    pub templates: BTreeMap<String, Template>,
    /// How many events have been applied.
    pub event_count: u64,
    /// The id of the last event applied.
    pub last_event_id: Option<String>,
}

impl State {
    /// A template by name or id.
    pub fn template(&self, key: &str) -> Option<&Template> {
        self.templates
            .get(key)
            .or_else(|| self.templates.values().find(|t| t.name == key))
    }

    /// Folds one event into the state. Events about aggregates this state does not hold
    /// (which a consistent log never has) and event types it does not track change nothing.
    pub fn apply(&mut self, event_id: &str, occurred_at: &str, event: Option<&DomainEvent>) {
        self.event_count += 1;
        self.last_event_id = Some(event_id.to_string());
        let Some(event) = event else { return };
        match event {
            DomainEvent::TemplateRegistered(e) => {
                self.templates.insert(
                    e.template_id.clone(),
                    Template {
                        id: e.template_id.clone(),
                        name: e.name.clone(),
                        title: e.title.clone(),
                        category: e.category.clone(),
                        owner: e.owner.clone(),
                        tags: e.tags.clone(),
                        source: e.source.clone(),
                        registered_at: occurred_at.to_string(),
                        versions: Vec::new(),
                    },
                );
            }
            DomainEvent::TemplateVersionCreated(e) => {
                if let Some(t) = self.templates.get_mut(&e.template_id) {
                    t.versions.push(TemplateVersion {
                        id: e.template_version_id.clone(),
                        version: e.version.clone(),
                        status: VersionStatus::Draft,
                        content_hash: e.content_hash.clone(),
                        tree: e.tree.clone(),
                        file_count: e.file_count,
                        byte_count: e.byte_count,
                        source_ref: e.source_ref.clone(),
                        schema_id: None,
                        parameter_count: 0,
                        schema: None,
                        created_at: occurred_at.to_string(),
                        validation: None,
                        publication_id: None,
                        published_at: None,
                    });
                }
            }
            DomainEvent::TemplateParameterSchemaDefined(e) => {
                if let Some(v) = self
                    .templates
                    .get_mut(&e.template_id)
                    .and_then(|t| t.version_mut(&e.template_version_id))
                {
                    v.schema_id = Some(e.schema_id.clone());
                    v.parameter_count = e.parameter_count;
                    v.schema = Some(e.schema.clone());
                }
            }
            DomainEvent::TemplateValidated(e) => {
                if let Some(v) = self
                    .templates
                    .get_mut(&e.template_id)
                    .and_then(|t| t.version_mut(&e.template_version_id))
                {
                    v.validation = Some(ValidationSummary {
                        validation_id: e.validation_id.clone(),
                        passed: e.passed,
                        content_hash: e.content_hash.clone(),
                        failed_checks: e.checks.iter().filter(|c| c.status == "fail").count(),
                        at: occurred_at.to_string(),
                    });
                    if v.status != VersionStatus::Published {
                        v.status = if e.passed {
                            VersionStatus::Validated
                        } else {
                            VersionStatus::Invalid
                        };
                    }
                }
            }
            DomainEvent::TemplatePublished(e) => {
                if let Some(v) = self
                    .templates
                    .get_mut(&e.template_id)
                    .and_then(|t| t.version_mut(&e.template_version_id))
                {
                    v.status = VersionStatus::Published;
                    v.publication_id = Some(e.publication_id.clone());
                    v.published_at = Some(occurred_at.to_string());
                }
            }
            _ => {}
        }
    }
}
