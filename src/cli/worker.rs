//! `worker` and `commands`: serving the platform's commands from queues, and their catalog
//! (`send` is in send.rs).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::{App, out};
use crate::app::worker::{self, WorkerSettings};
use crate::error::{Error, Result};
use crate::queue::worker::{Health, Processed, WorkerOptions};
use crate::queue::{catalog, envelope};

// Arguments of `worker`.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from
    /// FACTORY_AMQP_URL when not given, so a password need not be on the command line.
    #[arg(
        long,
        value_name = "URL",
        env = "FACTORY_AMQP_URL",
        hide_env_values = true
    )]
    from: String,
    /// The services to serve, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    services: Vec<String>,
    /// Commands handled at once.
    #[arg(long, default_value_t = 2, value_name = "N")]
    concurrency: usize,
    /// Commands the broker sends ahead per queue.
    #[arg(long, default_value_t = 4, value_name = "N")]
    prefetch: u16,
    /// Where GenerateScaffold writes (targets are folders below it, never outside it).
    #[arg(long, value_name = "DIR", default_value = ".")]
    output_root: PathBuf,
    /// Let commands name folders and file:// repositories of this machine as templates
    /// (by default only the store, its remotes and remote git URLs).
    #[arg(long)]
    allow_local_sources: bool,
    /// Attempts before a failing command goes to the dead-letter queue.
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_attempts: u32,
    /// Seconds between health lines on stderr.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    health_interval: u64,
}

/// Subcommands of `commands`.
#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub(crate) enum CommandsCommand {
    /// Print the JSON Schema of the command envelope and every payload, or of one type's.
    Schema {
        /// A command type, or `envelope`.
        command_type: Option<String>,
    },
    /// List the command types with their queues and outcome events.
    List,
}

/// `commands schema --json` without a type: the envelope's schema and every payload's.
#[derive(serde::Serialize)]
struct CatalogSchema {
    envelope: Value,
    payloads: serde_json::Map<String, Value>,
}

/// `commands list --json`.
#[derive(serde::Serialize)]
struct CommandsReport {
    commands: Vec<ListedCommand>,
}

/// One command type, its queue and its outcome event.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedCommand {
    command_type: &'static str,
    queue: String,
    single_active_consumer: bool,
    outcome: &'static str,
}

/// Runs `commands …`.
pub(crate) fn commands(app: &App, command: CommandsCommand) -> Result<()> {
    match command {
        CommandsCommand::Schema { command_type } => {
            let doc = match command_type.as_deref() {
                None => {
                    let payloads: serde_json::Map<String, Value> = catalog::COMMANDS
                        .iter()
                        .map(|s| {
                            (
                                s.command_type.to_string(),
                                crate::app::Command::payload_schema(s.command_type)
                                    .expect("catalog types have schemas"),
                            )
                        })
                        .collect();
                    serde_json::to_value(CatalogSchema {
                        envelope: envelope::schema(),
                        payloads,
                    })
                    .expect("schemas serialize")
                }
                Some("envelope") => envelope::schema(),
                Some(t) => crate::app::Command::payload_schema(t).ok_or_else(|| {
                    let names: Vec<&str> =
                        catalog::COMMANDS.iter().map(|s| s.command_type).collect();
                    Error::usage(format!("`{t}` is not a command type"))
                        .hint(format!("command types are: envelope, {}", names.join(", ")))
                })?,
            };
            app.printer.json_document(&doc);
        }
        CommandsCommand::List => {
            if app.json() {
                let commands = catalog::COMMANDS
                    .iter()
                    .map(|s| ListedCommand {
                        command_type: s.command_type,
                        queue: catalog::queue(s.service),
                        single_active_consumer: s.writes_registry,
                        outcome: s.outcome,
                    })
                    .collect();
                app.printer.json_document(&CommandsReport { commands });
            }
            for s in catalog::COMMANDS {
                out!(
                    app.printer,
                    "{:24}{:52}{}",
                    s.command_type,
                    catalog::queue(s.service),
                    s.outcome
                );
            }
        }
    }
    Ok(())
}

/// Runs `worker` until SIGTERM or SIGINT.
pub(crate) fn run(app: &App, args: WorkerArgs) -> Result<()> {
    std::fs::create_dir_all(&args.output_root)
        .map_err(|e| Error::io("create", &args.output_root, e))?;
    let output_root = std::fs::canonicalize(&args.output_root)
        .map_err(|e| Error::io("resolve", &args.output_root, e))?;
    let options = WorkerOptions {
        services: worker::services(&args.services)?,
        concurrency: args.concurrency.max(1),
        prefetch: args.prefetch.max(1),
        max_attempts: args.max_attempts.max(1),
        health_every: Duration::from_secs(args.health_interval.max(1)),
    };
    // A command's answers are what it says: not the service account's ~/.cookiecutterrc.
    let mut settings = app.settings.clone();
    settings.user_defaults = Default::default();
    let settings = WorkerSettings {
        settings,
        output_root,
        allow_local_sources: args.allow_local_sources,
    };
    app.printer.note(format!(
        "serving {} (concurrency {})",
        options.services.join(", "),
        options.concurrency
    ));
    let json = app.json();
    let report = |health: Health| health_line(json, health);
    let say = |line: &str| eprintln!("worker: {line}");
    let log: crate::queue::worker::Log =
        std::sync::Arc::new(move |line| processed_line(json, line));
    let health = worker::run_worker(settings, &args.from, options, &report, say, log)?;
    health_line(json, health);
    Ok(())
}

/// One line per command handled, on stderr: `worker: GenerateScaffold cmd-… succeeded in
/// 0.41s`, then the exit code and the error when it failed; a JSON object with `--json`.
fn processed_line(json: bool, line: &Processed) {
    if json {
        eprintln!(
            "{}",
            serde_json::to_string(line).expect("the line serializes")
        );
        return;
    }
    let mut text = format!(
        "worker: {} {} {} in {:.2}s",
        line.command_type.as_deref().unwrap_or("(unknown type)"),
        line.command_id.as_deref().unwrap_or("(no id)"),
        line.outcome,
        line.duration_ms as f64 / 1000.0
    );
    if line.attempt > 1 {
        text.push_str(&format!(" (attempt {})", line.attempt));
    }
    if let Some(code) = line.exit_code.filter(|c| *c != 0) {
        text.push_str(&format!(", exit {code}"));
    }
    if let Some(error) = &line.error {
        text.push_str(&format!(": {error}"));
    }
    eprintln!("{text}");
}

fn health_line(json: bool, health: Health) {
    let line = if json {
        serde_json::to_string(&health).expect("health serializes")
    } else {
        format!(
            "worker: handled {}, failed {}, dead-lettered {}, in flight {}",
            health.handled, health.failed, health.dead_lettered, health.in_flight
        )
    };
    eprintln!("{line}");
}
