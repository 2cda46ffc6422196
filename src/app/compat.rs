//! `EvaluateCompatibility`: judge a composition of templates, libraries and a runtime.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Reference, Session};
use crate::compat::{self, Composition, Evaluation, TemplateSubject};
use crate::error::{Error, Result};
use crate::source::{self, ResolvedSource, VersionChoice};
use crate::store::Decision;

/// `EvaluateCompatibility`: judge a composition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvaluateCompatibility {
    /// Templates, `NAME[@VERSION]`.
    #[serde(default)]
    pub templates: Vec<String>,
    /// Libraries, `NAME[@RANGE]`.
    #[serde(default)]
    pub libraries: Vec<String>,
    /// The runtime.
    #[serde(default)]
    pub runtime: Option<String>,
}

impl EvaluateCompatibility {
    pub(super) fn execute(self, session: &Session, _: super::Ports) -> Result<Evaluated> {
        evaluate_compatibility(session, self)
    }
}

/// A judged composition.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// `mtx-…`.
    pub matrix_id: String,
    /// The verdicts.
    pub evaluation: Evaluation,
}

impl super::command::Outcome for Evaluated {
    /// The negative verdict, when the composition is incompatible (exit 3).
    fn verdict(&self) -> Option<Error> {
        (!self.evaluation.compatible).then(|| {
            Error::verdict(format!(
                "the composition is incompatible:\n  {}",
                compat::explain(&self.evaluation).replace('\n', "\n  ")
            ))
            .hint("change a version or drop a subject; the matrix shows which pairs fail and why")
        })
    }
}

/// A template as a subject of judgement: every declared library counts.
pub fn subject(resolved: &ResolvedSource) -> TemplateSubject {
    TemplateSubject {
        label: resolved.label.clone(),
        name: resolved.manifest.name.clone(),
        manifest: resolved.manifest.clone(),
        selected: None,
    }
}

/// Judges a composition against the registry and records CompatibilityEvaluated.
pub fn evaluate_compatibility(
    session: &Session,
    request: EvaluateCompatibility,
) -> Result<Evaluated> {
    if request.templates.is_empty() && request.libraries.is_empty() {
        return Err(
            Error::usage("name at least one template or library to judge").hint(
                "factory compat TEMPLATE@V --with LIB@V --runtime net8.0, or --composition FILE",
            ),
        );
    }
    let blobs = session.store.blobs();
    let (_, evaluated) = session.write(|state| {
        let mut composition = Composition {
            runtime: request.runtime.clone(),
            ..Composition::default()
        };
        for spec in &request.templates {
            let reference = Reference::parse(spec);
            let resolved = source::stored(
                state,
                &blobs,
                reference.name,
                reference.version,
                VersionChoice::PreferPublished,
            )?;
            composition.templates.push(subject(&resolved));
        }
        for spec in &request.libraries {
            let reference = Reference::parse(spec);
            composition.libraries.push((
                reference.name.to_string(),
                reference.version.map(str::to_string),
            ));
        }
        let evaluation = compat::evaluate(state, &composition)?;
        let event = compat::event("composition", &evaluation);
        let crate::domain::DomainEvent::CompatibilityEvaluated(evaluated) = &event else {
            unreachable!("compat::event records CompatibilityEvaluated")
        };
        let matrix_id = evaluated.matrix_id.clone();
        Ok(Decision::events(
            vec![event],
            Evaluated {
                matrix_id,
                evaluation,
            },
        ))
    })?;
    Ok(evaluated)
}
