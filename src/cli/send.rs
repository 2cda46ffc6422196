//! `factory send`: put a command on its queue; with `--wait`, print its outcome in one shape
//! whether it succeeded or not.

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use super::{App, out};
use crate::app::generate::ScaffoldTarget;
use crate::app::worker::{self, SendCommand};
use crate::domain::events::DomainEvent;
use crate::error::{Error, Result};

// Arguments of `send`.
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
pub(crate) fn run(app: &App, args: SendArgs) -> Result<()> {
    let payload = read_payload(args.payload.as_deref())?;
    let waited = args.wait;
    let command_type = args.command_type;
    let request = SendCommand {
        payload: payload.clone(),
        url: args.to,
        command_type: command_type.clone(),
        service: args.service,
        unchecked: args.no_validate,
        wait: args.wait.then(|| Duration::from_secs(args.timeout)),
    };
    let sent = worker::send_command(&app.settings, request)?;
    let request = crate::app::Command::parse(&command_type, &payload).ok();
    let shape = Shape::of(&sent, request.as_ref(), waited);
    if app.json() {
        app.printer.json_document(&SendReport {
            command_id: &sent.command_id,
            queue: &sent.queue,
            status: shape.status,
            event_id: shape.event.map(|(_, id)| id),
            output: shape.output.as_ref().map(Output::as_str),
            reason: shape.reason.as_deref(),
            outcome: sent.outcome.as_ref(),
            dead_lettered: sent.dead_lettered.as_deref(),
            exit_code: sent.exit_code,
        });
    }
    print(app, &sent, &shape, waited);
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

/// The text: the command, then with --wait its status, event, and output or reason.
fn print(app: &App, sent: &crate::queue::send::Sent, shape: &Shape, waited: bool) {
    out!(app.printer, "Sent {} to {}", sent.command_id, sent.queue);
    if waited {
        out!(
            app.printer,
            "  status  {} (exit {})",
            shape.status,
            sent.exit_code
        );
    }
    if let Some((event_type, event_id)) = shape.event {
        out!(app.printer, "  event   {event_type} {event_id}");
    }
    match &shape.output {
        Some(Output::Folder(folder)) => {
            out!(
                app.printer,
                "  output  {folder} (below the worker's --output-root)"
            )
        }
        Some(Output::Repository(branch)) => out!(app.printer, "  output  {branch}"),
        None => {}
    }
    if let Some(reason) = &shape.reason {
        out!(app.printer, "  reason  {reason}");
    }
}

/// `send --json`: the command, and with --wait its status, event, output or reason.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SendReport<'a> {
    command_id: &'a str,
    queue: &'a str,
    status: &'static str,
    event_id: Option<&'a str>,
    output: Option<&'a str>,
    reason: Option<&'a str>,
    outcome: Option<&'a crate::events::Envelope>,
    dead_lettered: Option<&'a str>,
    exit_code: u8,
}

/// Where a generated project went.
enum Output {
    /// A folder below the worker's output root.
    Folder(String),
    /// A repository's branch (without credentials).
    Repository(String),
}

impl Output {
    /// Where a GenerateScaffold put its project, as the command named it.
    fn of(request: &crate::app::Command) -> Option<Output> {
        let crate::app::Command::GenerateScaffold(generate) = request else {
            return None;
        };
        match &generate.target {
            ScaffoldTarget {
                folder: Some(folder),
                ..
            } => Some(Output::Folder(folder.clone())),
            ScaffoldTarget {
                repository: Some(repository),
                branch,
                ..
            } => Some(Output::Repository(format!(
                "{}#{}",
                crate::git::url::without_credentials(repository),
                branch.as_deref().unwrap_or_default()
            ))),
            _ => None,
        }
    }

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
    /// `request` is the command as sent, when it parses (not with `--no-validate` and a
    /// malformed payload, which no worker runs).
    fn of(
        sent: &'a crate::queue::send::Sent,
        request: Option<&crate::app::Command>,
        waited: bool,
    ) -> Shape<'a> {
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
        let error = sent.outcome.as_ref().and_then(|o| {
            match DomainEvent::from_parts(&o.event_type, &o.payload) {
                Ok(Some(DomainEvent::TemplateExecuted(executed))) => executed.error,
                _ => None,
            }
        });
        let reason = match (error, &sent.dead_lettered, sent.exit_code) {
            (Some(error), _, _) => Some(error),
            (None, Some(reason), _) => Some(reason.clone()),
            (None, None, 3) => Some("a negative verdict: the outcome event says why".into()),
            (None, None, 0) => None,
            (None, None, code) => Some(format!("ended with exit code {code}")),
        };
        let executed = status == "succeeded" && event.is_some_and(|(t, _)| t == "TemplateExecuted");
        let output = request.filter(|_| executed).and_then(Output::of);
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
