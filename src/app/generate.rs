//! `GenerateScaffold`: render a template into a new project, gated by compatibility, with
//! its provenance describing the tree that is finally placed.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Reference, Session, event_ids};
use crate::compat;
use crate::domain::commands::{self, Execution};
use crate::error::{Error, Result};
use crate::generate::source::{self, ResolvedSource, VersionChoice};
use crate::generate::{self, Outcome, Progress};
use crate::render::tree::Renderer;
use crate::store::Decision;
use crate::template::answers::{self, Answers, Asker};
use crate::template::manifest::Flavour;
use crate::template::yaml;

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct GenerateScaffold {
    /// `NAME[@VERSION]` in the store, a template folder, or a git URL[#REF].
    pub template: String,
    /// The output folder.
    pub target: PathBuf,
    /// Answers given up front (typed later by each parameter).
    pub answers: Map<String, Value>,
    /// Allow a version that is not published.
    pub allow_draft: bool,
    /// The runtime to judge the template's RuntimeRequires against.
    pub runtime: Option<String>,
    /// Write over a non-empty target.
    pub force: bool,
    /// Render and hash only.
    pub dry_run: bool,
    /// Commit the output to git.
    pub git: bool,
    /// Run the template's hooks and tasks.
    pub trust: bool,
    /// Also write cookiecutter's replay file or copier's answers file.
    pub compat_answers: bool,
    /// The ref of a repository source (`--ref`).
    pub reference: Option<String>,
    /// The template's folder inside a repository source (`--directory`).
    pub directory: Option<String>,
    /// `--flavor`, for a template folder with both copier.yml and cookiecutter.json.
    pub flavor: Option<source::Flavor>,
    /// Lines for the end of the commit message (with `git`).
    pub commit_trailer: Option<String>,
}

/// Delivers the placed output somewhere else before the run is recorded (a worker pushes
/// the commit to a repository); returns where it went, without credentials.
pub type Deliver<'a> = &'a dyn Fn(&std::path::Path) -> Result<String>;

/// The ports a generation uses besides the session.
pub struct Ports<'a> {
    /// Progress of the files written.
    pub progress: &'a dyn Progress,
    /// Asks for answers (on a terminal); `None` elsewhere.
    pub asker: Option<&'a mut dyn Asker>,
    /// Delivers the output before it is recorded; a failure is recorded as the run's.
    pub deliver: Option<Deliver<'a>>,
}

/// What a generation produced.
#[derive(Debug, Clone)]
pub struct GenerateReport {
    /// Nothing was written or recorded.
    pub dry_run: bool,
    /// `NAME@VERSION`, the folder or the URL.
    pub template: String,
    /// The stored template's id.
    pub template_id: Option<String>,
    /// The stored version's id.
    pub template_version_id: Option<String>,
    /// The output folder as given.
    pub target: PathBuf,
    /// The output folder, absolute.
    pub target_absolute: String,
    /// Files, hash, ids.
    pub outcome: Outcome,
    /// The events recorded.
    pub events: Vec<String>,
}

/// Runs a generation: resolve the source, check the target and the hooks, resolve the
/// answers in the template's environment, judge compatibility, render, record.
pub fn generate_scaffold(
    session: &Session,
    request: GenerateScaffold,
    ports: Ports,
) -> Result<GenerateReport> {
    let mut state = session.store.state()?;
    let settings = &session.settings;
    let resolved = if source::is_location(&request.template, &settings.git.abbreviations) {
        let fetch = source::Fetch {
            flavor: request.flavor,
            ..settings.fetch(request.reference.clone(), request.directory.clone())
        };
        let resolved = source::from_location(&request.template, &fetch)?;
        for note in &resolved.notes {
            session.note(note.clone());
        }
        resolved
    } else {
        if request.flavor.is_some() {
            return Err(Error::usage(format!(
                "--flavor applies to a template folder; {} is read as it was stored",
                request.template
            ))
            .hint(
                "a stored version with both copier.yml and cookiecutter.json is a copier template",
            ));
        }
        let reference = Reference::parse(&request.template);
        // Not in the store: the remotes, in order, may have it.
        let here = state
            .template(reference.name)
            .is_some_and(|t| match reference.version {
                Some(v) => t.version(v).is_some(),
                None => {
                    t.latest_published().is_some() || request.allow_draft && t.latest().is_some()
                }
            });
        if !here
            && super::remote::pull_from_remotes(session, reference.name, reference.version)?
                .is_some()
        {
            state = session.store.state()?;
        }
        let choice = if request.allow_draft {
            VersionChoice::Any
        } else {
            VersionChoice::Published
        };
        source::stored(
            &state,
            &session.store.blobs(),
            reference.name,
            reference.version,
            choice,
        )?
    };
    // cookiecutter's -o is the folder its project folder is made in; which project folder
    // the answers decide, so that target is checked once they are known.
    let into_parent = resolved.manifest.flavour() == Flavour::Cookiecutter;
    if !request.dry_run && !into_parent {
        prepare_target(session, &request.target, request.force)?;
    }
    let hooks = generate::hooks::Hooks::of(&resolved.files, &resolved.manifest)?;
    if !hooks.is_empty() && !request.trust && !request.dry_run {
        return Err(Error::new(format!(
            "{} wants to run code: {}; nothing was written",
            resolved.label,
            hooks.describe().join(", ")
        ))
        .hint("read what it runs, then pass --trust to allow it (or --dry-run to see the files without running anything)"));
    }
    // A template's Python extensions run only with --trust, in a helper started once.
    let extensions = &resolved.manifest.python_extensions;
    if !extensions.is_empty() && !request.trust {
        return Err(Error::new(format!(
            "{} wants to run code: its Jinja extensions {} are Python{}; nothing was written",
            resolved.label,
            extensions.join(", "),
            if request.dry_run { ", and it cannot render without them" } else { "" }
        ))
        .hint("read what they do (the template's files, the packages they name), then pass --trust to run them"));
    }
    let python = if extensions.is_empty() {
        None
    } else {
        Some(Arc::new(generate::python::PythonExtensions::start(
            &settings.python,
            &resolved.files,
            extensions,
            &resolved.label,
        )?))
    };
    let mut render_settings = session.settings.render.clone();
    if let Some(python) = &python {
        render_settings.foreign = Some(Arc::clone(python) as Arc<dyn crate::render::Foreign>);
    }
    let flavour = resolved.manifest.flavour();
    if request.compat_answers && flavour == Flavour::Factory {
        return Err(
            Error::usage("--compat-answers applies to cookiecutter and copier templates")
                .hint("factory's own templates keep their answers in .factory/scaffold.yaml"),
        );
    }
    if request.compat_answers && flavour == Flavour::Cookiecutter && !request.dry_run {
        // Refused before anything is written, not after the output is placed.
        let (dir, file) = replay_file(session, &resolved)?;
        crate::render::write::refuse_links_at(&dir, &file)?;
    }
    let renderer = Renderer::new(
        &resolved.manifest,
        Arc::clone(&resolved.files),
        &render_settings,
    )
    .map_err(|m| Error::new(format!("{}: {m}", resolved.label)))?;
    let answers = answers::resolve_with(
        &resolved.manifest,
        renderer.env(),
        &request.answers,
        true,
        ports.asker,
        &tool_run(&request, &resolved),
    )
    .map_err(|problems| {
        answers::not_usable(&resolved.label, &problems).hint(
            "give answers with --set NAME=VALUE or --answers FILE; `factory show` lists the parameters",
        )
    })?;
    let mut answers = answers;
    if let Some(python) = python.as_ref().filter(|_| flavour == Flavour::Copier) {
        answers.hooked = python
            .context(&answers.plain_context())
            .map_err(|m| Error::new(format!("{}: its context hook failed: {m}", resolved.label)))?;
    }
    for name in &answers.dropped {
        session.store.notice(format!(
            "the answer for `{name}` is not used: its `when` does not hold for these answers"
        ));
    }
    // The context for deciding before the run (the run builds its own: hooks may change it).
    let ctx = answers.context();
    // A content folder chosen by the answers (copier's templated `_subdirectory`).
    let chosen = renderer
        .for_answers(&ctx)
        .map_err(|m| Error::new(format!("{}: {m}", resolved.label)))?;
    let renderer = chosen.as_ref().unwrap_or(&renderer);
    let target = if into_parent {
        let folder = renderer
            .project_folder(&ctx)
            .map_err(|m| Error::new(format!("{}: {m}", resolved.label)))?;
        let project = request.target.join(folder);
        if !request.dry_run {
            prepare_target(session, &project, request.force)?;
        }
        project
    } else {
        request.target.clone()
    };
    // Absolute once the output exists (canonical), as events and replay files name it.
    let execution = |execution_id: &str| Execution {
        execution_id: execution_id.to_string(),
        template_id: resolved.template_id.clone(),
        template_version_id: resolved.template_version_id.clone(),
        parameters: answers.public(),
        target: generate::absolute(&target),
    };

    // The compatibility gate: the libraries these answers select (and the runtime, when
    // named) against the registry. Incompatible means no output.
    let selected = renderer.libraries(&ctx)?;
    let composition = compat::Composition {
        templates: vec![compat::TemplateSubject {
            label: resolved.label.clone(),
            name: resolved.manifest.name.clone(),
            manifest: resolved.manifest.clone(),
            selected: Some(selected.iter().map(|l| l.package_name.clone()).collect()),
        }],
        libraries: Vec::new(),
        runtime: request.runtime.clone(),
    };
    let evaluation = compat::evaluate(&state, &composition)?;
    if !evaluation.compatible {
        let message = format!(
            "{} cannot be generated with these answers: {}",
            resolved.label,
            compat::explain(&evaluation).replace('\n', "\n  ")
        );
        if !request.dry_run {
            let execution = execution(&crate::ids::new_id(crate::ids::EXECUTION));
            session.write(|state| {
                let mut events = commands::execution_failed(state, &execution, &message, 0)?;
                events.insert(1, compat::event("generate", &evaluation));
                Ok(Decision::events(events, ()))
            })?;
        }
        return Err(Error::verdict(message)
            .hint("choose other answers or versions; `factory compat` shows the whole matrix"));
    }

    let extra_files = match (request.compat_answers, flavour) {
        (true, Flavour::Copier) => vec![copier_answers_file(&resolved, &answers)?],
        _ => Vec::new(),
    };
    let run = generate::Request {
        source: &resolved,
        renderer,
        answers: &answers,
        target: target.clone(),
        force: request.force,
        dry_run: request.dry_run,
        git: request.git,
        commit_trailer: request.commit_trailer.clone(),
        generated_at: crate::clock::format_rfc3339(session.settings.render.now()),
        hooks: if request.trust {
            hooks
        } else {
            Default::default()
        },
        extra_files,
    };
    let mut result = generate::run(&run, ports.progress);
    // Delivered before recorded: the events never say a scaffold arrived that did not.
    if let (Some(deliver), Ok(outcome)) = (ports.deliver, &mut result) {
        match deliver(&target) {
            Ok(place) => outcome.repository = Some(place),
            Err(error) => {
                result = Err(generate::Failure {
                    execution_id: outcome.execution_id.clone(),
                    duration_ms: outcome.duration_ms,
                    error,
                });
            }
        }
    }
    let report = |outcome: Outcome, events: Vec<String>| GenerateReport {
        dry_run: request.dry_run,
        template: resolved.label.clone(),
        template_id: resolved.template_id.clone(),
        template_version_id: resolved.template_version_id.clone(),
        target: target.clone(),
        target_absolute: generate::absolute(&target),
        outcome,
        events,
    };
    if request.dry_run {
        return Ok(report(result.map_err(|f| f.error)?, Vec::new()));
    }
    match result {
        Ok(outcome) => {
            let scaffold = commands::Scaffold {
                scaffold_output_id: outcome.scaffold_output_id.clone(),
                libraries: outcome.libraries.clone(),
                repository: outcome.repository.clone(),
                content_hash: outcome.content_hash.clone(),
                file_count: outcome.files.len() as u64,
                byte_count: outcome.byte_count,
            };
            let execution = execution(&outcome.execution_id);
            let (envelopes, ()) = session.write(|state| {
                let events = commands::execution_succeeded(
                    state,
                    &execution,
                    scaffold,
                    outcome.duration_ms,
                )?;
                Ok(Decision::events(events, ()))
            })?;
            if request.compat_answers && flavour == Flavour::Cookiecutter {
                let output_dir = generate::absolute(&request.target);
                write_cookiecutter_replay(session, &resolved, &answers, &output_dir)?;
            }
            Ok(report(outcome, event_ids(&envelopes)))
        }
        Err(failure) => {
            // What failed may quote a secret (a path built from it, a task's command line):
            // the event is redacted as it is appended, the error as it is printed.
            let execution = execution(&failure.execution_id);
            // The failure is what the user needs to hear; a failure to record it is a warning.
            if let Err(e) = session.write(|state| {
                let events = commands::execution_failed(
                    state,
                    &execution,
                    &failure.error.message,
                    failure.duration_ms,
                )?;
                Ok(Decision::events(events, ()))
            }) {
                session
                    .store
                    .notice(format!("the failed run was not recorded: {}", e.message));
            }
            Err(failure.error)
        }
    }
}

/// Undoes a killed run on `target` first, then checks that it may be written.
fn prepare_target(session: &Session, target: &std::path::Path, force: bool) -> Result<()> {
    for recovered in crate::transaction::recover_interrupted(target) {
        session.store.notice(recovered);
    }
    generate::check_target(target, force)
}

/// The facts of this run that cookiecutter and copier templates can read.
fn tool_run(
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
) -> crate::template::context::Run {
    let src_path = match &resolved.source_ref.directory {
        Some(directory) => format!("{}/{directory}", resolved.source_ref.uri),
        None => resolved.source_ref.uri.clone(),
    };
    crate::template::context::Run {
        template: request.template.clone(),
        url: resolved.source_ref.uri.clone(),
        src_path,
        dst_path: generate::absolute(&request.target),
        vcs_ref: request.reference.clone(),
        commit: resolved.source_ref.commit.clone(),
        given: request.answers.clone(),
        trusted: request.trust,
        defaults: true,
        overwrite: request.force,
    }
}

/// copier's answers file (`_answers_file`, default `.copier-answers.yml`), secrets left out:
/// written into the output before its provenance is computed.
fn copier_answers_file(resolved: &ResolvedSource, answers: &Answers) -> Result<(String, Vec<u8>)> {
    let mut text =
        String::from("# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n");
    if let Some(commit) = &resolved.source_ref.commit {
        text.push_str(&format!("_commit: {commit}\n"));
    }
    text.push_str(&format!(
        "_src_path: {}\n",
        yaml::quote(&resolved.source_ref.uri)
    ));
    // As copier: an answer to a question that was not asked (`when` false) is not recorded.
    text.push_str(&serde_saphyr::to_string(&answers.recorded()).expect("answers serialize"));
    let name = resolved
        .manifest
        .answers_file
        .as_deref()
        .unwrap_or(".copier-answers.yml");
    crate::render::paths::check_inside(name)
        .map_err(|m| Error::new(format!("_answers_file `{name}`: {m}")))?;
    Ok((
        name.to_string(),
        crate::secrets::redact(&text).into_owned().into_bytes(),
    ))
}

/// Where cookiecutter's replay file goes: `~/.cookiecutter_replay` and `NAME.json`.
fn replay_file(session: &Session, resolved: &ResolvedSource) -> Result<(PathBuf, String)> {
    let home = session
        .settings
        .home
        .as_ref()
        .ok_or_else(|| Error::new("no HOME for cookiecutter's replay folder"))?;
    let name = crate::template::load::name_from_location(&resolved.source_ref.uri);
    Ok((home.join(".cookiecutter_replay"), format!("{name}.json")))
}

/// cookiecutter's replay file, `~/.cookiecutter_replay/NAME.json`, secrets left out; never
/// written through a link.
fn write_cookiecutter_replay(
    session: &Session,
    resolved: &ResolvedSource,
    answers: &Answers,
    output_dir: &str,
) -> Result<()> {
    let (dir, file) = replay_file(session, resolved)?;
    let mut context = answers.public();
    context.insert(
        "_template".into(),
        Value::String(resolved.source_ref.uri.clone()),
    );
    context.insert("_output_dir".into(), Value::String(output_dir.to_string()));
    let text = serde_json::to_string_pretty(&json!({ "cookiecutter": context }))
        .expect("answers serialize");
    crate::render::write::replace_file(&dir, &file, crate::secrets::redact(&text).as_bytes())
}
