//! The registry's side of a push: which blobs a repository lacks, and the publication
//! referrer that hangs the validation and publication events off a version's manifest.

use std::collections::{BTreeMap, HashSet};

use super::artifact::{self, Descriptor, Manifest};
use super::client::Registry;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::hash;

/// Blobs larger than this are asked about (`HEAD`) before they are sent, whatever else is
/// known: asking costs less than sending them again.
const ASK_ABOVE_BYTES: u64 = 1 << 20;

/// Which of `digests` (sorted: the order they are sent in) the repository lacks. They are
/// sent in that order, the first alone, so a push cut off part-way left the first: when
/// the first is not there, no earlier attempt sent this version's blobs, and a small blob
/// costs no more to send than to ask about, so only the large ones are asked about (`HEAD`);
/// when it is there, every one is asked about and only what is missing is sent.
pub fn lacking(
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
pub fn in_newest_version(registry: &Registry, repository: &str) -> Result<HashSet<String>> {
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

/// Attaches the validation and publication events to the manifest as a referrer: through
/// the referrers API when the registry has one, else under the referrers tag schema's
/// `sha256-<hex>` index.
pub fn push_publication(
    registry: &Registry,
    repository: &str,
    (subject_digest, subject_size): (&str, u64),
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
        subject_digest.to_string(),
        subject_size,
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
    if indexed || registry.referrers(repository, subject_digest)?.is_some() {
        return Ok(());
    }
    let tag = artifact::referrers_tag(subject_digest);
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
