//! The namespace's index of templates as `search` reads it and `publish` writes it: one
//! tag of the index repository per template version, and the whole index earlier versions
//! rewrote under `latest`.

use std::collections::BTreeMap;

use super::MAX_RECORD_BYTES;
use super::RemoteUrl;
use super::artifact::{self, EntryTag, Index, IndexEntry, Manifest};
use super::client::Registry;
use crate::error::{Error, Result};
use crate::hash;

/// Index entries read at once by a search (a chunk's manifests are held together).
const INDEX_CHUNK: usize = 64;

/// Reads the namespace's index as `search` shows it: the per-version entries (one list of
/// the index repository's tags, then the newest version's entry of each template, read
/// several at once) and the whole index earlier versions wrote under `latest`, merged
/// ([`Index::merged`]). `None` when the namespace has neither. A template whose newest
/// entry cannot be read or names another template than its tag is left out, with a note
/// (unless the old index lists it); one whose entry was deleted since the list, silently.
pub fn read_index(
    note: &dyn Fn(String),
    registry: &Registry,
    url: &RemoteUrl,
) -> Result<Option<Index>> {
    let repository = url.index_repository();
    let mut listed = list_index(registry, &repository)?;
    let newest = newest_entries(note, registry, url, &repository, &mut listed)?;
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
    note: &dyn Fn(String),
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
                    note(format!("{url}: left out of the index: {e}"));
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
pub fn index_version(
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
