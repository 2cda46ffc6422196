//! `PlanTemplateUpgrade` (and its apply): move a generated project to another template
//! version with a 3-way merge, keeping local edits.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Session;
use crate::domain::DomainEvent;
use crate::domain::commands::{self, Execution};
use crate::domain::events::{SourceKind, TemplateUpgradePlanCreated};
use crate::error::{Error, Result};
use crate::generate::provenance::{Scaffold, TemplateOrigin};
use crate::generate::source::ResolvedSource;
use crate::hash::{self, HashedFile};
use crate::ids;
use crate::store::Decision;
use crate::template::answers::Asker;
use crate::template::snapshot::TemplateFiles;
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
    /// Answers for new or secret parameters (command line only).
    #[serde(skip)]
    pub answers: Map<String, Value>,
}

impl PlanTemplateUpgrade {
    pub(super) fn execute(self, session: &Session, ports: super::Ports) -> Result<UpgradeReport> {
        let dir = ports.placement.folder(&self.folder)?;
        plan_template_upgrade(session, self, &dir, ports.asker)
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
            let listed: Vec<&str> = self
                .plan
                .steps
                .iter()
                .filter(|s| s.action == Action::Conflict)
                .map(|s| s.path.as_str())
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
    asker: Option<&mut dyn Asker>,
) -> Result<UpgradeReport> {
    // A killed `upgrade --apply` (or `generate --force`) is undone before the plan reads it.
    for recovered in crate::transaction::recover_interrupted(dir) {
        session.store.notice(recovered);
    }
    let scaffold = Scaffold::load(dir)?;
    let sides = if scaffold.template.version.is_none()
        && scaffold.template.source.kind == SourceKind::Git
    {
        repository_sides(session, &request, &scaffold)?
    } else {
        stored_sides(session, &request, &scaffold)?
    };
    let mut given = scaffold.answers.clone();
    given.extend(request.answers.clone());
    let settings = &session.settings.render;
    let base = engine::render(
        sides.base.0,
        &sides.base.1,
        &sides.name,
        &given,
        settings,
        None,
    )?;
    let theirs = engine::render(
        sides.theirs.0,
        &sides.theirs.1,
        &sides.name,
        &given,
        settings,
        asker,
    )?;
    let ours = engine::read_project(dir)?;
    let plan = plan::plan(&base.tree, &theirs.tree, &ours, request.conflict_style);
    let (parameters, libraries) = changes_between(&base, &theirs);

    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| json!({"path": s.path, "action": s.action, "reason": s.reason}))
        .collect();
    let plan_id = ids::new_id(ids::PLAN);
    // The plan event names a stored template; a project from a repository has none (its
    // generation events are recorded when the plan is applied).
    let mut events: Vec<DomainEvent> = sides
        .origin
        .id
        .iter()
        .map(|template_id| {
            DomainEvent::TemplateUpgradePlanCreated(TemplateUpgradePlanCreated {
                plan_id: plan_id.clone(),
                execution_id: scaffold.execution_id.clone(),
                template_id: template_id.clone(),
                from_version: sides.from_version.clone(),
                to_version: sides.to_version.clone(),
                steps: steps.clone(),
                conflict_count: plan.conflict_count() as u64,
            })
        })
        .collect();
    let report = UpgradeReport {
        plan_id,
        template: sides.name.clone(),
        from_version: sides.from_version.clone(),
        to_version: sides.to_version.clone(),
        applied: request.apply,
        plan,
        parameters,
        libraries,
    };
    let mut execution = None;
    if request.apply && report.changes() > 0 {
        let started = std::time::Instant::now();
        let mut hashed: Vec<HashedFile> = theirs
            .tree
            .iter()
            .map(|(path, f)| HashedFile {
                path: path.clone(),
                sha256: hash::sha256_hex(&f.bytes),
            })
            .collect();
        let tree = hash::tree_hash(&mut hashed);
        let execution_id = ids::new_id(ids::EXECUTION);
        let scaffold_output_id = ids::new_id(ids::SCAFFOLD_OUTPUT);
        let new_scaffold = Scaffold::record(
            sides.origin.clone(),
            execution_id.clone(),
            scaffold_output_id.clone(),
            crate::clock::format_rfc3339(settings.now()),
            &theirs.answers,
            theirs.libraries.clone(),
            tree.content_hash.clone(),
        );
        engine::apply::apply(dir, &report.plan, &new_scaffold.files(&tree.manifest))?;
        execution = Some((
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
                file_count: theirs.tree.len() as u64,
                byte_count: theirs.tree.values().map(|f| f.bytes.len() as u64).sum(),
            },
            started.elapsed().as_millis() as u64,
        ));
    }
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
    Ok(report)
}

/// The two versions an upgrade moves between, wherever they come from.
struct Sides {
    /// The template's name.
    name: String,
    /// The recorded version (or commit).
    from_version: String,
    /// The version (or commit) moved to.
    to_version: String,
    /// The recorded version's files and label.
    base: (TemplateFiles, String),
    /// The new version's files and label.
    theirs: (TemplateFiles, String),
    /// What the project's provenance names after the upgrade.
    origin: TemplateOrigin,
    /// Checkouts the files are read from, alive while they are.
    _checkouts: Vec<ResolvedSource>,
}

/// A project generated from a stored version: the store has both sides.
fn stored_sides(
    session: &Session,
    request: &PlanTemplateUpgrade,
    scaffold: &Scaffold,
) -> Result<Sides> {
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
    Ok(Sides {
        name: template.name.clone(),
        from_version: base_version.version.clone(),
        to_version: target.version.clone(),
        base: (
            TemplateFiles::from_tree(&blobs, &base_version.tree)?,
            format!("{}@{}", template.name, base_version.version),
        ),
        theirs: (
            TemplateFiles::from_tree(&blobs, &target.tree)?,
            format!("{}@{}", template.name, target.version),
        ),
        origin: TemplateOrigin {
            id: Some(template.id.clone()),
            name: template.name.clone(),
            version: Some(target.version.clone()),
            version_id: Some(target.id.clone()),
            source: target.source_ref.clone(),
        },
        _checkouts: Vec::new(),
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
    let fetch = session.settings.fetch(None, source.directory.clone());
    let base = crate::generate::source::from_location(&format!("{}#{commit}", source.uri), &fetch)?;
    let to = request.to.as_ref().map(|r| format!("{}#{r}", source.uri));
    let theirs =
        crate::generate::source::from_location(to.as_deref().unwrap_or(&source.uri), &fetch)?;
    for note in &theirs.notes {
        session.note(note.clone());
    }
    let short = |c: &Option<String>| c.as_deref().map_or(String::new(), |c| c[..12].to_string());
    Ok(Sides {
        name: scaffold.template.name.clone(),
        from_version: commit[..12].to_string(),
        to_version: short(&theirs.source_ref.commit),
        base: ((*base.files).clone(), base.label.clone()),
        theirs: ((*theirs.files).clone(), theirs.label.clone()),
        origin: TemplateOrigin {
            id: None,
            name: scaffold.template.name.clone(),
            version: None,
            version_id: None,
            source: theirs.source_ref.clone(),
        },
        _checkouts: vec![base, theirs],
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
