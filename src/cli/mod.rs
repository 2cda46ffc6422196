//! The command line: argument parsing, the invocation's event context, and printing.
//! One file per subcommand; no domain rule is decided here.

mod answer_files;
mod args;
mod cache;
mod color;
mod compat;
mod complete;
pub mod completions;
mod console;
mod events;
mod generate;
mod hash;
mod init;
mod inspect;
mod library;
mod lifecycle;
mod printer;
mod prompt;
mod remote;
mod remote_report;
mod sarif;
mod send;
mod show;
mod store;
mod template_report;
mod transfer;
mod upgrade;
mod validate;
mod verify;
mod worker;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::app::{Session, Settings};
use crate::error::Result;
use args::{Command, GlobalArgs, RepoArgs};
use printer::Printer;

pub use args::Cli;
pub(crate) use printer::out;

/// The global flags `events` filters by, when they were typed rather than taken from the
/// environment.
struct EventFilters {
    tenant: Option<String>,
    correlation_id: Option<String>,
    /// `--store` was typed (rather than taken from FACTORY_STORE).
    store_typed: bool,
}

/// What a subcommand sees: the settings resolved once, the printer, and the global flags.
pub struct App {
    global: GlobalArgs,
    /// `--tenant` and `--correlation-id` as typed (under `events` they filter; their
    /// environment variables only stamp new events).
    filters: EventFilters,
    settings: Settings,
    printer: Printer,
}

impl App {
    /// Runs `use_case` in a session on the store, then prints the session's warnings
    /// (whether the use case succeeded or not).
    /// Runs a platform command's request through the dispatcher's path; warnings printed.
    fn execute<R: crate::app::Request>(&self, request: R) -> Result<R::Report> {
        self.execute_with(request, crate::app::Ports::default())
    }

    /// [`App::execute`] with ports of the command line's own (a terminal, progress).
    fn execute_with<R: crate::app::Request>(
        &self,
        request: R,
        ports: crate::app::Ports,
    ) -> Result<R::Report> {
        self.in_session(|session| crate::app::run(session, request, ports))
    }

    fn in_session<T>(&self, use_case: impl FnOnce(&Session) -> Result<T>) -> Result<T> {
        let session = Session::open(self.settings.clone())?;
        let result = use_case(&session);
        self.warnings(&session);
        result
    }

    /// A session and the store's state, for commands that only read (a damaged log line is
    /// skipped with a warning); warnings printed.
    fn read_state(&self) -> Result<(Session, crate::domain::State)> {
        let session = Session::open(self.settings.clone())?;
        // A store named with --store that is not there is a mistyped path, not an empty
        // store (writers still create it: "created on first write").
        if self.filters.store_typed && !session.store.exists() {
            return Err(crate::Error::new(format!(
                "there is no store at {}",
                session.store.root().display()
            ))
            .hint(format!(
                "check the path, or create one with `factory init {}`",
                session.store.root().display()
            )));
        }
        let state = session.store.state_for_reading();
        self.warnings(&session);
        Ok((session, state?))
    }

    /// A session on the store, for commands that manage it; warnings printed by the caller
    /// through [`App::warnings`].
    fn session(&self) -> Result<Session> {
        Session::open(self.settings.clone())
    }

    /// Prints the session's notes and warnings.
    fn warnings(&self, session: &Session) {
        for note in session.take_notes() {
            self.printer.note(note);
        }
        for warning in session.take_tool_warnings() {
            self.printer.tool_warning(warning);
        }
        for warning in session.warnings() {
            self.printer.warn(warning);
        }
    }

    /// Reports a failed command: on stderr, and for `--json` as one JSON document on stdout
    /// too unless the command already printed its report (a negative verdict).
    fn fail(&self, err: &crate::Error) -> ExitCode {
        self.printer.error(err);
        if self.json() && !self.printer.printed_json() {
            /// `--json` after a failure: the error as stderr said it.
            #[derive(serde::Serialize)]
            struct ErrorReport<'a> {
                error: ErrorBody<'a>,
            }
            #[derive(serde::Serialize)]
            #[serde(rename_all = "camelCase")]
            struct ErrorBody<'a> {
                message: &'a str,
                hint: Option<&'a str>,
                exit_code: u8,
            }
            self.printer.json_document(&ErrorReport {
                error: ErrorBody {
                    message: &err.message,
                    hint: err.hint.as_deref(),
                    exit_code: err.kind.code(),
                },
            });
        }
        ExitCode::from(err.kind.code())
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
    clap_complete::CompleteEnv::with_factory(Cli::definition).complete();
    let parsed = parse();
    let (cli, (tenant_flag, correlation_flag, store_flag)) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            let _ = err.print();
            if let Some(hint) = usage_hint(&err) {
                printer::hint(&hint);
            }
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let settings = Settings::resolve(cli.global.flags());
    let printer = Printer::new(
        cli.global.json,
        cli.global.quiet,
        cli.global.color.colors(std::io::stderr().is_terminal()),
        cli.global.color.colors(std::io::stdout().is_terminal()),
    );
    let settings = match settings {
        Ok(mut settings) => {
            let terminal = std::io::stderr().is_terminal();
            settings.git.fetch.progress = terminal && !cli.global.quiet && !cli.global.json;
            settings.git.fetch.interactive = terminal && std::io::stdin().is_terminal();
            settings
        }
        Err(err) => {
            printer.error(&err);
            return ExitCode::from(err.kind.code());
        }
    };
    let app = App {
        filters: EventFilters {
            tenant: cli.global.tenant.clone().filter(|_| tenant_flag),
            correlation_id: cli
                .global
                .correlation_id
                .clone()
                .filter(|_| correlation_flag),
            store_typed: store_flag,
        },
        global: cli.global,
        settings,
        printer,
    };
    match dispatch(&app, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => app.fail(&err),
    }
}

/// The command line, and whether `--tenant`, `--correlation-id` and `--store` were typed
/// (rather than taken from their environment variables).
fn parse() -> std::result::Result<(Cli, (bool, bool, bool)), clap::Error> {
    let color = match color::ColorWhen::typed() {
        color::ColorWhen::Always => clap::ColorChoice::Always,
        color::ColorWhen::Never => clap::ColorChoice::Never,
        color::ColorWhen::Auto => clap::ColorChoice::Auto,
    };
    let matches = <Cli as clap::CommandFactory>::command()
        .color(color)
        .try_get_matches()?;
    let from_flag =
        |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    let typed = (
        from_flag("tenant"),
        from_flag("correlation_id"),
        from_flag("store"),
    );
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map(|cli| (cli, typed))
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
        Command::Generate(args) => generate::run(app, *args),
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
        Command::Remote(command) => remote::run(app, command),
        Command::Login(args) => remote::login(app, args),
        Command::Logout { host } => remote::logout(app, host),
        Command::Pull(args) => remote::pull(app, args),
        Command::Search(args) => remote::search(app, args),
        Command::Send(args) => send::run(app, args),
        Command::Worker(args) => worker::run(app, args),
        Command::Commands(command) => worker::commands(app, command),
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

#[cfg(test)]
mod tests;
