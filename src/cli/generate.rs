//! `factory generate`: render a template into a new project.

use std::path::PathBuf;

use super::answer_files::{given_answers, recorded_answers};
use super::{App, out};
use crate::app::Ports;
use crate::app::generate::{GenerateReport, GenerateScaffold, ScaffoldTarget};
use crate::error::Result;
use crate::template::answers;

// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub(crate) struct GenerateArgs {
    /// NAME[@VERSION] in the store, a template folder, or a git URL[#REF].
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::templates))]
    source: String,
    /// Answers after the template, as cookiecutter's extra context: `service_name=orders`
    /// (the same as --set).
    #[arg(
        value_name = "NAME=VALUE",
        value_parser = assignment,
        add = clap_complete::ArgValueCompleter::new(super::complete::parameters)
    )]
    extra: Vec<String>,
    /// The output folder (default: the current folder, which must then be empty unless
    /// --force; for a cookiecutter template, the folder its project folder is made in).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    output: PathBuf,
    /// An answer, typed by the parameter (repeatable): --set service_name=orders
    /// (copier's -d/--data).
    #[arg(
        long = "set",
        short = 'd',
        visible_alias = "data",
        value_name = "NAME=VALUE",
        add = clap_complete::ArgValueCompleter::new(super::complete::parameters)
    )]
    set: Vec<String>,
    /// Answers from a YAML or JSON file (a generated project's .factory/scaffold.yaml too).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// The answers recorded in a project generated earlier (DIR/.factory/scaffold.yaml).
    #[arg(long, value_name = "DIR", conflicts_with = "answers")]
    replay: Option<PathBuf>,
    /// Generate again from the answers a run recorded: cookiecutter's replay file
    /// (~/.cookiecutter_replay/NAME.json, its --replay-file), a project's
    /// .factory/scaffold.yaml or a mapping of answers. Its values are taken as recorded;
    /// only what it lacks is asked.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["answers", "replay", "set", "extra", "defaults"]
    )]
    replay_file: Option<PathBuf>,
    /// Print debug lines (what was read and decided) on stderr.
    #[arg(short, long)]
    verbose: bool,
    /// Append debug lines to FILE (cookiecutter's --debug-file).
    #[arg(long, value_name = "FILE")]
    debug_file: Option<PathBuf>,
    /// Take defaults without asking, even on a terminal (cookiecutter's --no-input).
    #[arg(long, visible_alias = "no-input")]
    defaults: bool,
    /// Ask the questions whose names match this glob (`*it*`) even when --set, --answers,
    /// --defaults, --skip-answered or the template (`ask: false`) would leave them unasked;
    /// repeatable (copier's --ask).
    #[arg(long, value_name = "PATTERN")]
    ask: Vec<String>,
    /// Take a repository's newest pre-release or development release too, when no ref is
    /// named (copier's -g/--prereleases).
    #[arg(long, short = 'g')]
    prereleases: bool,
    /// Where a copier template's answers file goes in the output, over the template's
    /// `_answers_file` (copier's -a).
    #[arg(long, short = 'a', value_name = "NAME")]
    answers_file: Option<String>,
    /// Leave out the output paths matching this pattern, besides the template's own
    /// exclusions (copier's -x; gitignore patterns, `!` includes again); repeatable.
    #[arg(long, short = 'x', value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Keep a file the output folder already has when it matches this pattern, besides the
    /// template's `_skip_if_exists` (copier's -s); repeatable, rendered over the answers.
    #[arg(long = "skip", short = 's', value_name = "PATTERN")]
    skip_if_exists: Vec<String>,
    /// Answers recorded by an earlier generation (a copier answers file, a project's
    /// .factory/scaffold.yaml), as copier's recopy reads them: offered as each question's
    /// default when asked, taken when not asked, and left for the default when a question's
    /// `when` does not hold.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["answers", "replay"])]
    last_answers: Option<PathBuf>,
    /// Ask only the questions --last-answers has no answer for (copier's --skip-answered).
    #[arg(long, requires = "last_answers")]
    skip_answered: bool,
    /// Allow a version that is not published.
    #[arg(long)]
    allow_draft: bool,
    /// The runtime the project will run on, judged against the template's RuntimeRequires.
    #[arg(long, value_name = "TFM")]
    runtime: Option<String>,
    /// Write into a non-empty output folder, over what is there.
    #[arg(long)]
    force: bool,
    /// When the run fails after rendering started (a task that fails), leave what was
    /// written so far in the output folder, unrecorded (copier's -C/--no-cleanup).
    #[arg(long, short = 'C')]
    no_cleanup: bool,
    /// Print the files and content hash; write nothing and record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Commit the output to a git repository (initialised when missing).
    #[arg(long)]
    git: bool,
    /// Run the template's own code (cookiecutter hooks, copier tasks); refused without it.
    #[arg(long)]
    trust: bool,
    /// Also write cookiecutter's replay file or copier's .copier-answers.yml (without secrets).
    #[arg(long)]
    compat_answers: bool,
    /// Do not run a copier template's tasks (copier's -T/--skip-tasks); they then need no
    /// --trust.
    #[arg(long, short = 'T')]
    skip_tasks: bool,
    /// Read a template folder holding both copier.yml and cookiecutter.json as this tool's
    /// template (copier without the flag).
    #[arg(long, value_enum, value_name = "TOOL")]
    flavor: Option<crate::source::ReadAs>,
    #[command(flatten)]
    repo: crate::cli::RepoArgs,
}

/// A positional answer must be `NAME=VALUE`: anything else after the template is a mistake
/// clap would otherwise take as an answer.
fn assignment(text: &str) -> std::result::Result<String, String> {
    match text.split_once('=') {
        Some((name, _)) if !name.trim().is_empty() => Ok(text.to_string()),
        _ => Err(format!(
            "`{text}` is not NAME=VALUE: only answers follow the template \
             (service_name=orders); to write into {text}, use -o {text}"
        )),
    }
}

/// A size for people: B, KiB, MiB.
pub(crate) fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The request the arguments make (the CLI-only switches stay with `run`).
fn scaffold_request(args: &GenerateArgs) -> Result<GenerateScaffold> {
    let recorded = args
        .replay
        .as_ref()
        .map(|dir| dir.join(".factory").join("scaffold.yaml"));
    // Positional answers come first so a --set for the same name wins, as it is the
    // more explicit of the two.
    let set: Vec<String> = args.extra.iter().chain(&args.set).cloned().collect();
    let answers = match &args.replay_file {
        Some(file) => recorded_answers(file)?,
        None => given_answers(args.answers.as_ref().or(recorded.as_ref()), &set)?,
    };
    Ok(GenerateScaffold {
        commit_trailer: None,
        answers,
        template: args.source.clone(),
        target: ScaffoldTarget::folder(&args.output),
        allow_draft: args.allow_draft,
        runtime: args.runtime.clone(),
        overwrite: args.force,
        dry_run: args.dry_run,
        answers_file: args.answers_file.clone(),
        prereleases: args.prereleases,
        exclude: args.exclude.clone(),
        skip_if_exists: args.skip_if_exists.clone(),
        git: args.git,
        trust: args.trust,
        compat_answers: args.compat_answers,
        skip_tasks: args.skip_tasks,
        reference: args.repo.reference.clone(),
        directory: args.repo.directory.clone(),
        flavor: args.flavor,
        last_answers: match &args.last_answers {
            Some(file) => Some(recorded_answers(file)?),
            None => None,
        },
        skip_answered: args.skip_answered,
        no_cleanup: args.no_cleanup,
    })
}

/// Runs `generate`.
pub(crate) fn run(app: &App, args: GenerateArgs) -> Result<()> {
    let request = scaffold_request(&args)?;
    let mut asker = app.asker(args.defaults, &args.ask)?;
    let asker = asker.as_deref_mut().map(|a| a as &mut dyn answers::Asker);
    let debug = super::console::Debug::new(args.verbose, args.debug_file.as_deref())?;
    let console = super::console::Console::with_debug(app, debug);
    let ports = Ports {
        progress: &console,
        asker,
        ..Ports::default()
    };
    let report = app.execute_with(request, ports)?;
    print(app, &report);
    // copier's `_message_after_copy` is its last words, after anything else printed.
    if let Some(message) = &report.message_after {
        crate::generate::Progress::say(&console, message);
    }
    Ok(())
}

fn print(app: &App, report: &GenerateReport) {
    let outcome = &report.outcome;
    if report.dry_run {
        print_dry_run(app, report);
        return;
    }
    if app.json() {
        app.printer.json_document(&report.shown());
    }
    let target = report.target.display();
    out!(app.printer, "Generated {target} from {}", report.template);
    out!(
        app.printer,
        "  files   {} ({})",
        outcome.files.len(),
        human_size(outcome.byte_count)
    );
    out!(app.printer, "  hash    {}", outcome.content_hash);
    if let Some(commit) = &outcome.commit {
        out!(app.printer, "  git     committed {}", &commit[..12]);
    }
    out!(
        app.printer,
        "  check   cd {target} && sha256sum -c .factory/manifest.sha256"
    );
}

fn print_dry_run(app: &App, report: &GenerateReport) {
    let outcome = &report.outcome;
    if app.json() {
        app.printer.json_document(&report.shown());
    }
    for (path, size) in &outcome.files {
        let path = crate::render::paths::shown(path);
        out!(app.printer, "{size:>10}  {path}");
    }
    out!(
        app.printer,
        "{} files, {} would be written to {} (dry run)\n{}",
        outcome.files.len(),
        human_size(outcome.byte_count),
        report.target.display(),
        outcome.content_hash
    );
}
