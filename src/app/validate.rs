//! `ValidateTemplate`: run every check on a stored version (recorded) or on a folder (not).

use std::path::PathBuf;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Reference, Session};
use crate::domain::commands;
use crate::domain::events::{CheckOutcome, CheckStatus};
use crate::error::{Error, Result};
use crate::source::{self, VersionChoice};
use crate::store::Decision;
use crate::template::snapshot::TemplateFiles;
use crate::validate::{self, Options};

/// Where the template to validate is read from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ValidationSource {
    /// `template` is `NAME[@VERSION]` in the store (default: the highest version).
    #[default]
    Store,
    /// A template folder, without a store (`template` is ignored).
    Folder(PathBuf),
    /// `template` is a repository (a git URL or an abbreviation); no store.
    Repository {
        /// `--ref`.
        reference: Option<String>,
        /// `--directory`.
        directory: Option<String>,
    },
}

/// `ValidateTemplate`: validate a stored version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidateTemplate {
    /// `NAME@VERSION`.
    pub template: String,
    /// Also render the pairwise combinations of bools and choices.
    #[serde(default)]
    pub matrix: bool,
    /// Where `template` is read from: the store unless the command line says otherwise.
    #[serde(skip)]
    pub source: ValidationSource,
}

/// A validation.
#[derive(Debug, Clone)]
pub struct Validated {
    /// `NAME@VERSION` or the folder.
    pub subject: String,
    /// The content hash of what was checked.
    pub content_hash: String,
    /// `val-…`, when recorded.
    pub validation_id: Option<String>,
    /// Every check's outcome.
    pub checks: Vec<CheckOutcome>,
}

impl Validated {
    /// Whether every check passed (warnings and skips do not fail).
    pub fn passed(&self) -> bool {
        validate::passed(&self.checks)
    }
}

impl super::command::Outcome for Validated {
    /// The negative verdict, when a check failed (exit 3).
    fn verdict(&self) -> Option<Error> {
        let failed = self
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .count();
        (failed > 0).then(|| {
            Error::verdict(format!(
                "{} failed validation: {failed} problem(s)",
                self.subject
            ))
            .hint("fix what the report lists, then validate again")
        })
    }
}

/// Validates a folder (`session` may be `None`: no store is needed) or a stored version.
pub fn validate_template(
    session: Option<&Session>,
    settings: &super::Settings,
    request: ValidateTemplate,
) -> Result<Validated> {
    let options = Options {
        matrix: request.matrix,
        render: settings.render.clone(),
    };
    match request.source {
        ValidationSource::Folder(dir) => validate_folder(&dir, &options),
        ValidationSource::Repository {
            reference,
            directory,
        } => {
            let fetch = crate::source::Fetch {
                any_folder: false,
                ..settings.fetch(reference, directory)
            };
            let resolved = crate::source::from_location(&request.template, &fetch)?;
            let checks = validate::validate(
                Arc::clone(&resolved.files),
                &resolved.manifest.name,
                &options,
            );
            Ok(Validated {
                subject: resolved.label,
                content_hash: resolved.files.content_hash()?,
                validation_id: None,
                checks,
            })
        }
        ValidationSource::Store => {
            let session = session.expect("a stored version is validated in a session");
            validate_stored(session, &request.template, &options)
        }
    }
}

impl ValidateTemplate {
    pub(super) fn execute(self, session: &Session, _: super::Ports) -> Result<Validated> {
        validate_template(Some(session), &session.settings, self)
    }
}

/// A template folder, without a store: nothing recorded.
fn validate_folder(dir: &std::path::Path, options: &Options) -> Result<Validated> {
    crate::source::refuse_collection(dir, &dir.display().to_string())?;
    let files = Arc::new(TemplateFiles::load_dir(dir)?);
    let name = crate::template::load::name_from_location(
        &dir.canonicalize()
            .unwrap_or(dir.to_path_buf())
            .display()
            .to_string(),
    );
    let checks = validate::validate(Arc::clone(&files), &name, options);
    Ok(Validated {
        subject: dir.display().to_string(),
        content_hash: files.content_hash()?,
        validation_id: None,
        checks,
    })
}

/// A stored version: the outcome recorded (TemplateValidated), which moves its status.
fn validate_stored(session: &Session, spec: &str, options: &Options) -> Result<Validated> {
    let reference = Reference::parse(spec);
    let state = session.store.state()?;
    let resolved = source::stored(
        &state,
        &session.store.blobs(),
        reference.name,
        reference.version,
        VersionChoice::Any,
    )?;
    let template_name = commands::find_template(&state, reference.name)?
        .name
        .clone();
    let checks = validate::validate(Arc::clone(&resolved.files), &template_name, options);
    let template_id = resolved.template_id.clone().unwrap_or_default();
    let version_id = resolved.template_version_id.clone().unwrap_or_default();
    let content_hash = commands::find_version(&state, &template_id, &version_id)?
        .1
        .content_hash
        .clone();
    let (_, validation_id) = session.write(|state| {
        let events = commands::record_validation(
            state,
            &template_id,
            &version_id,
            checks.clone(),
            &content_hash,
        )?;
        let validation_id = events.iter().find_map(|event| match event {
            crate::domain::DomainEvent::TemplateValidated(validated) => {
                Some(validated.validation_id.clone())
            }
            _ => None,
        });
        Ok(Decision::events(events, validation_id))
    })?;
    Ok(Validated {
        subject: resolved.label,
        content_hash,
        validation_id,
        checks,
    })
}
