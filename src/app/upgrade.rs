//! `PlanTemplateUpgrade` (and its apply): move a generated project to another template
//! version with a 3-way merge, keeping local edits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Session;
use super::generate::{GenerateScaffold, Unsafe};
use crate::domain::DomainEvent;
use crate::domain::commands::{self, Execution};
use crate::domain::events::{SourceKind, TemplateUpgradePlanCreated};
use crate::error::{Error, Result};
use crate::generate::adopted::{self, CRUFT_FILE, CopierRecord, CruftRecord, Record};
use crate::generate::provenance::{Scaffold, TemplateOrigin};
use crate::hash::{self, HashedFile};
use crate::ids;
use crate::render::tree::Renderer;
use crate::source::{self, ResolvedSource, VersionChoice};
use crate::store::Decision;
use crate::template::answers::{Answers, Asker, Recorded};
use crate::template::context::Run;
use crate::template::manifest::Flavour;
use crate::upgrade::plan::{self, ConflictStyle, Plan};
use crate::upgrade::{self as engine, Action};

/// `PlanTemplateUpgrade`: plan (never apply) an upgrade of a project under the output root.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanTemplateUpgrade {
    /// The generated project, relative to the worker's `--output-root`.
    pub folder: String,
    /// The version to move to (default: the newest published).
    #[serde(default)]
    pub to: Option<String>,
    /// Carry the plan out (command line only).
    #[serde(skip)]
    pub apply: bool,
    /// How conflict markers look (command line only).
    #[serde(skip)]
    pub conflict_style: ConflictStyle,
    /// Answers for the new version: new parameters, secrets, changed answers (command line
    /// only).
    #[serde(skip)]
    pub answers: Map<String, Value>,
    /// Run the template's hooks, tasks, migrations and Python extensions in both versions
    /// (command line only).
    #[serde(skip)]
    pub trust: bool,
    /// The copier answers file to upgrade from, copier's `-a` (command line only).
    #[serde(skip)]
    pub answers_file: Option<String>,
    /// On a terminal, ask only the questions the project has no answer for (command line
    /// only).
    #[serde(skip)]
    pub skip_answered: bool,
    /// Delete a file the new version removed even when you changed it, as copier does
    /// (command line only).
    #[serde(skip)]
    pub delete_removed: bool,
    /// Lines of context your changes to a copier template's files are applied with
    /// (copier's `--context-lines`; command line only).
    #[serde(skip)]
    pub context_lines: Option<u32>,
    /// Merge TOML, YAML and JSON by lines, as copier does (command line only).
    #[serde(skip)]
    pub line_merge: bool,
    /// Leave a copier template's `_tasks` unrun, copier's `--skip-tasks` (its migrations
    /// still run, as copier's do; command line only).
    #[serde(skip)]
    pub skip_tasks: bool,
    /// A template repository's newest release, the default version to move to, may be a
    /// pre-release (copier's `--prereleases`; command line only).
    #[serde(skip)]
    pub prereleases: bool,
}

impl PlanTemplateUpgrade {
    pub(super) fn execute(self, session: &Session, ports: super::Ports) -> Result<UpgradeReport> {
        let dir = ports.placement.folder(&self.folder)?;
        plan_template_upgrade(session, self, &dir, (ports.asker, ports.progress))
    }
}

/// A planned (or applied) upgrade.
#[derive(Debug)]
pub struct UpgradeReport {
    /// `plan-…`.
    pub plan_id: String,
    /// The template's name.
    pub template: String,
    /// The version the project was generated from.
    pub from_version: String,
    /// The version it moves to.
    pub to_version: String,
    /// Whether it was applied.
    pub applied: bool,
    /// The steps.
    pub plan: Plan,
    /// Parameters added or removed by the new version.
    pub parameters: Vec<Value>,
    /// Library versions the new version changes.
    pub libraries: Vec<Value>,
    /// copier's `_message_after_update`, rendered: said last, as copier says it.
    pub message_after: Option<String>,
}

impl UpgradeReport {
    /// Steps that change something (not `keep-local`).
    pub fn changes(&self) -> usize {
        self.plan
            .steps
            .iter()
            .filter(|s| s.action != Action::KeepLocal)
            .count()
    }
}

impl super::command::Outcome for UpgradeReport {
    /// The negative verdict, when conflicts remain (exit 3).
    fn verdict(&self) -> Option<Error> {
        let conflicts = self.plan.conflict_count();
        (conflicts > 0).then(|| {
            let listed: Vec<_> = self
                .plan
                .steps
                .iter()
                .filter(|s| s.action == Action::Conflict)
                .map(|s| crate::render::paths::shown(&s.path))
                .collect();
            Error::verdict(format!(
                "{conflicts} conflict(s) need you: {}",
                listed.join(", ")
            ))
            .hint(if self.applied {
                "resolve the conflicts in those files (the markers <<<<<<< … >>>>>>>, or with --conflict rej the hunks in FILE.rej)"
            } else {
                "apply with --apply to get conflict markers in those files, then resolve them"
            })
        })
    }
}

/// Plans an upgrade of a generated project and records the plan; with `apply`, carries it
/// out all or nothing and records the new generation.
fn plan_template_upgrade(
    session: &Session,
    request: PlanTemplateUpgrade,
    dir: &Path,
    (asker, progress): (Option<&mut dyn Asker>, &dyn crate::generate::Progress),
) -> Result<UpgradeReport> {
    let up = Upgrade {
        session,
        request: &request,
        dir,
    };
    let (record, sides) = project_and_sides(up)?;
    refuse_uncommitted(&request, &record, dir)?;
    // Nothing the template would run starts without --trust: both sides are judged first.
    let (base_hooks, theirs_hooks, migrations) = judge(up, &sides)?;
    // copier's `_message_before_update`/`_after_update` of the new version, said when the
    // update is applied (a plan changes nothing to announce).
    let new = &sides.theirs.source;
    let env = Renderer::new(
        &new.manifest,
        Arc::clone(&new.files),
        &session.settings.render,
    )
    .map_err(|m| Error::new(format!("{}: {m}", new.label)))?;
    let messages = super::generate::Messages::of(new, &env, progress)?;
    if request.apply {
        let run = run_facts(up, &sides.theirs, &Map::new(), true, false);
        messages.before_answers("before_update", new, &run)?;
    }
    let (base, theirs) = render_sides(
        up,
        (&record, &sides),
        (base_hooks, theirs_hooks),
        asker,
        &migrations,
    )?;
    let (plan, records) = plan_steps(up, &record, &base, &theirs, &sides)?;
    let (parameters, libraries) = changes_between(&base, &theirs);

    let plan_id = ids::new_id(ids::PLAN);
    let events = plan_event(&record, &sides, &plan, &plan_id);
    let report = UpgradeReport {
        plan_id,
        template: sides.name.clone(),
        from_version: sides.from_version.clone(),
        to_version: sides.to_version.clone(),
        applied: request.apply,
        plan,
        parameters,
        libraries,
        message_after: None,
    };
    // copier runs the migrations (and tasks) of an update that changes no file too.
    let execution = match request.apply
        && (report.changes() > 0 || !records.is_empty() || migrations.run_after())
    {
        true => Some(apply_upgrade(
            up,
            &record,
            &sides,
            &theirs,
            &report,
            records,
            &migrations,
        )?),
        false => None,
    };
    if execution.is_some() {
        sync_executable_bits(up, &report.plan, &theirs);
        mark_unmerged(up, &report.plan, &base, &theirs);
    }
    record_upgrade(session, events, execution)?;
    let mut report = report;
    if request.apply {
        report.message_after = messages.after(session, "after_update", &theirs.answers.context());
    }
    Ok(report)
}

/// copier and cruft update only a clean repository (so the update is reviewed and undone
/// with git): a project of theirs with uncommitted changes is refused before anything runs.
fn refuse_uncommitted(request: &PlanTemplateUpgrade, record: &Record, dir: &Path) -> Result<()> {
    if !request.apply || matches!(record, Record::Factory(_)) {
        return Ok(());
    }
    match crate::git::uncommitted(dir)? {
        Some(changed) if !changed.is_empty() => {
            let shown: Vec<&str> = changed.iter().take(10).map(String::as_str).collect();
            let more = match changed.len() - shown.len() {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            Err(Error::new(format!(
                "{} has uncommitted changes: {}{more}; nothing was written",
                dir.display(),
                shown.join(", ")
            ))
            .hint("commit or stash them, then upgrade again (copier and cruft refuse a dirty repository too: the update is reviewed with git diff)"))
        }
        _ => Ok(()),
    }
}

/// What every phase of an upgrade reads: the session, the request and the project's folder.
#[derive(Clone, Copy)]
struct Upgrade<'a> {
    session: &'a Session,
    request: &'a PlanTemplateUpgrade,
    dir: &'a Path,
}

/// The project's record (factory's provenance, copier's answers file or cruft's
/// `.cruft.json`) and the two versions it names, once an interrupted write to the project
/// is undone.
fn project_and_sides(up: Upgrade) -> Result<(Record, Sides)> {
    let (session, request, dir) = (up.session, up.request, up.dir);
    // A killed `upgrade --apply` (or `generate --force`) is undone before the plan reads it.
    for recovered in crate::transaction::recover_interrupted(dir) {
        session.store.notice(recovered);
    }
    let record = Record::find(dir, request.answers_file.as_deref())?;
    // Both versions come from one repository: it is fetched once.
    let _one_fetch = crate::git::fetch::OneRun::begin();
    let sides = match &record {
        // A local repository read at HEAD is recorded as its folder with the commit: both
        // are read again from the folder, as copier updates from a local template.
        Record::Factory(scaffold)
            if scaffold.template.version.is_none()
                && (scaffold.template.source.kind == SourceKind::Git
                    || scaffold.template.source.commit.is_some()) =>
        {
            repository_sides(session, request, scaffold)?
        }
        Record::Factory(scaffold)
            if scaffold.template.version.is_none() && scaffold.template.id.is_none() =>
        {
            return Err(Error::new(format!(
                "{} was generated from the folder {}, which was not a git repository: the version it was made from cannot be read again",
                request.folder, scaffold.template.source.uri
            ))
            .hint("make the template a git repository (or register and version it in the store), generate again, then upgrade later"));
        }
        Record::Factory(scaffold) => stored_sides(session, request, scaffold)?,
        Record::Copier(copier) => copier_sides(session, request, copier, dir)?,
        Record::Cruft(cruft) => cruft_sides(session, request, cruft, dir)?,
    };
    let mut sides = sides;
    recorded_commit(&record, &mut sides, dir);
    // copier renders the old version with the new version's `_exclude` too: a file the new
    // version excludes (copier's "copy only" files) is then not one it removed, and the
    // project's copy stays.
    let (base, theirs) = (&mut sides.base.source, &sides.theirs.source);
    if base.manifest.flavour() == Flavour::Copier && theirs.manifest.flavour() == Flavour::Copier {
        let added = theirs.manifest.files.exclude.clone();
        base.manifest.files.exclude.extend(added);
    }
    Ok((record, sides))
}

/// A factory project from a copier repository: the version it was made from is the
/// `_commit` its copier answers file records, as copier reads it (a commit with several tags
/// describes as the newest, which may be the version moved to).
fn recorded_commit(record: &Record, sides: &mut Sides, dir: &Path) {
    let Record::Factory(scaffold) = record else {
        return;
    };
    let base = &mut sides.base.source;
    if scaffold.template.version.is_some() || base.manifest.flavour() != Flavour::Copier {
        return;
    }
    let file = base
        .manifest
        .answers_file
        .clone()
        .unwrap_or_else(|| ".copier-answers.yml".to_string());
    let Ok(copier) = CopierRecord::read(dir, &file) else {
        return;
    };
    let named = crate::source::pep440(&copier.commit).is_some()
        || base.commit_description.as_deref() == Some(copier.commit.as_str());
    if named && scaffold.template.source.commit.is_some() {
        base.commit_description = Some(copier.commit);
    }
}

/// Generates both sides in a scratch folder, each with its answers: the base with those the
/// project was made with, the new side with those changed by `--set` (and, on a terminal,
/// asked again).
fn render_sides(
    up: Upgrade,
    (record, sides): (&Record, &Sides),
    (base_hooks, theirs_hooks): (crate::generate::hooks::Hooks, crate::generate::hooks::Hooks),
    asker: Option<&mut dyn Asker>,
    migrations: &Migrations,
) -> Result<(engine::Rendered, engine::Rendered)> {
    let request = up.request;
    let recorded = match record {
        Record::Factory(scaffold) => scaffold.answers.clone(),
        Record::Copier(copier) => copier.answers.clone(),
        Record::Cruft(cruft) => cruft.answers.clone(),
    };
    // `--set` changes the new side; the base is what the project was made with (a value it
    // never recorded, such as a secret, is the same on both sides). copier replays only the
    // recorded answers: an unrecorded question (a secret) takes its default in the old
    // version, unvalidated, and the value given now is a change the new version carries.
    let replays_recorded = sides.base.source.manifest.flavour() == Flavour::Copier;
    let base_given: Map<String, Value> = request
        .answers
        .iter()
        .filter(|(name, _)| !replays_recorded && !recorded.contains_key(*name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    // The base takes the recorded answers as copier replays them: a question whose `when`
    // does not hold takes its default, unvalidated.
    let mut replayed = Recorded {
        asker: None,
        recorded: &recorded,
        skip_answered: false,
    };
    let scratch = tempfile::Builder::new()
        .prefix("factory-upgrade-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot create a temporary folder: {e}")))?;
    let (base, theirs_python) = base_beside_python(
        up,
        sides,
        (base_given, &mut replayed),
        base_hooks,
        &scratch.path().join("base"),
    )?;
    // copier's migrations of the `before` stage run now, in the project: what they write
    // into its answers file is what the new version is answered with.
    let recorded = match request.apply {
        true => migrations.run_before(up, record, sides, &base, recorded)?,
        false => recorded,
    };
    // A copier question not asked when the project was made (its `when` false) is not in
    // copier's answers file: factory's record has its default, which is no answer.
    let mut recorded = recorded.clone();
    if base.manifest.flavour() == Flavour::Copier {
        recorded.retain(|name, _| !base.answers.unasked.contains(name));
    }
    // On a terminal (or a pipe) every question is asked again with the recorded answer
    // offered (only the new ones with --skip-answered), as copier's update does; elsewhere
    // the recorded answers stand and new questions take their defaults. Either way a
    // question whose `when` no longer holds takes its default, as in copier.
    let defaults = asker.is_none();
    let mut again = Recorded {
        asker,
        recorded: &recorded,
        skip_answered: request.skip_answered,
    };
    let theirs = generate_side(
        up,
        (&sides.theirs, Helper::Started(theirs_python)),
        (
            request.answers.clone(),
            Some(&mut again as &mut dyn Asker),
            defaults,
        ),
        theirs_hooks,
        &scratch.path().join("theirs"),
    )?;
    Ok((base, theirs))
}

/// Renders the base while the new side's Python helper is given its template beside it (the
/// helper started early when there is one, else it starts now: its start is most of a
/// side's cost); the new side itself waits, its questions depend on the base's.
fn base_beside_python(
    up: Upgrade,
    sides: &Sides,
    (given, replayed): (Map<String, Value>, &mut dyn Asker),
    hooks: crate::generate::hooks::Hooks,
    target: &Path,
) -> Result<(
    engine::Rendered,
    Option<Arc<crate::generate::python::PythonExtensions>>,
)> {
    let interpreter = up.session.settings.python.as_str();
    let (base, theirs_python) = std::thread::scope(|scope| {
        let early = sides
            .theirs_python
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let theirs_python = scope
            .spawn(|| super::generate::start_python_from(early, interpreter, &sides.theirs.source));
        let base = generate_side(
            up,
            (&sides.base, sides.base_python.clone()),
            (given, Some(replayed), true),
            hooks,
            target,
        );
        let theirs_python = theirs_python
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (base, theirs_python)
    });
    Ok((base?, theirs_python?))
}

/// The 3-way plan from the two renders to the project as it is now (files it asks to keep
/// left out), and the project's own record files that change.
fn plan_steps(
    up: Upgrade,
    record: &Record,
    base: &engine::Rendered,
    theirs: &engine::Rendered,
    sides: &Sides,
) -> Result<(Plan, Vec<RecordFile>)> {
    let request = up.request;
    let ours = engine::read_project(up.dir)?;
    let (mut base_tree, mut theirs_tree) = (base.files.clone(), theirs.files.clone());
    engine::keep::skip_if_exists(
        &mut base_tree,
        &mut theirs_tree,
        &ours,
        &skip_if_exists(up, theirs)?,
    )?;
    if let Record::Cruft(cruft) = record {
        engine::keep::skip_paths(&mut base_tree, &mut theirs_tree, &cruft.skip)?;
    }
    // A copier template's files are updated as copier updates them (through git).
    let copier = crate::upgrade::patch::GitPatcher {
        context_lines: request.context_lines.unwrap_or(3),
    };
    let patcher = (theirs.manifest.flavour() == Flavour::Copier)
        .then_some(&copier as &dyn engine::merge::Patcher);
    let how = plan::How {
        style: request.conflict_style,
        patcher,
        delete_removed: request.delete_removed,
        line_merge: request.line_merge,
    };
    let mut plan = plan::plan(&base_tree, &theirs_tree, &ours, how);
    let mut records = project_records(record, &mut plan, theirs, &ours, sides, request)?;
    records.retain(|(path, bytes)| ours.get(path).is_none_or(|f| &f.bytes != bytes));
    Ok((plan, records))
}

/// The new version's `_skip_if_exists` patterns, each rendered with its answers as copier
/// renders them.
fn skip_if_exists(up: Upgrade, theirs: &engine::Rendered) -> Result<Vec<String>> {
    let manifest = &theirs.manifest;
    if !manifest
        .skip_if_exists
        .iter()
        .any(|p| manifest.is_template_text(p))
    {
        return Ok(manifest.skip_if_exists.clone());
    }
    let env = crate::render::environment_for(&up.session.settings.render, manifest)
        .map_err(Error::new)?;
    let ctx = theirs.answers.context();
    manifest
        .skip_if_exists
        .iter()
        .map(|pattern| {
            crate::bounded::render_str_bounded(&env, pattern, &ctx)
                .map_err(|e| Error::new(format!("_skip_if_exists `{pattern}`: {e}")))
        })
        .collect()
}

/// A file of the project's own record (copier's answers file, `.cruft.json`, factory's
/// provenance): its path in the project and its bytes.
type RecordFile = (String, Vec<u8>);

/// Records the plan and, when it was applied, the generation it made, in one write.
fn record_upgrade(
    session: &Session,
    mut events: Vec<DomainEvent>,
    execution: Option<(Execution, commands::Scaffold, u64)>,
) -> Result<()> {
    session.write(|state| {
        if let Some((execution, scaffold, duration_ms)) = execution {
            // The plan caused the upgrade: ScaffoldGenerated and TemplateExecuted follow it.
            // Without a plan event (a repository source) the request opens the chain.
            let recorded = commands::execution_succeeded(state, &execution, scaffold, duration_ms)?;
            let skip = usize::from(!events.is_empty());
            events.extend(recorded.into_iter().skip(skip));
        }
        Ok(Decision::events(events, ()))
    })?;
    Ok(())
}

/// A copier template's change of a file's executable bit reaches the project's git index
/// where git ignores modes on disk (`core.fileMode` false), as copier's update carries it;
/// before the conflicts are marked, whose stages take the index's mode, as in copier.
fn sync_executable_bits(up: Upgrade, plan: &Plan, theirs: &engine::Rendered) {
    if theirs.manifest.flavour() != Flavour::Copier {
        return;
    }
    let files: Vec<(&str, bool)> = plan
        .steps
        .iter()
        .filter_map(|s| s.write.as_ref().map(|w| (s.path.as_str(), w.executable)))
        .collect();
    // The files are written by now: a failure to record the modes is said, not an error.
    if let Err(e) = crate::git::sync_executable_bits(up.dir, &files) {
        up.session.note(format!(
            "the files have their new modes, but git's index does not record them: {}",
            e.message
        ));
    }
}

/// The files left with inline conflict markers are unmerged in the project's git index, as
/// copier leaves them (`git status` shows `UU`; `git add` marks them resolved).
fn mark_unmerged(up: Upgrade, plan: &Plan, base: &engine::Rendered, theirs: &engine::Rendered) {
    if up.request.conflict_style == ConflictStyle::Rej {
        return;
    }
    let copier = theirs.manifest.flavour() == Flavour::Copier;
    let marked = |bytes: &[u8]| {
        bytes
            .split(|b| *b == b'\n')
            .any(|line| line.starts_with(b"<<<<<<< "))
    };
    let files: Vec<crate::git::Unmerged> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Conflict)
        .filter(|s| s.write.as_ref().is_some_and(|w| marked(&w.bytes)))
        .map(|s| {
            let theirs = theirs.files.get(&s.path).map(|f| f.bytes.as_slice());
            // copier merges a file you and the new version both added against an empty
            // one (its old copy gets it empty), so git lists it as both modified, not added.
            let base = match base.files.get(&s.path) {
                Some(f) => Some(f.bytes.as_slice()),
                None if copier && theirs.is_some() => Some(&b""[..]),
                None => None,
            };
            crate::git::Unmerged {
                path: &s.path,
                base,
                theirs,
            }
        })
        .collect();
    // The files are written by now: a failure to mark them is said, not an error.
    if let Err(e) = crate::git::mark_unmerged(up.dir, &files) {
        up.session.note(format!(
            "the conflicts are in the files, but git does not list them as unmerged: {}",
            e.message
        ));
    }
}

/// The project's own record: copier's answers file is what the new version renders (or,
/// when it renders none, copier's standard one); cruft's is written as cruft writes it.
fn project_records(
    record: &Record,
    plan: &mut Plan,
    theirs: &engine::Rendered,
    ours: &crate::upgrade::plan::Files,
    sides: &Sides,
    request: &PlanTemplateUpgrade,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    match &record {
        Record::Copier(copier) if theirs.files.contains_key(&copier.file) => {
            engine::keep::regenerate(plan, &copier.file, &theirs.files, ours);
        }
        Record::Copier(copier) => {
            records.push((
                copier.file.clone(),
                super::generate::copier_answers_text(&theirs.answers)?,
            ));
        }
        Record::Cruft(cruft) => records.push((
            CRUFT_FILE.to_string(),
            cruft.updated(
                sides
                    .theirs
                    .source
                    .source_ref
                    .commit
                    .as_deref()
                    .unwrap_or_default(),
                request.to.as_deref(),
                &theirs.answers.public(),
            ),
        )),
        // A factory project made from a copier template: its copier answers file too is
        // what the new version renders, never merged.
        Record::Factory(_) if theirs.manifest.flavour() == Flavour::Copier => {
            let file = theirs
                .manifest
                .answers_file
                .as_deref()
                .unwrap_or(".copier-answers.yml");
            if theirs.files.contains_key(file) {
                engine::keep::regenerate(plan, file, &theirs.files, ours);
            }
        }
        Record::Factory(_) => {}
    }
    Ok(records)
}

/// The plan event: it names a stored template and the generation it upgrades; a project from
/// a repository, copier or cruft has neither (its generation events are recorded when the
/// plan is applied).
fn plan_event(record: &Record, sides: &Sides, plan: &Plan, plan_id: &str) -> Vec<DomainEvent> {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| json!({"path": s.path, "action": s.action, "reason": s.reason}))
        .collect();
    match (record, &sides.origin.id) {
        (Record::Factory(scaffold), Some(template_id)) => {
            vec![DomainEvent::TemplateUpgradePlanCreated(
                TemplateUpgradePlanCreated {
                    plan_id: plan_id.to_string(),
                    execution_id: scaffold.execution_id.clone(),
                    template_id: template_id.clone(),
                    from_version: sides.from_version.clone(),
                    to_version: sides.to_version.clone(),
                    steps,
                    conflict_count: plan.conflict_count() as u64,
                },
            )]
        }
        _ => Vec::new(),
    }
}

/// Carries the plan out, all or nothing, with the migrations around it; the generation to
/// record (a factory project's provenance written anew, a copier or cruft project's own
/// record only).
fn apply_upgrade(
    up: Upgrade,
    record: &Record,
    sides: &Sides,
    theirs: &engine::Rendered,
    report: &UpgradeReport,
    mut records: Vec<(String, Vec<u8>)>,
    migrations: &Migrations,
) -> Result<(Execution, commands::Scaffold, u64)> {
    let (session, dir) = (up.session, up.dir);
    let started = std::time::Instant::now();
    // Links are not listed in the provenance, as `generate` lists none.
    let mut hashed: Vec<HashedFile> = theirs
        .files
        .iter()
        .filter(|(_, f)| !f.link)
        .map(|(path, f)| HashedFile {
            path: path.clone(),
            sha256: hash::sha256_hex(&f.bytes),
        })
        .collect();
    let tree = hash::tree_hash(&mut hashed);
    let execution_id = ids::new_id(ids::EXECUTION);
    let scaffold_output_id = ids::new_id(ids::SCAFFOLD_OUTPUT);
    // A factory project's provenance is written anew; a copier or cruft project gets
    // nothing of factory's, only its own record.
    if let Record::Factory(_) = &record {
        let new_scaffold = Scaffold::record(
            sides.origin.clone(),
            execution_id.clone(),
            scaffold_output_id.clone(),
            crate::clock::format_rfc3339(session.settings.render.now()),
            &theirs.answers,
            theirs.libraries.clone(),
            tree.content_hash.clone(),
        );
        records.extend(new_scaffold.files(&tree.manifest));
    }
    engine::apply::apply(dir, &report.plan, &records)?;
    migrations.run_tasks(theirs, sides, dir, &session.settings.render)?;
    let template_dir = sides.theirs.source.local_dir();
    migrations.run(
        "after",
        (&theirs.manifest.envops, &theirs.answers.context()),
        dir,
        (&session.settings.render, template_dir.as_deref()),
    )?;
    Ok((
        Execution {
            execution_id,
            template_id: sides.origin.id.clone(),
            template_version_id: sides.origin.version_id.clone(),
            parameters: theirs.answers.public(),
            target: crate::generate::absolute(dir),
        },
        commands::Scaffold {
            scaffold_output_id,
            libraries: theirs.libraries.clone(),
            repository: None,
            content_hash: tree.content_hash,
            file_count: theirs.files.len() as u64,
            byte_count: theirs.files.values().map(|f| f.bytes.len() as u64).sum(),
        },
        started.elapsed().as_millis() as u64,
    ))
}

/// The gate `generate` has (hooks, tasks and Python extensions only with `--trust`), for one
/// side of the upgrade; the hooks it may run.
fn gate(request: &PlanTemplateUpgrade, sides: &Sides) -> Result<Judged> {
    let (base, theirs) = (&sides.base.source, &sides.theirs.source);
    let hooks = |s: &ResolvedSource| -> Result<crate::generate::hooks::Hooks> {
        let mut hooks = crate::generate::hooks::Hooks::of(&s.files, &s.manifest)?;
        // copier's --skip-tasks leaves the tasks of every render unrun, not its migrations.
        if request.skip_tasks {
            hooks.tasks.clear();
        }
        Ok(hooks)
    };
    let (base_hooks, theirs_hooks) = (hooks(base)?, hooks(theirs)?);
    let mut migrations = Migrations::of(sides)?;
    // copier runs the new version's tasks in the project too, once its files are there.
    if request.trust && theirs.manifest.flavour() == Flavour::Copier {
        migrations.tasks = theirs_hooks.tasks.clone();
    }
    // Everything either version would run is named at once, as copier names it.
    let mut found = Unsafe::of(base, &base_hooks, request.trust, false);
    found.add(Unsafe::of(theirs, &theirs_hooks, request.trust, false));
    if !migrations.before.is_empty() || !migrations.after.is_empty() {
        found.add(migrations.unsafe_part());
    }
    if !request.trust
        && let Some(err) = found.refusal(&theirs.label)
    {
        return Err(err.hint(if found.extensions {
            "read what they do (the template's files, the packages they name), then pass --trust: both versions are generated with them, as copier's update does"
        } else {
            "read what it runs, then pass --trust: both versions are generated with it, and copier's migrations run in the project, as copier's update does"
        }));
    }
    Ok((base_hooks, theirs_hooks, migrations))
}

/// One side of an upgrade: a template version and how copier would name it.
struct Side {
    source: ResolvedSource,
    /// copier's `_src_path` (the template as the project's record names it).
    src_path: String,
    /// copier's `_copier_conf.vcs_ref` (the ref asked for).
    vcs_ref: Option<String>,
}

/// The two versions an upgrade moves between, wherever they come from.
struct Sides {
    /// The template's name.
    name: String,
    /// The recorded version (or commit).
    from_version: String,
    /// The version (or commit) moved to.
    to_version: String,
    /// The recorded version.
    base: Side,
    /// The new version.
    theirs: Side,
    /// The base's Python helper, when it started while the new version was fetched.
    base_python: Helper,
    /// The new version's helper, started then too before its template was known.
    theirs_python: std::sync::Mutex<Option<crate::generate::python::Early>>,
    /// What a factory project's provenance names after the upgrade.
    origin: TemplateOrigin,
}

/// A side's Python helper for its Jinja extensions: started already (none when it has
/// none), or to be started with its renderer.
#[derive(Clone)]
enum Helper {
    Started(Option<Arc<crate::generate::python::PythonExtensions>>),
    ToStart,
}

/// Generates one side into `target` (a scratch folder) through `generate`'s own steps, with
/// the run's facts of the project in `dir` (its folder name, copier's `update` operation),
/// and reads the result back.
fn generate_side(
    up: Upgrade,
    (side, python): (&Side, Helper),
    (given, asker, defaults): (Map<String, Value>, Option<&mut dyn Asker>, bool),
    hooks: crate::generate::hooks::Hooks,
    target: &Path,
) -> Result<engine::Rendered> {
    let (session, request) = (up.session, up.request);
    let source = &side.source;
    // Names a side knows that its version does not have are left out (removed parameters).
    let given: Map<String, Value> = given
        .into_iter()
        .filter(|(k, _)| source.manifest.parameter(k).is_some())
        .collect();
    let cookiecutter = source.manifest.flavour() == Flavour::Cookiecutter;
    let run = run_facts(up, side, &given, defaults, cookiecutter);
    let as_generation = GenerateScaffold {
        template: side.src_path.clone(),
        answers: given,
        trust: request.trust,
        ..Default::default()
    };
    let (renderer, python) = match python {
        Helper::Started(started) => super::generate::renderer_with(session, source, started)?,
        Helper::ToStart => super::generate::renderer(session, source)?,
    };
    let answers = super::generate::resolve_answers(
        session,
        &as_generation,
        source,
        &renderer,
        &python,
        asker,
        &run,
    )
    .map_err(|e| e.hint("give the missing answers with --set NAME=VALUE"))?;
    let ctx = answers.context();
    let chosen = renderer
        .for_answers(&ctx)
        .map_err(|m| Error::new(format!("{}: {m}", source.label)))?;
    let renderer = chosen.as_ref().unwrap_or(&renderer);
    let project = match cookiecutter {
        true => target.join(
            renderer
                .project_folder(&ctx)
                .map_err(|m| Error::new(format!("{}: {m}", source.label)))?,
        ),
        false => target.to_path_buf(),
    };
    render_side(up, (source, renderer), answers, hooks, project)
}

/// The run's facts copier and cookiecutter templates see for one side (`_copier_conf`,
/// `_folder_name`, …): the project's folder (for cookiecutter, the folder it is made in) and
/// copier's `update` operation.
fn run_facts(
    up: Upgrade,
    side: &Side,
    given: &Map<String, Value>,
    defaults: bool,
    cookiecutter: bool,
) -> Run {
    let (source, dir) = (&side.source, up.dir);
    // cookiecutter's output folder is the one its project folder is made in.
    let dst = match (cookiecutter, dir.parent()) {
        (true, Some(parent)) => crate::generate::absolute(parent),
        _ => crate::generate::absolute(dir),
    };
    Run {
        template: side.src_path.clone(),
        url: crate::git::url::without_credentials(&side.src_path),
        src_path: match &source.source_ref.directory {
            Some(directory) => format!("{}/{directory}", source.source_ref.uri),
            None => source.source_ref.uri.clone(),
        },
        dst_path: dst,
        vcs_ref: side.vcs_ref.clone(),
        commit: source.source_ref.commit.clone(),
        commit_description: source.commit_description.clone(),
        given: given.clone(),
        trusted: up.request.trust,
        defaults,
        overwrite: true,
        operation: Some("update"),
        python: Some(up.session.settings.python.clone()),
    }
}

/// Renders one side into `project` with `generate`'s own run (its hooks only with
/// `--trust`), and reads the result back.
fn render_side(
    up: Upgrade,
    (source, renderer): (&ResolvedSource, &Renderer),
    answers: Answers,
    hooks: crate::generate::hooks::Hooks,
    project: PathBuf,
) -> Result<engine::Rendered> {
    let generation = crate::generate::Request {
        source,
        renderer,
        answers: &answers,
        target: project.clone(),
        within: None,
        force: false,
        into_existing: false,
        no_cleanup: false,
        dry_run: false,
        git: false,
        commit_trailer: None,
        generated_at: crate::clock::format_rfc3339(up.session.settings.render.now()),
        hooks: if up.request.trust {
            hooks
        } else {
            Default::default()
        },
        extra_files: Vec::new(),
    };
    let outcome = crate::generate::run(&generation, &crate::generate::Silent)
        .map_err(|failure| failure.error)?;
    outcome
        .deprecations
        .iter()
        .for_each(|d| up.session.tool_warning(d.clone()));
    Ok(engine::Rendered {
        manifest: renderer.manifest().clone(),
        answers,
        files: engine::read_project(&project)?,
        libraries: outcome.libraries,
    })
}

/// copier's `_migrations` for this update (the new version's, between the two versions),
/// refused without `--trust` as copier refuses them, and the new version's `_tasks`, which
/// copier runs in the project too.
struct Migrations {
    before: Vec<crate::template::copier::Migration>,
    after: Vec<crate::template::copier::Migration>,
    /// `_version_from`, `_version_to` and their PEP 440 forms.
    versions: Vec<(String, String)>,
    /// Some are in copier's older form, which copier warns about.
    legacy: bool,
    /// The new version's `_tasks` (with `--trust`, without `--skip-tasks`), run in the
    /// project once the files are updated.
    tasks: Vec<crate::template::manifest::Task>,
}

impl Migrations {
    /// Whether something runs after the files are updated (which copier runs even when
    /// no file changes).
    fn run_after(&self) -> bool {
        !self.after.is_empty() || !self.tasks.is_empty()
    }

    /// What the migrations would run, as an `--trust` refusal names it.
    fn unsafe_part(&self) -> Unsafe {
        Unsafe {
            wants: self
                .before
                .iter()
                .chain(&self.after)
                .map(|m| format!("migration `{}`", m.task))
                .collect(),
            features: ["migrations"].into(),
            extensions: false,
        }
    }

    fn of(sides: &Sides) -> Result<Migrations> {
        let mut found = Migrations {
            before: Vec::new(),
            after: Vec::new(),
            versions: Vec::new(),
            legacy: false,
            tasks: Vec::new(),
        };
        let source = &sides.theirs.source;
        let config = crate::template::copier::CONFIG_FILES
            .iter()
            .find_map(|name| source.files.get(name).map(|f| (name, f)));
        let (Some((name, file)), Some(from), Some(to)) = (
            config.filter(|_| source.manifest.flavour() == Flavour::Copier),
            sides.base.source.commit_description.as_deref(),
            source.commit_description.as_deref(),
        ) else {
            return Ok(found);
        };
        let text = String::from_utf8_lossy(&file.read()?).into_owned();
        let pep440 = |c: &str| crate::template::copier::pep440_of_commit(c);
        // copier warns about the older form on every update between two versions, whether
        // or not one of them applies.
        found.legacy = pep440(from).is_some()
            && pep440(to).is_some()
            && crate::template::copier::has_legacy_migrations(&text, name);
        let read = |stage: &str| {
            crate::template::copier::migrations(&text, name, stage, from, to)
                .map_err(|e| Error::new(format!("{}: {}", source.label, e.message)))
        };
        (found.before, found.after) = (read("before")?, read("after")?);
        if found.before.is_empty() && found.after.is_empty() {
            return Ok(found);
        }
        let pep440 = |c: &str| pep440(c).map_or_else(String::new, |v| v.to_string());
        found.versions = vec![
            ("version_from".into(), from.to_string()),
            ("version_to".into(), to.to_string()),
            ("version_pep440_from".into(), pep440(from)),
            ("version_pep440_to".into(), pep440(to)),
            ("copier_operation".into(), "update".into()),
        ];
        Ok(found)
    }

    /// Runs the migrations of `stage` in the project, rendered with the new version's
    /// `_envops` and `ctx`, with the values copier passes (`_copier_phase` `migrate`, its
    /// `_copier_conf.src_path` the template's files).
    fn run(
        &self,
        stage: &str,
        (envops, ctx): (&Map<String, Value>, &minijinja::Value),
        dir: &Path,
        (settings, template_dir): (&crate::render::Settings, Option<&Path>),
    ) -> Result<()> {
        let migrations = if stage == "before" {
            &self.before
        } else {
            &self.after
        };
        if migrations.is_empty() {
            return Ok(());
        }
        let env = crate::render::environment_with(settings, envops).map_err(Error::new)?;
        for migration in migrations {
            let mut extra = self.versions.clone();
            extra.push(("stage".into(), stage.to_string()));
            if let Some((current, pep440)) = &migration.current {
                extra.push(("version_current".into(), current.clone()));
                extra.push(("version_pep440_current".into(), pep440.clone()));
            }
            let how = crate::generate::hooks::TaskRun {
                phase: "migrate",
                extra,
                template_dir,
                anywhere: true,
            };
            crate::generate::hooks::run_task_with(&migration.task, (&env, ctx), dir, &how)?;
        }
        Ok(())
    }

    /// The `before` migrations, run in the project once the recorded version is rendered
    /// (`base`), as copier runs them; the answers the new version is given are then those
    /// of the project's copier answers file as the migrations left it (copier reads it
    /// again, unless `--skip-answered`).
    fn run_before(
        &self,
        up: Upgrade,
        record: &Record,
        sides: &Sides,
        base: &engine::Rendered,
        recorded: Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        if self.before.is_empty() {
            return Ok(recorded);
        }
        let new = &sides.theirs.source;
        let file = match record {
            Record::Copier(copier) => Some(copier.file.clone()),
            Record::Factory(_) if new.manifest.flavour() == Flavour::Copier => Some(
                new.manifest
                    .answers_file
                    .clone()
                    .unwrap_or_else(|| ".copier-answers.yml".to_string()),
            ),
            _ => None,
        };
        let read = |name: &str| {
            let answers = CopierRecord::read(up.dir, name).ok().map(|r| r.answers);
            (std::fs::read(up.dir.join(name)).ok(), answers)
        };
        let before = file.as_deref().map(read);
        let template_dir = new.local_dir();
        self.run(
            "before",
            (&new.manifest.envops, &base.answers.context()),
            up.dir,
            (&up.session.settings.render, template_dir.as_deref()),
        )?;
        let (Some(name), Some((bytes, Some(old)))) = (file, before) else {
            return Ok(recorded);
        };
        let (now, answers) = read(&name);
        let Some(answers) = answers.filter(|_| now != bytes && !up.request.skip_answered) else {
            return Ok(recorded);
        };
        let mut recorded = recorded;
        recorded.retain(|name, _| !old.contains_key(name));
        recorded.extend(answers);
        Ok(recorded)
    }

    /// The new version's tasks, run in the project once its files are updated, as copier's
    /// update runs them there.
    fn run_tasks(
        &self,
        theirs: &engine::Rendered,
        sides: &Sides,
        dir: &Path,
        settings: &crate::render::Settings,
    ) -> Result<()> {
        if self.tasks.is_empty() {
            return Ok(());
        }
        let env = crate::render::environment_with(settings, &theirs.manifest.envops)
            .map_err(Error::new)?;
        let template_dir = sides.theirs.source.local_dir();
        crate::generate::hooks::run_tasks(
            &self.tasks,
            (&env, &theirs.answers.context()),
            dir,
            (
                crate::generate::hooks::Output::Captured,
                template_dir.as_deref(),
            ),
            &|_| {},
        )
    }
}

/// What may run: each side's hooks (tasks included) and the migrations between them.
type Judged = (
    crate::generate::hooks::Hooks,
    crate::generate::hooks::Hooks,
    Migrations,
);

/// Before anything runs: the gate, copier's note on its legacy migration form, and its
/// refusal of a downgrade.
fn judge(up: Upgrade, sides: &Sides) -> Result<Judged> {
    let judged = gate(up.request, sides)?;
    if judged.2.legacy {
        up.session.tool_warning("a migration is in copier's legacy form ({version, before, after}), which copier deprecates (\"This migration configuration is deprecated\"): write each as {command, version, when}".into());
    }
    refuse_downgrade(sides)?;
    Ok(judged)
}

/// copier refuses to move a project to an older version of its template.
fn refuse_downgrade(sides: &Sides) -> Result<()> {
    if sides.theirs.source.manifest.flavour() != Flavour::Copier {
        return Ok(());
    }
    let version = |s: &Side| {
        s.source
            .commit_description
            .as_deref()
            .and_then(crate::template::copier::pep440_of_commit)
    };
    match (version(&sides.base), version(&sides.theirs)) {
        (Some(from), Some(to)) if from > to => Err(Error::new(format!(
            "You are downgrading from {from} to {to}. Downgrades are not supported."
        ))
        .hint("name a version at least as new with --to (pre-releases count with --prereleases), as copier allows no downgrade")),
        _ => Ok(()),
    }
}

/// A project generated from a stored version: the store has both sides.
fn stored_sides(
    session: &Session,
    request: &PlanTemplateUpgrade,
    scaffold: &Scaffold,
) -> Result<Sides> {
    // A version only on a remote (`--to`), or a newer one there, is pulled first.
    super::remote::refresh(
        session,
        &scaffold.template.name,
        request.to.as_deref(),
        false,
    )?;
    let state = session.store.state()?;
    let key = scaffold
        .template
        .id
        .clone()
        .unwrap_or_else(|| scaffold.template.name.clone());
    let template = commands::find_template(&state, &key).map_err(|e| {
        e.hint("upgrade works on projects generated from a stored template version or a git repository")
    })?;
    let from = scaffold.template.version.clone().ok_or_else(|| {
        Error::new(format!(
            "{} was generated from a folder, not a stored version or a repository",
            request.folder
        ))
        .hint("register and version the template, then generate from the store to upgrade later")
    })?;
    let (_, base_version) = commands::find_version(&state, &key, &from)?;
    let target = match &request.to {
        Some(v) => commands::find_version(&state, &key, v)?.1,
        None => template.latest_published().ok_or_else(|| {
            Error::new(format!("{} has no published version", template.name))
                .hint("name one with --to VERSION")
        })?,
    };
    let blobs = session.store.blobs();
    let side = |version: &str| -> Result<Side> {
        let source = source::stored(
            &state,
            &blobs,
            &template.id,
            Some(version),
            VersionChoice::Any,
        )?;
        Ok(Side {
            src_path: source.source_ref.uri.clone(),
            vcs_ref: None,
            source,
        })
    };
    Ok(Sides {
        name: template.name.clone(),
        from_version: base_version.version.clone(),
        to_version: target.version.clone(),
        base: side(&base_version.version)?,
        theirs: side(&target.version)?,
        base_python: Helper::ToStart,
        theirs_python: Default::default(),
        origin: TemplateOrigin {
            id: Some(template.id.clone()),
            name: template.name.clone(),
            version: Some(target.version.clone()),
            version_id: Some(target.id.clone()),
            source: target.source_ref.clone(),
        },
    })
}

/// A project generated from a git repository: the recorded commit is fetched again, and the
/// new side is `--to REF` or what `generate` would take now (the default branch, or a copier
/// template's newest release tag).
fn repository_sides(
    session: &Session,
    request: &PlanTemplateUpgrade,
    scaffold: &Scaffold,
) -> Result<Sides> {
    let source = &scaffold.template.source;
    let commit = source.commit.clone().ok_or_else(|| {
        Error::new(format!(
            "{}'s provenance names the repository {} but no commit",
            request.folder, source.uri
        ))
    })?;
    let fetch = crate::source::Fetch {
        prereleases: request.prereleases,
        ..session.settings.fetch(None, source.directory.clone())
    };
    let base = source::from_location(&format!("{}#{commit}", source.uri), &fetch)?;
    let to = request.to.as_ref().map(|r| format!("{}#{r}", source.uri));
    let (theirs, (base_python, theirs_python)) =
        theirs_beside_python(session, request, &base, || {
            source::from_location(to.as_deref().unwrap_or(&source.uri), &fetch)
        })?;
    session.relay(&theirs);
    let short = |c: &Option<String>| c.as_deref().map_or(String::new(), |c| c[..12].to_string());
    Ok(Sides {
        name: scaffold.template.name.clone(),
        from_version: commit[..12].to_string(),
        to_version: short(&theirs.source_ref.commit),
        origin: TemplateOrigin {
            id: None,
            name: scaffold.template.name.clone(),
            version: None,
            version_id: None,
            source: theirs.source_ref.clone(),
        },
        base: Side {
            src_path: source.uri.clone(),
            vcs_ref: Some(commit.clone()),
            source: base,
        },
        theirs: Side {
            src_path: source.uri.clone(),
            vcs_ref: request.to.clone(),
            source: theirs,
        },
        base_python,
        theirs_python: std::sync::Mutex::new(theirs_python),
    })
}

/// The base's Python helper, and the new version's started before its template is known.
type Pythons = (Helper, Option<crate::generate::python::Early>);

/// Resolves the new version (`resolve_theirs`: a fetch and a checkout) while one Python
/// helper loads Jinja2 and the packages the base's extensions import, and forks a copy that
/// takes the base; only with `--trust` (loading the extensions runs the template's code).
/// A helper's start is a third of a short upgrade: it is paid once, beside the fetch.
fn theirs_beside_python(
    session: &Session,
    request: &PlanTemplateUpgrade,
    base: &ResolvedSource,
    resolve_theirs: impl FnOnce() -> Result<ResolvedSource>,
) -> Result<(ResolvedSource, Pythons)> {
    if !request.trust || base.manifest.python_extensions.is_empty() {
        return Ok((resolve_theirs()?, (Helper::ToStart, None)));
    }
    let interpreter = session.settings.python.as_str();
    let preload =
        crate::generate::python::PythonExtensions::preload_of(&base.manifest, &base.files);
    // One interpreter loads Jinja2 and the packages, then forks a copy for the base.
    let (theirs_python, base_python) =
        crate::generate::python::PythonExtensions::early_pair(interpreter, preload);
    std::thread::scope(|scope| {
        let python = scope
            .spawn(|| super::generate::start_python_from(Some(base_python), interpreter, base));
        let theirs = resolve_theirs();
        let python = python
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((theirs?, (Helper::Started(python?), Some(theirs_python))))
    })
}

/// A project copier made: the template its answers file names, at the recorded `_commit`
/// and at `--to REF` (default: its newest release tag, as copier picks it).
fn copier_sides(
    session: &Session,
    request: &PlanTemplateUpgrade,
    record: &CopierRecord,
    dir: &Path,
) -> Result<Sides> {
    let settings = &session.settings;
    let location = adopted::template_location(
        &record.src_path,
        dir,
        settings.home.as_deref(),
        &settings.git.abbreviations,
    )?;
    let fetch = crate::source::Fetch {
        prereleases: request.prereleases,
        ..settings.fetch(None, None)
    };
    let base = source::from_location(&format!("{location}#{}", record.commit), &fetch)?;
    // copier's `--vcs-ref=:current:`: the version the project is at (to change answers).
    let wanted = match request.to.as_deref() {
        Some(":current:") => Some(record.commit.clone()),
        other => other.map(str::to_string),
    };
    let to = wanted.as_ref().map(|r| format!("{location}#{r}"));
    let (theirs, pythons) = theirs_beside_python(session, request, &base, || {
        source::from_location(to.as_deref().unwrap_or(&location), &fetch)
    })?;
    foreign_sides(
        session,
        wanted,
        (base, theirs, pythons),
        &record.src_path,
        &record.commit,
    )
}

/// A project cruft made: the template its `.cruft.json` names (in its `directory`), at the
/// recorded commit and at `--to REF` (default: the default branch's head, as cruft takes it).
fn cruft_sides(
    session: &Session,
    request: &PlanTemplateUpgrade,
    record: &CruftRecord,
    dir: &Path,
) -> Result<Sides> {
    let settings = &session.settings;
    let location = adopted::template_location(
        &record.template,
        dir,
        settings.home.as_deref(),
        &settings.git.abbreviations,
    )?;
    let fetch = settings.fetch(None, record.directory.clone());
    let at = |reference: &str| source::from_location(&format!("{location}#{reference}"), &fetch);
    let base = at(&record.commit)?;
    let (theirs, pythons) = theirs_beside_python(session, request, &base, || {
        at(request.to.as_deref().unwrap_or("HEAD"))
    })?;
    foreign_sides(
        session,
        request.to.clone(),
        (base, theirs, pythons),
        &record.template,
        &record.commit,
    )
}

/// The sides of a copier or cruft project, named as those tools name them.
fn foreign_sides(
    session: &Session,
    to: Option<String>,
    (base, theirs, (base_python, theirs_python)): (ResolvedSource, ResolvedSource, Pythons),
    named: &str,
    recorded: &str,
) -> Result<Sides> {
    session.relay(&theirs);
    let version = |s: &ResolvedSource| {
        s.commit_description
            .clone()
            .or_else(|| s.source_ref.commit.as_ref().map(|c| c[..12].to_string()))
            .unwrap_or_default()
    };
    let name = crate::template::load::name_from_location(named);
    Ok(Sides {
        name: name.clone(),
        from_version: version(&base),
        to_version: version(&theirs),
        origin: TemplateOrigin {
            id: None,
            name,
            version: None,
            version_id: None,
            source: theirs.source_ref.clone(),
        },
        base: Side {
            src_path: named.to_string(),
            vcs_ref: Some(recorded.to_string()),
            source: base,
        },
        theirs: Side {
            src_path: named.to_string(),
            vcs_ref: to,
            source: theirs,
        },
        base_python,
        theirs_python: std::sync::Mutex::new(theirs_python),
    })
}

/// Parameters and library versions that differ between two renders, for the reader.
fn changes_between(base: &engine::Rendered, theirs: &engine::Rendered) -> (Vec<Value>, Vec<Value>) {
    let mut parameters = Vec::new();
    for p in &theirs.manifest.parameters {
        if base.manifest.parameter(&p.name).is_none() {
            let value = theirs.answers.public().get(&p.name).cloned();
            parameters.push(json!({"name": p.name, "change": "added", "value": value}));
        }
    }
    for p in &base.manifest.parameters {
        if theirs.manifest.parameter(&p.name).is_none() {
            parameters.push(json!({"name": p.name, "change": "removed"}));
        }
    }
    let mut libraries = Vec::new();
    for l in &theirs.libraries {
        match base
            .libraries
            .iter()
            .find(|b| b.package_name == l.package_name)
        {
            Some(b) if b.version != l.version => libraries
                .push(json!({"packageName": l.package_name, "from": b.version, "to": l.version})),
            None => libraries
                .push(json!({"packageName": l.package_name, "from": null, "to": l.version})),
            _ => {}
        }
    }
    for b in &base.libraries {
        if !theirs
            .libraries
            .iter()
            .any(|l| l.package_name == b.package_name)
        {
            libraries.push(json!({"packageName": b.package_name, "from": b.version, "to": null}));
        }
    }
    (parameters, libraries)
}
