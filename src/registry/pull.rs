//! What a pull checks before anything reaches the store: the manifest is a factory
//! template version of a size a pull takes, its record names the version asked for, its
//! tree stays inside an output and hashes to the content hash, and its events are about
//! that version and no other.

use std::collections::HashMap;

use super::artifact::{self, Manifest, VersionRecord};
use super::client::Registry;
use super::{MAX_RECORD_BYTES, RemoteUrl};
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::hash::{self, HashedFile};
use crate::tree::Tree;

/// The most a pull downloads for one version (declared layer sizes, summed).
const MAX_PULL_BYTES: u64 = 2 << 30;

/// The newest version a remote holds for `name` (by semantic version); `None` when it has none.
pub fn newest_version(registry: &Registry, url: &RemoteUrl, name: &str) -> Result<Option<String>> {
    let tags = registry.tags(&url.repository(name))?;
    Ok(tags
        .into_iter()
        .filter(|t| semver::Version::parse(t).is_ok())
        .max_by(|a, b| artifact::compare_versions(a, b)))
}

/// Where a pull reads from: the registry, the template's repository, and the version as
/// messages name it (`HOST/REPOSITORY:VERSION`).
pub struct PullFrom<'a> {
    /// The registry.
    pub registry: &'a Registry,
    /// The template's repository.
    pub repository: &'a str,
    /// `HOST/REPOSITORY:VERSION`, as messages name it.
    pub at: &'a str,
}

/// The pulled manifest, refused unless it is a factory template version whose declared
/// sizes a pull takes (checked before any blob is read).
pub fn template_manifest(bytes: &[u8], at: &str) -> Result<Manifest> {
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
pub fn version_record(
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
pub fn version_events(
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
pub fn verified_tree(
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
