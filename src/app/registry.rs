//! Publishing to and pulling from registry remotes (issue 16): `PublishTemplate --to`,
//! `pull`, and `generate`'s fallback to the remotes. The artifact's shape is
//! [`crate::registry::artifact`]; the order of a push is what keeps a half-finished one
//! invisible: blobs, the publication referrer (a subject need not exist first), then the
//! manifest under its tag (sent once), then the index.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Session;
use crate::domain::DomainEvent;
use crate::domain::commands;
use crate::domain::events::SourceKind;
use crate::domain::state::VersionStatus;
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::hash::{self, HashedFile};
use crate::registry::artifact::{
    self, Descriptor, EntryTag, Index, IndexEntry, Manifest, VersionRecord,
};
use crate::registry::client::{Registry, Traffic};
use crate::registry::{RemoteUrl, check_repository_name};
use crate::store::config::Remote;
use crate::store::{Append, Decision};
use crate::tree::Tree;

/// The most a pull downloads for one version (declared layer sizes, summed).
const MAX_PULL_BYTES: u64 = 2 << 30;
/// The most a config blob or an events layer may weigh (and the index entries, together).
const MAX_RECORD_BYTES: u64 = 64 << 20;
/// Index entries read at once by a search (a chunk's manifests are held together).
const INDEX_CHUNK: usize = 64;
/// Blobs larger than this are asked about (`HEAD`) before they are sent, whatever else is
/// known: asking costs less than sending them again.
const ASK_ABOVE_BYTES: u64 = 1 << 20;

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
        built,
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

/// Which of `digests` (sorted: the order they are sent in) the repository lacks. They are
/// sent in that order, the first alone, so a push cut off part-way left the first: when
/// the first is not there, no earlier attempt sent this version's blobs, and a small blob
/// costs no more to send than to ask about, so only the large ones are asked about (`HEAD`);
/// when it is there, every one is asked about and only what is missing is sent.
fn lacking(
    registry: &Registry,
    repository: &str,
    digests: &[String],
    size: &dyn Fn(&str) -> u64,
) -> Result<Vec<String>> {
    let Some(first) = digests.first() else {
        return Ok(Vec::new());
    };
    if registry
        .missing_blobs(repository, std::slice::from_ref(first))?
        .is_empty()
    {
        return registry.missing_blobs(repository, &digests[1..]);
    }
    let (large, small): (Vec<String>, Vec<String>) = digests[1..]
        .iter()
        .cloned()
        .partition(|d| size(d) > ASK_ABOVE_BYTES);
    let mut missing = registry.missing_blobs(repository, &large)?;
    missing.push(first.clone());
    missing.extend(small);
    missing.sort();
    Ok(missing)
}

/// The blobs the newest version already in `repository` is made of (none when it has none).
fn in_newest_version(registry: &Registry, repository: &str) -> Result<HashSet<String>> {
    let tags = registry.tags(repository)?;
    let newest = tags
        .iter()
        .filter(|t| semver::Version::parse(t).is_ok())
        .max_by(|a, b| artifact::compare_versions(a, b));
    let Some(fetched) = newest
        .map(|t| registry.manifest(repository, t))
        .transpose()?
        .flatten()
    else {
        return Ok(HashSet::new());
    };
    let Ok(manifest) = Manifest::parse(&fetched.bytes, repository) else {
        return Ok(HashSet::new());
    };
    let mut present: HashSet<String> = manifest.layers.into_iter().map(|l| l.digest).collect();
    present.insert(manifest.config.digest);
    Ok(present)
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

/// Attaches the validation and publication events to the manifest as a referrer: through
/// the referrers API when the registry has one, else under the referrers tag schema's
/// `sha256-<hex>` index.
fn push_publication(
    registry: &Registry,
    repository: &str,
    built: &Built,
    validated: &Envelope,
    published: &Envelope,
) -> Result<()> {
    let mut events = Vec::new();
    validated.write_line(&mut events);
    published.write_line(&mut events);
    registry.put_blob(repository, &events)?;
    registry.put_blob(repository, artifact::EMPTY_CONFIG)?;
    let mut subject = Descriptor::new(
        artifact::MANIFEST_MEDIA,
        built.digest.clone(),
        built.manifest.len() as u64,
    );
    subject.artifact_type = None;
    let mut annotations = BTreeMap::new();
    let (
        Some(DomainEvent::TemplateValidated(validation)),
        Some(DomainEvent::TemplatePublished(publication)),
    ) = (validated.event()?, published.event()?)
    else {
        return Err(Error::new(format!(
            "events {} and {} are not a validation and a publication",
            validated.event_id, published.event_id
        )));
    };
    annotations.insert(
        "dev.factory.validation.passed".to_string(),
        validation.passed.to_string(),
    );
    annotations.insert(
        "dev.factory.validation.id".to_string(),
        validation.validation_id,
    );
    annotations.insert(
        "dev.factory.publication.id".to_string(),
        publication.publication_id,
    );
    annotations.insert(
        "org.opencontainers.image.created".to_string(),
        published.occurred_at.clone(),
    );
    let referrer = artifact::publication_manifest(subject, &events, annotations.clone());
    let bytes = referrer.to_bytes();
    let digest = format!("sha256:{}", hash::sha256_hex(&bytes));
    let indexed = registry.put_manifest(repository, &digest, artifact::MANIFEST_MEDIA, &bytes)?;
    if indexed || registry.referrers(repository, &built.digest)?.is_some() {
        return Ok(());
    }
    let tag = artifact::referrers_tag(&built.digest);
    let mut index = match registry.manifest(repository, &tag)? {
        Some(fetched) => {
            artifact::ImageIndex::parse(&fetched.bytes, &format!("{repository}:{tag}"))?
        }
        None => artifact::ImageIndex::of(Vec::new()),
    };
    if index.manifests.iter().any(|d| d.digest == digest) {
        return Ok(());
    }
    let mut descriptor = Descriptor::new(artifact::MANIFEST_MEDIA, digest, bytes.len() as u64);
    descriptor.artifact_type = Some(artifact::PUBLICATION_TYPE.to_string());
    descriptor.annotations = annotations;
    index.manifests.push(descriptor);
    registry.put_manifest(repository, &tag, artifact::INDEX_MEDIA, &index.to_bytes())?;
    Ok(())
}

/// Reads the namespace's index as `search` shows it: the per-version entries (one list of
/// the index repository's tags, then the newest version's entry of each template, read
/// several at once) and the whole index earlier versions wrote under `latest`, merged
/// ([`Index::merged`]). `None` when the namespace has neither. A template whose newest
/// entry cannot be read or names another template than its tag is left out, with a note
/// (unless the old index lists it); one whose entry was deleted since the list, silently.
pub(super) fn read_index(
    session: &Session,
    registry: &Registry,
    url: &RemoteUrl,
) -> Result<Option<Index>> {
    let repository = url.index_repository();
    let mut listed = list_index(registry, &repository)?;
    let newest = newest_entries(session, registry, url, &repository, &mut listed)?;
    let legacy = if listed.legacy {
        read_whole_index(registry, &repository)?
    } else {
        None
    };
    if legacy.is_none() && listed.versions.is_empty() {
        return Ok(None);
    }
    Ok(Some(Index::merged(legacy, listed.versions, newest)))
}

/// The index repository's tags, sorted by what they say.
struct IndexTags {
    /// The whole index earlier versions wrote (`latest`) is there.
    legacy: bool,
    /// The versions of each template (by repository) that named tags list.
    versions: BTreeMap<String, Vec<String>>,
    /// The entries to read: every hashed tag (it says nothing until read), then the newest
    /// named tag of each template.
    wanted: Vec<String>,
}

/// Lists the index repository's tags once and sorts them ([`IndexTags`]).
fn list_index(registry: &Registry, repository: &str) -> Result<IndexTags> {
    let mut legacy = false;
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // The tag of each template's newest version: its title, description and tags are
    // shown. Hashed tags say nothing until read.
    let mut newest_tag: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut wanted = Vec::new();
    for tag in registry.tags(repository)? {
        match artifact::parse_entry_tag(&tag) {
            Some(EntryTag::Named {
                repository,
                version,
            }) => {
                versions
                    .entry(repository.clone())
                    .or_default()
                    .push(version.clone());
                let slot = newest_tag
                    .entry(repository)
                    .or_insert_with(|| (version.clone(), tag.clone()));
                if artifact::compare_versions(&slot.0, &version).is_lt() {
                    *slot = (version, tag);
                }
            }
            Some(EntryTag::Hashed) => wanted.push(tag),
            None => legacy |= tag == artifact::INDEX_TAG,
        }
    }
    wanted.extend(newest_tag.into_values().map(|(_, tag)| tag));
    Ok(IndexTags {
        legacy,
        versions,
        wanted,
    })
}

/// Reads the `wanted` entries, several at once, for the newest entry of each template; a
/// hashed entry adds its version to `versions`. An entry that cannot be read is left out
/// with a note; one deleted since the list, silently.
fn newest_entries(
    session: &Session,
    registry: &Registry,
    url: &RemoteUrl,
    repository: &str,
    listed: &mut IndexTags,
) -> Result<BTreeMap<String, artifact::Entry>> {
    let versions = &mut listed.versions;
    let mut newest: BTreeMap<String, artifact::Entry> = BTreeMap::new();
    // A chunk at a time, the bytes read counted: what is held stays bounded whatever the
    // registry lists.
    let mut read = 0u64;
    for chunk in listed.wanted.chunks(INDEX_CHUNK) {
        for (tag, fetched) in chunk.iter().zip(registry.manifests(repository, chunk)?) {
            // Gone since the list: deleted, nothing to show.
            let Some(fetched) = fetched else { continue };
            read += fetched.bytes.len() as u64;
            if read > MAX_RECORD_BYTES {
                return Err(Error::new(format!(
                    "{url}: the index entries weigh more than the {MAX_RECORD_BYTES} bytes a search reads"
                ))
                .hint("its index repository holds what factory did not write there; tell the registry's operators"));
            }
            let entry = match artifact::entry_of(tag, &fetched.bytes) {
                Ok(entry) => entry,
                Err(e) => {
                    session.note(format!("{url}: left out of the index: {e}"));
                    continue;
                }
            };
            let key = entry.name.to_ascii_lowercase();
            if artifact::parse_entry_tag(tag) == Some(EntryTag::Hashed) {
                versions
                    .entry(key.clone())
                    .or_default()
                    .push(entry.version.clone());
            }
            if newest
                .get(&key)
                .is_none_or(|e| artifact::compare_versions(&e.version, &entry.version).is_lt())
            {
                newest.insert(key, entry);
            }
        }
    }
    Ok(newest)
}

/// The whole index earlier versions rewrote on each publish (`latest`); `None` when there
/// is none.
fn read_whole_index(registry: &Registry, repository: &str) -> Result<Option<Index>> {
    let Some(fetched) = registry.manifest(repository, artifact::INDEX_TAG)? else {
        return Ok(None);
    };
    let at = format!("{repository}:{}", artifact::INDEX_TAG);
    let manifest = Manifest::parse(&fetched.bytes, &at)?;
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == artifact::INDEX_LAYER_MEDIA)
        .ok_or_else(|| Error::new(format!("{at} is not a factory index")))?;
    let bytes = registry.blob(repository, &layer.digest, MAX_RECORD_BYTES)?;
    Ok(Some(Index::parse(&bytes)?))
}

/// Writes the index entry of `name@version`: its own tag of the index repository, which no
/// publisher of another template or version writes, so none can undo it (the distribution
/// API has no compare-and-set: a shared index rewritten by each publisher loses entries).
/// A version pushed now gets its entry without asking (the entry is written after the
/// manifest, so there is none yet); one that was there already is looked up first, as it
/// was published by this version or an earlier one. Whether the entry was written.
fn index_version(
    registry: &Registry,
    url: &RemoteUrl,
    name: &str,
    version: &str,
    entry: &IndexEntry,
    already_there: bool,
) -> Result<bool> {
    let repository = url.index_repository();
    let tag = artifact::entry_tag(name, version);
    let bytes = artifact::entry_manifest(name, version, entry).to_bytes();
    if already_there
        && let Some(fetched) = registry.manifest(&repository, &tag)?
        && fetched.digest == format!("sha256:{}", hash::sha256_hex(&bytes))
    {
        return Ok(false);
    }
    registry.put_blob(&repository, artifact::EMPTY_CONFIG)?;
    registry.put_manifest(&repository, &tag, artifact::MANIFEST_MEDIA, &bytes)?;
    Ok(true)
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

/// The newest version a remote holds for `name` (by semantic version); `None` when it has none.
pub fn newest_version(registry: &Registry, url: &RemoteUrl, name: &str) -> Result<Option<String>> {
    let tags = registry.tags(&url.repository(name))?;
    Ok(tags
        .into_iter()
        .filter(|t| semver::Version::parse(t).is_ok())
        .max_by(|a, b| artifact::compare_versions(a, b)))
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
        None => match newest_version(&registry, &remote.url, name)? {
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

/// Where a pull reads from: the registry, the template's repository, and the version as
/// messages name it (`HOST/REPOSITORY:VERSION`).
struct PullFrom<'a> {
    registry: &'a Registry,
    repository: &'a str,
    at: &'a str,
}

/// The pulled manifest, refused unless it is a factory template version whose declared
/// sizes a pull takes (checked before any blob is read).
fn template_manifest(bytes: &[u8], at: &str) -> Result<Manifest> {
    let manifest = Manifest::parse(bytes, at)?;
    if manifest.artifact_type.as_deref() != Some(artifact::ARTIFACT_TYPE)
        || manifest.config.media_type != artifact::CONFIG_MEDIA
    {
        return Err(Error::new(format!(
            "{at} is not a factory template version (artifactType {:?})",
            manifest.artifact_type
        )));
    }
    check_declared_sizes(&manifest, at)?;
    Ok(manifest)
}

/// The version's record (its config blob), refused unless it names the template and
/// version asked for.
fn version_record(
    from: &PullFrom,
    manifest: &Manifest,
    url: &RemoteUrl,
    name: &str,
    version: &str,
) -> Result<VersionRecord> {
    let (repository, at) = (from.repository, from.at);
    let record_bytes = from.registry.blob(
        repository,
        &manifest.config.digest,
        manifest.config.size.min(MAX_RECORD_BYTES),
    )?;
    let record: VersionRecord = serde_json::from_slice(&record_bytes)
        .map_err(|e| Error::new(format!("the record of {at} is unreadable: {e}")))?;
    // A pull imports the template and version it names, from that template's repository:
    // a record that names another (to be registered under a name nobody asked for, or to
    // add a version to a template published elsewhere) is refused.
    if url.repository(&record.name) != repository || record.version != version {
        return Err(Error::new(format!(
            "{at} holds {}@{}, not the {name}@{version} asked for; nothing was imported",
            record.name, record.version
        ))
        .hint("a template's versions are pulled from its own repository: REMOTE/NAME@VERSION"));
    }
    Ok(record)
}

/// The events to import: the record's, then those of the publication referrer of the
/// manifest `digest`, each checked to be about this version ([`events_of_this_version`]);
/// refused without a publication among them.
fn version_events(
    from: &PullFrom,
    record: &VersionRecord,
    digest: &str,
) -> Result<(Vec<Envelope>, Vec<DomainEvent>)> {
    let at = from.at;
    let mut envelopes = Vec::new();
    for value in &record.events {
        envelopes.push(
            serde_json::from_value::<Envelope>(value.clone()).map_err(|e| {
                Error::new(format!("{at}: an event of its record is unreadable: {e}"))
            })?,
        );
    }
    envelopes.extend(publication_events(
        from.registry,
        from.repository,
        digest,
        at,
    )?);
    let events = events_of_this_version(record, &envelopes, at)?;
    if !events
        .iter()
        .any(|e| matches!(e, DomainEvent::TemplatePublished(_)))
    {
        return Err(Error::new(format!(
            "{at} has no publication record; nothing was imported"
        ))
        .hint("publish the version to the remote again"));
    }
    Ok((envelopes, events))
}

/// Sizes are the registry's word: added with a check, as two layers of 2^63 bytes would
/// wrap around to a small sum; each blob is then read no further than its own size.
fn check_declared_sizes(manifest: &Manifest, at: &str) -> Result<()> {
    let declared = manifest
        .layers
        .iter()
        .try_fold(manifest.config.size, |sum, layer| {
            sum.checked_add(layer.size)
        })
        .filter(|&sum| sum <= MAX_PULL_BYTES);
    if declared.is_none() {
        let total: u128 = manifest
            .layers
            .iter()
            .map(|l| u128::from(l.size))
            .sum::<u128>()
            + u128::from(manifest.config.size);
        return Err(Error::new(format!(
            "{at} declares {total} bytes, more than the {MAX_PULL_BYTES} a pull takes; nothing was imported"
        )));
    }
    Ok(())
}

/// The artifact's tree, checked: it is the one its record names, its paths stay inside
/// an output, every file is one of the layers, and the files hash to the record's content
/// hash. The tree's bytes, the tree and that hash.
fn verified_tree(
    registry: &Registry,
    repository: &str,
    manifest: &Manifest,
    record: &VersionRecord,
    at: &str,
) -> Result<(Vec<u8>, Tree, String)> {
    let tree_layer = manifest
        .layers
        .first()
        .filter(|l| l.media_type == artifact::TREE_MEDIA && l.digest == record.tree)
        .ok_or_else(|| {
            Error::new(format!(
                "{at} does not start with the tree its record names"
            ))
        })?;
    let tree_bytes = registry.blob(repository, &tree_layer.digest, tree_layer.size)?;
    let tree = Tree::from_bytes(&tree_bytes)?;
    if let Some(problem) = crate::render::paths::tree_problems(&tree).first() {
        return Err(Error::new(format!(
            "{at}: its tree holds a path no template may have: {problem}; nothing was imported"
        ))
        .hint("the artifact was not made by factory; tell its publisher"));
    }
    if let Some(file) = tree.files.iter().find(|f| !is_sha256_digest(&f.blob)) {
        return Err(Error::new(format!(
            "{at}: the tree names `{}` for {}, which is not a sha256 digest; nothing was imported",
            file.blob.escape_debug(),
            file.path.escape_debug()
        )));
    }
    let layers: HashMap<&str, u64> = manifest
        .layers
        .iter()
        .map(|l| (l.digest.as_str(), l.size))
        .collect();
    let mut hashed = Vec::with_capacity(tree.files.len());
    for file in &tree.files {
        if layers.get(file.blob.as_str()) != Some(&file.size) {
            return Err(Error::new(format!(
                "{at}: the tree names {} ({}) which is not one of its layers",
                file.path, file.blob
            )));
        }
        hashed.push(HashedFile {
            path: file.path.clone(),
            sha256: file.blob.trim_start_matches("sha256:").to_string(),
        });
    }
    let content_hash = hash::tree_hash(&mut hashed).content_hash;
    if content_hash != record.content_hash {
        return Err(Error::new(format!(
            "{at}: its files hash to {content_hash}, not the content hash {} it was published with; nothing was imported",
            record.content_hash
        )));
    }
    Ok((tree_bytes, tree, content_hash))
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

/// `sha256:` and 64 lower-case hex digits: a digest that names a store object.
fn is_sha256_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The events a pulled version carries, each checked to be about the template and version
/// of its record: the template's id in every one, the record's name in its registration
/// (which comes first), the version's id, number, content and tree in the rest. An event
/// naming any other template is refused, so a pull changes no template but the one asked
/// for (that the store does not give the id to another name is the import's check).
fn events_of_this_version(
    record: &VersionRecord,
    envelopes: &[Envelope],
    at: &str,
) -> Result<Vec<DomainEvent>> {
    let mut events = Vec::with_capacity(envelopes.len());
    for (i, envelope) in envelopes.iter().enumerate() {
        let event = envelope
            .event()?
            .ok_or_else(|| Error::new(format!("{at} carries an event of an unknown type")))?;
        let this_version = |template_id: &str, version_id: &str| {
            template_id == record.template_id && version_id == record.template_version_id
        };
        let about_this = match &event {
            DomainEvent::TemplateRegistered(e) => {
                i == 0 && e.template_id == record.template_id && e.name == record.name
            }
            DomainEvent::TemplateVersionCreated(e) => {
                this_version(&e.template_id, &e.template_version_id)
                    && e.version == record.version
                    && e.content_hash == record.content_hash
                    && e.tree == record.tree
            }
            DomainEvent::TemplateParameterSchemaDefined(e) => {
                this_version(&e.template_id, &e.template_version_id)
            }
            DomainEvent::TemplateValidated(e) => {
                this_version(&e.template_id, &e.template_version_id)
                    && e.passed
                    && e.content_hash == record.content_hash
            }
            DomainEvent::TemplatePublished(e) => {
                this_version(&e.template_id, &e.template_version_id)
                    && e.version == record.version
                    && e.content_hash == record.content_hash
            }
            _ => false,
        };
        if !about_this {
            return Err(Error::new(format!(
                "{at}: its {} event ({}) is not about {}@{} ({}); nothing was imported",
                envelope.event_type,
                envelope.event_id,
                record.name,
                record.version,
                record.template_id
            ))
            .hint("the artifact was not made by factory; tell its publisher"));
        }
        events.push(event);
    }
    if !matches!(events.first(), Some(DomainEvent::TemplateRegistered(_)))
        || !events
            .iter()
            .any(|e| matches!(e, DomainEvent::TemplateVersionCreated(_)))
    {
        return Err(Error::new(format!(
            "{at}: its record does not register {} and create {}; nothing was imported",
            record.name, record.version
        )));
    }
    Ok(events)
}

/// The events of the publication referrer of `digest` (validation, publication).
fn publication_events(
    registry: &Registry,
    repository: &str,
    digest: &str,
    at: &str,
) -> Result<Vec<Envelope>> {
    let index = match registry.referrers(repository, digest)? {
        Some(bytes) => artifact::ImageIndex::parse(&bytes, &format!("the referrers of {at}"))?,
        None => match registry.manifest(repository, &artifact::referrers_tag(digest))? {
            Some(fetched) => {
                artifact::ImageIndex::parse(&fetched.bytes, &format!("the referrers of {at}"))?
            }
            None => artifact::ImageIndex::of(Vec::new()),
        },
    };
    let Some(descriptor) = index
        .manifests
        .iter()
        .rev()
        .find(|d| d.artifact_type.as_deref() == Some(artifact::PUBLICATION_TYPE))
    else {
        return Err(Error::new(format!(
            "{at} has no publication record; nothing was imported"
        ))
        .hint("publish the version to the remote again"));
    };
    let fetched = registry
        .manifest(repository, &descriptor.digest)?
        .ok_or_else(|| {
            Error::new(format!(
                "{at}: its publication record {} is missing",
                descriptor.digest
            ))
        })?;
    let referrer = Manifest::parse(&fetched.bytes, &format!("the publication record of {at}"))?;
    if referrer.subject.as_ref().map(|s| s.digest.as_str()) != Some(digest) {
        return Err(Error::new(format!(
            "{at}: its publication record is about another manifest"
        )));
    }
    let layer = referrer
        .layers
        .iter()
        .find(|l| l.media_type == artifact::EVENTS_MEDIA)
        .ok_or_else(|| Error::new(format!("{at}: its publication record holds no events")))?;
    let bytes = registry.blob(repository, &layer.digest, layer.size.min(MAX_RECORD_BYTES))?;
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            Envelope::from_line(line).map_err(|e| {
                Error::new(format!(
                    "{at}: an event of its publication record is unreadable: {e}"
                ))
            })
        })
        .collect()
}
