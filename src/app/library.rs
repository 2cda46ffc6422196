//! The library commands: `RegisterLibrary`, `CreateLibraryVersion`, `ScanDependencies`,
//! `PublishPackage`, `AdvisePackageUpgrade`.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Ports, Reference, Session};
use crate::compat;
use crate::domain::events::{
    ApiClientCataloged, DependencyRange, DomainEvent, LibraryPublished, LibraryRegistered,
    LibraryVersionCreated,
};
use crate::domain::library::{
    self, LibraryRegistration as RegisterInput, LibraryRelease as VersionInput, ScanResult,
};
use crate::error::{Error, Result};
use crate::generate::provenance::Scaffold;
use crate::library::{advise, advisories, feed, graph, openapi, project};
use crate::source::{self, VersionChoice};
use crate::store::Decision;
use crate::template::ranges;

/// `RegisterLibrary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// The OpenAPI document of an API client to catalog with it (command line only).
    #[serde(skip)]
    pub spec: Option<PathBuf>,
    /// The client's name; default: the spec's title (command line only).
    #[serde(skip)]
    pub client_name: Option<String>,
}

fn nuget() -> String {
    "nuget".to_string()
}

impl RegisterLibrary {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<RegisteredLibrary> {
        register_library(session, self)
    }
}

/// A library registered; `--json` prints its id and the events recorded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredLibrary {
    /// `lib-…`.
    pub library_id: String,
    /// The events recorded: the registration, then the API client's.
    pub events: Vec<String>,
    /// What was recorded.
    #[serde(skip)]
    pub registered: LibraryRegistered,
    /// The API client cataloged from an OpenAPI document, if one was given.
    #[serde(skip)]
    pub api_client: Option<ApiClientCataloged>,
}

/// Registers a library (and the API client of its OpenAPI document).
pub fn register_library(session: &Session, request: RegisterLibrary) -> Result<RegisteredLibrary> {
    let mut objects = Vec::new();
    let api_client = match &request.spec {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            let text = String::from_utf8(bytes.clone())
                .map_err(|_| Error::usage(format!("{} is not UTF-8 text", path.display())))?;
            let spec = openapi::read(&text, &path.display().to_string())?;
            let hex = crate::hash::sha256_hex(&bytes);
            objects.push((hex.clone(), bytes));
            let name = request
                .client_name
                .clone()
                .unwrap_or(if spec.title.is_empty() {
                    request.name.clone()
                } else {
                    spec.title
                });
            Some((name, format!("sha256:{hex}"), spec.operation_count))
        }
        None => None,
    };
    let input = RegisterInput {
        package_name: request.name,
        area: request.area,
        ecosystem: request.ecosystem,
        description: request.description,
        api_client,
    };
    let (envelopes, events) = session.write(|state| {
        let events = library::register(state, input)?;
        Ok(Decision::with_objects(events.clone(), objects, events))
    })?;
    let mut registered = None;
    let mut api_client = None;
    for event in events {
        match event {
            DomainEvent::LibraryRegistered(event) => registered = Some(event),
            DomainEvent::ApiClientCataloged(event) => api_client = Some(event),
            _ => {}
        }
    }
    let registered = registered.expect("a registration records LibraryRegistered");
    Ok(RegisteredLibrary {
        library_id: registered.library_id.clone(),
        events: super::event_ids(&envelopes),
        registered,
        api_client,
    })
}

/// `CreateLibraryVersion`: a release with its declared dependencies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLibraryVersion {
    /// The library.
    pub library: String,
    /// The version.
    pub version: String,
    /// A project folder to read frameworks and dependencies from (command line only).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// `NAME@RANGE` dependencies.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Target frameworks.
    #[serde(default)]
    pub frameworks: Vec<String>,
}

impl CreateLibraryVersion {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<RecordedRelease> {
        create_library_version(session, self)
    }
}

/// A release recorded; `--json` prints the event's payload.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRelease {
    /// The library's package name.
    #[serde(skip)]
    pub library: String,
    /// What was recorded.
    #[serde(flatten)]
    pub created: LibraryVersionCreated,
}

/// Records a release.
pub fn create_library_version(
    session: &Session,
    request: CreateLibraryVersion,
) -> Result<RecordedRelease> {
    let state = session.store.state()?;
    let found = library::find(&state, &request.library)?;
    let mut input = VersionInput {
        version: request.version.clone(),
        target_frameworks: request.frameworks.clone(),
        dependencies: Vec::new(),
        locked: Vec::new(),
        manifest: None,
    };
    if let Some(dir) = &request.path {
        let info = project::read_project(dir)?;
        if info.ecosystem != found.ecosystem {
            return Err(Error::usage(format!(
                "{} is a {} project but {} is a {} library",
                info.manifest, info.ecosystem, found.package_name, found.ecosystem
            ))
            .hint("pass the folder of this library's project"));
        }
        input.target_frameworks.extend(info.target_frameworks);
        input.dependencies = info.dependencies;
        input.locked = info.locked;
        input.manifest = Some(info.manifest);
    }
    for dep in &request.dependencies {
        let (name, range) = dep.split_once('@').ok_or_else(|| {
            Error::usage(format!("--dep `{dep}` is not NAME@RANGE"))
                .hint("for example --dep Acme.Json@[4.1,5.0) or --dep serde@^1")
        })?;
        let parsed = ranges::parse_range_in(&found.ecosystem, range).map_err(|e| {
            Error::usage(format!("--dep {name}: {e}"))
                .hint("use a semver requirement (>=4.1, <5) or a NuGet interval ([4.1,5.0))")
        })?;
        input.dependencies.push(DependencyRange {
            package_name: name.to_string(),
            range: parsed.to_string(),
        });
    }
    if found.ecosystem == "nuget" {
        input.version = ranges::normalise(&input.version).unwrap_or(input.version);
    }
    let key = found.id.clone();
    let (_, created) = session.write(|state| {
        let events = library::create_version(state, &key, input)?;
        let created = events.iter().find_map(|event| match event {
            DomainEvent::LibraryVersionCreated(created) => Some(created.clone()),
            _ => None,
        });
        Ok(Decision::events(events, created))
    })?;
    Ok(RecordedRelease {
        library: found.package_name.clone(),
        created: created.expect("a release records LibraryVersionCreated"),
    })
}

/// `ScanDependencies`: resolve a release's dependency graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanDependencies {
    /// `NAME@VERSION`.
    pub library: String,
    /// A folder of OSV advisories (command line only).
    #[serde(skip)]
    pub advisories: Option<PathBuf>,
}

impl ScanDependencies {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<Scanned> {
        scan_dependencies(session, self)
    }
}

/// A scan: the graph and what it found.
#[derive(Debug)]
pub struct Scanned {
    /// The library's name.
    pub library: String,
    /// The release.
    pub version: String,
    /// `graph-…`.
    pub graph_id: String,
    /// The resolved graph.
    pub graph: graph::Graph,
    /// Published templates the scan judged incompatible: (subject, explanation).
    pub incompatible: Vec<(String, String)>,
}

/// Graphs larger than this are stored as an object and referenced from the event.
const EMBEDDED_GRAPH_BYTES: usize = 200 * 1024;

/// Resolves a release's graph, records DependencyScanned, and re-judges every published
/// template that declares this library (each CompatibilityEvaluated caused by the scan).
pub fn scan_dependencies(session: &Session, request: ScanDependencies) -> Result<Scanned> {
    let reference = Reference::parse(&request.library);
    let number = reference.required_version("factory library show")?;
    let state = session.store.state()?;
    let (found, release) = library::find_version(&state, reference.name, number)?;
    let advisories = match &request.advisories {
        Some(dir) => load_advisories(session, dir)?,
        None => Vec::new(),
    };
    let resolved = graph::resolve(&state, found, release, &advisories)?;
    let (result, objects) = scan_result(&resolved);
    let (library_id, version_id) = (found.id.clone(), release.id.clone());
    let scanned = (found.package_name.clone(), release.version.clone());
    let blobs = session.store.blobs();
    let (_, (graph_id, incompatible)) = session.write(|state| {
        let mut events = library::record_scan(state, &library_id, &version_id, result)?;
        let graph_id = events.iter().find_map(|event| match event {
            DomainEvent::DependencyScanned(scanned) => Some(scanned.graph_id.clone()),
            _ => None,
        });
        let judged = rejudge_templates(state, &blobs, &scanned)?;
        let mut causes = vec![None];
        let mut incompatible = Vec::new();
        for evaluation in judged {
            if !evaluation.compatible {
                let subject = evaluation.subjects.first().cloned().unwrap_or_default();
                let why = evaluation.conflicts.first().map(|c| c.explanation.clone());
                incompatible.push((subject, why.unwrap_or_default()));
            }
            events.push(compat::event("scan", &evaluation));
            causes.push(Some(0));
        }
        let graph_id = graph_id.expect("a scan records DependencyScanned");
        let mut decision = Decision::with_objects(events, objects, (graph_id, incompatible));
        decision.causes = causes;
        Ok(decision)
    })?;
    Ok(Scanned {
        library: found.package_name.clone(),
        version: release.version.clone(),
        graph_id,
        graph: resolved,
        incompatible,
    })
}

/// A folder of OSV advisories; files it cannot read are noticed and skipped.
fn load_advisories(session: &Session, dir: &std::path::Path) -> Result<Vec<advisories::Advisory>> {
    let (advisories, skipped) = advisories::load(dir)?;
    for warning in skipped {
        session.store.notice(warning);
    }
    Ok(advisories)
}

/// The scan as recorded: counts, advisories and the graph (an object when it is large).
fn scan_result(resolved: &graph::Graph) -> (ScanResult, Vec<(String, Vec<u8>)>) {
    let shape = json!({"nodes": resolved.nodes, "edges": resolved.edges, "conflicts": resolved.conflicts, "cycles": resolved.cycles, "possiblyAffected": resolved.possibly_affected});
    let bytes = serde_json::to_vec(&shape).expect("graphs serialize");
    let (graph_value, objects) = if bytes.len() <= EMBEDDED_GRAPH_BYTES {
        (shape, Vec::new())
    } else {
        let hex = crate::hash::sha256_hex(&bytes);
        (
            json!({"object": format!("sha256:{hex}"), "truncated": true}),
            vec![(hex, bytes)],
        )
    };
    let result = ScanResult {
        node_count: resolved.nodes.len() as u64,
        edge_count: resolved.edges.len() as u64,
        conflict_count: (resolved.conflicts.len() + resolved.cycles.len()) as u64,
        advisories: resolved
            .advisories
            .iter()
            .map(|a| serde_json::to_value(a).expect("advisories serialize"))
            .collect(),
        graph: graph_value,
    };
    (result, objects)
}

/// Every published template that declares the scanned library, judged again with this
/// release of it.
fn rejudge_templates(
    state: &crate::domain::State,
    blobs: &std::sync::Arc<dyn crate::template::snapshot::Blobs>,
    (package, version): &(String, String),
) -> Result<Vec<compat::Evaluation>> {
    let mut judged = Vec::new();
    for template in state.templates.values() {
        let Some(published) = template.latest_published() else {
            continue;
        };
        let resolved = source::stored(
            state,
            blobs,
            &template.name,
            Some(&published.version),
            VersionChoice::Any,
        )?;
        let declares = resolved
            .manifest
            .libraries
            .iter()
            .any(|l| l.package.eq_ignore_ascii_case(package));
        if !declares {
            continue;
        }
        let composition = compat::Composition {
            templates: vec![super::compat::subject(&resolved)],
            libraries: vec![(package.clone(), Some(version.clone()))],
            runtime: None,
        };
        judged.push(compat::evaluate(state, &composition)?);
    }
    Ok(judged)
}

/// `PublishPackage`: push a package to a feed (not served from queues: see docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishPackage {
    /// `NAME@VERSION`.
    pub library: String,
    /// The .nupkg (command line only).
    #[serde(skip)]
    pub package: PathBuf,
    /// The feed.
    pub feed: String,
    /// The HTTP feed's API key, when the feed is HTTP (command line only).
    #[serde(skip)]
    pub api_key: Option<String>,
    /// Where the key was looked for, for the error when it is missing (command line only).
    #[serde(skip)]
    pub api_key_source: String,
}

impl PublishPackage {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<PublishedPackage> {
        publish_package(session, self)
    }
}

/// A package pushed to a feed; `--json` prints the event's payload.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedPackage {
    /// The package read from the .nupkg.
    #[serde(skip)]
    pub package: feed::Package,
    /// What was recorded.
    #[serde(flatten)]
    pub published: LibraryPublished,
}

/// Publishes a package to a folder or HTTP feed.
pub fn publish_package(session: &Session, request: PublishPackage) -> Result<PublishedPackage> {
    let reference = Reference::parse(&request.library);
    let number = reference.required_version("factory library show")?;
    let state = session.store.state()?;
    let (found, release) = library::find_version(&state, reference.name, number)?;
    let package = feed::read_package(&request.package)?;
    if !package.id.eq_ignore_ascii_case(&found.package_name) {
        return Err(Error::usage(format!(
            "{} is package {}, not {}",
            request.package.display(),
            package.id,
            found.package_name
        ))
        .hint("pass the .nupkg of this library"));
    }
    if package.version != feed::normalise_version(&release.version) {
        return Err(Error::usage(format!(
            "{} is version {}, not {}",
            request.package.display(),
            package.version,
            release.version
        ))
        .hint("pack the release you are publishing, or name its version"));
    }
    // Refuse before touching the feed when the store already knows of a publication.
    library::publish(&state, &found.id, &release.id, "", &package.sha512)?;
    let http = request.feed.starts_with("http://") || request.feed.starts_with("https://");
    let feed_ref = if http {
        if let Some(key) = &request.api_key {
            crate::secrets::register(key);
        }
        let key = request.api_key.as_deref().ok_or_else(|| {
            Error::new(format!(
                "the environment variable {} holding the feed's API key is not set",
                request.api_key_source
            ))
            .hint("export the key, or name another variable with --api-key-env")
        })?;
        feed::publish_to_http(&request.feed, &package, key)?;
        crate::http::redact_url(&request.feed)
    } else {
        let path = feed::publish_to_folder(std::path::Path::new(&request.feed), &package)?;
        crate::generate::absolute(&path)
    };
    let (library_id, version_id, hash) =
        (found.id.clone(), release.id.clone(), package.sha512.clone());
    let (_, published) = session.write(|state| {
        let events = library::publish(state, &library_id, &version_id, &feed_ref, &hash)?;
        let published = events.iter().find_map(|event| match event {
            DomainEvent::LibraryPublished(published) => Some(published.clone()),
            _ => None,
        });
        Ok(Decision::events(events, published))
    })?;
    Ok(PublishedPackage {
        package,
        published: published.expect("a publication records LibraryPublished"),
    })
}

/// `AdvisePackageUpgrade`: advice for a release's dependencies (not served from queues).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvisePackageUpgrade {
    /// `NAME@VERSION`.
    pub library: String,
    /// A generated project whose libraries to advise on instead (command line only).
    #[serde(skip)]
    pub project: Option<PathBuf>,
}

impl AdvisePackageUpgrade {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<Advised> {
        advise_package_upgrade(session, self)
    }
}

/// Advice for each requirement of a release or a generated project.
#[derive(Debug, Clone, Serialize)]
pub struct Advised {
    /// `NAME@VERSION`, or the project's folder.
    pub subject: String,
    /// One piece of advice per requirement.
    pub advice: Vec<advise::Advice>,
}

/// Advises on a release's dependencies, or on a generated project's libraries.
pub fn advise_package_upgrade(session: &Session, request: AdvisePackageUpgrade) -> Result<Advised> {
    let state = session.store.state()?;
    let (subject, requirements) = match request.project {
        None => {
            let reference = Reference::parse(&request.library);
            let number = reference.required_version("factory library show")?;
            let (found, release) = library::find_version(&state, reference.name, number)?;
            (
                format!("{}@{}", found.package_name, release.version),
                release.dependencies.clone(),
            )
        }
        Some(dir) => {
            let scaffold = Scaffold::load(&dir)?;
            let mut requirements = Vec::new();
            for l in &scaffold.libraries {
                let range = ranges::parse_range(&l.version).map_err(|e| {
                    Error::new(format!(
                        "{}: library {} has range `{}`: {e}",
                        dir.join(".factory/scaffold.yaml").display(),
                        l.package_name,
                        l.version
                    ))
                    .hint("fix the range in the template's `libraries:` and generate again")
                })?;
                requirements.push(DependencyRange {
                    package_name: l.package_name.clone(),
                    range: range.to_string(),
                });
            }
            (dir.display().to_string(), requirements)
        }
    };
    Ok(Advised {
        subject,
        advice: advise::advise(&state, &requirements)?,
    })
}
