//! `factory upgrade`: plan (and with `--apply`, carry out) a move of a generated project to
//! another template version, keeping local edits.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{App, out};
use crate::app::Ports;
use crate::app::command::Outcome as _;
use crate::app::parse_assignments;
use crate::app::upgrade::{PlanTemplateUpgrade, UpgradeReport};
use crate::error::Result;
use crate::upgrade::plan::ConflictStyle;

// Arguments of `upgrade`: a project factory, copier or cruft generated.
#[derive(Debug, clap::Args)]
pub(crate) struct UpgradeArgs {
    /// The generated project (default: the current folder): its .factory/scaffold.yaml, or
    /// copier's answers file, or cruft's .cruft.json.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The version to move to (default: the latest published); for a project generated from a
    /// repository, a branch, tag or commit (default: what generate would take now).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Carry the plan out (without it, only the plan is shown and recorded).
    #[arg(long)]
    apply: bool,
    /// How conflicts are written: inline markers (`merge`, copier's `inline`), with the base
    /// (`diff3`), or yours kept and the template's side in `FILE.rej` (`rej`).
    #[arg(long, visible_alias = "conflict", value_enum, default_value = "merge")]
    conflict_style: Style,
    /// An answer for the new version: a new, secret or changed parameter (repeatable;
    /// copier's -d/--data).
    #[arg(
        long = "set",
        short = 'd',
        visible_alias = "data",
        value_name = "NAME=VALUE"
    )]
    set: Vec<String>,
    /// Run the template's code (cookiecutter hooks, copier tasks and migrations, Python
    /// extensions) in both versions; refused without it.
    #[arg(long)]
    trust: bool,
    /// Take defaults for new questions without asking, even on a terminal (cookiecutter's
    /// --no-input).
    #[arg(long, visible_alias = "no-input")]
    defaults: bool,
    /// Ask the questions whose names match this glob (`*it*`) even when --set, --answers,
    /// --defaults, --skip-answered or the template (`ask: false`) would leave them unasked;
    /// repeatable (copier's --ask).
    #[arg(long, value_name = "PATTERN")]
    ask: Vec<String>,
    /// On a terminal, ask only new questions (the recorded answers stand).
    #[arg(long)]
    skip_answered: bool,
    /// The copier answers file to upgrade from (copier's -a), relative to the project.
    #[arg(long, short = 'a', value_name = "NAME")]
    answers_file: Option<String>,
    /// Delete a file the new version no longer has even when you changed it, as copier
    /// does (with --conflict rej your change is left in FILE.rej); without it such a file is
    /// kept and reported as a conflict.
    #[arg(long)]
    delete_removed: bool,
    /// Lines of context with which your changes to a copier template's files are applied to
    /// the new version (copier's -c); fewer make more of them apply, more make them safer.
    #[arg(long, short = 'c', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    context_lines: Option<u32>,
    /// Merge TOML, YAML and JSON files by lines, as copier and cruft do, not key by key.
    #[arg(long)]
    line_merge: bool,
    /// Only say whether the template has a newer version than the project's (copier's
    /// check-update): exit 0 when up to date, 3 when a newer one exists; nothing is rendered
    /// or recorded.
    #[arg(long, conflicts_with_all = ["apply", "to", "set", "trust", "defaults", "ask", "skip_answered", "delete_removed", "context_lines", "line_merge"])]
    check: bool,
    /// Count pre-release tags (`v3.0.0-alpha`) as versions too (copier's -g/--prereleases).
    #[arg(long, short = 'g')]
    prereleases: bool,
    /// Run no copier task, its migrations still (copier's -T/--skip-tasks).
    #[arg(long, short = 'T', conflicts_with = "check")]
    skip_tasks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Style {
    #[value(alias = "inline")]
    Merge,
    Diff3,
    Rej,
}

/// Runs `upgrade`; exit 3 when conflicts remain.
pub(crate) fn run(app: &App, args: UpgradeArgs) -> Result<()> {
    if args.check {
        return check(app, &args);
    }
    let mut answers = Map::new();
    parse_assignments(&args.set, &mut answers)?;
    let request = PlanTemplateUpgrade {
        folder: args.dir.display().to_string(),
        to: args.to,
        apply: args.apply,
        conflict_style: match args.conflict_style {
            Style::Merge => ConflictStyle::Merge,
            Style::Diff3 => ConflictStyle::Diff3,
            Style::Rej => ConflictStyle::Rej,
        },
        answers,
        trust: args.trust,
        answers_file: args.answers_file,
        skip_answered: args.skip_answered,
        delete_removed: args.delete_removed,
        context_lines: args.context_lines,
        line_merge: args.line_merge,
        skip_tasks: args.skip_tasks,
        prereleases: args.prereleases,
    };
    // On a terminal, or over a pipe, the questions are asked again with the recorded answers
    // offered (as copier's update asks them); with --defaults, or once stdin ended, the
    // recorded answers stand, new questions take their defaults, and the error names any
    // that has none.
    let mut asker = app.asker(args.defaults || app.json(), &args.ask)?;
    let asker = asker
        .as_deref_mut()
        .map(|a| a as &mut dyn crate::template::answers::Asker);
    let dir = args.dir.clone();
    // copier's update messages, said as `generate` says its messages.
    let console = super::console::Console::new(app);
    let ports = Ports {
        asker,
        progress: &console,
        ..Ports::default()
    };
    let report = app.execute_with(request, ports)?;
    if app.json() {
        app.printer.json_document(&UpgradeJson::of(&dir, &report));
    }
    print_human(app, &dir, &report);
    // copier's `_message_after_update` is its last words, after anything else printed.
    if let Some(message) = &report.message_after {
        crate::generate::Progress::say(&console, message);
    }
    report.verdict().map_or(Ok(()), Err)
}

fn print_steps(app: &App, report: &UpgradeReport) {
    for step in &report.plan.steps {
        let action = serde_json::to_value(step.action).expect("actions serialize");
        // A plan writes nothing: the merge's reason says what --apply would write.
        let reason = if report.applied {
            step.reason.clone()
        } else {
            step.reason.replace(
                "conflict markers written",
                "conflict markers to be written on --apply",
            )
        };
        out!(
            app.printer,
            "  {:<11} {}  ({reason})",
            action.as_str().unwrap_or_default(),
            crate::render::paths::shown(&step.path),
        );
    }
}

fn print_human(app: &App, dir: &Path, report: &UpgradeReport) {
    out!(
        app.printer,
        "Upgrade {} from {}@{} to {}",
        dir.display(),
        report.template,
        report.from_version,
        report.to_version
    );
    print_steps(app, report);
    for p in &report.parameters {
        match p["change"].as_str() {
            Some("added") => out!(
                app.printer,
                "  parameter  + {} = {}",
                p["name"].as_str().unwrap_or_default(),
                p["value"]
            ),
            _ => out!(
                app.printer,
                "  parameter  - {}",
                p["name"].as_str().unwrap_or_default()
            ),
        }
    }
    for l in &report.libraries {
        out!(
            app.printer,
            "  library    {} {} -> {}",
            l["packageName"].as_str().unwrap_or_default(),
            l["from"],
            l["to"]
        );
    }
    let verb = if report.applied {
        "applied"
    } else {
        "planned (pass --apply to carry it out)"
    };
    out!(
        app.printer,
        "{} change(s), {} unchanged, {} conflict(s): {verb}",
        report.changes(),
        report.plan.unchanged,
        report.plan.conflict_count()
    );
}

/// `upgrade --json`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct UpgradeJson<'a> {
    plan_id: &'a str,
    dir: &'a std::path::Path,
    template: &'a str,
    from_version: &'a str,
    to_version: &'a str,
    applied: bool,
    steps: &'a [crate::upgrade::plan::Step],
    unchanged: usize,
    parameters: &'a [Value],
    libraries: &'a [Value],
    conflict_count: usize,
}

impl<'a> UpgradeJson<'a> {
    fn of(dir: &'a std::path::Path, report: &'a UpgradeReport) -> UpgradeJson<'a> {
        UpgradeJson {
            plan_id: &report.plan_id,
            dir,
            template: &report.template,
            from_version: &report.from_version,
            to_version: &report.to_version,
            applied: report.applied,
            steps: &report.plan.steps,
            unchanged: report.plan.unchanged,
            parameters: &report.parameters,
            libraries: &report.libraries,
            conflict_count: report.plan.conflict_count(),
        }
    }
}

/// `upgrade --check`: copier's check-update words on stdout (scripts read them), or one JSON
/// document; exit 3 (a negative verdict) when a newer version exists.
fn check(app: &App, args: &UpgradeArgs) -> Result<()> {
    let found = app.in_session(|session| {
        crate::app::upgrade_check::check_upgrade(
            session,
            &args.dir,
            args.answers_file.as_deref(),
            args.prereleases,
        )
    })?;
    if app.json() {
        /// `upgrade --check --json`: the project folder and what the check found.
        #[derive(serde::Serialize)]
        struct CheckReport<'a> {
            dir: &'a std::path::Path,
            #[serde(flatten)]
            found: &'a crate::app::upgrade_check::UpdateCheck,
        }
        app.printer.json_document(&CheckReport {
            dir: &args.dir,
            found: &found,
        });
    } else if found.update_available {
        out!(
            app.printer,
            "New template version available.\nCurrent version is {}, latest version is {}.",
            found.current_version,
            found.latest_version
        );
    } else {
        out!(app.printer, "Project is up-to-date!");
    }
    if !found.update_available {
        return Ok(());
    }
    Err(crate::error::Error::verdict(format!(
        "{} is at version {} of {}, which has {}",
        args.dir.display(),
        found.current_version,
        found.template,
        found.latest_version
    ))
    .hint(format!(
        "factory upgrade {} shows what moving to it changes; add --apply to carry it out",
        args.dir.display()
    )))
}
