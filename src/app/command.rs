//! One command from a queue, handled through the same use case the command line calls:
//! its events carry the command's correlation id and the first one's causation id is the
//! command id, which is how a redelivered command is found to be done already (the log
//! holds an event it caused) and answered with the recorded outcome instead of doing the
//! work again.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::{Session, Settings};
use crate::error::{Error, ExitKind, Result};
use crate::events::Envelope;
use crate::events::log::LogReader;
use crate::queue::catalog::Command;
use crate::queue::envelope::CommandEnvelope;

/// What handling a command came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The command's events are in the log: appended now, or by an earlier delivery.
    Recorded {
        /// Their ids.
        events: Vec<String>,
        /// The exit code the command line would have given (0, 1 or 3).
        exit_code: u8,
        /// A failure to report in the dead-letter queue as well (the event records it).
        failure: Option<String>,
        /// Found done already: nothing was done again.
        again: bool,
    },
    /// Refused for good (a malformed command, a target outside the output root): to the
    /// dead-letter queue now.
    Rejected {
        /// Why.
        reason: String,
        /// 1 or 2.
        exit_code: u8,
    },
    /// Failed without recording anything; worth another attempt.
    Failed {
        /// Why.
        reason: String,
    },
}

/// The events each command caused, caught up with the log as it grows (one pass over what
/// is new; the log is append-only).
#[derive(Debug, Default)]
pub struct CommandIndex {
    offset: u64,
    events: HashMap<String, Vec<String>>,
    /// Event id → the command whose chain it is in.
    chains: HashMap<String, String>,
}

impl CommandIndex {
    /// The ids of the events `command_id` caused, after reading what the log gained.
    pub fn events_of(&mut self, session: &Session, command_id: &str) -> Result<Vec<String>> {
        let path = session.store.log_path();
        if let Some(mut reader) = LogReader::open_at(&path, self.offset)? {
            let chains = &mut self.chains;
            while let Some(line) = reader.next_line()? {
                self.offset = line.end;
                let Ok(envelope) = Envelope::from_line(line.bytes) else {
                    continue;
                };
                let Some(cause) = envelope.causation_id.clone() else {
                    continue;
                };
                let command = if cause.starts_with("cmd-") {
                    Some(cause)
                } else {
                    chains.get(&cause).cloned()
                };
                if let Some(command) = command {
                    chains.insert(envelope.event_id.clone(), command.clone());
                    self.events
                        .entry(command)
                        .or_default()
                        .push(envelope.event_id);
                }
            }
        }
        Ok(self.events.get(command_id).cloned().unwrap_or_default())
    }
}

/// Where a worker puts what commands generate.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The settings every command starts from.
    pub settings: Settings,
    /// Scaffolds go below this folder, never outside it (absolute, resolved).
    pub output_root: PathBuf,
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

/// A folder a command names, below the output root: relative, without `..`, and not
/// reached through a link that leaves the root.
pub fn inside_root(root: &Path, folder: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::usage(format!("target folder `{folder}` {why}"))
            .hint("name a folder relative to the worker's --output-root, e.g. {\"folder\": \"orders-api\"}")
    };
    let path = Path::new(folder);
    if folder.is_empty() {
        return Err(refuse("is empty"));
    }
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(refuse("leaves the output root (absolute, or with `..`)"));
    }
    let target = root.join(path);
    // The deepest part that exists must resolve inside the root.
    let existing = target.ancestors().find(|a| a.exists()).unwrap_or(root);
    let resolved =
        std::fs::canonicalize(existing).map_err(|e| Error::io("resolve", existing, e))?;
    if !resolved.starts_with(root) {
        return Err(refuse("leads out of the output root through a link"));
    }
    Ok(target)
}

/// Handles one command: parsed, checked, run through its use case, or found done.
pub fn handle(
    worker: &WorkerSettings,
    index: &std::sync::Mutex<CommandIndex>,
    envelope: &CommandEnvelope,
    redelivered: bool,
) -> Handled {
    let rejected = |e: Error| Handled::Rejected {
        exit_code: e.kind.code(),
        reason: e.message,
    };
    let session = match Session::open(settings_for(&worker.settings, envelope)) {
        Ok(session) => session,
        Err(e) => return Handled::Failed { reason: e.message },
    };
    let recorded = |index: &std::sync::Mutex<CommandIndex>| {
        index
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .events_of(&session, &envelope.command_id)
    };
    // First of all: a redelivery of a command whose outcome (even a recorded refusal) is
    // in the log is answered with it.
    match recorded(index) {
        Ok(events) if !events.is_empty() => {
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
    let result = run(worker, &session, command, redelivered);
    let events = match recorded(index) {
        Ok(events) => events,
        Err(e) => return Handled::Failed { reason: e.message },
    };
    match result {
        Ok(exit_code) => Handled::Recorded {
            events,
            exit_code,
            failure: None,
            again: false,
        },
        Err(e) if e.kind == ExitKind::Verdict => Handled::Recorded {
            events,
            exit_code: 3,
            failure: None,
            again: false,
        },
        Err(e) if !events.is_empty() => Handled::Recorded {
            events,
            exit_code: e.kind.code(),
            failure: Some(e.message),
            again: false,
        },
        Err(e) if e.kind == ExitKind::Usage => rejected(e),
        Err(e) => Handled::Failed { reason: e.message },
    }
}

/// Records a GenerateScaffold that failed without an event as TemplateExecuted(Failed),
/// caused by the command, once it is given up on.
pub fn record_failed_execution(
    worker: &WorkerSettings,
    envelope: &CommandEnvelope,
    reason: &str,
) -> Result<Vec<String>> {
    if envelope.command_type != "GenerateScaffold" {
        return Ok(Vec::new());
    }
    let session = Session::open(settings_for(&worker.settings, envelope))?;
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
    let (envelopes, ()) = session.write(|state| {
        let events = crate::domain::commands::execution_failed(state, &execution, reason, 0)?;
        Ok(crate::store::Decision::events(events, ()))
    })?;
    Ok(super::event_ids(&envelopes))
}

/// Generates into a scratch folder under the output root, commits the output (`.factory/`
/// included) with the command in a `Factory-Command:` trailer, and pushes the commit to a
/// new branch of the repository before the run is recorded.
fn generate_into_repository(
    worker: &WorkerSettings,
    session: &Session,
    request: super::generate::GenerateScaffold,
    url: &str,
    branch: &str,
) -> Result<()> {
    if !crate::git::is_git_url(url) {
        return Err(Error::usage(format!(
            "`{}` is not a git repository URL",
            crate::http::redact_url(url)
        )));
    }
    if !crate::git::fetch::is_branch_name(branch) {
        return Err(Error::usage(format!("`{branch}` is not a branch name")));
    }
    let scratch = tempfile::Builder::new()
        .prefix(".factory-push-")
        .tempdir_in(&worker.output_root)
        .map_err(|e| Error::io("create a folder in", &worker.output_root, e))?;
    let target = scratch.path().join("scaffold");
    let command_id = session.settings.causation_id.clone().unwrap_or_default();
    let fetch = &session.settings.git.fetch;
    let deliver = |dir: &Path| -> Result<String> {
        crate::git::fetch::push_head(dir, url, branch, fetch)?;
        Ok(format!(
            "{}#{branch}",
            crate::git::url::without_credentials(url)
        ))
    };
    let request = super::generate::GenerateScaffold {
        target,
        git: true,
        commit_trailer: Some(format!("Factory-Command: {command_id}")),
        ..request
    };
    let ports = super::generate::Ports {
        progress: &crate::generate::Silent,
        asker: None,
        deliver: Some(&deliver),
    };
    super::generate::generate_scaffold(session, request, ports)?;
    Ok(())
}

/// Runs the command's use case; the exit code its outcome would give on the command line.
fn run(
    worker: &WorkerSettings,
    session: &Session,
    command: Command,
    redelivered: bool,
) -> Result<u8> {
    use super::{compat, library, template, upgrade, validate};
    match command {
        Command::RegisterTemplate(c) => {
            template::register_template(
                session,
                template::RegisterTemplate {
                    location: c.location,
                    name: c.name,
                    owner: c.owner,
                    reference: c.reference,
                    directory: c.directory,
                    ..Default::default()
                },
            )?;
        }
        Command::CreateTemplateVersion(c) => {
            use crate::domain::commands::{Bump, VersionSpec};
            let version = match (c.version, c.bump.as_deref()) {
                (Some(number), None) => VersionSpec::Exact(number),
                (None, None | Some("patch")) => VersionSpec::Bump(Bump::Patch),
                (None, Some("minor")) => VersionSpec::Bump(Bump::Minor),
                (None, Some("major")) => VersionSpec::Bump(Bump::Major),
                _ => {
                    return Err(Error::usage(
                        "give `version` or `bump` (major, minor, patch), not both",
                    ));
                }
            };
            template::create_template_version(
                session,
                template::CreateTemplateVersion {
                    template: c.template,
                    from: c.from,
                    version,
                    reference: None,
                    directory: None,
                },
            )?;
        }
        Command::PublishTemplate(c) => {
            template::publish_template(
                session,
                template::PublishTemplate {
                    reference: c.template,
                    to: c.to,
                },
            )?;
        }
        Command::ValidateTemplate(c) => {
            let validated = validate::validate_template(
                Some(session),
                &session.settings,
                validate::ValidateTemplate {
                    subject: validate::ValidationSubject::Stored(c.template),
                    matrix: c.matrix,
                },
            )?;
            return Ok(if validated.passed() { 0 } else { 3 });
        }
        Command::GenerateScaffold(c) => {
            let target = c.target.clone();
            let request = super::generate::GenerateScaffold {
                template: c.template,
                answers: c.answers,
                allow_draft: c.allow_draft,
                runtime: c.runtime,
                ..Default::default()
            };
            match (target.folder, target.repository, target.branch) {
                (Some(folder), None, None) => {
                    let target = inside_root(&worker.output_root, &folder)?;
                    // A redelivery may find the output of an earlier attempt that died
                    // before its events were recorded: that attempt's files are replaced.
                    let force = redelivered && target.exists();
                    let request = super::generate::GenerateScaffold {
                        target,
                        force,
                        ..request
                    };
                    let ports = super::generate::Ports {
                        progress: &crate::generate::Silent,
                        asker: None,
                        deliver: None,
                    };
                    super::generate::generate_scaffold(session, request, ports)?;
                }
                (None, Some(url), Some(branch)) => {
                    generate_into_repository(worker, session, request, &url, &branch)?
                }
                _ => {
                    return Err(Error::usage("the target names neither a folder nor a repository with a branch")
                        .hint("{\"folder\": \"orders\"} under the output root, or {\"repository\": URL, \"branch\": NAME}"));
                }
            }
        }
        Command::EvaluateCompatibility(c) => {
            let evaluated = compat::evaluate_compatibility(
                session,
                compat::EvaluateCompatibility {
                    templates: c.templates,
                    libraries: c.libraries,
                    runtime: c.runtime,
                },
            )?;
            return Ok(if evaluated.evaluation.compatible {
                0
            } else {
                3
            });
        }
        Command::PlanTemplateUpgrade(c) => {
            let dir = inside_root(&worker.output_root, &c.folder)?;
            let report = upgrade::plan_template_upgrade(
                session,
                upgrade::PlanTemplateUpgrade {
                    dir,
                    to: c.to,
                    apply: false,
                    conflict_style: crate::upgrade::plan::ConflictStyle::Merge,
                    answers: Default::default(),
                },
                None,
            )?;
            return Ok(if report.plan.conflict_count() > 0 {
                3
            } else {
                0
            });
        }
        Command::RegisterLibrary(c) => {
            library::register_library(
                session,
                library::RegisterLibrary {
                    name: c.name,
                    ecosystem: c.ecosystem,
                    area: c.area,
                    description: c.description,
                    spec: None,
                    client_name: None,
                },
            )?;
        }
        Command::CreateLibraryVersion(c) => {
            library::create_library_version(
                session,
                library::CreateLibraryVersion {
                    name: c.library,
                    version: c.version,
                    path: None,
                    dependencies: c.dependencies,
                    frameworks: c.frameworks,
                },
            )?;
        }
        Command::ScanDependencies(c) => {
            library::scan_dependencies(
                session,
                library::ScanDependencies {
                    reference: c.library,
                    advisories: None,
                },
            )?;
        }
        Command::PublishPackage(_) => {
            return Err(Error::usage(
                "PublishPackage is not served from queues: it needs a package file and a feed's API key on the worker's machine",
            )
            .hint("run `factory library publish` where the package and the key are"));
        }
        Command::AdvisePackageUpgrade(_) => {
            return Err(Error::usage(
                "AdvisePackageUpgrade is not served from queues: its advice is a report, and the catalog has no event to carry it",
            )
            .hint("run `factory library advise` and read its report"));
        }
    }
    Ok(0)
}
