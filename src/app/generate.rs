//! `GenerateScaffold`: render a template into a new project, gated by compatibility, with
//! its provenance describing the tree that is finally placed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{Ports, Reference, Session, event_ids};
use crate::compat;
use crate::domain::commands::{self, Execution};
use crate::error::{Error, Result};
use crate::generate::{self, Outcome};
use crate::render::tree::Renderer;
use crate::source::{self, ResolvedSource, VersionChoice};
use crate::store::Decision;
use crate::template::answers::{self, Answers};
use crate::template::manifest::Flavour;

/// Where a generated scaffold goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaffoldTarget {
    /// A folder relative to the worker's `--output-root`, never outside it.
    #[serde(default)]
    pub folder: Option<String>,
    /// A git repository URL to push a commit of the output to.
    #[serde(default)]
    pub repository: Option<String>,
    /// The branch of `repository`.
    #[serde(default)]
    pub branch: Option<String>,
}

impl ScaffoldTarget {
    /// A folder target (the command line's `-o`).
    pub fn folder(path: &Path) -> ScaffoldTarget {
        ScaffoldTarget {
            folder: Some(path.display().to_string()),
            ..Default::default()
        }
    }
}

/// `GenerateScaffold`: render a template into a target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateScaffold {
    /// `NAME[@VERSION]` in the store (or a remote of it), a folder or a git URL.
    pub template: String,
    /// The answers.
    #[serde(default)]
    pub answers: Map<String, Value>,
    /// Where the output goes.
    pub target: ScaffoldTarget,
    /// The runtime to judge RuntimeRequires against.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Allow a version that is not published.
    #[serde(default)]
    pub allow_draft: bool,
    /// Replace a target folder that already holds files, all or nothing (`--force`).
    #[serde(default)]
    pub overwrite: bool,
    /// A template repository's newest release may be a pre-release (`--prereleases`,
    /// copier's `-g`), when no ref is named.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prereleases: bool,
    /// copier's answers file, named by the user over the template's `_answers_file`
    /// (`--answers-file`, copier's `-a`); a path inside the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers_file: Option<String>,
    /// Exclusions after the template's own (`--exclude`, copier's `-x`), in the template's
    /// pattern language (gitignore patterns over the output for copier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Files kept when the output folder has them, after the template's `_skip_if_exists`
    /// (`--skip`, copier's `-s`); rendered over the answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_if_exists: Vec<String>,
    /// Render and hash only (command line only).
    #[serde(skip)]
    pub dry_run: bool,
    /// Commit the output to git (command line only).
    #[serde(skip)]
    pub git: bool,
    /// Run the template's hooks and tasks (command line only).
    #[serde(skip)]
    pub trust: bool,
    /// Also write cookiecutter's replay file or copier's answers file (command line only).
    #[serde(skip)]
    pub compat_answers: bool,
    /// Leave a copier template's `_tasks` unrun, copier's `--skip-tasks` (command line only):
    /// they then need no `--trust`.
    #[serde(skip)]
    pub skip_tasks: bool,
    /// Answers an earlier generation recorded (copier's recopy, `--last-answers`; command
    /// line only): offered when a question is asked, taken when not, left for the default
    /// when its `when` does not hold. Without them, a copier template copied over a project
    /// takes the project's answers file, as copier does.
    #[serde(skip)]
    pub last_answers: Option<Map<String, Value>>,
    /// With `last_answers`, ask only what they do not answer (`--skip-answered`).
    #[serde(skip)]
    pub skip_answered: bool,
    /// The ref of a repository source, `--ref` (command line only).
    #[serde(skip)]
    pub reference: Option<String>,
    /// The template's folder inside a repository source, `--directory` (command line only).
    #[serde(skip)]
    pub directory: Option<String>,
    /// `--flavor`, for a template folder with both copier.yml and cookiecutter.json.
    #[serde(skip)]
    pub flavor: Option<source::ReadAs>,
    /// Lines for the end of the commit message (with `git`).
    #[serde(skip)]
    pub commit_trailer: Option<String>,
    /// On a failure after rendering started (a task that fails), leave what was written
    /// so far in the output folder, as copier's `--no-cleanup` does; nothing is recorded
    /// (command line only).
    #[serde(skip)]
    pub no_cleanup: bool,
}

/// Delivers the placed output somewhere else before the run is recorded (a worker pushes
/// the commit to a repository); returns where it went, without credentials.
type Deliver<'a> = &'a dyn Fn(&Path) -> Result<String>;

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
    /// copier's `_message_after_copy`, rendered: said last, after everything else the run
    /// prints, as copier says it.
    pub message_after: Option<String>,
}

/// Runs a generation: resolve the source, check the target and the hooks, resolve the
/// answers in the template's environment, judge compatibility, render, record.
pub fn generate_scaffold(
    session: &Session,
    request: GenerateScaffold,
    ports: Ports,
) -> Result<GenerateReport> {
    match (&request.target.folder, &request.target.repository, &request.target.branch) {
        (Some(folder), None, None) => {
            let output = ports.placement.folder(folder)?;
            generate_into(session, request, output, ports, None)
        }
        (None, Some(url), Some(branch)) => {
            let (url, branch) = (url.clone(), branch.clone());
            generate_into_repository(session, request, &url, &branch, ports)
        }
        _ => Err(Error::usage("the target names neither a folder nor a repository with a branch")
            .hint("{\"folder\": \"orders\"} under the output root, or {\"repository\": URL, \"branch\": NAME}")),
    }
}

impl GenerateScaffold {
    pub(super) fn execute(self, session: &Session, ports: Ports) -> Result<GenerateReport> {
        generate_scaffold(session, self, ports)
    }
}

/// Generates into a scratch folder, commits the output (`.factory/` included) with the
/// command in a `Factory-Command:` trailer, and pushes the commit to a new branch of the
/// repository before the run is recorded.
fn generate_into_repository(
    session: &Session,
    request: GenerateScaffold,
    url: &str,
    branch: &str,
    ports: Ports,
) -> Result<GenerateReport> {
    if !crate::git::is_git_url(url) {
        return Err(Error::usage(format!(
            "`{}` is not a git repository URL",
            crate::http::redact_url(url)
        )));
    }
    if !crate::git::fetch::is_branch_name(branch) {
        return Err(Error::usage(format!("`{branch}` is not a branch name")));
    }
    let scratch_root = ports.placement.scratch_root();
    let scratch = tempfile::Builder::new()
        .prefix(".factory-push-")
        .tempdir_in(&scratch_root)
        .map_err(|e| Error::io("create a folder in", &scratch_root, e))?;
    let command_id = session.settings.causation_id.clone().unwrap_or_default();
    let fetch = &session.settings.git.fetch;
    let deliver = |dir: &Path| -> Result<String> {
        crate::git::fetch::push_head(dir, url, branch, fetch)?;
        Ok(format!(
            "{}#{branch}",
            crate::git::url::without_credentials(url)
        ))
    };
    let request = GenerateScaffold {
        git: true,
        commit_trailer: Some(format!("Factory-Command: {command_id}")),
        ..request
    };
    let output = scratch.path().join("scaffold");
    generate_into(session, request, output, ports, Some(&deliver))
}

/// Generates into `output`, a folder the placement rule accepted, in phases: resolve the
/// source, gate what it would run, resolve the answers, judge compatibility, render and
/// place, record.
fn generate_into(
    session: &Session,
    request: GenerateScaffold,
    output: PathBuf,
    ports: Ports,
    deliver: Option<Deliver>,
) -> Result<GenerateReport> {
    let (state, mut resolved) = resolve_source(session, &request)?;
    user_options(&request, &mut resolved)?;
    debug_read(&resolved, ports.progress);
    // cookiecutter's -o holds its project folder, checked once the answers name it.
    let into_parent = resolved.manifest.flavour() == Flavour::Cookiecutter;
    if !request.dry_run && !into_parent {
        let existing = into_existing(&resolved, ports.placement.root());
        prepare_target(session, &output, (request.overwrite, existing))?;
    }
    let hooks = gate(&request, &resolved)?;
    refuse_replay_through_links(session, &request, &resolved)?;
    let hooks = pre_prompt(&request, &mut resolved, hooks, ports.progress)?;
    let (renderer, python) = renderer(session, &resolved)?;
    let run_facts = tool_run(session, &request, &output, &resolved);
    let messages = Messages::of(&resolved, &renderer, ports.progress)?;
    messages.before_answers("before_copy", &resolved, &run_facts)?;
    let answers = resolve_answers(
        session,
        &request,
        &resolved,
        &renderer,
        &python,
        ports.asker,
        &run_facts,
    )?;
    // The context for deciding before the run (the run builds its own: hooks may change it);
    // a content folder chosen by the answers (copier's templated `_subdirectory`).
    let ctx = answers.context();
    let chosen = renderer
        .for_answers(&ctx)
        .map_err(|m| Error::new(format!("{}: {m}", resolved.label)))?;
    let renderer = chosen.as_ref().unwrap_or(&renderer);
    let target = match into_parent {
        true => project_folder(session, &request, &resolved, renderer, &ctx, &output)?,
        false => output.clone(),
    };
    debug_target(&resolved, &target, ports.progress);
    // The target absolute once the output exists (canonical), as events name it.
    let execution = |execution_id: &str| Execution {
        execution_id: execution_id.to_string(),
        template_id: resolved.template_id.clone(),
        template_version_id: resolved.template_version_id.clone(),
        parameters: answers.public(),
        target: generate::absolute(&target),
    };
    judge_compatibility(
        session, &state, &request, &resolved, renderer, &ctx, &execution,
    )?;
    let extra_files = copier_answers_files(&request, &resolved, &answers, renderer, &ctx)?;
    let result = render(
        session,
        &request,
        &resolved,
        renderer,
        &answers,
        &target,
        (hooks, extra_files),
        (ports.progress, ports.placement.root()),
        deliver,
    );
    let (outcome, events) = match request.dry_run {
        true => (result.map_err(|f| f.error)?, Vec::new()),
        false => record(session, result, &execution)?,
    };
    let cookiecutter = resolved.manifest.flavour() == Flavour::Cookiecutter;
    if request.compat_answers && cookiecutter && !request.dry_run {
        let output_dir = generate::absolute(&output);
        write_cookiecutter_replay(session, &resolved, &answers, &output_dir)?;
    }
    let mut report = GenerateReport::of(&request, &resolved, target, outcome, events);
    report.message_after = messages.after(session, "after_copy", &ctx);
    Ok(report)
}

/// What the user adds to the template's own configuration, as copier takes it on its
/// command line: an answers file name over `_answers_file`, exclusions after `_exclude`,
/// patterns after `_skip_if_exists`.
fn user_options(request: &GenerateScaffold, resolved: &mut ResolvedSource) -> Result<()> {
    if let Some(name) = &request.answers_file {
        if resolved.manifest.flavour() != Flavour::Copier {
            return Err(Error::usage(format!(
                "--answers-file {name}: {} is not a copier template, it has no answers file",
                resolved.label
            ))
            .hint("--answers-file names where a copier template's answers go (copier's -a)"));
        }
        crate::render::paths::check_inside(name)
            .map_err(|m| Error::usage(format!("--answers-file {name}: {m}")))?;
        resolved.manifest.answers_file = Some(name.clone());
    }
    let manifest = &mut resolved.manifest;
    manifest
        .files
        .exclude
        .extend(request.exclude.iter().cloned());
    manifest
        .skip_if_exists
        .extend(request.skip_if_exists.iter().cloned());
    Ok(())
}

/// The logger a debug line names: cookiecutter's module for its templates (its debug log's
/// lines, which scripts grep), factory's own otherwise.
fn debug_logger(resolved: &ResolvedSource, module: &str) -> String {
    match resolved.manifest.flavour() {
        Flavour::Cookiecutter => format!("cookiecutter.{module}"),
        Flavour::Copier => format!("factory.copier.{module}"),
        Flavour::Factory => format!("factory.{module}"),
    }
}

/// The debug line naming the output folder.
fn debug_target(resolved: &ResolvedSource, target: &Path, progress: &dyn generate::Progress) {
    let logger = debug_logger(resolved, "generate");
    progress.debug(&logger, &format!("output folder is {}", target.display()));
}

/// The debug line naming the file the questions were read from.
fn debug_read(resolved: &ResolvedSource, progress: &dyn generate::Progress) {
    let (module, file) = match resolved.manifest.flavour() {
        // cookiecutter's own line (cookiecutter.main: context_file is …).
        Flavour::Cookiecutter => ("main", "cookiecutter.json"),
        Flavour::Copier => (
            "generate",
            crate::template::copier::CONFIG_FILES
                .iter()
                .copied()
                .find(|name| resolved.files.get(name).is_some())
                .unwrap_or("copier.yml"),
        ),
        Flavour::Factory => ("generate", crate::template::manifest::MANIFEST_FILE),
    };
    let what = match resolved.manifest.flavour() {
        Flavour::Cookiecutter => "context_file",
        _ => "manifest",
    };
    let path = Path::new(&resolved.label).join(file);
    progress.debug(
        &debug_logger(resolved, module),
        &format!("{what} is {}", path.display()),
    );
}

/// cookiecutter's `pre_prompt` hooks (with `--trust`), run as cookiecutter runs them: in a
/// copy of the template, which is read again afterwards (the hook may rewrite
/// cookiecutter.json). A dry run runs nothing. The hooks of the template as it is then.
fn pre_prompt(
    request: &GenerateScaffold,
    resolved: &mut ResolvedSource,
    hooks: generate::hooks::Hooks,
    progress: &dyn generate::Progress,
) -> Result<generate::hooks::Hooks> {
    if hooks.pre_prompt.is_empty() || !request.trust || request.dry_run {
        return Ok(hooks);
    }
    let copy = tempfile::Builder::new()
        .prefix("factory-pre-prompt-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot make a scratch folder: {e}")))?;
    // Named as the template's folder, as cookiecutter's copy is.
    let here = copy.path().join(&resolved.manifest.name);
    source::lay_out(&resolved.files, &here)?;
    for hook in &hooks.pre_prompt {
        generate::hooks::run_unrendered(hook, &here, progress.code_output()).map_err(|e| {
            Error {
                message: format!(
                    "{}: the pre_prompt hook failed: {}",
                    resolved.label, e.message
                ),
                ..e
            }
        })?;
    }
    resolved.reread_from(copy, &here)?;
    let mut hooks = generate::hooks::Hooks::of(&resolved.files, &resolved.manifest)?;
    hooks.pre_prompt.clear();
    Ok(hooks)
}

/// copier's messages to the person generating (`_message_before_copy`,
/// `_message_after_copy`), rendered when they are said; printed where copier prints them
/// (stderr) unless quiet, through the progress port.
pub(super) struct Messages<'a> {
    texts: Map<String, Value>,
    env: &'a minijinja::Environment<'static>,
    progress: &'a dyn generate::Progress,
    label: &'a str,
}

impl<'a> Messages<'a> {
    /// The messages of a copier template (none for other flavours).
    pub(super) fn of(
        resolved: &'a ResolvedSource,
        renderer: &'a Renderer,
        progress: &'a dyn generate::Progress,
    ) -> Result<Messages<'a>> {
        let config = crate::template::copier::CONFIG_FILES
            .iter()
            .find_map(|name| resolved.files.get(name).map(|f| (name, f)))
            .filter(|_| resolved.manifest.flavour() == Flavour::Copier);
        let texts = match config {
            Some((name, file)) => {
                let text = String::from_utf8_lossy(&file.read()?).into_owned();
                let include =
                    |pattern: &str| crate::template::load::included(&resolved.files, pattern);
                crate::template::copier::messages(&text, name, &include)
                    .map_err(|e| Error::new(format!("{}: {}", resolved.label, e.message)))?
            }
            None => Map::new(),
        };
        Ok(Messages {
            texts,
            env: renderer.env(),
            progress,
            label: &resolved.label,
        })
    }

    /// Renders and says the message for `moment` (`before_copy`, …), if the template has one.
    pub(super) fn say(&self, moment: &str, ctx: &minijinja::Value) -> Result<()> {
        if let Some(rendered) = self.render(moment, ctx)? {
            self.progress.say(&rendered);
        }
        Ok(())
    }

    /// The message for `moment`, rendered, if the template has one.
    fn render(&self, moment: &str, ctx: &minijinja::Value) -> Result<Option<String>> {
        // copier says a message whose text is not empty, whatever it renders to.
        let Some(text) = self.texts.get(moment).and_then(Value::as_str) else {
            return Ok(None);
        };
        if text.is_empty() {
            return Ok(None);
        }
        crate::bounded::render_str_bounded(self.env, text, ctx)
            .map(Some)
            .map_err(|e| Error::new(format!("{}: _message_{moment}: {e}", self.label)))
    }

    /// `_message_before_copy` (or `_update`), said before the questions, in the context
    /// copier has then: its own values, no answers yet.
    pub(super) fn before_answers(
        &self,
        moment: &str,
        resolved: &ResolvedSource,
        run: &crate::template::context::Run,
    ) -> Result<()> {
        if !self.texts.contains_key(moment) {
            return Ok(());
        }
        let mut values = crate::template::context::tool_values(&resolved.manifest, run);
        crate::template::context::after_answers(&mut values, run, &Map::new());
        values.insert("_copier_phase".into(), json!("undefined"));
        self.say(
            moment,
            &minijinja::Value::from(minijinja::value::Serde(Value::Object(values))),
        )
    }

    /// A message for once the output is placed, rendered for the command line to say last
    /// (copier's last words): one that does not render is a notice, the project is there.
    pub(super) fn after(
        &self,
        session: &Session,
        moment: &str,
        ctx: &minijinja::Value,
    ) -> Option<String> {
        self.render(moment, ctx).unwrap_or_else(|e| {
            session.store.notice(e.message);
            None
        })
    }
}

/// What `--json` prints for a generation: the report's own fields, typed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum GenerateShown<'a> {
    /// Written and recorded.
    #[serde(rename_all = "camelCase")]
    Generated {
        /// `exe-…`.
        execution_id: &'a str,
        /// `out-…`.
        scaffold_output_id: &'a str,
        /// `NAME@VERSION`, the folder or the URL.
        template: &'a str,
        /// The stored template's id.
        template_id: &'a Option<String>,
        /// The stored version's id.
        template_version_id: &'a Option<String>,
        /// The output folder, absolute.
        target: &'a str,
        /// The content hash.
        content_hash: &'a str,
        /// Files.
        file_count: usize,
        /// Bytes.
        byte_count: u64,
        /// Libraries the answers selected.
        libraries: &'a [crate::domain::events::LibraryUse],
        /// The repository, when delivered to one or committed.
        repository: &'a Option<String>,
        /// The commit, with `--git`.
        commit: &'a Option<String>,
        /// Milliseconds.
        duration_ms: u64,
        /// The events recorded.
        events: &'a [String],
    },
    /// `--dry-run`: rendered and hashed only.
    #[serde(rename_all = "camelCase")]
    DryRun {
        /// Always true.
        dry_run: bool,
        /// `NAME@VERSION`, the folder or the URL.
        template: &'a str,
        /// The output folder as given.
        target: &'a Path,
        /// The content hash.
        content_hash: &'a str,
        /// Files.
        file_count: usize,
        /// Bytes.
        byte_count: u64,
        /// Each file's path and size.
        files: Vec<FileShown<'a>>,
    },
}

/// A file of a dry run.
#[derive(Debug, Serialize)]
pub struct FileShown<'a> {
    /// Its path in the output.
    pub path: &'a str,
    /// Its size.
    pub size: u64,
}

impl GenerateReport {
    /// The report as `--json` prints it.
    pub fn shown(&self) -> GenerateShown<'_> {
        let outcome = &self.outcome;
        if self.dry_run {
            return GenerateShown::DryRun {
                dry_run: true,
                template: &self.template,
                target: &self.target,
                content_hash: &outcome.content_hash,
                file_count: outcome.files.len(),
                byte_count: outcome.byte_count,
                files: outcome
                    .files
                    .iter()
                    .map(|(path, size)| FileShown { path, size: *size })
                    .collect(),
            };
        }
        GenerateShown::Generated {
            execution_id: &outcome.execution_id,
            scaffold_output_id: &outcome.scaffold_output_id,
            template: &self.template,
            template_id: &self.template_id,
            template_version_id: &self.template_version_id,
            target: &self.target_absolute,
            content_hash: &outcome.content_hash,
            file_count: outcome.files.len(),
            byte_count: outcome.byte_count,
            libraries: &outcome.libraries,
            repository: &outcome.repository,
            commit: &outcome.commit,
            duration_ms: outcome.duration_ms,
            events: &self.events,
        }
    }

    fn of(
        request: &GenerateScaffold,
        resolved: &ResolvedSource,
        target: PathBuf,
        outcome: Outcome,
        events: Vec<String>,
    ) -> GenerateReport {
        GenerateReport {
            dry_run: request.dry_run,
            template: resolved.label.clone(),
            template_id: resolved.template_id.clone(),
            template_version_id: resolved.template_version_id.clone(),
            target_absolute: generate::absolute(&target),
            target,
            outcome,
            events,
            message_after: None,
        }
    }
}

/// Phase 1: the template, from a folder or repository, or from the store (pulled from a
/// remote when the store lacks it); the state it was judged against.
fn resolve_source(
    session: &Session,
    request: &GenerateScaffold,
) -> Result<(crate::domain::State, ResolvedSource)> {
    let mut state = session.store.state()?;
    let settings = &session.settings;
    if source::is_location(&request.template, &settings.git.abbreviations) {
        let fetch = source::Fetch {
            flavor: request.flavor,
            prereleases: request.prereleases,
            ..settings.fetch(request.reference.clone(), request.directory.clone())
        };
        let resolved = source::from_location(&request.template, &fetch)?;
        session.relay(&resolved);
        return Ok((state, resolved));
    }
    if request.flavor.is_some() {
        return Err(Error::usage(format!(
            "--flavor applies to a template folder; {} is read as it was stored",
            request.template
        ))
        .hint("a stored version with both copier.yml and cookiecutter.json is a copier template"));
    }
    let reference = Reference::parse(&request.template);
    // Not in the store, or newer on a remote: the remotes, in order, may have it.
    if super::remote::refresh(
        session,
        reference.name,
        reference.version,
        request.allow_draft,
    )? {
        state = session.store.state()?;
    }
    let choice = if request.allow_draft {
        VersionChoice::Any
    } else {
        VersionChoice::Published
    };
    let resolved = source::stored(
        &state,
        &session.store.blobs(),
        reference.name,
        reference.version,
        choice,
    )?;
    Ok((state, resolved))
}

/// Phase 2: nothing a template would run is started without `--trust`; switches that do not
/// apply to its flavour are refused. The hooks it runs with `--trust`.
pub(super) fn gate(
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
) -> Result<generate::hooks::Hooks> {
    let mut hooks = generate::hooks::Hooks::of(&resolved.files, &resolved.manifest)?;
    if request.skip_tasks {
        hooks.tasks.clear();
    }
    let unsafe_parts = Unsafe::of(resolved, &hooks, request.trust, request.dry_run);
    if let Some(err) = unsafe_parts.refusal(&resolved.label) {
        return Err(err);
    }
    if request.compat_answers && resolved.manifest.flavour() == Flavour::Factory {
        return Err(
            Error::usage("--compat-answers applies to cookiecutter and copier templates")
                .hint("factory's own templates keep their answers in .factory/scaffold.yaml"),
        );
    }
    Ok(hooks)
}

/// What a template would run that `--trust` has not allowed: what it is, in factory's words,
/// and copier's name for each kind (`tasks`, `jinja_extensions`, `migrations`) for a copier
/// template, whose refusal scripts read (`Template uses potentially unsafe feature: tasks.`).
#[derive(Debug, Default)]
pub(super) struct Unsafe {
    /// factory's words for each thing that would run.
    pub wants: Vec<String>,
    /// copier's feature names (a copier template only).
    pub features: std::collections::BTreeSet<&'static str>,
    /// Python Jinja extensions among them (their hint differs).
    pub extensions: bool,
}

impl Unsafe {
    /// What `resolved` runs that is not allowed: hooks and tasks (allowed by `--trust`, or
    /// not run at all by `--dry-run`) and Python extensions (allowed by `--trust` only).
    pub(super) fn of(
        resolved: &ResolvedSource,
        hooks: &generate::hooks::Hooks,
        trust: bool,
        dry_run: bool,
    ) -> Unsafe {
        let mut found = Unsafe::default();
        if trust {
            return found;
        }
        let copier = resolved.manifest.flavour() == Flavour::Copier;
        if !hooks.is_empty() && !dry_run {
            found.wants.push(hooks.describe().join(", "));
            if copier {
                found.features.insert("tasks");
            }
        }
        let extensions = &resolved.manifest.python_extensions;
        if !extensions.is_empty() {
            found.wants.push(format!(
                "its Jinja extensions {} are Python{}",
                extensions.join(", "),
                if dry_run {
                    ", and it cannot render without them"
                } else {
                    ""
                }
            ));
            found.extensions = true;
            if copier {
                found.features.insert("jinja_extensions");
            }
        }
        found
    }

    /// Adds what another side (an upgrade's other version, its migrations) would run.
    pub(super) fn add(&mut self, other: Unsafe) {
        for want in other.wants {
            if !self.wants.contains(&want) {
                self.wants.push(want);
            }
        }
        self.features.extend(other.features);
        self.extensions |= other.extensions;
    }

    /// The refusal, when anything would run: factory's words, then copier's sentence.
    pub(super) fn refusal(&self, label: &str) -> Option<Error> {
        if self.wants.is_empty() {
            return None;
        }
        let copier = match self.features.len() {
            0 => String::new(),
            n => format!(
                " (Template uses potentially unsafe feature{}: {}.)",
                if n > 1 { "s" } else { "" },
                self.features.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        };
        let hint = if self.extensions {
            "read what they do (the template's files, the packages they name), then pass --trust to run them"
        } else {
            "read what it runs, then pass --trust to allow it (or --dry-run to see the files without running anything)"
        };
        Some(
            Error::new(format!(
                "{label} wants to run code: {}; nothing was written{copier}",
                self.wants.join("; ")
            ))
            .hint(hint),
        )
    }
}

/// The template's renderer, with the Python helper for its Jinja extensions (the gate
/// allowed them) when it has any.
pub(super) fn renderer<'r>(
    session: &Session,
    resolved: &'r ResolvedSource,
) -> Result<(
    Renderer<'r>,
    Option<Arc<generate::python::PythonExtensions>>,
)> {
    let python = start_python(&session.settings.python, resolved)?;
    renderer_with(session, resolved, python)
}

/// The Python helper of a template whose Jinja extensions are Python's (none otherwise),
/// started in `interpreter`.
pub(super) fn start_python(
    interpreter: &str,
    resolved: &ResolvedSource,
) -> Result<Option<Arc<generate::python::PythonExtensions>>> {
    start_python_from(None, interpreter, resolved)
}

/// [`start_python`] on a helper started `early`, when there is one.
pub(super) fn start_python_from(
    early: Option<generate::python::Early>,
    interpreter: &str,
    resolved: &ResolvedSource,
) -> Result<Option<Arc<generate::python::PythonExtensions>>> {
    if resolved.manifest.python_extensions.is_empty() {
        return Ok(None);
    }
    let (files, laid_out) = (&resolved.files, resolved.scratch_dir());
    let (manifest, label) = (&resolved.manifest, &resolved.label);
    let helper = match early {
        Some(early) => early.start(files, laid_out.as_deref(), manifest, label)?,
        None => generate::python::PythonExtensions::start(
            interpreter,
            files,
            laid_out.as_deref(),
            manifest,
            label,
        )?,
    };
    Ok(Some(Arc::new(helper)))
}

/// The renderer of `resolved`, calling on `python` (its helper, started already) for what
/// its Python extensions add.
pub(super) fn renderer_with<'r>(
    session: &Session,
    resolved: &'r ResolvedSource,
    python: Option<Arc<generate::python::PythonExtensions>>,
) -> Result<(
    Renderer<'r>,
    Option<Arc<generate::python::PythonExtensions>>,
)> {
    let mut settings = session.settings.render.clone();
    if let Some(python) = &python {
        settings.foreign = Some(Arc::clone(python) as Arc<dyn crate::render::Foreign>);
    }
    let renderer = Renderer::new(&resolved.manifest, Arc::clone(&resolved.files), &settings)
        .map_err(|m| Error::new(format!("{}: {m}", resolved.label)))?;
    Ok((renderer, python))
}

/// Phase 3: the answers, typed in the template's environment (asked on a terminal), with
/// what a copier context hook adds.
pub(super) fn resolve_answers(
    session: &Session,
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
    renderer: &Renderer,
    python: &Option<Arc<generate::python::PythonExtensions>>,
    asker: Option<&mut dyn answers::Asker>,
    run: &crate::template::context::Run,
) -> Result<Answers> {
    // The user's default answers (~/.cookiecutterrc, copier's settings) stand in for the
    // template's own; explicit answers still win.
    let mut user = crate::template::user_defaults::load(
        &session.settings.user_defaults,
        resolved.manifest.flavour(),
    )?;
    let manifest = crate::template::user_defaults::apply(&resolved.manifest, &mut user);
    user.warnings
        .into_iter()
        .for_each(|w| session.store.notice(w));
    // copier's last answers, in the answers file of a project copied over, as recopy's
    // --last-answers gives them (offered when asked, taken when not, left for the default
    // when a question's `when` does not hold): over the user's defaults.
    let last = match &request.last_answers {
        Some(given) => given.clone(),
        None => last_answers(&manifest, request.answers_file.as_deref(), run),
    };
    let mut recorded;
    let asker: Option<&mut dyn answers::Asker> = match last.is_empty() && !request.skip_answered {
        true => asker.map(|a| a as &mut dyn answers::Asker),
        false => {
            recorded = answers::Recorded {
                asker,
                recorded: &last,
                skip_answered: request.skip_answered,
            };
            Some(&mut recorded as &mut dyn answers::Asker)
        }
    };
    let mut answers = answers::resolve_with(
        &manifest,
        renderer.env(),
        &request.answers,
        true,
        asker,
        run,
    )
    .map_err(|problems| {
        answers::not_usable(&resolved.label, &problems).hint(format!(
            "give answers with --set NAME=VALUE or --answers FILE; `factory show {}` lists the parameters",
            request.template
        ))
    })?;
    if let Some(python) = python
        .as_ref()
        .filter(|_| resolved.manifest.flavour() == Flavour::Copier)
    {
        answers.hooked = python
            .context(&answers.plain_context())
            .map_err(|m| Error::new(format!("{}: its context hook failed: {m}", resolved.label)))?;
    }
    for name in &answers.dropped {
        session.store.notice(format!(
            "the answer for `{name}` is not used: its `when` does not hold for these answers"
        ));
    }
    Ok(answers)
}

/// The answers a copier answers file in the output folder holds (copier's "last answers")
/// for a copy over that project, its `_` keys left out: the file `--answers-file` names, else
/// `.copier-answers.yml` (copier's rule: not the template's `_answers_file`). Empty for an
/// upgrade (it passes them itself), another tool's template, or a file that is not a mapping.
fn last_answers(
    manifest: &crate::template::manifest::Manifest,
    named: Option<&str>,
    run: &crate::template::context::Run,
) -> Map<String, Value> {
    let name = named.unwrap_or(".copier-answers.yml");
    if manifest.flavour() != Flavour::Copier
        || run.operation.is_some()
        || crate::render::paths::check_inside(name).is_err()
    {
        return Default::default();
    }
    let path = Path::new(&run.dst_path).join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Default::default();
    };
    match crate::template::yaml::from_pyyaml_str(&text, &path.display().to_string()) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .collect(),
        _ => Map::new(),
    }
}

/// Phase 4, the compatibility gate: the libraries these answers select (and the runtime,
/// when named) against the registry. Incompatible means no output, and a recorded failure.
fn judge_compatibility(
    session: &Session,
    state: &crate::domain::State,
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
    renderer: &Renderer,
    ctx: &minijinja::Value,
    execution: &dyn Fn(&str) -> Execution,
) -> Result<()> {
    let selected = renderer.libraries(ctx)?;
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
    let evaluation = compat::evaluate(state, &composition)?;
    if evaluation.compatible {
        return Ok(());
    }
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
    Err(Error::verdict(message)
        .hint("choose other answers or versions; `factory compat` shows the whole matrix"))
}

/// cookiecutter's project folder inside `-o`, named by the answers, checked like a target.
fn project_folder(
    session: &Session,
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
    renderer: &Renderer,
    ctx: &minijinja::Value,
    output: &Path,
) -> Result<PathBuf> {
    let folder = renderer
        .project_folder(ctx)
        .map_err(|m| Error::new(format!("{}: {m}", resolved.label)))?;
    let project = output.join(folder);
    if !request.dry_run {
        // cookiecutter refuses a project folder that exists at all, empty or not.
        if !request.overwrite && std::fs::symlink_metadata(&project).is_ok() {
            return Err(Error::new(format!(
                "\"{}\" directory already exists",
                python_path(&project)
            ))
            .hint("pass --force (cookiecutter's -f) to write into it, or choose another -o"));
        }
        prepare_target(session, &project, (request.overwrite, false))?;
    }
    Ok(project)
}

/// A path as Python's `Path` shows it (cookiecutter's messages): no `.` components.
fn python_path(path: &Path) -> String {
    let kept: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    match kept.as_os_str().is_empty() {
        true => ".".to_string(),
        false => kept.display().to_string(),
    }
}

/// Phase 5: render, run what is trusted, place the output, and deliver it (a repository
/// target) before anything is recorded.
#[allow(clippy::too_many_arguments)]
fn render(
    session: &Session,
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
    renderer: &Renderer,
    answers: &Answers,
    target: &Path,
    (hooks, extra_files): (generate::hooks::Hooks, Vec<(String, Vec<u8>)>),
    (progress, within): (&dyn generate::Progress, Option<&Path>),
    deliver: Option<Deliver>,
) -> std::result::Result<Outcome, generate::Failure> {
    let run = generate::Request {
        source: resolved,
        renderer,
        answers,
        target: target.to_path_buf(),
        within: within.map(Path::to_path_buf),
        force: request.overwrite,
        into_existing: into_existing(resolved, within),
        no_cleanup: request.no_cleanup,
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
    let mut outcome = generate::run(&run, progress)?;
    outcome
        .deprecations
        .iter()
        .for_each(|d| session.tool_warning(d.clone()));
    // Delivered before recorded: the events never say a scaffold arrived that did not.
    if let Some(deliver) = deliver {
        match deliver(target) {
            Ok(place) => outcome.repository = Some(place),
            Err(error) => {
                return Err(generate::Failure {
                    execution_id: outcome.execution_id.clone(),
                    duration_ms: outcome.duration_ms,
                    error,
                });
            }
        }
    }
    Ok(outcome)
}

/// Phase 6: the run's outcome recorded (a failure too; failing to record a failure is a
/// notice, the failure is what the user needs to hear).
fn record(
    session: &Session,
    result: std::result::Result<Outcome, generate::Failure>,
    execution: &dyn Fn(&str) -> Execution,
) -> Result<(Outcome, Vec<String>)> {
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
            Ok((outcome, event_ids(&envelopes)))
        }
        Err(failure) => {
            // What failed may quote a secret (a path built from it, a task's command line):
            // the event is redacted as it is appended, the error as it is printed.
            let execution = execution(&failure.execution_id);
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
fn prepare_target(
    session: &Session,
    target: &std::path::Path,
    (force, into_existing): (bool, bool),
) -> Result<()> {
    for recovered in crate::transaction::recover_interrupted(target) {
        session.store.notice(recovered);
    }
    generate::check_target(target, force, into_existing)
}

/// copier copies into a folder that holds other files without `--overwrite`, judging each
/// file it writes (`generate::existing`): so does factory for a copier template, from the
/// command line (a worker writes into new folders of its output root only).
fn into_existing(resolved: &ResolvedSource, within: Option<&Path>) -> bool {
    resolved.manifest.flavour() == Flavour::Copier && within.is_none()
}

/// The facts of this run that cookiecutter and copier templates can read.
fn tool_run(
    session: &Session,
    request: &GenerateScaffold,
    output: &Path,
    resolved: &ResolvedSource,
) -> crate::template::context::Run {
    let src_path = match &resolved.source_ref.directory {
        Some(directory) => format!("{}/{directory}", resolved.source_ref.uri),
        None => resolved.source_ref.uri.clone(),
    };
    // copier's `_src_path` is the template as the user named it (a folder as typed,
    // `gh:org/repo`), without `#REF` and never with credentials; a stored version's source.
    let url = match resolved.template_id {
        Some(_) => resolved.source_ref.uri.clone(),
        None => crate::git::url::without_credentials(crate::git::split_ref(&request.template).0),
    };
    crate::template::context::Run {
        template: request.template.clone(),
        url,
        src_path,
        dst_path: generate::absolute(output),
        vcs_ref: request.reference.clone(),
        commit: resolved.source_ref.commit.clone(),
        commit_description: resolved.commit_description.clone(),
        operation: None,
        given: request.answers.clone(),
        trusted: request.trust,
        defaults: true,
        overwrite: request.overwrite,
        python: Some(session.settings.python.clone()),
    }
}

/// With `--compat-answers`, copier's answers file, written into the output before its
/// provenance is computed.
fn copier_answers_files(
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
    answers: &Answers,
    renderer: &Renderer,
    ctx: &minijinja::Value,
) -> Result<Vec<(String, Vec<u8>)>> {
    if !request.compat_answers || resolved.manifest.flavour() != Flavour::Copier {
        return Ok(Vec::new());
    }
    let file = copier_answers_file(resolved, answers)?;
    // A template that renders its answers file itself (copier's own way) keeps its own.
    let rendered = renderer
        .plan(ctx)
        .is_ok_and(|plan| plan.iter().any(|p| p.path == file.0));
    Ok(if rendered { Vec::new() } else { vec![file] })
}

/// copier's answers file (`_answers_file`, default `.copier-answers.yml`), secrets left out:
/// written into the output before its provenance is computed.
fn copier_answers_file(resolved: &ResolvedSource, answers: &Answers) -> Result<(String, Vec<u8>)> {
    // A templated `_answers_file` was rendered with the answers into `_copier_conf`.
    let rendered = answers
        .tool
        .get("_copier_conf")
        .and_then(|conf| conf.get("answers_file"))
        .and_then(Value::as_str);
    let name = rendered
        .or(resolved.manifest.answers_file.as_deref())
        .unwrap_or(".copier-answers.yml");
    crate::render::paths::check_inside(name)
        .map_err(|m| Error::new(format!("_answers_file `{name}`: {m}")))?;
    Ok((name.to_string(), copier_answers_text(answers)?))
}

/// copier's standard answers file for these answers, secrets left out: what templates see
/// as `_copier_answers` (`_commit` as copier writes it, `git describe`; `_src_path` as the
/// user named the template; the answers of the questions asked), written as copier's own
/// answers-file template writes it, through `to_nice_yaml`.
pub(super) fn copier_answers_text(answers: &Answers) -> Result<Vec<u8>> {
    let recorded = match answers.tool.get("_copier_answers") {
        Some(Value::Object(map)) => map.clone(),
        _ => answers.recorded(),
    };
    let style = crate::render::pyformat::YamlStyle {
        indent: 4,
        flow_leaves: false,
    };
    let yaml = crate::render::pyformat::yaml(&Value::Object(recorded), &style)
        .map_err(|e| Error::new(format!("cannot write copier's answers file: {e}")))?;
    let text = format!("# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n{yaml}");
    Ok(crate::secrets::redact(&text).into_owned().into_bytes())
}

/// With `--compat-answers`, cookiecutter's replay file is refused before anything is
/// written when it would be written through a link, not after the output is placed.
fn refuse_replay_through_links(
    session: &Session,
    request: &GenerateScaffold,
    resolved: &ResolvedSource,
) -> Result<()> {
    let cookiecutter = resolved.manifest.flavour() == Flavour::Cookiecutter;
    if request.compat_answers && cookiecutter && !request.dry_run {
        let (dir, file) = replay_file(session, resolved)?;
        crate::render::write::refuse_links_at(&dir, &file)?;
    }
    Ok(())
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
