//! The template lifecycle: `RegisterTemplate`, `CreateTemplateVersion`, `PublishTemplate`.

use super::{Ports, Reference, Session, event_ids};
use crate::compat;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::DomainEvent;
use crate::domain::commands::{self, Bump, CreateVersion, Register, VersionSpec};
use crate::domain::events::SourceKind;
use crate::domain::events::TemplatePublished;
use crate::error::{Error, Result};
use crate::source::{self, VersionChoice};
use crate::store::Decision;
use crate::template::params;

/// `RegisterTemplate`: register a template found at a location the worker can read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// A category instead of the manifest's (command line only).
    #[serde(skip)]
    pub category: Option<String>,
    /// Tags instead of the manifest's; none: the manifest's (command line only).
    #[serde(skip)]
    pub tags: Vec<String>,
    /// The ref of a repository.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// The template's folder inside a repository.
    #[serde(default)]
    pub directory: Option<String>,
}

/// A registration; `--json` prints it as it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// `tpl-…`.
    pub template_id: String,
    /// The name.
    pub name: String,
    /// The events recorded.
    pub events: Vec<String>,
}

/// Registers a template under its name.
pub fn register_template(session: &Session, request: RegisterTemplate) -> Result<Registered> {
    // A folder that is no template is refused here: the store keeps templates.
    let fetch = source::Fetch {
        any_folder: false,
        ..session
            .settings
            .fetch(request.reference.clone(), request.directory.clone())
    };
    let resolved = source::from_location(&request.location, &fetch)?;
    for note in &resolved.notes {
        session.note(note.clone());
    }
    let manifest = &resolved.manifest;
    let name = request.name.unwrap_or_else(|| manifest.name.clone());
    crate::domain::names::check_template_name(&name)?;
    let input = Register {
        title: manifest.title().to_string(),
        category: request
            .category
            .unwrap_or_else(|| manifest.category.as_str().to_string()),
        owner: request.owner.or(manifest.owner.clone()),
        tags: if request.tags.is_empty() {
            manifest.tags.clone()
        } else {
            request.tags
        },
        // Where `version` fetches again: a folder's absolute path, or the repository's URL
        // without credentials, with the ref the user named (a branch moves on; a tag or
        // commit stays).
        source: match resolved.source_ref.kind {
            SourceKind::Path => resolved.source_ref.uri.clone(),
            SourceKind::Git => {
                let named = request.reference.clone().or_else(|| {
                    crate::git::split_ref(&request.location)
                        .1
                        .map(str::to_string)
                });
                match named {
                    Some(r) => format!("{}#{r}", resolved.source_ref.uri),
                    None => resolved.source_ref.uri.clone(),
                }
            }
        },
        directory: resolved.source_ref.directory.clone(),
        name,
    };
    let (envelopes, registered) = session.write(|state| {
        let events = commands::register(state, input)?;
        let registered = first_of(&events, |e| match e {
            DomainEvent::TemplateRegistered(p) => Some(p.clone()),
            _ => None,
        })?;
        Ok(Decision::events(events, registered))
    })?;
    Ok(Registered {
        template_id: registered.template_id,
        name: registered.name,
        events: event_ids(&envelopes),
    })
}

/// `CreateTemplateVersion`: snapshot a registered template as a new version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTemplateVersion {
    /// The template's name or id.
    pub template: String,
    /// The number; or `bump`.
    #[serde(default)]
    pub version: Option<String>,
    /// `major`, `minor` or `patch` of the highest version, when no number is given.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub bump: Option<Bump>,
    /// Where to snapshot from (default: where it was registered from).
    #[serde(default)]
    pub from: Option<String>,
    /// The ref of a repository (command line only).
    #[serde(skip)]
    pub reference: Option<String>,
    /// The template's folder inside a repository; default: the one it was registered with
    /// (command line only).
    #[serde(skip)]
    pub directory: Option<String>,
}

impl CreateTemplateVersion {
    /// The number asked for, or the bump (a patch when neither is given).
    pub fn version_spec(&self) -> Result<VersionSpec> {
        match (&self.version, self.bump) {
            (Some(number), None) => Ok(VersionSpec::Exact(number.clone())),
            (None, bump) => Ok(VersionSpec::Bump(bump.unwrap_or(Bump::Patch))),
            (Some(_), Some(_)) => Err(Error::usage(
                "give `version` or `bump` (major, minor, patch), not both",
            )),
        }
    }
}

/// A new version; `--json` prints it as it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionCreated {
    /// The template's name.
    pub template: String,
    /// `tpl-…`.
    pub template_id: String,
    /// The number decided.
    pub version: String,
    /// `tv-…`.
    pub template_version_id: String,
    /// A new version is a Draft.
    pub status: crate::domain::state::VersionStatus,
    /// The content hash.
    pub content_hash: String,
    /// Files.
    pub file_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// The events recorded.
    pub events: Vec<String>,
}

/// Snapshots a template's files as a new immutable Draft version.
pub fn create_template_version(
    session: &Session,
    request: CreateTemplateVersion,
) -> Result<VersionCreated> {
    let version_spec = request.version_spec()?;
    let state = session.store.state()?;
    let template = commands::find_template(&state, &request.template)?;
    let directory = match &request.from {
        Some(_) => request.directory.clone(),
        None => request
            .directory
            .clone()
            .or_else(|| template.directory.clone()),
    };
    // A ref named now replaces the one the template was registered with.
    let location = match (request.from, &request.reference) {
        (Some(from), _) => from,
        (None, Some(_)) => crate::git::split_ref(&template.source).0.to_string(),
        (None, None) => template.source.clone(),
    };
    let fetch = source::Fetch {
        any_folder: false,
        ..session.settings.fetch(request.reference.clone(), directory)
    };
    let resolved = source::from_location(&location, &fetch)?;
    for note in &resolved.notes {
        session.note(note.clone());
    }
    let (files, manifest) = (&resolved.files, &resolved.manifest);
    // A folder whose manifest names another registered template is almost surely a mix-up;
    // a template registered under its own --name is not.
    if let Some(other) = state
        .template(&manifest.name)
        .filter(|t| t.id != template.id)
    {
        return Err(Error::new(format!(
            "{location} holds template `{}`, which is registered separately ({}), not `{}`",
            manifest.name, other.id, template.name
        ))
        .hint("pass --from with the folder of this template"));
    }
    let snapshot = files.snapshot()?;
    let template_key = template.id.clone();
    let (envelopes, created) = session.write(|state| {
        // The schema names the version, so the number is decided first, under the lock.
        let template = commands::find_template(state, &template_key)?;
        let number = commands::decide_version_number(template, &version_spec)?;
        let input = CreateVersion {
            version: VersionSpec::Exact(number.clone()),
            source_ref: resolved.source_ref.clone(),
            content_hash: snapshot.tree_hash.content_hash.clone(),
            tree: format!("sha256:{}", snapshot.tree_hex),
            file_count: files.files.len() as u64,
            byte_count: files.byte_count(),
            schema: params::schema_document(manifest, &number),
            parameter_count: manifest.parameters.len() as u64,
        };
        let (events, _) = commands::create_version(state, &template_key, input)?;
        let created = first_of(&events, |e| match e {
            DomainEvent::TemplateVersionCreated(p) => Some(p.clone()),
            _ => None,
        })?;
        let mut objects = snapshot.blobs.clone();
        objects.push((snapshot.tree_hex.clone(), snapshot.tree_bytes.clone()));
        Ok(Decision::with_objects(events, objects, created))
    })?;
    Ok(VersionCreated {
        template: manifest.name.clone(),
        template_id: created.template_id,
        version: created.version,
        template_version_id: created.template_version_id,
        status: crate::domain::state::VersionStatus::Draft,
        content_hash: created.content_hash,
        file_count: created.file_count,
        byte_count: created.byte_count,
        events: event_ids(&envelopes),
    })
}

/// `PublishTemplate`: publish a validated version (and push it to a remote).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishTemplate {
    /// `NAME@VERSION`.
    pub template: String,
    /// A registry remote of the worker's store.
    #[serde(default)]
    pub to: Option<String>,
}

/// A publication; `--json` prints it with what was pushed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    /// The template's name.
    pub template: String,
    /// The version.
    pub version: String,
    /// `pub-…`.
    pub publication_id: String,
    /// The content hash.
    pub content_hash: String,
    /// Whether it was published by this command (not before).
    #[serde(rename = "published")]
    pub newly: bool,
    /// The events recorded.
    pub events: Vec<String>,
    /// How its declared libraries fit the registry (a negative verdict is reported, not a
    /// failure); `None` when the version was published before.
    #[serde(skip)]
    pub evaluation: Option<compat::Evaluation>,
}

/// Publishes a validated version, and judges its declared libraries against the registry;
/// with a remote, pushes it there too (a version published before is only pushed).
pub fn publish_template(
    session: &Session,
    request: PublishTemplate,
) -> Result<(Published, Option<super::registry::Pushed>)> {
    let reference = Reference::parse(&request.template);
    let version = reference.version.ok_or_else(|| {
        Error::usage(format!("`{}` names no version", request.template)).hint(format!(
            "publish one version at a time: factory publish {}@X.Y.Z",
            reference.name
        ))
    })?;
    let offline = session.settings.git.fetch.offline;
    if offline && let Some(to) = &request.to {
        return Err(Error::usage(format!(
            "--to {to} pushes to a remote, and --offline asks none"
        ))
        .hint("drop --offline to push, or --to to publish to the store only"));
    }
    let explicit = request.to.is_some();
    let remote = request
        .to
        .or_else(|| session.store.config().remote.default.clone())
        .filter(|_| !offline);
    let Some(name) = remote else {
        return Ok((
            publish_locally(session, reference.name, version, None)?.0,
            None,
        ));
    };
    let remote = super::registry::remote_named(session, &name)?;
    match super::registry::publish_to(session, reference.name, version, &remote) {
        Ok((published, pushed)) => Ok((published, Some(pushed))),
        // The default remote did not answer: the store's publication does not wait for it.
        Err(e) if !explicit && e.kind == crate::error::ErrorKind::Unavailable => {
            let (template, name) = (reference.name, remote.name);
            if publish_locally(session, template, version, None).is_err() {
                return Err(e.hint(format!(
                    "`factory publish {template}@{version} --offline` publishes to the store only"
                )));
            }
            Err(Error::unavailable(format!(
                "published {template}@{version} in the store, but not pushed to {name} (remote.default): {}",
                e.message
            ))
            .hint(format!(
                "push it when the registry answers: factory publish {template}@{version}"
            )))
        }
        Err(e) => Err(e),
    }
}

/// Publishes in the store: the TemplatePublished event (naming `artifact` when the version
/// goes to a registry) and the compatibility judgement it causes.
pub(super) fn publish_locally(
    session: &Session,
    name: &str,
    version: &str,
    artifact: Option<String>,
) -> Result<(Published, crate::events::Envelope)> {
    let blobs = session.store.blobs();
    let (envelopes, evaluation) = session.write(|state| {
        let mut events = commands::publish(state, name, version, artifact)?;
        // Publishing is a fact that changes compatibility: judged caused by the publication.
        let resolved = source::stored(state, &blobs, name, Some(version), VersionChoice::Any)?;
        let composition = compat::Composition {
            templates: vec![super::compat::subject(&resolved)],
            ..Default::default()
        };
        let evaluation = compat::evaluate(state, &composition)?;
        events.push(compat::event("publish", &evaluation));
        Ok(Decision::events(events, evaluation))
    })?;
    let publication: TemplatePublished = serde_json::from_value(envelopes[0].payload.clone())
        .map_err(|e| Error::new(format!("the recorded publication does not read back: {e}")))?;
    let published = Published {
        template: name.to_string(),
        version: publication.version,
        publication_id: publication.publication_id,
        content_hash: publication.content_hash,
        newly: true,
        events: event_ids(&envelopes),
        evaluation: Some(evaluation),
    };
    Ok((published, envelopes[0].clone()))
}

impl RegisterTemplate {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<Registered> {
        register_template(session, self)
    }
}

impl CreateTemplateVersion {
    pub(super) fn execute(self, session: &Session, _: Ports) -> Result<VersionCreated> {
        create_template_version(session, self)
    }
}

impl PublishTemplate {
    pub(super) fn execute(
        self,
        session: &Session,
        _: Ports,
    ) -> Result<(Published, Option<super::registry::Pushed>)> {
        publish_template(session, self)
    }
}

/// The first event `pick` accepts: what a decision reports, read from its typed events.
fn first_of<T>(events: &[DomainEvent], pick: impl Fn(&DomainEvent) -> Option<T>) -> Result<T> {
    events
        .iter()
        .find_map(pick)
        .ok_or_else(|| Error::new("the decision recorded none of the events it reports"))
}

/// A template named by a folder, a zip archive or a repository URL, read as `generate` reads
/// it but not stored (`show ./folder`, as `dotnet new TEMPLATE --help`).
#[derive(Debug)]
pub struct Inspected {
    /// The template as read (`./t`, `URL#REF (commit)`).
    pub label: String,
    /// Its name.
    pub name: String,
    /// `factory`, `cookiecutter` or `copier`.
    pub flavour: &'static str,
    /// Its parameters, as `show NAME` gives a stored version's.
    pub schema: serde_json::Value,
    /// What reading it said (the tag a fetch chose).
    pub notes: Vec<String>,
}

/// Reads the template at `location` (never stored, nothing recorded). A folder or repository
/// that holds several templates and is not one is an error that lists them.
pub fn inspect_location(
    session: &Session,
    location: &str,
    reference: Option<String>,
    directory: Option<String>,
) -> Result<Inspected> {
    let fetch = source::Fetch {
        any_folder: false,
        ..session.settings.fetch(reference, directory)
    };
    let resolved = source::from_location(location, &fetch)?;
    let flavour = match resolved.manifest.flavour() {
        crate::template::manifest::Flavour::Factory => "factory",
        crate::template::manifest::Flavour::Cookiecutter => "cookiecutter",
        crate::template::manifest::Flavour::Copier => "copier",
    };
    Ok(Inspected {
        schema: params::schema_document(&resolved.manifest, ""),
        name: resolved.manifest.name.clone(),
        label: resolved.label.clone(),
        flavour,
        notes: resolved.notes.clone(),
    })
}
