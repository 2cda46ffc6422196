//! Publishing to and pulling from registry remotes (issue 16): `PublishTemplate --to`,
//! `pull`, and `generate`'s fallback to the remotes: the use cases. The artifact's shape is
//! [`crate::registry::artifact`]; the order of a push is what keeps a half-finished one
//! invisible: blobs, the publication referrer (a subject need not exist first), then the
//! manifest under its tag (sent once), then the index.

use std::collections::{HashMap, HashSet};

use super::Session;
use crate::domain::DomainEvent;
use crate::domain::commands;
use crate::domain::events::SourceKind;
use crate::domain::state::VersionStatus;
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::hash;
use crate::registry::artifact::{self, IndexEntry, VersionRecord};
use crate::registry::client::{Registry, Traffic};
use crate::registry::index::index_version;
use crate::registry::pull::{
    PullFrom, template_manifest, verified_tree, version_events, version_record,
};
use crate::registry::push::{in_newest_version, lacking, push_publication};
use crate::registry::{RemoteUrl, check_repository_name};
use crate::store::config::Remote;
use crate::store::{Append, Decision};
use crate::tree::Tree;

/// A remote resolved from the store's configuration.
#[derive(Debug, Clone)]
pub struct NamedRemote {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub url: RemoteUrl,
    /// Spoken to over plain HTTP (its setting, or `--plain-http`).
    pub plain_http: bool,
}

impl NamedRemote {
    /// Parses a configured remote.
    pub fn of(remote: &Remote) -> Result<NamedRemote> {
        Ok(NamedRemote {
            name: remote.name.clone(),
            url: RemoteUrl::parse(&remote.url)?,
            plain_http: remote.plain_http,
        })
    }

    /// A client for the remote's registry, with the store's settings.
    pub fn connect(&self, session: &Session) -> Result<Registry> {
        Registry::connect(&self.url.host, options(session, self.plain_http))
    }
}

/// How registries are spoken to in this session: `FACTORY_REGISTRY_PARALLEL`, else
/// store.yaml's `remote.parallel`, else 8 requests in flight.
pub fn options(session: &Session, plain_http: bool) -> crate::registry::client::Options {
    crate::registry::client::Options {
        parallel: session
            .settings
            .registry
            .parallel
            .or(session.store.config().remote.parallel)
            .unwrap_or(crate::registry::client::DEFAULT_PARALLEL),
        plain_http,
    }
}

/// The remote a name picks, or an error listing those there are.
pub fn remote_named(session: &Session, name: &str) -> Result<NamedRemote> {
    let config = session.store.config();
    match config.remote(name) {
        Some(remote) => NamedRemote::of(remote),
        None => {
            let known: Vec<&str> = config.remotes.iter().map(|r| r.name.as_str()).collect();
            Err(
                Error::usage(format!("there is no remote named `{name}`")).hint(
                    if known.is_empty() {
                        "add one: factory remote add NAME oci://HOST/NAMESPACE".to_string()
                    } else {
                        format!("the remotes are: {}", known.join(", "))
                    },
                ),
            )
        }
    }
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The remote's name.
    pub remote: String,
    /// `oci://HOST/REPOSITORY@sha256:…`.
    pub artifact: String,
    /// The tag was there already with this content: nothing was sent but what was missing.
    pub already_there: bool,
    /// Distinct blobs the version is made of (files, tree, config).
    pub blob_count: usize,
    /// Of those, the ones the registry lacked and were uploaded.
    pub blobs_uploaded: usize,
    /// The ones it lacked in this repository and took from another of the namespace.
    pub blobs_mounted: usize,
    /// What was sent.
    pub traffic: Traffic,
    /// Whether the index gained the version now.
    pub indexed: bool,
}

/// A version's manifest, ready to push.
struct Built {
    record: Vec<u8>,
    tree_bytes: Vec<u8>,
    tree: Tree,
    manifest: Vec<u8>,
    digest: String,
}

/// The envelopes of one template version's history, in log order.
struct History {
    making: Vec<Envelope>,
    validated: Option<Envelope>,
    /// Every publication of the version: in the store, and one per push to a remote.
    published: Vec<Envelope>,
}

impl History {
    /// The publication that names `artifact`, if one does.
    fn publication_of(&self, artifact: &str) -> Option<&Envelope> {
        self.published.iter().find(|e| match e.event() {
            Ok(Some(DomainEvent::TemplatePublished(p))) => p.artifact.as_deref() == Some(artifact),
            _ => false,
        })
    }
}

/// Reads the log for the events that made `version_id` (and its template). A push is not a
/// hot path; lines that do not name the version's template are skipped unparsed.
fn history(
    session: &Session,
    template_id: &str,
    version_id: &str,
    validation_id: Option<&str>,
) -> Result<History> {
    let mut out = History {
        making: Vec::new(),
        validated: None,
        published: Vec::new(),
    };
    // A push must not leave out an event of the version's history: a damaged line refuses.
    for (envelope, event) in session
        .store
        .template_events(template_id, crate::store::OnDamage::Refuse)?
    {
        match &event {
            DomainEvent::TemplateRegistered(e) if e.template_id == template_id => {
                out.making.push(envelope)
            }
            DomainEvent::TemplateVersionCreated(e) if e.template_version_id == version_id => {
                out.making.push(envelope)
            }
            DomainEvent::TemplateParameterSchemaDefined(e)
                if e.template_version_id == version_id =>
            {
                out.making.push(envelope)
            }
            DomainEvent::TemplateValidated(e)
                if Some(e.validation_id.as_str()) == validation_id =>
            {
                out.validated = Some(envelope)
            }
            DomainEvent::TemplatePublished(e) if e.template_version_id == version_id => {
                out.published.push(envelope)
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Publishes `name@version` to `remote`: in the store first (unless it already is), then
/// the artifact, its publication referrer, the tag and the index.
pub fn publish_to(
    session: &Session,
    name: &str,
    version: &str,
    remote: &NamedRemote,
) -> Result<(super::template::Published, Pushed)> {
    let state = session.store.state()?;
    let objects = session.store.objects();
    let out = outgoing(session, &state, &objects, name, version)?;
    let (template, chosen, built) = (out.template, out.chosen, &out.built);
    let repository = remote.url.repository(&template.name);
    let registry = remote.connect(session)?;
    let index_repository = remote.url.index_repository();
    registry.plan(&[
        (repository.as_str(), "pull,push"),
        (index_repository.as_str(), "pull,push"),
    ]);
    let artifact_ref = remote.url.artifact_reference(&repository, &built.digest);
    let existing = existing_tag(&registry, &repository, remote, &out)?;
    let mounts =
        |missing: &[String]| mount_sources(&state, &objects, &remote.url, &template.id, missing);
    let (blobs_uploaded, blobs_mounted) =
        push_blobs(&registry, &repository, built, &objects, &mounts)?;
    let (published, published_envelope) =
        record_publication(session, template, chosen, &out.history, &artifact_ref)?;
    let validated = out.history.validated.as_ref().ok_or_else(|| {
        Error::new(format!(
            "the log holds no validation of {}@{}",
            template.name, chosen.version
        ))
        .hint("run `factory store check`")
    })?;
    push_publication(
        &registry,
        &repository,
        (&built.digest, built.manifest.len() as u64),
        validated,
        &published_envelope,
    )?;
    let indexed = tag_and_index(
        &registry,
        &remote.url,
        &repository,
        &out,
        existing.is_some(),
    )?;
    let distinct: HashSet<&str> = built.tree.files.iter().map(|f| f.blob.as_str()).collect();
    Ok((
        published,
        Pushed {
            remote: remote.name.clone(),
            artifact: artifact_ref,
            already_there: existing.is_some(),
            blob_count: distinct.len() + 2,
            blobs_uploaded,
            blobs_mounted,
            traffic: registry.traffic(),
            indexed,
        },
    ))
}

/// What a push sends, read from the store before the registry is asked anything.
struct Outgoing<'s> {
    template: &'s crate::domain::state::Template,
    chosen: &'s crate::domain::state::TemplateVersion,
    history: History,
    resolved: crate::source::ResolvedSource,
    built: Built,
}

/// The version to push and its artifact, built from the store: a version that is not
/// published yet is refused here when it could not be (not validated), before anything is
/// sent.
fn outgoing<'s>(
    session: &Session,
    state: &'s crate::domain::State,
    objects: &crate::store::objects::Objects,
    name: &str,
    version: &str,
) -> Result<Outgoing<'s>> {
    let (template, chosen) = commands::find_version(state, name, version)?;
    check_repository_name(&template.name)?;
    if chosen.status != VersionStatus::Published {
        // Refuse early (not validated) before anything is sent.
        commands::publish(state, name, version, None)?;
    }
    let validation_id = chosen.validation.as_ref().map(|v| v.validation_id.clone());
    let history = history(session, &template.id, &chosen.id, validation_id.as_deref())?;
    let resolved = crate::source::stored(
        state,
        &session.store.blobs(),
        name,
        Some(version),
        crate::source::VersionChoice::Any,
    )?;
    let built = build_artifact(objects, template, chosen, &history, &resolved)?;
    Ok(Outgoing {
        template,
        chosen,
        history,
        resolved,
        built,
    })
}

/// The manifest the remote holds under the version's tag, if any. Versions are immutable:
/// other content under the tag refuses the push before a blob is sent.
fn existing_tag(
    registry: &Registry,
    repository: &str,
    remote: &NamedRemote,
    out: &Outgoing,
) -> Result<Option<crate::registry::client::Fetched>> {
    let (template, chosen, built) = (out.template, out.chosen, &out.built);
    let existing = registry.manifest(repository, &chosen.version)?;
    if let Some(existing) = &existing
        && existing.digest != built.digest
    {
        return Err(Error::new(format!(
            "{}@{} is already on {} with other content ({}; this store's is {})",
            template.name, chosen.version, remote.name, existing.digest, built.digest
        ))
        .hint("versions are immutable: create and publish a new version instead"));
    }
    Ok(existing)
}

/// Makes the pushed version visible, last: its manifest under its tag (sent once: a tag
/// that was there already holds this content), then its index entry. Whether the index
/// gained the version.
fn tag_and_index(
    registry: &Registry,
    url: &RemoteUrl,
    repository: &str,
    out: &Outgoing,
    already_there: bool,
) -> Result<bool> {
    let (template, chosen, built) = (out.template, out.chosen, &out.built);
    if !already_there {
        registry.put_manifest(
            repository,
            &chosen.version,
            artifact::MANIFEST_MEDIA,
            &built.manifest,
        )?;
    }
    let entry = IndexEntry {
        title: template.title.clone(),
        description: out.resolved.manifest.description.clone(),
        tags: template.tags.clone(),
        versions: Vec::new(),
    };
    index_version(
        registry,
        url,
        &template.name,
        &chosen.version,
        &entry,
        already_there,
    )
}

/// The version's artifact: its record (the events that made it), its tree and the
/// manifest that names them, annotated as OCI tools show them.
fn build_artifact(
    objects: &crate::store::objects::Objects,
    template: &crate::domain::state::Template,
    chosen: &crate::domain::state::TemplateVersion,
    history: &History,
    resolved: &crate::source::ResolvedSource,
) -> Result<Built> {
    let tree_bytes = objects.get(&chosen.tree)?;
    let tree = Tree::from_bytes(&tree_bytes)?;
    let record = VersionRecord {
        name: template.name.clone(),
        template_id: template.id.clone(),
        version: chosen.version.clone(),
        template_version_id: chosen.id.clone(),
        content_hash: chosen.content_hash.clone(),
        tree: chosen.tree.clone(),
        events: history
            .making
            .iter()
            .map(|e| serde_json::to_value(e).expect("envelopes serialize"))
            .collect(),
    };
    let record = serde_json::to_vec(&record).expect("a record serializes");
    // A folder's path says nothing to another machine; a repository URL does.
    let source =
        (chosen.source_ref.kind == SourceKind::Git).then_some(chosen.source_ref.uri.as_str());
    let annotations = artifact::template_annotations(artifact::Described {
        name: &template.name,
        version: &chosen.version,
        title: &template.title,
        description: resolved.manifest.description.as_deref(),
        created: &chosen.created_at,
        source,
        content_hash: &chosen.content_hash,
    });
    let manifest = artifact::template_manifest(&record, &tree_bytes, &tree, annotations);
    let manifest_bytes = manifest.to_bytes();
    Ok(Built {
        digest: format!("sha256:{}", hash::sha256_hex(&manifest_bytes)),
        record,
        tree_bytes,
        tree,
        manifest: manifest_bytes,
    })
}

/// The publication the push makes: the version published now (naming the artifact), or,
/// for a version published earlier, a publication of its own for this artifact (none is
/// recorded when this artifact was recorded before, and the earlier one is reported).
fn record_publication(
    session: &Session,
    template: &crate::domain::state::Template,
    chosen: &crate::domain::state::TemplateVersion,
    history: &History,
    artifact_ref: &str,
) -> Result<(super::template::Published, crate::events::Envelope)> {
    let (name, version) = (template.name.as_str(), chosen.version.as_str());
    if chosen.status != VersionStatus::Published {
        return super::template::publish_locally(
            session,
            name,
            version,
            Some(artifact_ref.to_string()),
        );
    }
    let (recorded, ()) = session.write(|state| {
        let events = commands::publish_pushed(state, name, version, artifact_ref)?;
        Ok(Decision::events(events, ()))
    })?;
    let envelope = match recorded.first() {
        Some(envelope) => envelope.clone(),
        None => match history.publication_of(artifact_ref) {
            Some(envelope) => envelope.clone(),
            // Recorded by another push since the log was read.
            None => self::history(session, &template.id, &chosen.id, None)?
                .publication_of(artifact_ref)
                .cloned()
                .ok_or_else(|| {
                    Error::new(format!(
                        "{name}@{version} is published to {artifact_ref}, but the log holds no TemplatePublished naming it"
                    ))
                    .hint("run `factory store check`")
                })?,
        },
    };
    let publication: crate::domain::events::TemplatePublished =
        serde_json::from_value(envelope.payload.clone())
            .map_err(|e| Error::new(format!("a recorded publication does not read back: {e}")))?;
    let published = super::template::Published {
        template: name.to_string(),
        version: version.to_string(),
        publication_id: publication.publication_id,
        content_hash: chosen.content_hash.clone(),
        evaluation: None,
        events: super::event_ids(&recorded),
        newly: false,
    };
    Ok((published, envelope))
}

/// Uploads the config, the tree and every file blob the repository lacks (mounting those
/// another repository has); how many were uploaded and how many mounted.
fn push_blobs(
    registry: &Registry,
    repository: &str,
    built: &Built,
    objects: &crate::store::Objects,
    mounts: &dyn Fn(&[String]) -> HashMap<String, String>,
) -> Result<(usize, usize)> {
    let record_digest = format!("sha256:{}", hash::sha256_hex(&built.record));
    let tree_digest = format!("sha256:{}", hash::sha256_hex(&built.tree_bytes));
    let mut digests: Vec<String> = built.tree.files.iter().map(|f| f.blob.clone()).collect();
    digests.push(record_digest.clone());
    digests.push(tree_digest.clone());
    digests.sort();
    digests.dedup();
    // A manifest in the repository means its blobs are there (the registry checked them
    // when it took the manifest): only the rest are asked about.
    let present = in_newest_version(registry, repository)?;
    digests.retain(|d| !present.contains(d));
    let mut sizes: HashMap<&str, u64> = built
        .tree
        .files
        .iter()
        .map(|f| (f.blob.as_str(), f.size))
        .collect();
    sizes.insert(&record_digest, built.record.len() as u64);
    sizes.insert(&tree_digest, built.tree_bytes.len() as u64);
    let missing = lacking(registry, repository, &digests, &|d| {
        sizes.get(d).copied().unwrap_or(u64::MAX)
    })?;
    let mount_from = mounts(&missing);
    let read = |digest: &str| -> Result<Vec<u8>> {
        if digest == record_digest {
            Ok(built.record.clone())
        } else if digest == tree_digest {
            Ok(built.tree_bytes.clone())
        } else {
            objects.get(digest)
        }
    };
    let mounted_before = registry.traffic().blobs_mounted;
    registry.upload_blobs(repository, &missing, &mount_from, &read)?;
    let mounted = (registry.traffic().blobs_mounted - mounted_before) as usize;
    Ok((missing.len() - mounted, mounted))
}

/// For each missing blob another template of this store has on the remote (as its latest
/// published version lists it), that template's repository: a registry that has the blob
/// there mounts it instead of taking it again (a mount it declines costs nothing, as it
/// starts the upload). Only read when something is missing.
fn mount_sources(
    state: &crate::domain::State,
    objects: &crate::store::Objects,
    url: &RemoteUrl,
    template_id: &str,
    missing: &[String],
) -> HashMap<String, String> {
    let mut wanted: HashSet<&str> = missing.iter().map(String::as_str).collect();
    let mut out = HashMap::new();
    for other in state.templates.values().filter(|t| t.id != template_id) {
        if wanted.is_empty() {
            break;
        }
        let Some(version) = other.latest_published() else {
            continue;
        };
        let Ok(tree) = objects
            .get(&version.tree)
            .and_then(|b| Tree::from_bytes(&b))
        else {
            continue;
        };
        let repository = url.repository(&other.name);
        for file in tree.files {
            if wanted.remove(file.blob.as_str()) {
                out.insert(file.blob, repository.clone());
            }
        }
    }
    out
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The remote's name.
    pub remote: String,
    /// The template's name.
    pub template: String,
    /// The version.
    pub version: String,
    /// Its content hash, checked against its files.
    pub content_hash: String,
    /// `oci://…@sha256:…`.
    pub artifact: String,
    /// Events appended (none when the store had them all).
    pub events: Vec<String>,
    /// Blobs downloaded (the rest were in the store).
    pub blobs_fetched: usize,
    /// What was received.
    pub traffic: Traffic,
}

/// Imports `name@version` (default: the newest) from `remote` into the store: every blob
/// checked against its digest, the tree against the content hash, the events appended
/// with their own ids unless the store has them. `Ok(None)`: the remote has no such version.
pub fn pull(
    session: &Session,
    remote: &NamedRemote,
    name: &str,
    version: Option<&str>,
) -> Result<Option<Pulled>> {
    check_repository_name(name)?;
    let registry = remote.connect(session)?;
    let repository = remote.url.repository(name);
    registry.plan(&[(repository.as_str(), "pull")]);
    let version = match version {
        Some(v) => v.to_string(),
        None => match crate::registry::pull::newest_version(&registry, &remote.url, name)? {
            Some(v) => v,
            None => return Ok(None),
        },
    };
    let Some(fetched) = registry.manifest(&repository, &version)? else {
        return Ok(None);
    };
    let at = format!("{}/{repository}:{version}", remote.url.host);
    let from = PullFrom {
        registry: &registry,
        repository: &repository,
        at: &at,
    };
    let manifest = template_manifest(&fetched.bytes, &at)?;
    let record = version_record(&from, &manifest, &remote.url, name, &version)?;
    let (tree_bytes, tree, content_hash) =
        verified_tree(&registry, &repository, &manifest, &record, &at)?;
    let (envelopes, events) = version_events(&from, &record, &fetched.digest)?;
    let (appended, blobs_fetched) = import(
        session,
        (&registry, &repository),
        (&tree, tree_bytes, &record.tree),
        envelopes,
        events,
    )?;
    Ok(Some(Pulled {
        remote: remote.name.clone(),
        template: record.name,
        version,
        content_hash,
        artifact: remote.url.artifact_reference(&repository, &fetched.digest),
        events: super::event_ids(&appended),
        blobs_fetched,
        traffic: registry.traffic(),
    }))
}

/// Fetches the blobs the store lacks and appends the events it does not hold yet, with
/// the objects, in one import; the envelopes appended and the blobs fetched.
fn import(
    session: &Session,
    (registry, repository): (&Registry, &str),
    (tree, tree_bytes, tree_digest): (&Tree, Vec<u8>, &str),
    envelopes: Vec<Envelope>,
    events: Vec<DomainEvent>,
) -> Result<(Vec<Envelope>, usize)> {
    // Blobs the store has are not fetched again.
    let objects = session.store.objects();
    let mut wanted: Vec<(String, u64)> = tree
        .files
        .iter()
        .filter(|f| {
            !objects
                .path_of(f.blob.trim_start_matches("sha256:"))
                .is_file()
        })
        .map(|f| (f.blob.clone(), f.size))
        .collect();
    wanted.sort();
    wanted.dedup();
    let fetched_blobs = registry.blobs(repository, &wanted)?;
    let mut new_objects: Vec<(String, Vec<u8>)> = wanted
        .iter()
        .zip(fetched_blobs)
        .map(|((digest, _), bytes)| (digest.trim_start_matches("sha256:").to_string(), bytes))
        .collect();
    new_objects.push((
        tree_digest.trim_start_matches("sha256:").to_string(),
        tree_bytes,
    ));
    let blobs_fetched = wanted.len();
    let (appended, ()) = session.store.import(|state| {
        let mut state = state.clone();
        let mut append = Append {
            envelopes: Vec::new(),
            events: Vec::new(),
            objects: new_objects,
            output: (),
        };
        for (envelope, event) in envelopes.into_iter().zip(events) {
            if commands::is_recorded(&state, &event)? {
                continue;
            }
            state.apply(&envelope.event_id, &envelope.occurred_at, Some(&event));
            append.envelopes.push(envelope);
            append.events.push(event);
        }
        if append.envelopes.is_empty() {
            append.objects.clear();
        }
        Ok(append)
    })?;
    Ok((appended, blobs_fetched))
}
