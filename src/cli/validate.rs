//! `factory validate`: run every check on a stored version or on a folder.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{App, output, print_notices, split_reference};
use crate::domain::commands;
use crate::domain::events::CheckOutcome;
use crate::error::{Error, Result};
use crate::store::Decision;
use crate::template::snapshot::TemplateFiles;
use crate::template::validate::{self, CHECKS, Options};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["template", "path"]))]
pub struct ValidateArgs {
    /// TEMPLATE or TEMPLATE@VERSION in the store (default version: the highest).
    template: Option<String>,
    /// Validate a template folder without a store (the CI use); records no event.
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// Also render the pairwise combinations of every bool and choice parameter.
    #[arg(long)]
    matrix: bool,
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

/// Runs `validate`; exit 3 when a check fails.
pub fn run(app: &App, args: ValidateArgs) -> Result<()> {
    let options = Options {
        matrix: args.matrix,
    };
    let format = if app.json() {
        Format::Json
    } else {
        args.format
    };
    let (subject, checks, content_hash, validation_id) = if let Some(dir) = &args.path {
        let files = Arc::new(TemplateFiles::load_dir(dir)?);
        let name = crate::template::load::name_from_location(
            &dir.canonicalize()
                .unwrap_or(dir.clone())
                .display()
                .to_string(),
        );
        let checks = validate::validate(Arc::clone(&files), &name, &options);
        let content_hash = files.content_hash()?;
        (dir.display().to_string(), checks, content_hash, None)
    } else {
        let reference = args.template.as_deref().expect("clap requires one");
        let (name, version) = split_reference(reference);
        let store = app.store()?;
        let state = store.state()?;
        let template = commands::find_template(&state, name)?;
        let version = match version {
            Some(v) => commands::find_version(&state, name, v)?.1,
            None => template.latest().ok_or_else(|| {
                Error::new(format!("{} has no versions yet", template.name)).hint(format!(
                    "create one with `factory version {} --version 0.1.0`",
                    template.name
                ))
            })?,
        };
        let files = Arc::new(TemplateFiles::from_tree(&store.objects(), &version.tree)?);
        let checks = validate::validate(files, &template.name, &options);
        let context = app.context(&store)?;
        let (template_id, version_id, hash) = (
            template.id.clone(),
            version.id.clone(),
            version.content_hash.clone(),
        );
        let result = store.write(&context, |state| {
            let events = commands::record_validation(
                state,
                &template_id,
                &version_id,
                checks.clone(),
                &hash,
            )?;
            Ok(Decision::events(events, ()))
        });
        print_notices(app, &store);
        let (envelopes, ()) = result?;
        let validation_id = envelopes[0].payload["validationId"]
            .as_str()
            .map(str::to_string);
        (
            format!("{}@{}", template.name, version.version),
            checks,
            hash,
            validation_id,
        )
    };
    let passed = validate::passed(&checks);
    match format {
        Format::Json => output::print_json(&json!({
            "subject": subject,
            "contentHash": content_hash,
            "validationId": validation_id,
            "passed": passed,
            "checks": checks,
        })),
        Format::Sarif => output::print_json(&sarif(&checks)),
        Format::Human if !app.global.quiet => print_human(&subject, &content_hash, &checks),
        Format::Human => {}
    }
    if passed {
        Ok(())
    } else {
        let failed = checks.iter().filter(|c| c.status == "fail").count();
        Err(
            Error::verdict(format!("{subject} failed validation: {failed} problem(s)"))
                .hint("fix what the report lists, then validate again"),
        )
    }
}

fn print_human(subject: &str, content_hash: &str, checks: &[CheckOutcome]) {
    println!("Validating {subject} ({content_hash})");
    for check in checks {
        let status = match check.status.as_str() {
            "fail" => "FAIL",
            other => other,
        };
        let location = check
            .location
            .as_deref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        println!(
            "  {status:<4}  {:<20}  {location}{}",
            check.check, check.message
        );
    }
    let count = |s: &str| checks.iter().filter(|c| c.status == s).count();
    println!(
        "{} checks: {} passed, {} failed, {} warnings",
        checks.len(),
        count("pass"),
        count("fail"),
        count("warn")
    );
}

/// A SARIF 2.1.0 log of the failures and warnings, for code-scanning dashboards.
fn sarif(checks: &[CheckOutcome]) -> Value {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|(id, description)| json!({"id": id, "shortDescription": {"text": description}}))
        .collect();
    let results: Vec<Value> = checks
        .iter()
        .filter(|c| c.status == "fail" || c.status == "warn")
        .map(|c| {
            let mut result = json!({
                "ruleId": c.check,
                "level": if c.status == "fail" { "error" } else { "warning" },
                "message": {"text": c.message},
            });
            if let Some(location) = c.location.as_deref().and_then(physical_location) {
                result["locations"] = json!([location]);
            }
            result
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "factory",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// `file[:line[:col]]` as a SARIF physical location; `None` for locations that are not files.
fn physical_location(location: &str) -> Option<Value> {
    let mut parts = location.splitn(3, ':');
    let file = parts.next()?;
    if file.is_empty() || file.contains(' ') {
        return None;
    }
    let line = parts.next().and_then(|l| l.parse::<u64>().ok());
    let column = parts.next().and_then(|c| c.parse::<u64>().ok());
    let mut physical = json!({"artifactLocation": {"uri": file}});
    if let Some(line) = line {
        physical["region"] = json!({"startLine": line});
        if let Some(column) = column {
            physical["region"]["startColumn"] = json!(column);
        }
    }
    Some(json!({"physicalLocation": physical}))
}
