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
//! - The **index** (`NAMESPACE/factory-index:latest`, `artifactType` [`INDEX_TYPE`]): the
//!   templates of the namespace with their titles, tags and versions, for `search` on
//!   registries that disable `/v2/_catalog`.

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
/// The artifact type of the namespace's index.
pub const INDEX_TYPE: &str = "application/vnd.factory.index.v1";
/// The media type of the index layer.
pub const INDEX_LAYER_MEDIA: &str = "application/vnd.factory.index.v1+json";
/// OCI's empty config (`{}`), for artifacts that need none.
pub const EMPTY_MEDIA: &str = "application/vnd.oci.empty.v1+json";
/// The repository (under the namespace) of the index.
pub const INDEX_REPOSITORY: &str = "factory-index";
/// The tag of the index.
pub const INDEX_TAG: &str = "latest";
/// The annotation carrying the content hash.
pub const CONTENT_HASH_ANNOTATION: &str = "dev.factory.template.content-hash";
/// The annotation carrying the template's name as registered (repositories are lower-case).
pub const NAME_ANNOTATION: &str = "dev.factory.template.name";
/// The annotation of a file layer naming its path.
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";

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

    /// Adds (or refreshes) `name` with `version`; whether anything changed.
    pub fn add(&mut self, name: &str, entry: IndexEntry, version: &str) -> bool {
        let before = self.templates.get(name).cloned();
        let slot = self.templates.entry(name.to_string()).or_default();
        let mut versions = std::mem::take(&mut slot.versions);
        *slot = IndexEntry {
            versions: Vec::new(),
            ..entry
        };
        if !versions.iter().any(|v| v == version) {
            versions.push(version.to_string());
        }
        versions.sort_by(|a, b| compare_versions(a, b));
        slot.versions = versions;
        before.as_ref() != Some(slot)
    }

    /// Whether `name` lists `version`.
    pub fn has(&self, name: &str, version: &str) -> bool {
        self.templates
            .get(name)
            .is_some_and(|entry| entry.versions.iter().any(|v| v == version))
    }
}

/// Semantic version order, text order for what is not a version.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// The index manifest: the empty config and the index as its one layer.
pub fn index_manifest(index: &[u8]) -> Manifest {
    Manifest::new(
        INDEX_TYPE,
        Descriptor::of(EMPTY_MEDIA, EMPTY_CONFIG),
        vec![Descriptor::of(INDEX_LAYER_MEDIA, index)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_keeps_every_version_once_in_order() {
        let mut index = Index::default();
        let entry = IndexEntry {
            title: "T".into(),
            ..Default::default()
        };
        assert!(index.add("T", entry.clone(), "1.10.0"));
        assert!(index.add("T", entry.clone(), "1.2.0"));
        assert!(!index.add("T", entry, "1.2.0"));
        assert_eq!(index.templates["T"].versions, ["1.2.0", "1.10.0"]);
        assert_eq!(referrers_tag("sha256:ab"), "sha256-ab");
    }
}
