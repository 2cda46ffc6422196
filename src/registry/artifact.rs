//! How a template version looks in a registry (pure: bytes in, bytes out).
//!
//! - The **template manifest** (an OCI 1.1 image manifest, `artifactType`
//!   [`ARTIFACT_TYPE`], tag = version): its config blob is the [`VersionRecord`] (name, ids,
//!   content hash, tree digest, and the events that made the version: TemplateRegistered,
//!   TemplateVersionCreated, TemplateParameterSchemaDefined, with their original ids); its
//!   first layer is the tree object, byte for byte as the store keeps it; then one layer
//!   per file, digest = the store object's sha256, titled with the file's path.
//! - The **publication referrer** (`artifactType` [`PUBLICATION_TYPE`], `subject` = the
//!   template manifest): one layer of JSON Lines holding the TemplateValidated event the
//!   publication rests on (the validation result, with every check) and TemplatePublished,
//!   whose `artifact` names the template manifest — so it cannot be inside it.
//! - The **index entries** (repository `NAMESPACE/factory-index`, one tag per template
//!   version, see [`entry_tag`]; `artifactType` [`INDEX_ENTRY_TYPE`]): the name, version,
//!   title, description and tags of one version, as annotations, for `search` on registries
//!   that disable `/v2/_catalog`. Each publish writes its own tag and nothing else of the
//!   index, so publishers never overwrite each other (the distribution API has no
//!   compare-and-set). The whole-namespace **index** that earlier versions rewrote under
//!   `latest` (`artifactType` [`INDEX_TYPE`]) is still read, never written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hash::sha256_hex;

/// The OCI image manifest media type.
pub const MANIFEST_MEDIA: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image index media type.
pub const INDEX_MEDIA: &str = "application/vnd.oci.image.index.v1+json";
/// The artifact type of a template version.
pub const ARTIFACT_TYPE: &str = "application/vnd.factory.template.v1";
/// The media type of a template version's config blob ([`VersionRecord`]).
pub const CONFIG_MEDIA: &str = "application/vnd.factory.template.config.v1+json";
/// The media type of the tree layer.
pub const TREE_MEDIA: &str = "application/vnd.factory.template.tree.v1+json";
/// The media type of a file layer.
pub const FILE_MEDIA: &str = "application/vnd.factory.template.file.v1";
/// The artifact type of the publication referrer.
pub const PUBLICATION_TYPE: &str = "application/vnd.factory.template.publication.v1";
/// The media type of a layer of events (JSON Lines, as in the log).
pub const EVENTS_MEDIA: &str = "application/vnd.factory.events.v1+jsonl";
/// The artifact type of the namespace's whole index (written by earlier versions).
pub const INDEX_TYPE: &str = "application/vnd.factory.index.v1";
/// The artifact type of one version's index entry.
pub const INDEX_ENTRY_TYPE: &str = "application/vnd.factory.index.entry.v1";
/// The media type of the index layer.
pub const INDEX_LAYER_MEDIA: &str = "application/vnd.factory.index.v1+json";
/// OCI's empty config (`{}`), for artifacts that need none.
pub const EMPTY_MEDIA: &str = "application/vnd.oci.empty.v1+json";
/// The repository (under the namespace) of the index.
pub const INDEX_REPOSITORY: &str = "factory-index";
/// The tag of the whole index earlier versions wrote (read, never written).
pub const INDEX_TAG: &str = "latest";
/// The annotation carrying the content hash.
pub const CONTENT_HASH_ANNOTATION: &str = "dev.factory.template.content-hash";
/// The annotation carrying the template's name as registered (repositories are lower-case).
pub const NAME_ANNOTATION: &str = "dev.factory.template.name";
/// The annotation of a file layer naming its path (and of an index entry, the title).
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
/// The annotation of an index entry carrying the version.
pub const VERSION_ANNOTATION: &str = "org.opencontainers.image.version";
/// The annotation of an index entry carrying the description.
pub const DESCRIPTION_ANNOTATION: &str = "org.opencontainers.image.description";
/// The annotation of an index entry carrying the template's tags (a JSON array).
pub const TAGS_ANNOTATION: &str = "dev.factory.template.tags";
/// The longest tag the distribution spec allows.
const MAX_TAG: usize = 128;

/// What a manifest points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// For manifests listed in an index: their artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor of `bytes`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor::new(
            media_type,
            format!("sha256:{}", sha256_hex(bytes)),
            bytes.len() as u64,
        )
    }

    /// A descriptor of known digest and size.
    pub fn new(media_type: &str, digest: String, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest,
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA`].
    pub media_type: String,
    /// What kind of artifact this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    pub layers: Vec<Descriptor>,
    /// The manifest this one is about (a referrer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image index (the referrers API's answer and the referrers tag schema's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`INDEX_MEDIA`].
    pub media_type: String,
    /// The manifests listed.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl ImageIndex {
    /// An index of `manifests`.
    pub fn of(manifests: Vec<Descriptor>) -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: INDEX_MEDIA.to_string(),
            manifests,
        }
    }

    /// Parses an index.
    pub fn parse(bytes: &[u8], what: &str) -> Result<ImageIndex> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::new(format!("{what} is not an OCI image index: {e}")))
    }

    /// Its JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an index serializes")
    }
}

/// The config blob of a template version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    /// The template's name as registered.
    pub name: String,
    /// `tpl-…`.
    pub template_id: String,
    /// The version.
    pub version: String,
    /// `tv-…`.
    pub template_version_id: String,
    /// The content hash of the files.
    pub content_hash: String,
    /// `sha256:` of the tree object (the first layer).
    pub tree: String,
    /// The envelopes of the events that made the version, as in the log.
    pub events: Vec<serde_json::Value>,
}

impl Manifest {
    /// Parses a manifest.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Manifest> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::new(format!("{what} is not an OCI image manifest: {e}")))
    }

    /// Its JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest serializes")
    }

    /// A manifest of this artifact type, config and layers.
    pub fn new(artifact_type: &str, config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: MANIFEST_MEDIA.to_string(),
            artifact_type: Some(artifact_type.to_string()),
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// The template manifest of a version: config = `record`, first layer = the tree object,
/// then one layer per file of the tree.
pub fn template_manifest(
    record: &[u8],
    tree_bytes: &[u8],
    tree: &crate::tree::Tree,
    annotations: BTreeMap<String, String>,
) -> Manifest {
    let mut layers = Vec::with_capacity(tree.files.len() + 1);
    let mut tree_layer = Descriptor::of(TREE_MEDIA, tree_bytes);
    tree_layer
        .annotations
        .insert(TITLE_ANNOTATION.to_string(), "tree.json".to_string());
    layers.push(tree_layer);
    for file in &tree.files {
        let mut layer = Descriptor::new(FILE_MEDIA, file.blob.clone(), file.size);
        layer
            .annotations
            .insert(TITLE_ANNOTATION.to_string(), file.path.clone());
        layers.push(layer);
    }
    let mut manifest = Manifest::new(ARTIFACT_TYPE, Descriptor::of(CONFIG_MEDIA, record), layers);
    manifest.annotations = annotations;
    manifest
}

/// The empty config blob of artifacts that carry all they say in layers.
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// The publication referrer of `subject`: one layer of events.
pub fn publication_manifest(
    subject: Descriptor,
    events: &[u8],
    annotations: BTreeMap<String, String>,
) -> Manifest {
    let mut manifest = Manifest::new(
        PUBLICATION_TYPE,
        Descriptor::of(EMPTY_MEDIA, EMPTY_CONFIG),
        vec![Descriptor::of(EVENTS_MEDIA, events)],
    );
    manifest.subject = Some(subject);
    manifest.annotations = annotations;
    manifest
}

/// The tag that stands in for the referrers API on registries without it:
/// `sha256-<hex>`.
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// The templates of a namespace, as `search` shows them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Entries by template name.
    pub templates: BTreeMap<String, IndexEntry>,
}

/// One template in the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    /// Its title.
    pub title: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its versions in the registry, lowest first.
    pub versions: Vec<String>,
}

impl Index {
    /// Parses the index layer.
    pub fn parse(bytes: &[u8]) -> Result<Index> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::new(format!("the remote's index is unreadable: {e}")))
    }

    /// Its JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("an index serializes")
    }

    /// The namespace as `search` shows it: the templates of the per-version entries
    /// (`versions`: the versions their tags name, by repository name; `newest`: the entry
    /// read for each, whose name, title, description and tags are shown) and those of the
    /// whole index earlier versions wrote (`legacy`). A template in both shows the entry's
    /// name and text and the versions of both.
    pub fn merged(
        legacy: Option<Index>,
        versions: BTreeMap<String, Vec<String>>,
        newest: BTreeMap<String, Entry>,
    ) -> Index {
        let mut by_repository: BTreeMap<String, (String, IndexEntry)> = BTreeMap::new();
        for (name, entry) in legacy.map(|l| l.templates).unwrap_or_default() {
            by_repository.insert(name.to_ascii_lowercase(), (name, entry));
        }
        for (key, entry) in newest {
            let versions = by_repository
                .remove(&key)
                .map(|(_, old)| old.versions)
                .unwrap_or_default();
            by_repository.insert(
                key,
                (
                    entry.name,
                    IndexEntry {
                        versions,
                        ..entry.entry
                    },
                ),
            );
        }
        let mut out = Index::default();
        for (key, (name, mut entry)) in by_repository {
            entry
                .versions
                .extend(versions.get(&key).into_iter().flatten().cloned());
            entry.versions.sort_by(|a, b| compare_versions(a, b));
            entry.versions.dedup();
            out.templates.insert(name, entry);
        }
        out
    }
}

/// One version's index entry, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The template's name as registered.
    pub name: String,
    /// The version.
    pub version: String,
    /// Its title, description and tags (`versions` empty).
    pub entry: IndexEntry,
}

/// What a tag of the index repository is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryTag {
    /// `<repository name>_<version>`: the tag says whose entry it is.
    Named {
        /// The template's repository name (its name, lower-case).
        repository: String,
        /// The version.
        version: String,
    },
    /// `h-<sha256 hex>`: a name and version that make no tag; the entry says whose it is.
    Hashed,
}

/// The tag of the index entry of `name@version`: `<name, lower-case>_<version>` (a template
/// name makes a repository name, so `[a-z0-9._-]`; a semantic version holds no `_`, so the
/// last `_` splits them again), or `h-` and the sha256 of `<name, lower-case>\n<version>`
/// when that is no tag (longer than 128, or a version with `+`).
pub fn entry_tag(name: &str, version: &str) -> String {
    let repository = name.to_ascii_lowercase();
    let readable = format!("{repository}_{version}");
    let named = EntryTag::Named {
        repository: repository.clone(),
        version: version.to_string(),
    };
    if is_tag(&readable) && parse_entry_tag(&readable) == Some(named) {
        readable
    } else {
        format!(
            "h-{}",
            sha256_hex(format!("{repository}\n{version}").as_bytes())
        )
    }
}

/// What a tag of the index repository names; `None` for one that is no entry's
/// (the whole index's `latest`, or anything another tool put there).
pub fn parse_entry_tag(tag: &str) -> Option<EntryTag> {
    if let Some(hex) = tag.strip_prefix("h-")
        && hex.len() == 64
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Some(EntryTag::Hashed);
    }
    let (repository, version) = tag.rsplit_once('_')?;
    (!repository.is_empty() && semver::Version::parse(version).is_ok()).then(|| EntryTag::Named {
        repository: repository.to_string(),
        version: version.to_string(),
    })
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, the distribution spec's tag.
fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_TAG
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The index entry of `name@version`: the empty config and the empty layer, everything
/// in annotations, so that reading it is one request.
pub fn entry_manifest(name: &str, version: &str, entry: &IndexEntry) -> Manifest {
    let mut manifest = Manifest::new(
        INDEX_ENTRY_TYPE,
        Descriptor::of(EMPTY_MEDIA, EMPTY_CONFIG),
        vec![Descriptor::of(EMPTY_MEDIA, EMPTY_CONFIG)],
    );
    let annotations = &mut manifest.annotations;
    annotations.insert(NAME_ANNOTATION.to_string(), name.to_string());
    annotations.insert(VERSION_ANNOTATION.to_string(), version.to_string());
    annotations.insert(TITLE_ANNOTATION.to_string(), entry.title.clone());
    if let Some(description) = &entry.description {
        annotations.insert(DESCRIPTION_ANNOTATION.to_string(), description.clone());
    }
    annotations.insert(
        TAGS_ANNOTATION.to_string(),
        serde_json::to_string(&entry.tags).expect("tags serialize"),
    );
    manifest
}

/// The entry a manifest read under `tag` holds; an error saying why when it is no factory
/// index entry or names another template or version than its tag.
pub fn entry_of(tag: &str, bytes: &[u8]) -> Result<Entry> {
    let manifest = Manifest::parse(bytes, tag)?;
    if manifest.artifact_type.as_deref() != Some(INDEX_ENTRY_TYPE) {
        return Err(Error::new(format!(
            "{tag} is not a factory index entry (artifactType {:?})",
            manifest.artifact_type
        )));
    }
    let annotation = |key: &str| manifest.annotations.get(key).cloned();
    let (Some(name), Some(version), Some(title)) = (
        annotation(NAME_ANNOTATION),
        annotation(VERSION_ANNOTATION),
        annotation(TITLE_ANNOTATION),
    ) else {
        return Err(Error::new(format!(
            "{tag} lacks the name, version or title of an index entry"
        )));
    };
    if entry_tag(&name, &version) != tag {
        return Err(Error::new(format!(
            "{tag} holds the entry of {name}@{version}, which is not the one its tag names"
        )));
    }
    let tags = match annotation(TAGS_ANNOTATION) {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::new(format!("{tag}: its tags are unreadable: {e}")))?,
        None => Vec::new(),
    };
    Ok(Entry {
        name,
        version,
        entry: IndexEntry {
            title,
            description: annotation(DESCRIPTION_ANNOTATION),
            tags,
            versions: Vec::new(),
        },
    })
}

/// Semantic version order, text order for what is not a version.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// What a template version's manifest says of it.
pub struct Described<'a> {
    /// The template's name.
    pub name: &'a str,
    /// The version.
    pub version: &'a str,
    /// Its title.
    pub title: &'a str,
    /// Its description, if it has one.
    pub description: Option<&'a str>,
    /// When the version was made, RFC 3339.
    pub created: &'a str,
    /// The repository it was made from, when that means something elsewhere.
    pub source: Option<&'a str>,
    /// Its content hash.
    pub content_hash: &'a str,
}

/// A template version's manifest annotations: the OCI ones tools show, and factory's own.
pub fn template_annotations(described: Described) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    let mut put = |key: &str, value: &str| {
        annotations.insert(key.to_string(), value.to_string());
    };
    put("org.opencontainers.image.version", described.version);
    put("org.opencontainers.image.title", described.title);
    if let Some(description) = described.description {
        put("org.opencontainers.image.description", description);
    }
    put("org.opencontainers.image.created", described.created);
    if let Some(source) = described.source {
        put("org.opencontainers.image.source", source);
    }
    put(CONTENT_HASH_ANNOTATION, described.content_hash);
    put(NAME_ANNOTATION, described.name);
    annotations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_tags_name_their_template_and_version_or_hash_what_makes_no_tag() {
        assert_eq!(
            entry_tag("Acme.Orders_Api", "1.2.0-rc.1"),
            "acme.orders_api_1.2.0-rc.1"
        );
        // The last `_` splits: a semantic version holds none.
        assert_eq!(
            parse_entry_tag("acme.orders_api_1.2.0-rc.1"),
            Some(EntryTag::Named {
                repository: "acme.orders_api".into(),
                version: "1.2.0-rc.1".into()
            })
        );
        // `+` is no tag character; 128 is the longest tag.
        for (name, version) in [("a", "1.0.0+build.5"), (&*"n".repeat(124), "1.0.0")] {
            let tag = entry_tag(name, version);
            assert!(tag.starts_with("h-") && tag.len() == 66, "{tag}");
            assert_eq!(parse_entry_tag(&tag), Some(EntryTag::Hashed));
            assert_ne!(tag, entry_tag(name, "1.0.1"));
        }
        assert_eq!(entry_tag(&"n".repeat(122), "1.0.0").len(), 128);
        for other in ["latest", "sha256-ab", "a_latest", "_1.0.0", "h-12"] {
            assert_eq!(parse_entry_tag(other), None, "{other}");
        }
        assert_eq!(referrers_tag("sha256:ab"), "sha256-ab");
    }

    #[test]
    fn an_entry_reads_back_only_under_its_own_tag() {
        let entry = IndexEntry {
            title: "Orders".into(),
            description: Some("An API".into()),
            tags: vec!["api".into(), "a,b".into()],
            versions: Vec::new(),
        };
        let bytes = entry_manifest("Acme.Orders", "1.0.0", &entry).to_bytes();
        let read = entry_of("acme.orders_1.0.0", &bytes).unwrap();
        assert_eq!(
            read,
            Entry {
                name: "Acme.Orders".into(),
                version: "1.0.0".into(),
                entry
            }
        );
        for tag in ["acme.orders_1.0.1", "acme.other_1.0.0", "latest"] {
            assert!(entry_of(tag, &bytes).is_err(), "{tag}");
        }
        let mut other = Manifest::parse(&bytes, "x").unwrap();
        other.artifact_type = Some(ARTIFACT_TYPE.into());
        assert!(entry_of("acme.orders_1.0.0", &other.to_bytes()).is_err());
    }

    #[test]
    fn the_entries_and_the_old_index_merge_preferring_the_entries() {
        let text = |title: &str| IndexEntry {
            title: title.into(),
            ..Default::default()
        };
        let mut legacy = Index::default();
        for (name, title, versions) in [
            ("Acme.Old", "Old only", vec!["0.9.0"]),
            ("Acme.Both", "Old title", vec!["1.0.0", "1.10.0"]),
        ] {
            legacy.templates.insert(
                name.into(),
                IndexEntry {
                    versions: versions.into_iter().map(String::from).collect(),
                    ..text(title)
                },
            );
        }
        let versions = BTreeMap::from([
            (
                "acme.both".to_string(),
                vec!["1.2.0".into(), "1.0.0".into()],
            ),
            ("acme.new".to_string(), vec!["2.0.0".into()]),
            ("acme.unread".to_string(), vec!["3.0.0".into()]),
        ]);
        let newest = BTreeMap::from([
            (
                "acme.both".to_string(),
                Entry {
                    name: "Acme.Both".into(),
                    version: "1.2.0".into(),
                    entry: text("New title"),
                },
            ),
            (
                "acme.new".to_string(),
                Entry {
                    name: "Acme.New".into(),
                    version: "2.0.0".into(),
                    entry: text("New"),
                },
            ),
        ]);
        let merged = Index::merged(Some(legacy), versions, newest);
        let shown: Vec<(&str, &str, Vec<&str>)> = merged
            .templates
            .iter()
            .map(|(name, e)| {
                let versions = e.versions.iter().map(String::as_str).collect();
                (name.as_str(), e.title.as_str(), versions)
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("Acme.Both", "New title", vec!["1.0.0", "1.2.0", "1.10.0"]),
                ("Acme.New", "New", vec!["2.0.0"]),
                ("Acme.Old", "Old only", vec!["0.9.0"]),
            ]
        );
    }
}
