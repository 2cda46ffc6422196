//! `send`, `worker` and `commands schema`: the platform's commands over RabbitMQ.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::{App, out};
use crate::app::worker::{self, SendCommand, WorkerSettings};
use crate::error::{Error, Result};
use crate::queue::worker::{Health, Processed, WorkerOptions};
use crate::queue::{catalog, envelope};

/// Arguments of `send`.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// The command type (VerbNoun), e.g. GenerateScaffold.
    command_type: String,
    /// The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from
    /// FACTORY_AMQP_URL when not given, so a password need not be on the command line.
    #[arg(
        long,
        value_name = "URL",
        env = "FACTORY_AMQP_URL",
        hide_env_values = true
    )]
    to: String,
    /// The payload: a JSON file, or `-` for stdin (default: `{}`).
    #[arg(long, value_name = "FILE|-")]
    payload: Option<String>,
    /// Wait for the outcome event and exit as the local command would (0, 1, 3).
    #[arg(long)]
    wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", requires = "wait")]
    timeout: u64,
    /// The service whose queue it goes to (default: the one the catalog names).
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Send it even if it does not fit its schema (to test a worker's dead-lettering).
    #[arg(long)]
    no_validate: bool,
}

/// Arguments of `worker`.
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
pub(crate) enum CommandsCommand {
    /// Print the JSON Schema of the command envelope and every payload, or of one type's.
    Schema {
        /// A command type, or `envelope`.
        command_type: Option<String>,
    },
    /// List the command types with their queues and outcome events.
    List,
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
                    json!({"envelope": envelope::schema(), "payloads": payloads})
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
                let list: Vec<Value> = catalog::COMMANDS
                    .iter()
                    .map(|s| json!({"commandType": s.command_type, "queue": catalog::queue(s.service), "singleActiveConsumer": s.writes_registry, "outcome": s.outcome}))
                    .collect();
                app.printer.json_document(&json!({"commands": list}));
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

/// The payload `--payload` names: a file, stdin (`-`), or `{}`.
fn read_payload(arg: Option<&str>) -> Result<Value> {
    let text = match arg {
        None => "{}".to_string(),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .take(16 << 20)
                .read_to_string(&mut text)
                .map_err(|e| Error::new(format!("cannot read the payload from stdin: {e}")))?;
            text
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::io("read", std::path::Path::new(path), e))?,
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!("the payload is not JSON: {e}"))
            .hint("pass a JSON object with --payload FILE or --payload -")
    })
}

/// Runs `send`.
pub(crate) fn send(app: &App, args: SendArgs) -> Result<()> {
    let payload = read_payload(args.payload.as_deref())?;
    let waited = args.wait;
    let request = SendCommand {
        payload: payload.clone(),
        url: args.to,
        command_type: args.command_type,
        service: args.service,
        unchecked: args.no_validate,
        wait: args.wait.then(|| Duration::from_secs(args.timeout)),
    };
    let sent = worker::send_command(&app.settings, request)?;
    let shape = Shape::of(&sent, &payload, waited);
    if app.json() {
        app.printer.json_document(&json!({
            "commandId": sent.command_id,
            "queue": sent.queue,
            "status": shape.status,
            "eventId": shape.event.map(|(_, id)| id),
            "output": shape.output.as_ref().map(Output::as_str),
            "reason": shape.reason,
            "outcome": sent.outcome,
            "deadLettered": sent.dead_lettered,
            "exitCode": sent.exit_code,
        }));
    }
    out!(app.printer, "Sent {} to {}", sent.command_id, sent.queue);
    if waited {
        out!(app.printer, "  status  {} (exit {})", shape.status, sent.exit_code);
    }
    if let Some((event_type, event_id)) = shape.event {
        out!(app.printer, "  event   {event_type} {event_id}");
    }
    match &shape.output {
        Some(Output::Folder(folder)) => {
            out!(app.printer, "  output  {folder} (below the worker's --output-root)")
        }
        Some(Output::Repository(branch)) => out!(app.printer, "  output  {branch}"),
        None => {}
    }
    if let Some(reason) = &shape.reason {
        out!(app.printer, "  reason  {reason}");
    }
    if sent.exit_code == 0 {
        return Ok(());
    }
    let why = match shape.status {
        "dead-lettered" => "was dead-lettered",
        _ => "failed",
    };
    let reason = shape.reason.unwrap_or_default();
    Err(Error {
        kind: exit_kind(sent.exit_code),
        ..Error::new(format!(
            "{} {why} (exit {}): {reason}",
            sent.command_id, sent.exit_code
        ))
    })
}

/// Where a generated project went.
enum Output {
    /// A folder below the worker's output root.
    Folder(String),
    /// A repository's branch (without credentials).
    Repository(String),
}

impl Output {
    fn as_str(&self) -> &str {
        match self {
            Output::Folder(path) | Output::Repository(path) => path,
        }
    }
}

/// What `send` came to, in the one shape its text and JSON share whether the command
/// succeeded or not: a status, the outcome event, the output folder or the reason.
struct Shape<'a> {
    /// `sent` (without --wait), `succeeded`, `failed` or `dead-lettered`.
    status: &'static str,
    /// The outcome event's type and id.
    event: Option<(&'a str, &'a str)>,
    /// Where a generated project went, as the command named it.
    output: Option<Output>,
    /// Why it failed.
    reason: Option<String>,
}

impl<'a> Shape<'a> {
    fn of(sent: &'a crate::queue::send::Sent, payload: &Value, waited: bool) -> Shape<'a> {
        let event = sent
            .outcome
            .as_ref()
            .map(|o| (o.event_type.as_str(), o.event_id.as_str()));
        // A command that was taken and failed is `failed` (its copy in the dead-letter
        // queue is the transport's business); one refused as malformed (exit 2) is
        // `dead-lettered`, as the worker's log line says.
        let status = match (waited, sent.exit_code) {
            (false, _) => "sent",
            (true, 0) => "succeeded",
            (true, 2) => "dead-lettered",
            (true, _) => "failed",
        };
        let error = sent
            .outcome
            .as_ref()
            .and_then(|o| o.payload["error"].as_str().map(str::to_string));
        let reason = match (error, &sent.dead_lettered, sent.exit_code) {
            (Some(error), _, _) => Some(error),
            (None, Some(reason), _) => Some(reason.clone()),
            (None, None, 3) => Some("a negative verdict: the outcome event says why".into()),
            (None, None, 0) => None,
            (None, None, code) => Some(format!("ended with exit code {code}")),
        };
        let target = &payload["target"];
        let output = match (target["folder"].as_str(), target["repository"].as_str()) {
            _ if status != "succeeded" || !event.is_some_and(|(t, _)| t == "TemplateExecuted") => {
                None
            }
            (Some(folder), _) => Some(Output::Folder(folder.to_string())),
            (None, Some(repository)) => Some(Output::Repository(format!(
                "{}#{}",
                crate::git::url::without_credentials(repository),
                target["branch"].as_str().unwrap_or_default()
            ))),
            (None, None) => None,
        };
        Shape {
            status,
            event,
            output,
            reason,
        }
    }
}

fn exit_kind(code: u8) -> crate::error::ErrorKind {
    match code {
        2 => crate::error::ErrorKind::Usage,
        3 => crate::error::ErrorKind::Verdict,
        _ => crate::error::ErrorKind::Failure,
    }
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
    let log: crate::queue::worker::Log = std::sync::Arc::new(move |line| processed_line(json, line));
    let health = worker::run_worker(settings, &args.from, options, &report, say, log)?;
    health_line(json, health);
    Ok(())
}

/// One line per command handled, on stderr: `worker: GenerateScaffold cmd-… succeeded in
/// 0.41s`, then the exit code and the error when it failed; a JSON object with `--json`.
fn processed_line(json: bool, line: &Processed) {
    if json {
        eprintln!("{}", json!(line));
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
        json!({"handled": health.handled, "failed": health.failed, "deadLettered": health.dead_lettered, "inFlight": health.in_flight}).to_string()
    } else {
        format!(
            "worker: handled {}, failed {}, dead-lettered {}, in flight {}",
            health.handled, health.failed, health.dead_lettered, health.in_flight
        )
    };
    eprintln!("{line}");
}
