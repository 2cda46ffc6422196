//! The command line: argument parsing, the invocation's event context, and printing.
//! One file per subcommand; no domain rule is decided here.

mod compat;
pub mod completions;
mod events;
mod generate;
mod hash;
mod init;
mod library;
mod lifecycle;
mod output;
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

use crate::error::{Error, Result};
use crate::events::{EventContext, clock, ids};
use crate::store::Store;

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
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter.
    #[arg(long, global = true, value_name = "ID")]
    tenant: Option<String>,
    /// Project for events (default: FACTORY_PROJECT, then store.yaml).
    #[arg(long, global = true, env = "FACTORY_PROJECT", value_name = "ID")]
    project: Option<String>,
    /// Module for events (default: FACTORY_MODULE, then store.yaml).
    #[arg(long, global = true, env = "FACTORY_MODULE", value_name = "ID")]
    module: Option<String>,
    /// Correlation id shared by this invocation's events (default: FACTORY_CORRELATION_ID, or
    /// a new one); with `events`, a filter.
    #[arg(long, global = true, value_name = "ID")]
    correlation_id: Option<String>,
    /// The event id that caused this invocation.
    #[arg(long, global = true, value_name = "EVENT_ID")]
    causation_id: Option<String>,
    /// Print one JSON document to stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
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
    /// Print the content hash of a folder (DESIGN section 6).
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
}

/// What a subcommand sees: the parsed global options and how to reach the store.
pub struct App {
    global: GlobalArgs,
}

impl App {
    /// The store this invocation uses.
    fn store(&self) -> Result<Store> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::new(format!("cannot read the current folder: {e}")))?;
        let root = crate::store::locate(self.global.store.as_deref(), &cwd)?;
        Store::open(&root)
    }

    /// The envelope fields shared by this invocation's events.
    fn context(&self, store: &Store) -> Result<EventContext> {
        let config = store.config();
        let pick = |flag: &Option<String>, config: &Option<String>| {
            flag.clone()
                .filter(|s| !s.is_empty())
                .or_else(|| config.clone())
        };
        let trace_id = std::env::var("TRACEPARENT")
            .ok()
            .and_then(|t| ids::trace_id_from_traceparent(&t))
            .unwrap_or_else(ids::new_trace_id);
        Ok(EventContext {
            tenant_id: pick(
                &self.global.tenant,
                &std::env::var("FACTORY_TENANT")
                    .ok()
                    .filter(|s| !s.is_empty()),
            )
            .unwrap_or_else(|| config.tenant.clone()),
            project_id: pick(&self.global.project, &config.project),
            module_id: pick(&self.global.module, &config.module),
            trace_id,
            correlation_id: pick(
                &self.global.correlation_id,
                &std::env::var("FACTORY_CORRELATION_ID")
                    .ok()
                    .filter(|s| !s.is_empty()),
            )
            .unwrap_or_else(|| ids::new_id(ids::CORRELATION)),
            causation_id: self.global.causation_id.clone().filter(|s| !s.is_empty()),
            pinned_now: clock::pinned_from_env()?,
        })
    }

    /// Whether to print JSON.
    fn json(&self) -> bool {
        self.global.json
    }

    /// Whether to print human text (not JSON, not quiet).
    fn human(&self) -> bool {
        !self.global.json && !self.global.quiet
    }
}

/// Runs the command line; the process's exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let app = App { global: cli.global };
    let result = match cli.command {
        Command::Init(args) => init::run(&app, args),
        Command::Register(args) => lifecycle::register(&app, args),
        Command::Version(args) => lifecycle::version(&app, args),
        Command::Validate(args) => validate::run(&app, args),
        Command::Publish(args) => lifecycle::publish(&app, args),
        Command::Generate(args) => generate::run(&app, args),
        Command::Compat(args) => compat::run(&app, args),
        Command::Upgrade(args) => upgrade::run(&app, args),
        Command::Verify(args) => verify::run(&app, args),
        Command::List => show::list(&app),
        Command::Show(args) => show::show(&app, args),
        Command::Hash(args) => hash::run(&app, args),
        Command::Events(args) => events::run(&app, args),
        Command::Library(command) => library::run(&app, command),
        Command::Store(command) => store::run(&app, command),
        Command::Completions { shell } => completions::print(&completions::script(shell)),
        Command::Man => completions::print(&completions::man_page()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::print_error(&err, std::io::stderr().is_terminal());
            ExitCode::from(err.kind.code())
        }
    }
}

/// Splits `NAME@VERSION` at the last `@`.
fn split_reference(reference: &str) -> (&str, Option<&str>) {
    match reference.rsplit_once('@') {
        Some((name, version)) if !name.is_empty() => (name, Some(version)),
        _ => (reference, None),
    }
}

/// Prints the store's notices (recoveries, rebuilds) to stderr, and after a command that
/// wrote events, runs the automatic push when store.yaml asks for one. A failed automatic push
/// only warns: the events stay pending for the next push.
fn print_notices(app: &App, store: &Store) {
    for notice in store.take_notices() {
        if !app.global.quiet {
            eprintln!("warning: {notice}");
        }
    }
    let push = &store.config().push;
    if !(store.take_wrote_events() && push.auto) {
        return;
    }
    for text in &push.targets {
        let options = crate::broker::push::Options {
            policy: crate::broker::retry::Policy {
                max_retries: 2,
                deadline: std::time::Duration::from_secs(10),
                ..Default::default()
            },
            ..Default::default()
        };
        let result = crate::broker::Target::parse(text).and_then(|target| {
            crate::broker::push::push(store, &target, options, |name| push.connection_string(name))
        });
        if let Err(e) = result {
            eprintln!(
                "warning: automatic push failed; the events stay pending for `factory events push`: {}",
                e.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_flag_says_what_it_does() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() {
                missing.push(format!("{path}: no about"));
            }
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}: no help", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let command = super::Cli::command();
        let mut missing = Vec::new();
        walk(&command, "factory", &mut missing);
        for sub in command
            .get_subcommands()
            .filter(|s| !matches!(s.get_name(), "help" | "man" | "completions" | "store"))
        {
            if sub.get_after_long_help().is_none() {
                missing.push(format!("factory {}: no example in --help", sub.get_name()));
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
