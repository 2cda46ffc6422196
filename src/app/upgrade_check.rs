//! `upgrade --check`: whether a newer version of the template a project was generated from
//! exists (copier's `check-update`), read from the project's record without rendering.

use std::path::Path;

use crate::domain::commands;
use crate::domain::events::SourceKind;
use crate::error::{Error, Result};
use crate::generate::adopted::{self, Record};
use crate::generate::provenance::Scaffold;

use super::Session;

/// What `upgrade --check` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCheck {
    /// The template's name (or repository).
    pub template: String,
    /// Whether `latest_version` is above `current_version`.
    pub update_available: bool,
    /// The version the project was generated from (PEP 440 normalised for a repository's
    /// tags, as copier prints it).
    pub current_version: String,
    /// The newest version there is.
    pub latest_version: String,
}

/// Compares the version the project in `dir` was made from with the newest the template
/// has: a stored template's newest published version, or a repository's highest release
/// tag by PEP 440 (pre-releases only with `prereleases`), as copier's `check-update` does.
pub fn check_upgrade(
    session: &Session,
    dir: &Path,
    answers_file: Option<&str>,
    prereleases: bool,
) -> Result<UpdateCheck> {
    match Record::find(dir, answers_file)? {
        Record::Copier(copier) => {
            let location = adopted::template_location(
                &copier.src_path,
                dir,
                session.settings.home.as_deref(),
                &session.settings.git.abbreviations,
            )?;
            let described = Some(copier.commit.clone());
            repository_check(session, &location, None, described, prereleases)
        }
        Record::Factory(scaffold) if scaffold.template.version.is_some() => {
            stored_check(session, &scaffold)
        }
        Record::Factory(scaffold) if scaffold.template.source.kind == SourceKind::Git => {
            let source = &scaffold.template.source;
            repository_check(
                session,
                &source.uri,
                source.commit.as_deref(),
                None,
                prereleases,
            )
        }
        Record::Factory(_) => Err(Error::new(format!(
            "{} was generated from a folder, not a stored version or a repository: there is no newer version to look for",
            dir.display()
        ))
        .hint("generate from the store or a git repository to check for updates later")),
        Record::Cruft(_) => Err(Error::usage(format!(
            "{}: --check compares release versions, and a cruft project records only a commit",
            dir.display()
        ))
        .hint("run `factory upgrade DIR` (without --apply) to see what the template's newest commit would change")),
    }
}

/// A repository's highest release tag against the version the project records: copier's
/// `_commit` (`described`), or the commit described by the repository's tags.
fn repository_check(
    session: &Session,
    location: &str,
    commit: Option<&str>,
    described: Option<String>,
    prereleases: bool,
) -> Result<UpdateCheck> {
    let options = &session.settings.git.fetch;
    let repo = crate::git::fetch::open(location, None, options)?;
    let described = described.or_else(|| commit.and_then(|c| repo.describe(c, options)));
    let current = described
        .as_deref()
        .and_then(crate::template::copier::pep440_of_commit)
        .ok_or_else(|| {
            Error::new(format!(
                "the version the project was made from ({}) is not a release version (PEP 440): there is nothing to compare with {location}'s tags",
                described.as_deref().unwrap_or("no commit recorded")
            ))
            .hint("upgrade to a release tag first (factory upgrade DIR --to TAG --apply)")
        })?;
    let latest = crate::source::newest_tag(&repo.tags(options), prereleases)
        .and_then(|t| crate::source::pep440(&t))
        .ok_or_else(|| {
            Error::new(format!(
                "{location} has no release tag (PEP 440){}",
                if prereleases {
                    ""
                } else {
                    " that is not a pre-release"
                }
            ))
            .hint(if prereleases {
                "tag a release (v1.0.0) in the template's repository"
            } else {
                "pass --prereleases to count pre-releases too, or tag a release"
            })
        })?;
    Ok(UpdateCheck {
        template: location.to_string(),
        update_available: latest > current,
        current_version: current.to_string(),
        latest_version: latest.to_string(),
    })
}

/// A stored template's newest published version against the one the project was made from.
fn stored_check(session: &Session, scaffold: &Scaffold) -> Result<UpdateCheck> {
    let origin = &scaffold.template;
    super::remote::refresh(session, &origin.name, None, false)?;
    let state = session.store.state()?;
    let key = origin.id.clone().unwrap_or_else(|| origin.name.clone());
    let template = commands::find_template(&state, &key)?;
    let current = origin.version.clone().unwrap_or_default();
    let latest = template
        .latest_published()
        .map(|v| v.version.clone())
        .ok_or_else(|| Error::new(format!("{} has no published version", template.name)))?;
    let newer = |a: &str, b: &str| match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a > b,
        _ => a != b,
    };
    Ok(UpdateCheck {
        template: template.name.clone(),
        update_available: newer(&latest, &current),
        current_version: current,
        latest_version: latest,
    })
}
