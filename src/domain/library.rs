//! Library commands: register (and catalog an API client), record a version, record a scan,
//! publish. Every library rule lives here.

use serde_json::Value;

use super::events::*;
use super::state::{Library, LibraryVersion, State};
use crate::error::{Error, Result};
use crate::ids;

/// The ecosystems a library can live in.
pub const ECOSYSTEMS: [&str; 3] = ["nuget", "cargo", "npm"];

/// Input of `library register`.
#[derive(Debug, Clone)]
pub struct LibraryRegistration {
    /// The package name.
    pub package_name: String,
    /// Functional area.
    pub area: Option<String>,
    /// nuget, cargo or npm.
    pub ecosystem: String,
    /// What it is for.
    pub description: Option<String>,
    /// An API client to catalog with it: (client name, spec object, operation count).
    pub api_client: Option<(String, String, u64)>,
}

/// Registers a library; the package name must be new.
pub fn register(state: &State, input: LibraryRegistration) -> Result<Vec<DomainEvent>> {
    super::names::check_package_name(&input.ecosystem, &input.package_name)?;
    if let Some(existing) = state.library(&input.package_name) {
        return Err(Error::new(format!(
            "a library named `{}` is already registered ({})",
            existing.package_name, existing.id
        ))
        .hint(format!(
            "record a release with `factory library version {} X.Y.Z`",
            existing.package_name
        )));
    }
    let library_id = ids::new_id(ids::LIBRARY);
    let mut events = vec![DomainEvent::LibraryRegistered(LibraryRegistered {
        library_id: library_id.clone(),
        package_name: input.package_name,
        area: input.area,
        ecosystem: input.ecosystem,
        description: input.description,
    })];
    if let Some((client_name, spec_ref, operation_count)) = input.api_client {
        events.push(DomainEvent::ApiClientCataloged(ApiClientCataloged {
            library_id,
            client_name,
            spec_ref,
            operation_count,
        }));
    }
    Ok(events)
}

/// A library by package name or id, or an error naming what to do.
pub fn find<'s>(state: &'s State, key: &str) -> Result<&'s Library> {
    state.library(key).ok_or_else(|| {
        let names = state.libraries.values().map(|l| l.package_name.as_str());
        Error::new(format!(
            "no library named `{key}` in the store{}",
            crate::suggest::did_you_mean(key, names)
        ))
            .hint("`factory library list` shows the registered libraries; `factory library register NAME` adds one")
    })
}

/// A version of a library.
pub fn find_version<'s>(
    state: &'s State,
    key: &str,
    version: &str,
) -> Result<(&'s Library, &'s LibraryVersion)> {
    let library = find(state, key)?;
    let found = library.version(version).ok_or_else(|| {
        let known: Vec<&str> = library
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .collect();
        Error::new(format!(
            "{} has no version `{version}`",
            library.package_name
        ))
        .hint(if known.is_empty() {
            format!(
                "record one with `factory library version {} X.Y.Z`",
                library.package_name
            )
        } else {
            format!("its versions are: {}", known.join(", "))
        })
    })?;
    Ok((library, found))
}

/// Input of `library version`.
#[derive(Debug, Clone)]
pub struct LibraryRelease {
    /// Semantic version, already normalised.
    pub version: String,
    /// Target frameworks.
    pub target_frameworks: Vec<String>,
    /// Direct dependencies with normalised ranges.
    pub dependencies: Vec<DependencyRange>,
    /// Lock-file pins.
    pub locked: Vec<LibraryUse>,
    /// The project file read, if any.
    pub manifest: Option<String>,
}

/// Records a release; the version must be semver and new.
pub fn create_version(state: &State, key: &str, input: LibraryRelease) -> Result<Vec<DomainEvent>> {
    let library = find(state, key)?;
    let version = super::commands::parse_version(&input.version)?.to_string();
    if library.version(&version).is_some() {
        return Err(Error::new(format!(
            "{}@{version} is already recorded; releases are immutable",
            library.package_name
        ))
        .hint("record the next release under a new version"));
    }
    Ok(vec![DomainEvent::LibraryVersionCreated(
        LibraryVersionCreated {
            library_id: library.id.clone(),
            library_version_id: ids::new_id(ids::LIBRARY_VERSION),
            version,
            target_frameworks: input.target_frameworks,
            dependencies: input.dependencies,
            locked: input.locked,
            manifest: input.manifest,
        },
    )])
}

/// A scan's findings, for its event.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// Nodes in the graph.
    pub node_count: u64,
    /// Edges in the graph.
    pub edge_count: u64,
    /// Conflicts found.
    pub conflict_count: u64,
    /// Advisories that match.
    pub advisories: Vec<Value>,
    /// The graph, or a reference to it.
    pub graph: Value,
}

/// Records a scan of a library version.
pub fn record_scan(
    state: &State,
    key: &str,
    version: &str,
    result: ScanResult,
) -> Result<Vec<DomainEvent>> {
    let (library, found) = find_version(state, key, version)?;
    Ok(vec![DomainEvent::DependencyScanned(DependencyScanned {
        library_id: library.id.clone(),
        library_version_id: found.id.clone(),
        graph_id: ids::new_id(ids::GRAPH),
        node_count: result.node_count,
        edge_count: result.edge_count,
        conflict_count: result.conflict_count,
        advisories: result.advisories,
        graph: result.graph,
    })])
}

/// Records a publication; a version is published once.
pub fn publish(
    state: &State,
    key: &str,
    version: &str,
    feed_ref: &str,
    package_hash: &str,
) -> Result<Vec<DomainEvent>> {
    let (library, found) = find_version(state, key, version)?;
    if let Some(earlier) = found.publications.first() {
        return Err(Error::new(format!(
            "{}@{} is already published ({} to {})",
            library.package_name, found.version, earlier.publication_id, earlier.feed_ref
        ))
        .hint("packages are immutable: publish a new version"));
    }
    Ok(vec![DomainEvent::LibraryPublished(LibraryPublished {
        library_id: library.id.clone(),
        library_version_id: found.id.clone(),
        publication_id: ids::new_id(ids::PUBLICATION),
        feed_ref: feed_ref.to_string(),
        package_hash: package_hash.to_string(),
    })])
}
