//! The command line: argument parsing, the invocation's event context, and printing.
//! One file per subcommand; no domain rule is decided here.

mod cache;
mod compat;
mod complete;
pub mod completions;
mod events;
mod generate;
mod hash;
mod init;
mod library;
mod lifecycle;
mod printer;
mod prompt;
mod show;
mod store;
mod upgrade;
mod validate;
mod verify;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{Flags, Session, Settings};
use crate::error::Result;
use printer::Printer;
pub(crate) use printer::out;

/// factory: a local store of project templates, their lifecycle, and an event log.
#[derive(Debug, Parser)]
#[command(name = "factory", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, clap::Args)]
struct GlobalArgs {
    /// The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder).
    #[arg(long, global = true, env = "FACTORY_STORE", value_name = "DIR")]
    store: Option<PathBuf>,
    /// Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    tenant: Option<String>,
    /// Project for events (default: FACTORY_PROJECT, then store.yaml).
    #[arg(
        long,
        global = true,
        env = "FACTORY_PROJECT",
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    project: Option<String>,
    /// Module for events (default: FACTORY_MODULE, then store.yaml).
    #[arg(
        long,
        global = true,
        env = "FACTORY_MODULE",
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    module: Option<String>,
    /// Correlation id shared by this invocation's events (default: FACTORY_CORRELATION_ID, or
    /// a new one); with `events`, a filter.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    correlation_id: Option<String>,
    /// The event id that caused this invocation.
    #[arg(
        long,
        global = true,
        value_name = "EVENT_ID",
        help_heading = "Event metadata"
    )]
    causation_id: Option<String>,
    /// Print one JSON document to stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Never fetch: take repositories from the clone cache only.
    #[arg(long, global = true)]
    offline: bool,
}

/// Where in a repository a template is: the options every command that takes a source has.
#[derive(Debug, Clone, clap::Args)]
struct RepoArgs {
    /// The branch, tag or commit of a repository source (same as URL#REF).
    #[arg(long = "ref", value_name = "REF")]
    reference: Option<String>,
    /// The template's folder inside a repository source.
    #[arg(long, value_name = "SUBDIR")]
    directory: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a store (default: the one `factory` would find).
    #[command(
        after_long_help = "Examples:\n  factory init --tenant acme\n  factory init ./.factory-store"
    )]
    Init(init::InitArgs),
    /// Register a template folder under its name.
    #[command(
        after_long_help = "Examples:\n  factory register templates/orders-api\n  factory register file:///srv/templates.git#v1.2.0 --owner platform-team"
    )]
    Register(lifecycle::RegisterArgs),
    /// Snapshot a template's files as a new immutable version.
    #[command(
        after_long_help = "Examples:\n  factory version orders-api --version 1.0.0\n  factory version orders-api --bump minor --from ../orders-api"
    )]
    Version(lifecycle::VersionArgs),
    /// Check a template version (or a folder, with --path); exit 3 when a check fails.
    #[command(
        after_long_help = "Examples:\n  factory validate orders-api@1.0.0\n  factory validate --path templates/orders-api --matrix --format sarif > report.sarif"
    )]
    Validate(validate::ValidateArgs),
    /// Publish a validated template version.
    #[command(after_long_help = "Examples:\n  factory publish orders-api@1.0.0")]
    Publish(lifecycle::PublishArgs),
    /// Render a template into a new project (from the store, a folder or a git URL).
    #[command(
        after_long_help = "Examples:\n  factory generate orders-api -o orders --set service_name=orders\n  factory generate ./my-template -o /tmp/try --defaults --dry-run\n  factory generate file:///srv/templates.git#main -o api --answers answers.yaml --git"
    )]
    Generate(generate::GenerateArgs),
    /// Judge a composition of templates, libraries and a runtime; exit 3 when incompatible.
    #[command(
        after_long_help = "Examples:\n  factory compat orders-api@1.0.0 --with Acme.Data --runtime net8.0\n  factory compat --composition composition.yaml --json"
    )]
    Compat(compat::CompatArgs),
    /// Plan (or --apply) a move of a generated project to another template version.
    #[command(
        after_long_help = "Examples:\n  factory upgrade orders\n  factory upgrade orders --to 2.0.0 --apply --conflict-style diff3"
    )]
    Upgrade(upgrade::UpgradeArgs),
    /// Report files added, removed or changed in a generated project; exit 3 on drift.
    #[command(after_long_help = "Examples:\n  factory verify orders")]
    Verify(verify::VerifyArgs),
    /// List the registered templates.
    #[command(
        after_long_help = "Examples:\n  factory list\n  factory list --json | jq -r '.templates[].name'"
    )]
    List,
    /// Show a template or one of its versions.
    #[command(
        after_long_help = "Examples:\n  factory show orders-api\n  factory show orders-api@1.0.0 --json"
    )]
    Show(show::ShowArgs),
    /// Print the content hash of a folder (docs/content-hash.md).
    #[command(
        after_long_help = "Examples:\n  factory hash orders\n  factory hash orders --manifest"
    )]
    Hash(hash::HashArgs),
    /// Print the event log as JSON Lines, filtered; or its JSON Schemas.
    #[command(
        after_long_help = "Examples:\n  factory events --type TemplatePublished | jq -r .payload.version\n  factory events --follow --format table\n  factory events push --to amqp://factory:$PASSWORD@rabbit:5672/%2f"
    )]
    Events(events::EventsArgs),
    /// Register, version, scan and publish reusable libraries.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory library register Acme.Json\n  factory library version Acme.Json 4.1.0 --path src/Acme.Json\n  factory library scan Acme.Json@4.1.0 --fail-on conflict"
    )]
    Library(library::LibraryCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Check or rebuild the store.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Show or clean the clone cache of template repositories.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory cache list\n  factory cache clean https://github.com/org/template.git"
    )]
    Cache(cache::CacheCommand),
}

/// What a subcommand sees: the settings resolved once, the printer, and the global flags.
pub struct App {
    global: GlobalArgs,
    settings: Settings,
    printer: Printer,
}

impl App {
    /// Runs `use_case` in a session on the store, then prints the session's warnings
    /// (whether the use case succeeded or not).
    fn in_session<T>(&self, use_case: impl FnOnce(&Session) -> Result<T>) -> Result<T> {
        let session = Session::open(self.settings.clone())?;
        let result = use_case(&session);
        for note in session.take_notes() {
            self.printer.note(note);
        }
        for warning in session.warnings() {
            self.printer.warn(warning);
        }
        result
    }

    /// A session and the store's state, for commands that only read; warnings printed.
    fn read_state(&self) -> Result<(Session, crate::domain::State)> {
        let session = Session::open(self.settings.clone())?;
        let state = session.store.state();
        for warning in session.warnings() {
            self.printer.warn(warning);
        }
        Ok((session, state?))
    }

    /// A session on the store, for commands that manage it; warnings printed by the caller
    /// through [`App::warnings`].
    fn session(&self) -> Result<Session> {
        Session::open(self.settings.clone())
    }

    /// Prints the session's warnings.
    fn warnings(&self, session: &Session) {
        for warning in session.warnings() {
            self.printer.warn(warning);
        }
    }

    /// Whether to print JSON.
    fn json(&self) -> bool {
        self.printer.json()
    }

    /// Whether to print human text (not JSON, not quiet).
    fn human(&self) -> bool {
        self.printer.human()
    }

    /// Whether prompts may be shown: stdin and stderr are a terminal.
    fn interactive(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }
}

/// Runs the command line; the process's exit code.
pub fn run() -> ExitCode {
    // `COMPLETE=bash factory …`: the shell asks for completions; answer and exit.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command).complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            if let Some(hint) = usage_hint(&err) {
                printer::hint(&hint);
            }
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let settings = Settings::resolve(cli.global.flags());
    let no_color = settings.as_ref().map_or(true, |s| s.no_color);
    let printer = Printer::new(
        cli.global.json,
        cli.global.quiet,
        std::io::stderr().is_terminal() && !no_color,
    );
    let settings = match settings {
        Ok(mut settings) => {
            let terminal = std::io::stderr().is_terminal();
            settings.git.progress = terminal && !cli.global.quiet && !cli.global.json;
            settings.git.interactive = terminal && std::io::stdin().is_terminal();
            settings
        }
        Err(err) => {
            printer.error(&err);
            return ExitCode::from(err.kind.code());
        }
    };
    let app = App {
        global: cli.global,
        settings,
        printer,
    };
    let result = dispatch(&app, cli.command);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            app.printer.error(&err);
            // A script asked for JSON: the error is one JSON document on stdout too, unless
            // the command already printed its report (a negative verdict).
            if app.json() && !app.printer.printed_json() {
                app.printer.json_document(&serde_json::json!({
                    "error": {
                        "message": err.message,
                        "hint": err.hint,
                        "exitCode": err.kind.code(),
                    }
                }));
            }
            ExitCode::from(err.kind.code())
        }
    }
}

/// Advice for a usage error clap cannot give: `factory version NAME 0.2.0` means
/// `--version 0.2.0`.
fn usage_hint(err: &clap::Error) -> Option<String> {
    if err.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|a| a == "version")?;
    let number = args[at + 1..]
        .iter()
        .find(|a| semver::Version::parse(a.trim_start_matches('v')).is_ok())?;
    Some(format!("name the version with a flag: --version {number}"))
}

/// Runs one subcommand.
fn dispatch(app: &App, command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init::run(app, args),
        Command::Register(args) => lifecycle::register(app, args),
        Command::Version(args) => lifecycle::version(app, args),
        Command::Validate(args) => validate::run(app, args),
        Command::Publish(args) => lifecycle::publish(app, args),
        Command::Generate(args) => generate::run(app, args),
        Command::Compat(args) => compat::run(app, args),
        Command::Upgrade(args) => upgrade::run(app, args),
        Command::Verify(args) => verify::run(app, args),
        Command::List => show::list(app),
        Command::Show(args) => show::show(app, args),
        Command::Hash(args) => hash::run(app, args),
        Command::Events(args) => events::run(app, args),
        Command::Library(command) => library::run(app, command),
        Command::Store(command) => store::run(app, command),
        Command::Cache(command) => cache::run(app, command),
        Command::Completions { shell } => {
            app.printer.raw(&completions::script(shell));
            Ok(())
        }
        Command::Man => {
            app.printer.raw(&completions::man_page());
            Ok(())
        }
    }
}

impl GlobalArgs {
    /// What the flags say, for the settings to resolve.
    fn flags(&self) -> Flags {
        Flags {
            store: self.store.clone(),
            tenant: self.tenant.clone(),
            project: self.project.clone(),
            module: self.module.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id.clone(),
            offline: self.offline,
        }
    }
}

#[cfg(test)]
mod tests;
