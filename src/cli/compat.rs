//! `factory compat`: judge a composition of templates, libraries and a runtime.

use std::path::PathBuf;

use serde::Deserialize;

use super::{App, out};
use crate::app::command::Outcome as _;
use crate::app::compat::EvaluateCompatibility;
use crate::compat::Evaluation;
use crate::error::{Error, Result};

// Arguments of `compat`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompatArgs {
    /// Templates: NAME or NAME@VERSION (default version: the latest published).
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::templates))]
    templates: Vec<String>,
    /// A library, NAME@VERSION or NAME to let the solver choose (repeatable).
    #[arg(long = "with", value_name = "LIB[@VERSION]")]
    with: Vec<String>,
    /// The runtime the composition runs on (net8.0, node18, …).
    #[arg(long, value_name = "TFM")]
    runtime: Option<String>,
    /// A YAML file: {templates: [...], libraries: [...], runtime: ...}.
    #[arg(long, value_name = "FILE")]
    composition: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompositionFile {
    #[serde(default)]
    templates: Vec<String>,
    #[serde(default)]
    libraries: Vec<String>,
    #[serde(default)]
    runtime: Option<String>,
}

fn print_evaluation(app: &App, evaluation: &Evaluation) {
    out!(
        app.printer,
        "Composition: {}",
        evaluation.subjects.join(", ")
    );
    let width = evaluation
        .verdicts
        .iter()
        .map(|v| v.a.len() + v.b.len() + 3)
        .max()
        .unwrap_or(0);
    for v in &evaluation.verdicts {
        let pair = format!("{} × {}", v.a, v.b);
        let rule = v
            .rule
            .as_deref()
            .map(|r| format!("  ({r})"))
            .unwrap_or_default();
        out!(app.printer, "  {pair:<width$}  {:<13}{rule}", v.verdict);
    }
    for conflict in &evaluation.conflicts {
        out!(
            app.printer,
            "incompatible: {}",
            conflict.explanation.replace('\n', "\n  ")
        );
    }
    out!(
        app.printer,
        "{}",
        if evaluation.compatible {
            "compatible"
        } else {
            "incompatible"
        }
    );
}

/// Runs `compat`; exit 3 when incompatible.
pub(crate) fn run(app: &App, args: CompatArgs) -> Result<()> {
    let mut file = CompositionFile::default();
    if let Some(path) = &args.composition {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        file = crate::template::yaml::from_str(&text, &path.display().to_string())?;
    }
    let request = EvaluateCompatibility {
        templates: file.templates.into_iter().chain(args.templates).collect(),
        libraries: file.libraries.into_iter().chain(args.with).collect(),
        runtime: args.runtime.or(file.runtime),
    };
    let evaluated = app.execute(request)?;
    let evaluation = &evaluated.evaluation;
    if app.json() {
        app.printer.json_document(&CompatReport {
            matrix_id: &evaluated.matrix_id,
            subjects: &evaluation.subjects,
            compatible: evaluation.compatible,
            chosen: &evaluation.chosen,
            verdicts: &evaluation.verdicts,
            conflicts: &evaluation.conflicts,
        });
    }
    print_evaluation(app, evaluation);
    evaluated.verdict().map_or(Ok(()), Err)
}

/// `compat --json`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CompatReport<'a> {
    matrix_id: &'a str,
    subjects: &'a [String],
    compatible: bool,
    chosen: &'a std::collections::BTreeMap<String, String>,
    verdicts: &'a [crate::compat::Verdict],
    conflicts: &'a [crate::compat::Conflict],
}
