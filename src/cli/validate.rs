//! `factory validate`: run every check on a stored version or on a folder.

use std::path::PathBuf;

use super::{App, out};
use crate::app::command::Outcome as _;
use crate::app::validate::{ValidateTemplate, Validated, ValidationSource, validate_template};
use crate::domain::events::{CheckOutcome, CheckStatus};
use crate::error::Result;

// Arguments of `validate`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["template", "path"]))]
pub(crate) struct ValidateArgs {
    /// TEMPLATE or TEMPLATE@VERSION in the store (default version: the highest), or a
    /// repository (URL[#REF], gh:OWNER/REPO) checked without a store.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::templates))]
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
    #[command(flatten)]
    repo: crate::cli::RepoArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

/// Runs `validate`; exit 3 when a check fails.
pub(crate) fn run(app: &App, args: ValidateArgs) -> Result<()> {
    let format = if app.json() {
        Format::Json
    } else {
        args.format
    };
    let (template, source) = match (args.path, args.template) {
        (Some(dir), _) => (dir.display().to_string(), ValidationSource::Folder(dir)),
        (None, Some(spec))
            if crate::git::url::resolve(
                crate::git::split_ref(&spec).0,
                &app.settings.git.abbreviations,
            )?
            .is_some() =>
        {
            let source = ValidationSource::Repository {
                reference: args.repo.reference,
                directory: args.repo.directory,
            };
            (spec, source)
        }
        (None, Some(spec)) => (spec, ValidationSource::Store),
        (None, None) => unreachable!("clap requires a template or --path"),
    };
    let request = ValidateTemplate {
        template,
        matrix: args.matrix,
        source,
    };
    let base = super::sarif::Base::of(&request.source, &request.template);
    let validated = match &request.source {
        ValidationSource::Folder(_) | ValidationSource::Repository { .. } => {
            validate_template(None, &app.settings, request)?
        }
        ValidationSource::Store => app.execute(request)?,
    };
    match format {
        Format::Json => app.printer.json_document(&ValidationReport {
            subject: &validated.subject,
            content_hash: &validated.content_hash,
            validation_id: validated.validation_id.as_deref(),
            passed: validated.passed(),
            checks: &validated.checks,
        }),
        Format::Sarif => app
            .printer
            .json_document(&super::sarif::log(&validated.checks, &base)),
        Format::Human => print_human(app, &validated),
    }
    validated.verdict().map_or(Ok(()), Err)
}

/// `validate --json`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidationReport<'a> {
    subject: &'a str,
    content_hash: &'a str,
    validation_id: Option<&'a str>,
    passed: bool,
    checks: &'a [CheckOutcome],
}

fn print_human(app: &App, validated: &Validated) {
    out!(
        app.printer,
        "Validating {} ({})",
        validated.subject,
        validated.content_hash
    );
    let checks = &validated.checks;
    // A manifest that does not parse is one error, not a skip line per check.
    let unparsed = checks
        .iter()
        .any(|c| c.check == "manifest/parse" && c.status == CheckStatus::Fail);
    for check in checks {
        let location = check
            .location
            .as_deref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        match check.status {
            // Quiet hides what went well, never a failure.
            CheckStatus::Fail => app.printer.problem(format_args!(
                "  {}  {:<20}  {location}{}",
                app.printer.fail_label(),
                check.check,
                check.message
            )),
            CheckStatus::Skip if unparsed => {}
            status => out!(
                app.printer,
                "  {:<4}  {:<20}  {location}{}",
                status.as_str(),
                check.check,
                check.message
            ),
        }
    }
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    let skipped = count(CheckStatus::Skip);
    let not_run = if skipped > 0 && unparsed {
        format!(", {skipped} not run (they need a manifest that parses)")
    } else {
        String::new()
    };
    out!(
        app.printer,
        "{} checks: {} passed, {} failed, {} warnings{not_run}",
        checks.len(),
        count(CheckStatus::Pass),
        count(CheckStatus::Fail),
        count(CheckStatus::Warn)
    );
}
