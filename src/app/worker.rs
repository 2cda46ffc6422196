//! `factory worker` and `factory send`, the application's side: a command from a queue is
//! handled through the same dispatcher the command line uses ([`super::execute`]); its
//! events carry the command's correlation id and the first one's causation id is the
//! command id, which is how a redelivered command is found to be done already (the log
//! holds an event it caused) and answered with the recorded outcome instead of doing the
//! work again. The transport (consuming, settling, lock renewal, the `send` client) is
//! [`crate::queue::worker`] and [`crate::queue::send`].

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::{Command, Placement, Ports, Session, Settings};
use crate::broker::{self, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::queue::catalog;
use crate::queue::envelope::CommandEnvelope;
use crate::queue::send::{Destination, Sent};
use crate::queue::worker::{Handled, Handler, Health, Source, WorkerOptions};

/// The events each command caused, caught up with the log as it grows: the store's index
/// of causation chains ([`crate::store::CommandIndex`]), kept for the worker's lifetime.
#[derive(Debug, Default)]
pub struct CommandIndex(crate::store::CommandIndex);

impl CommandIndex {
    /// The ids of the events `command_id` caused, after reading what the log gained.
    pub fn events_of(&mut self, session: &Session, command_id: &str) -> Result<Vec<String>> {
        self.0.events_of(&session.store, command_id)
    }
}

/// Where a worker puts what commands generate.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The settings every command starts from.
    pub settings: Settings,
    /// Scaffolds go below this folder, never outside it (absolute, resolved).
    pub output_root: PathBuf,
    /// Commands may name folders and `file://` repositories of the worker's own machine
    /// (`--allow-local-sources`); otherwise only the store, its remotes and remote URLs.
    pub allow_local_sources: bool,
}

/// The settings of one command: the envelope's tenant, project, module, trace and
/// correlation; the command as the cause of its first event.
fn settings_for(base: &Settings, envelope: &CommandEnvelope) -> Settings {
    let mut settings = base.clone();
    settings.tenant = Some(envelope.tenant_id.clone());
    settings.project = envelope.project_id.clone();
    settings.module = envelope.module_id.clone();
    settings.trace_id = envelope.trace_id.clone();
    settings.correlation_id = envelope.correlation_id.clone();
    settings.causation_id = Some(envelope.command_id.clone());
    settings
}

/// The services a `--services` list names (all of them when empty).
pub fn services(named: &[String]) -> Result<Vec<String>> {
    let known = catalog::services();
    if named.is_empty() {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    for name in named {
        if !known.contains(&name.as_str()) {
            return Err(Error::usage(format!("`{name}` is not a service"))
                .hint(format!("the services are: {}", known.join(", "))));
        }
    }
    Ok(named.to_vec())
}

/// Commands that need what only the sender's machine has (a package file, a feed's key)
/// or whose outcome is a report with no event to carry it.
fn refused_from_queues(command: &Command) -> Option<Error> {
    match command {
        Command::PublishPackage(_) => Some(Error::usage(
            "PublishPackage is not served from queues: it needs a package file and a feed's API key on the worker's machine",
        )),
        Command::AdvisePackageUpgrade(_) => Some(Error::usage(
            "AdvisePackageUpgrade is not served from queues: its advice is a report, and the catalog has no event to carry it",
        )),
        _ => None,
    }
}

/// A queue's sender is not a user of the worker's machine: a template it names must be in
/// the store, on a remote of it, or at a remote git URL, unless the worker allows local
/// sources. The location that is refused, if any.
fn local_source(command: &Command, settings: &Settings) -> Option<String> {
    let named = match command {
        Command::RegisterTemplate(c) => Some(&c.location),
        Command::CreateTemplateVersion(c) => c.from.as_ref(),
        Command::GenerateScaffold(c) => Some(&c.template),
        _ => None,
    }?;
    let abbreviations = &settings.git.abbreviations;
    if !crate::source::is_location(named, abbreviations) {
        return None;
    }
    match crate::git::url::resolve(crate::git::split_ref(named).0, abbreviations) {
        Ok(Some(url)) if !url.starts_with("file:") => None,
        _ => Some(named.clone()),
    }
}

/// The application's handler of the worker's commands.
struct CommandHandler {
    worker: WorkerSettings,
    index: Mutex<CommandIndex>,
    /// Command ids being handled now: a duplicate delivery waits for the first to end,
    /// then finds its outcome in the log.
    in_flight: Mutex<HashSet<String>>,
    ended: Condvar,
    /// Where the events go, and the connection kept open between commands.
    target: Target,
    pusher: Mutex<Option<broker::push::Pusher>>,
    /// What a use case says besides its report goes to the worker's log (stderr).
    say: fn(&str),
}

/// Holds a command id for its delivery; released (and waiters woken) when dropped.
struct Claim<'a> {
    handler: &'a CommandHandler,
    command_id: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.handler.in_flight);
        in_flight.remove(&self.command_id);
        self.handler.ended.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl CommandHandler {
    /// Waits until no other delivery of `command_id` is being handled, then claims it.
    fn claim(&self, command_id: &str) -> Claim<'_> {
        let mut in_flight = lock(&self.in_flight);
        while in_flight.contains(command_id) {
            in_flight = self
                .ended
                .wait(in_flight)
                .unwrap_or_else(|e| e.into_inner());
        }
        in_flight.insert(command_id.to_string());
        Claim {
            handler: self,
            command_id: command_id.to_string(),
        }
    }

    /// Why a command from a queue is not taken at all, if it is not.
    fn refusal(&self, command: &Command, settings: &Settings) -> Option<Error> {
        if let Some(refusal) = refused_from_queues(command) {
            return Some(refusal);
        }
        let local = local_source(command, settings).filter(|_| !self.worker.allow_local_sources)?;
        Some(Error::usage(format!(
            "`{local}` is a folder or repository of the worker's own machine: a command from a queue names a template in the store, on a remote, or at a remote git URL"
        )))
    }

    /// A generation into a folder that is missing or empty is noted in the output root
    /// before it runs (`.factory-worker-CMD` naming the folder), and the note removed once
    /// its outcome is recorded. A delivery that finds the note and the folder was the
    /// command's own first attempt, killed after placing its output and before recording
    /// it: that output is replaced (the command's own, never a user's). The note's path.
    fn own_output(&self, command: &mut Command, command_id: &str) -> Option<PathBuf> {
        let Command::GenerateScaffold(request) = command else {
            return None;
        };
        let folder = request.target.folder.clone()?;
        let note = self
            .worker
            .output_root
            .join(format!(".factory-worker-{command_id}"));
        let target = self.worker.output_root.join(&folder);
        let noted = std::fs::read_to_string(&note).ok();
        if noted.as_deref() == Some(folder.as_str()) && target.exists() {
            request.overwrite = true;
            return Some(note);
        }
        let fresh = crate::generate::output::is_missing_or_empty(&target).unwrap_or(false);
        (fresh && std::fs::write(&note, &folder).is_ok()).then_some(note)
    }

    fn recorded(&self, session: &Session, command_id: &str) -> Result<Vec<String>> {
        lock(&self.index).events_of(session, command_id)
    }

    /// Notes and warnings of the command's session, as the terminal would show them.
    fn say_what_was_said(&self, session: &Session, envelope: &CommandEnvelope) {
        let notes = session.take_notes().into_iter().map(|n| ("note", n));
        let tool_warnings = session.take_tool_warnings().into_iter();
        let warnings = session.warnings().into_iter().chain(tool_warnings);
        let warnings = warnings.map(|w| ("warning", w));
        for (kind, text) in notes.chain(warnings) {
            (self.say)(&format!(
                "{kind}: {} {}: {}",
                envelope.command_type,
                envelope.command_id,
                crate::secrets::redact(&text)
            ));
        }
    }

    fn handle_claimed(&self, envelope: &CommandEnvelope) -> Handled {
        let rejected = |e: Error| Handled::Rejected {
            exit_code: e.kind.code(),
            reason: e.message,
        };
        let session = match Session::open(settings_for(&self.worker.settings, envelope)) {
            Ok(session) => session,
            Err(e) if e.is_transient() => return Handled::Failed { reason: e.message },
            Err(e) => return rejected(e),
        };
        // First of all: a redelivery of a command whose outcome (even a recorded refusal) is
        // in the log is answered with it.
        match self.recorded(&session, &envelope.command_id) {
            Ok(events) if !events.is_empty() => {
                // A worker that died after recording left its note of the output behind.
                let note = format!(".factory-worker-{}", envelope.command_id);
                let _ = std::fs::remove_file(self.worker.output_root.join(note));
                // A refusal recorded by a worker that died before dead-lettering it is
                // dead-lettered now (the dead-letter queue is at least once by command id).
                let refusal = Command::parse(&envelope.command_type, &envelope.payload).err();
                return Handled::Recorded {
                    events,
                    exit_code: refusal.as_ref().map_or(0, |e| e.kind.code()),
                    failure: refusal.map(|e| e.message),
                    again: true,
                };
            }
            Ok(_) => {}
            Err(e) => return Handled::Failed { reason: e.message },
        }
        let command = match Command::parse(&envelope.command_type, &envelope.payload) {
            Ok(command) => command,
            Err(e) => return rejected(e),
        };
        if let Some(refusal) = self.refusal(&command, &session.settings) {
            return rejected(refusal);
        }
        let mut command = command;
        let placing = self.own_output(&mut command, &envelope.command_id);
        let ports = Ports {
            placement: Placement::Below(self.worker.output_root.clone()),
            ..Ports::default()
        };
        let result = super::execute(&session, command, ports);
        if let Some(placing) = placing {
            let _ = std::fs::remove_file(placing);
        }
        self.say_what_was_said(&session, envelope);
        let events = match self.recorded(&session, &envelope.command_id) {
            Ok(events) => events,
            Err(e) => return Handled::Failed { reason: e.message },
        };
        match result {
            Ok(report) => Handled::Recorded {
                events,
                exit_code: report.exit_code(),
                failure: None,
                again: false,
            },
            Err(e) if e.kind == ErrorKind::Verdict => Handled::Recorded {
                events,
                exit_code: e.kind.code(),
                failure: None,
                again: false,
            },
            Err(e) if !events.is_empty() => Handled::Recorded {
                events,
                exit_code: e.kind.code(),
                failure: Some(e.message),
                again: false,
            },
            Err(e) if e.is_transient() => Handled::Failed { reason: e.message },
            Err(e) => rejected(e),
        }
    }
}

impl Handler for CommandHandler {
    fn handle(&self, envelope: &CommandEnvelope, _redelivered: bool) -> Handled {
        let _claim = self.claim(&envelope.command_id);
        // The secrets of this command's answers are forgotten once it is handled: what goes
        // to the broker (a reason in a dead-letter header) is masked while they are known.
        let _secrets = crate::secrets::Scope::begin();
        let masked = |reason: String| crate::secrets::redact(&reason).into_owned();
        match self.handle_claimed(envelope) {
            Handled::Recorded {
                events,
                exit_code,
                failure,
                again,
            } => Handled::Recorded {
                events,
                exit_code,
                failure: failure.map(masked),
                again,
            },
            Handled::Rejected { reason, exit_code } => Handled::Rejected {
                reason: masked(reason),
                exit_code,
            },
            Handled::Failed { reason } => Handled::Failed {
                reason: masked(reason),
            },
        }
    }

    /// Records a GenerateScaffold that failed without an event as TemplateExecuted(Failed),
    /// caused by the command.
    fn give_up(&self, envelope: &CommandEnvelope, reason: &str) -> bool {
        if envelope.command_type != "GenerateScaffold" {
            return false;
        }
        let Ok(session) = Session::open(settings_for(&self.worker.settings, envelope)) else {
            return false;
        };
        // Read from the raw JSON: a rejected command's payload need not parse as its type.
        let target = envelope.payload["target"]["folder"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let execution = crate::domain::commands::Execution {
            execution_id: crate::ids::new_id(crate::ids::EXECUTION),
            template_id: None,
            template_version_id: None,
            parameters: serde_json::Map::new(),
            target,
        };
        session
            .write(|state| {
                let events =
                    crate::domain::commands::execution_failed(state, &execution, reason, 0)?;
                Ok(crate::store::Decision::events(events, ()))
            })
            .is_ok()
    }

    fn publish(&self) -> Result<()> {
        let session = Session::open(self.worker.settings.clone())?;
        let push = &session.store.config().push;
        // One connection for every push of this worker; opened again after a failure.
        let mut pusher = lock(&self.pusher);
        if pusher.is_none() {
            let options = broker::push::Options {
                require_route: push.require_route,
                ..Default::default()
            };
            *pusher = Some(broker::push::Pusher::open(&self.target, options, |name| {
                push.connection_string(name)
            })?);
        }
        let pushed = pusher.as_mut().expect("just opened").push(&session.store);
        if pushed.is_err() {
            *pusher = None;
        }
        pushed.map(|_| ())
    }

    fn close(&self) {
        if let Some(pusher) = lock(&self.pusher).take() {
            pusher.close();
        }
    }
}

/// A Service Bus connection string named by `servicebus:NAME`, from the environment or
/// store.yaml.
fn service_bus(
    settings: &Settings,
    name: &str,
) -> Result<crate::broker::servicebus::ConnectionString> {
    let session = Session::open(settings.clone())?;
    let text = session
        .store
        .config()
        .push
        .connection_string(name)
        .ok_or_else(|| {
            Error::usage(format!(
                "no Service Bus connection string in ${name} or store.yaml's push.connectionStrings"
            ))
        })?;
    crate::broker::servicebus::ConnectionString::parse(&text, name)
}

/// Serves commands from `url` until SIGTERM or SIGINT; `report` hears the health every
/// interval, `say` each thing a command's use case says besides its report.
pub fn run_worker(
    worker: WorkerSettings,
    url: &str,
    options: WorkerOptions,
    report: &(dyn Fn(Health) + Sync),
    say: fn(&str),
    log: crate::queue::worker::Log,
) -> Result<Health> {
    let target = Target::parse(url)?;
    let source = match &target {
        Target::Amqp(url) => Source::Amqp(url.clone()),
        Target::ServiceBus(name) => Source::ServiceBus(service_bus(&worker.settings, name)?),
        Target::Http(_) => {
            return Err(Error::usage(
                "a worker takes commands from amqp://… or servicebus:NAME, not an HTTP endpoint",
            ));
        }
    };
    let handler = CommandHandler {
        worker,
        index: Mutex::default(),
        in_flight: Mutex::default(),
        ended: Condvar::new(),
        target,
        pusher: Mutex::new(None),
        say,
    };
    crate::queue::worker::run(source, options, handler, report, log)
}

/// A command to send.
#[derive(Debug, Clone)]
pub struct SendCommand {
    /// `amqp://…` or `servicebus:NAME`.
    pub url: String,
    /// VerbNoun.
    pub command_type: String,
    /// Its payload.
    pub payload: serde_json::Value,
    /// The service whose queue it goes to (default: the catalog's for the type).
    pub service: Option<String>,
    /// Send it even when it does not fit its schema (to test a worker's dead-lettering).
    pub unchecked: bool,
    /// Wait this long for the outcome.
    pub wait: Option<Duration>,
}

/// Puts a command on its queue; with `wait`, waits for its outcome event (matched by
/// causation) or its dead-lettering.
pub fn send_command(settings: &Settings, request: SendCommand) -> Result<Sent> {
    let spec = catalog::find(&request.command_type);
    let parsed = Command::parse(&request.command_type, &request.payload);
    if let (Err(e), false) = (&parsed, request.unchecked) {
        return Err(e.clone());
    }
    // An unchecked command of a type the catalog lacks goes where --service says.
    let service = match (&request.service, spec) {
        (Some(service), _) => services(std::slice::from_ref(service))?.remove(0),
        (None, Some(spec)) => spec.service.to_string(),
        (None, None) => {
            return Err(parsed.err().unwrap_or_else(|| {
                Error::usage(format!(
                    "`{}` has no queue in the catalog: name one with --service",
                    request.command_type
                ))
            }));
        }
    };
    let envelope = CommandEnvelope {
        command_id: crate::ids::new_id(crate::ids::COMMAND),
        command_type: request.command_type.clone(),
        tenant_id: settings
            .tenant
            .clone()
            .unwrap_or_else(|| crate::store::config::DEFAULT_TENANT.to_string()),
        project_id: settings.project.clone(),
        module_id: settings.module.clone(),
        trace_id: settings.trace_id.clone(),
        correlation_id: settings.correlation_id.clone(),
        causation_id: settings.causation_id.clone(),
        issued_at: crate::clock::format_rfc3339(time::OffsetDateTime::now_utc()),
        payload: request.payload.clone(),
    };
    let destination = match Target::parse(&request.url)? {
        Target::ServiceBus(name) => Destination::ServiceBus(service_bus(settings, &name)?),
        Target::Amqp(url) => Destination::Amqp(url),
        Target::Http(_) => {
            return Err(Error::usage(
                "commands go to amqp://… or servicebus:NAME, not an HTTP endpoint",
            ));
        }
    };
    crate::queue::send::send(
        destination,
        &service,
        &envelope,
        spec.map(|s| s.outcome),
        request.wait,
    )
}
