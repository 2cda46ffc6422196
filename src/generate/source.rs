//! Where `generate` (and `register`/`version`) get a template from: a stored version, a
//! folder, or a git repository at a ref.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::domain::State;
use crate::domain::commands;
use crate::domain::events::{SourceKind, SourceRef};
use crate::domain::state::VersionStatus;
use crate::error::{Error, Result};
use crate::git;
use crate::template::load::manifest_of;
use crate::template::manifest::Manifest;
use crate::template::snapshot::Blobs;
use crate::template::snapshot::TemplateFiles;

/// A template ready to render.
pub struct ResolvedSource {
    /// Its files.
    pub files: Arc<TemplateFiles>,
    /// Its manifest.
    pub manifest: Manifest,
    /// The stored template's id, when it came from the store.
    pub template_id: Option<String>,
    /// The stored version's id, when it came from the store.
    pub template_version_id: Option<String>,
    /// The stored version number, when it came from the store.
    pub version: Option<String>,
    /// How to name it to a person: `NAME@VERSION`, a folder, or a URL.
    pub label: String,
    /// Where its files came from.
    pub source_ref: SourceRef,
    /// Keeps a git checkout alive while the source is used.
    _checkout: Option<git::Checkout>,
}

/// A template folder on disk, read and checked for links that leave it.
pub fn folder(dir: &Path, label: &str) -> Result<(TemplateFiles, Manifest)> {
    if !dir.is_dir() {
        return Err(Error::new(format!("{label} is not a folder"))
            .hint("pass the template folder, the one holding template.yaml"));
    }
    let files = TemplateFiles::load_dir(dir)?;
    if let Some(link) = files.refused_links.first() {
        return Err(Error::new(format!(
            "{label}: symlink {} -> {} points outside the template",
            link.path, link.target
        ))
        .hint("replace the link with the file it points at, or remove it"));
    }
    let name = crate::template::load::name_from_location(
        &dir.canonicalize()
            .unwrap_or(dir.to_path_buf())
            .display()
            .to_string(),
    );
    let manifest = manifest_of(&files, label, &name)?;
    Ok((files, manifest))
}

/// A folder's `SourceRef`.
pub fn path_ref(dir: &Path) -> SourceRef {
    SourceRef {
        kind: SourceKind::Path,
        uri: std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .display()
            .to_string(),
        commit: None,
    }
}

/// Reads a template from a folder or a git URL (`URL#REF`), for `register`, `version` and
/// `generate PATH`.
pub fn from_location(location: &str) -> Result<ResolvedSource> {
    if git::is_git_url(location) {
        let checkout = git::checkout(location)?;
        let source_ref = SourceRef {
            kind: SourceKind::Git,
            uri: checkout.url.clone(),
            commit: Some(checkout.commit.clone()),
        };
        let (files, manifest) = folder(checkout.dir.path(), location)?;
        return Ok(ResolvedSource {
            files: Arc::new(files),
            manifest,
            template_id: None,
            template_version_id: None,
            version: None,
            label: format!("{location} ({})", &checkout.commit[..12]),
            source_ref,
            _checkout: Some(checkout),
        });
    }
    let dir = PathBuf::from(location);
    let source_ref = path_ref(&dir);
    let (files, manifest) = folder(&dir, location)?;
    Ok(ResolvedSource {
        files: Arc::new(files),
        manifest,
        template_id: None,
        template_version_id: None,
        version: None,
        label: location.to_string(),
        source_ref,
        _checkout: None,
    })
}

/// Whether a `generate` argument names a folder or repository rather than a stored template.
pub fn is_location(spec: &str) -> bool {
    git::is_git_url(spec)
        || spec.contains('/')
        || spec == "."
        || spec == ".."
        || crate::template::load::is_template_dir(Path::new(spec))
}

/// Which stored version a command takes when none is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionChoice {
    /// The latest Published (`generate`); a named version must be Published too.
    Published,
    /// The latest of any status, and any named one (`generate --allow-draft`, `validate`).
    Any,
    /// The latest Published, else the latest of any status (`compat`).
    PreferPublished,
}

/// A stored version: `name` at `version`, or the one `choice` takes when none is named.
pub fn stored(
    state: &State,
    blobs: &Arc<dyn Blobs>,
    name: &str,
    version: Option<&str>,
    choice: VersionChoice,
) -> Result<ResolvedSource> {
    let template = commands::find_template(state, name)?;
    let no_versions = || {
        Error::new(format!("{} has no versions yet", template.name)).hint(format!(
            "create one with `factory version {} --version 0.1.0`",
            template.name
        ))
    };
    let chosen = match (version, choice) {
        (Some(v), _) => commands::find_version(state, name, v)?.1,
        (None, VersionChoice::Any) => template.latest().ok_or_else(no_versions)?,
        (None, VersionChoice::PreferPublished) => template
            .latest_published()
            .or_else(|| template.latest())
            .ok_or_else(no_versions)?,
        (None, VersionChoice::Published) => template.latest_published().ok_or_else(|| {
            Error::new(format!("{} has no published version", template.name)).hint(format!(
                "publish one (`factory publish {}@X.Y.Z`), name a version, or pass --allow-draft",
                template.name
            ))
        })?,
    };
    if chosen.status != VersionStatus::Published && choice == VersionChoice::Published {
        return Err(Error::new(format!(
            "{}@{} is {}, not published",
            template.name,
            chosen.version,
            chosen.status.as_str()
        ))
        .hint("pass --allow-draft to generate from an unpublished version"));
    }
    let files = TemplateFiles::from_tree(blobs, &chosen.tree)?;
    let manifest = manifest_of(
        &files,
        &format!("{}@{}", template.name, chosen.version),
        &template.name,
    )?;
    Ok(ResolvedSource {
        files: Arc::new(files),
        manifest,
        template_id: Some(template.id.clone()),
        template_version_id: Some(chosen.id.clone()),
        version: Some(chosen.version.clone()),
        label: format!("{}@{}", template.name, chosen.version),
        source_ref: chosen.source_ref.clone(),
        _checkout: None,
    })
}
