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
    /// The registry artifacts (`oci://HOST/REPOSITORY@sha256:…`) it was published as, in
    /// the order pushed: each push to a remote is a publication of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
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
    /// The folder inside the repository, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
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

/// An API client cataloged for a library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiClient {
    /// The client's name.
    pub client_name: String,
    /// The OpenAPI document's object reference.
    pub spec_ref: String,
    /// How many operations it has.
    pub operation_count: u64,
}

/// Where a library version was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryPublication {
    /// `pub-…`.
    pub publication_id: String,
    /// The feed.
    pub feed_ref: String,
    /// NuGet's sha512 of the package.
    pub package_hash: String,
    /// When.
    pub at: String,
}

/// The last dependency scan of a library version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanSummary {
    /// `graph-…`.
    pub graph_id: String,
    /// Nodes in the graph.
    pub node_count: u64,
    /// Conflicts found.
    pub conflict_count: u64,
    /// Advisories found.
    pub advisory_count: u64,
    /// When.
    pub at: String,
}

/// A release of a library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryVersion {
    /// `lv-…`.
    pub id: String,
    /// Semantic version.
    pub version: String,
    /// Target frameworks.
    pub target_frameworks: Vec<String>,
    /// Direct dependencies, ranges normalised.
    pub dependencies: Vec<DependencyRange>,
    /// Lock-file pins.
    pub locked: Vec<LibraryUse>,
    /// When it was recorded.
    pub created_at: String,
    /// The last scan.
    pub scan: Option<ScanSummary>,
    /// Its publications.
    pub publications: Vec<LibraryPublication>,
}

/// A registered library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Library {
    /// `lib-…`.
    pub id: String,
    /// The package name.
    pub package_name: String,
    /// Functional area.
    pub area: Option<String>,
    /// nuget, cargo or npm.
    pub ecosystem: String,
    /// When it was registered.
    pub registered_at: String,
    /// Cataloged API clients.
    pub api_clients: Vec<ApiClient>,
    /// Its versions in the order they were recorded.
    pub versions: Vec<LibraryVersion>,
}

impl Library {
    /// A version by number or id.
    pub fn version(&self, key: &str) -> Option<&LibraryVersion> {
        self.versions
            .iter()
            .find(|v| v.version == key || v.id == key)
    }

    fn version_mut(&mut self, id: &str) -> Option<&mut LibraryVersion> {
        self.versions.iter_mut().find(|v| v.id == id)
    }
}

/// Everything the log says, folded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Templates by id.
    pub templates: BTreeMap<String, Template>,
    /// Libraries by id.
    #[serde(default)]
    pub libraries: BTreeMap<String, Library>,
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

    /// A library by package name (case-insensitive, as NuGet compares) or id.
    pub fn library(&self, key: &str) -> Option<&Library> {
        self.libraries.get(key).or_else(|| {
            self.libraries
                .values()
                .find(|l| l.package_name.eq_ignore_ascii_case(key))
        })
    }

    /// Folds one event into the state. Events about aggregates this state does not hold
    /// (which a consistent log never has) change nothing; every event type is matched by
    /// name, so a new one that is not folded does not compile.
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
                        directory: e.directory.clone(),
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
                        artifacts: Vec::new(),
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
                        failed_checks: e
                            .checks
                            .iter()
                            .filter(|c| c.status == super::events::CheckStatus::Fail)
                            .count(),
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
                    // The first publication makes the version Published; a later one
                    // (a push of it to a remote) adds its artifact.
                    if v.status != VersionStatus::Published {
                        v.status = VersionStatus::Published;
                        v.publication_id = Some(e.publication_id.clone());
                        v.published_at = Some(occurred_at.to_string());
                    }
                    if let Some(artifact) = &e.artifact
                        && !v.artifacts.contains(artifact)
                    {
                        v.artifacts.push(artifact.clone());
                    }
                }
            }
            DomainEvent::LibraryRegistered(e) => {
                self.libraries.insert(
                    e.library_id.clone(),
                    Library {
                        id: e.library_id.clone(),
                        package_name: e.package_name.clone(),
                        area: e.area.clone(),
                        ecosystem: e.ecosystem.clone(),
                        registered_at: occurred_at.to_string(),
                        api_clients: Vec::new(),
                        versions: Vec::new(),
                    },
                );
            }
            DomainEvent::ApiClientCataloged(e) => {
                if let Some(l) = self.libraries.get_mut(&e.library_id) {
                    l.api_clients.push(ApiClient {
                        client_name: e.client_name.clone(),
                        spec_ref: e.spec_ref.clone(),
                        operation_count: e.operation_count,
                    });
                }
            }
            DomainEvent::LibraryVersionCreated(e) => {
                if let Some(l) = self.libraries.get_mut(&e.library_id) {
                    l.versions.push(LibraryVersion {
                        id: e.library_version_id.clone(),
                        version: e.version.clone(),
                        target_frameworks: e.target_frameworks.clone(),
                        dependencies: e.dependencies.clone(),
                        locked: e.locked.clone(),
                        created_at: occurred_at.to_string(),
                        scan: None,
                        publications: Vec::new(),
                    });
                }
            }
            DomainEvent::DependencyScanned(e) => {
                if let Some(v) = self
                    .libraries
                    .get_mut(&e.library_id)
                    .and_then(|l| l.version_mut(&e.library_version_id))
                {
                    v.scan = Some(ScanSummary {
                        graph_id: e.graph_id.clone(),
                        node_count: e.node_count,
                        conflict_count: e.conflict_count,
                        advisory_count: e.advisories.len() as u64,
                        at: occurred_at.to_string(),
                    });
                }
            }
            DomainEvent::LibraryPublished(e) => {
                if let Some(v) = self
                    .libraries
                    .get_mut(&e.library_id)
                    .and_then(|l| l.version_mut(&e.library_version_id))
                {
                    v.publications.push(LibraryPublication {
                        publication_id: e.publication_id.clone(),
                        feed_ref: e.feed_ref.clone(),
                        package_hash: e.package_hash.clone(),
                        at: occurred_at.to_string(),
                    });
                }
            }
            // Facts about executions, compositions and upgrade plans: recorded in the log
            // and queried from it, but no aggregate this state holds changes.
            DomainEvent::TemplateExecutionRequested(_)
            | DomainEvent::ScaffoldGenerated(_)
            | DomainEvent::TemplateExecuted(_)
            | DomainEvent::CompatibilityEvaluated(_)
            | DomainEvent::TemplateUpgradePlanCreated(_) => {}
        }
    }
}
