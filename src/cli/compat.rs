//! `factory compat`: judge a composition of templates, libraries and a runtime.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{App, output, print_notices, split_reference};
use crate::compat::{self, Composition, Evaluation, TemplateSubject};
use crate::domain::State;
use crate::domain::commands;
use crate::error::{Error, Result};
use crate::generate::source;
use crate::store::{Decision, Objects};
use crate::template::snapshot::TemplateFiles;

/// Arguments of `compat`.
#[derive(Debug, clap::Args)]
pub struct CompatArgs {
    /// Templates: NAME or NAME@VERSION (default version: the latest published).
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

/// A stored template version as a compat subject: `NAME@VERSION`, or the latest published.
pub fn template_subject(state: &State, objects: &Objects, spec: &str) -> Result<TemplateSubject> {
    let (name, version) = split_reference(spec);
    let template = commands::find_template(state, name)?;
    let chosen = match version {
        Some(v) => commands::find_version(state, name, v)?.1,
        None => template
            .latest_published()
            .or_else(|| template.latest())
            .ok_or_else(|| Error::new(format!("{} has no versions yet", template.name)))?,
    };
    let files = TemplateFiles::from_tree(objects, &chosen.tree)?;
    let label = format!("{}@{}", template.name, chosen.version);
    let manifest = source::manifest_of(&files, &label, &template.name)?;
    Ok(TemplateSubject {
        label,
        name: template.name.clone(),
        manifest,
        selected: None,
    })
}

fn print_evaluation(evaluation: &Evaluation) {
    println!("Composition: {}", evaluation.subjects.join(", "));
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
        println!("  {pair:<width$}  {:<13}{rule}", v.verdict);
    }
    for conflict in &evaluation.conflicts {
        println!(
            "incompatible: {}",
            conflict["explanation"]
                .as_str()
                .unwrap_or_default()
                .replace('\n', "\n  ")
        );
    }
    println!(
        "{}",
        if evaluation.compatible {
            "compatible"
        } else {
            "incompatible"
        }
    );
}

/// Runs `compat`; exit 3 when incompatible.
pub fn run(app: &App, args: CompatArgs) -> Result<()> {
    let mut file = CompositionFile::default();
    if let Some(path) = &args.composition {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        file = crate::template::yaml::from_str(&text, &path.display().to_string())?;
    }
    let templates: Vec<String> = file.templates.into_iter().chain(args.templates).collect();
    let libraries: Vec<String> = file.libraries.into_iter().chain(args.with).collect();
    if templates.is_empty() && libraries.is_empty() {
        return Err(
            Error::usage("name at least one template or library to judge").hint(
                "factory compat TEMPLATE@V --with LIB@V --runtime net8.0, or --composition FILE",
            ),
        );
    }
    let store = app.store()?;
    let state = store.state()?;
    let objects = store.objects();
    let mut composition = Composition {
        runtime: args.runtime.or(file.runtime),
        ..Composition::default()
    };
    for spec in &templates {
        composition
            .templates
            .push(template_subject(&state, &objects, spec)?);
    }
    for spec in &libraries {
        let (name, version) = split_reference(spec);
        composition
            .libraries
            .push((name.to_string(), version.map(str::to_string)));
    }
    let evaluation = compat::evaluate(&state, &composition)?;
    let context = app.context(&store)?;
    let event = compat::event("composition", &evaluation);
    let written = store.write(&context, |_| Ok(Decision::events(vec![event], ())));
    print_notices(app, &store);
    let (envelopes, ()) = written?;
    if app.json() {
        output::print_json(&json!({
            "matrixId": envelopes[0].payload["matrixId"],
            "subjects": evaluation.subjects,
            "compatible": evaluation.compatible,
            "chosen": evaluation.chosen,
            "verdicts": evaluation.verdicts,
            "conflicts": evaluation.conflicts,
        }));
    } else if app.human() {
        print_evaluation(&evaluation);
    }
    if evaluation.compatible {
        Ok(())
    } else {
        Err(Error::verdict(format!(
            "the composition is incompatible:\n  {}",
            compat::explain(&evaluation).replace('\n', "\n  ")
        ))
        .hint("change a version or drop a subject; the matrix shows which pairs fail and why"))
    }
}
