//! `factory upgrade`: plan (and with `--apply`, carry out) a move of a generated project to
//! another template version, keeping local edits.

use std::io::IsTerminal;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::{App, output, print_notices, prompt};
use crate::domain::DomainEvent;
use crate::domain::commands::{self, Execution};
use crate::domain::events::TemplateUpgradePlanCreated;
use crate::error::{Error, Result};
use crate::events::{clock, ids};
use crate::generate::provenance::{self, Scaffold, TemplateOrigin};
use crate::hash::{self, HashedFile, PROVENANCE_DIR};
use crate::store::Decision;
use crate::template::answers::Asker;
use crate::template::manifest::Parameter;
use crate::template::snapshot::TemplateFiles;
use crate::upgrade::plan::{self, ConflictStyle};
use crate::upgrade::{self as engine, Action};

/// Arguments of `upgrade`.
#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// The generated project (default: the current folder).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The version to move to (default: the latest published).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Carry the plan out (without it, only the plan is shown and recorded).
    #[arg(long)]
    apply: bool,
    /// How conflict markers look.
    #[arg(long, value_enum, default_value = "merge")]
    conflict_style: Style,
    /// An answer for a new or secret parameter (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
}

/// Asks only for required parameters without a default: the recorded answers stand, and
/// new parameters with defaults take them.
struct NewQuestions(prompt::TerminalAsker);

impl Asker for NewQuestions {
    fn ask(
        &mut self,
        param: &Parameter,
        default: Option<&Value>,
    ) -> std::result::Result<Value, String> {
        self.0.ask(param, default)
    }

    fn asks_for(&self, param: &Parameter, default: Option<&Value>) -> bool {
        param.required && default.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Style {
    Merge,
    Diff3,
}

/// Runs `upgrade`; exit 3 when conflicts remain.
pub fn run(app: &App, args: UpgradeArgs) -> Result<()> {
    let scaffold = Scaffold::load(&args.dir)?;
    let store = app.store()?;
    let state = store.state()?;
    let key = scaffold
        .template
        .id
        .clone()
        .unwrap_or_else(|| scaffold.template.name.clone());
    let template = commands::find_template(&state, &key).map_err(|e| {
        e.hint("upgrade works on projects generated from a stored template version")
    })?;
    let from = scaffold.template.version.clone().ok_or_else(|| {
        Error::new(format!(
            "{} was generated from a folder or repository, not a stored version",
            args.dir.display()
        ))
        .hint("register and version the template, then generate from the store to upgrade later")
    })?;
    let (_, base_version) = commands::find_version(&state, &key, &from)?;
    let target = match &args.to {
        Some(v) => commands::find_version(&state, &key, v)?.1,
        None => template.latest_published().ok_or_else(|| {
            Error::new(format!("{} has no published version", template.name))
                .hint("name one with --to VERSION")
        })?,
    };
    let mut given: Map<String, Value> = scaffold.answers.clone();
    for pair in &args.set {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("--set `{pair}` is not NAME=VALUE")))?;
        given.insert(name.trim().to_string(), Value::String(value.to_string()));
    }
    let objects = store.objects();
    let base = engine::render(
        TemplateFiles::from_tree(&objects, &base_version.tree)?,
        &format!("{}@{}", template.name, base_version.version),
        &template.name,
        &given,
        None,
    )?;
    // On a terminal, new required parameters without a default are asked for (as copier's
    // update asks new questions); elsewhere the error names them.
    let interactive =
        !app.json() && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut asker = NewQuestions(prompt::TerminalAsker::new());
    let theirs = engine::render(
        TemplateFiles::from_tree(&objects, &target.tree)?,
        &format!("{}@{}", template.name, target.version),
        &template.name,
        &given,
        interactive.then_some(&mut asker as &mut dyn Asker),
    )?;
    let ours = engine::read_project(&args.dir)?;
    let style = match args.conflict_style {
        Style::Merge => ConflictStyle::Merge,
        Style::Diff3 => ConflictStyle::Diff3,
    };
    let plan = plan::plan(&base.tree, &theirs.tree, &ours, style);

    // Parameter and library changes, for the reader.
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

    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| json!({"path": s.path, "action": s.action, "reason": s.reason}))
        .collect();
    let plan_id = ids::new_id(ids::PLAN);
    let mut events = vec![DomainEvent::TemplateUpgradePlanCreated(
        TemplateUpgradePlanCreated {
            plan_id: plan_id.clone(),
            execution_id: scaffold.execution_id.clone(),
            template_id: template.id.clone(),
            from_version: base_version.version.clone(),
            to_version: target.version.clone(),
            steps: steps.clone(),
            conflict_count: plan.conflict_count() as u64,
        },
    )];
    let context = app.context(&store)?;
    let changes = plan
        .steps
        .iter()
        .filter(|s| s.action != Action::KeepLocal)
        .count();
    if args.apply && changes > 0 {
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
        let new_scaffold = Scaffold {
            format_version: 1,
            template: TemplateOrigin {
                id: Some(template.id.clone()),
                name: template.name.clone(),
                version: Some(target.version.clone()),
                version_id: Some(target.id.clone()),
                source: target.source_ref.clone(),
            },
            execution_id: execution_id.clone(),
            scaffold_output_id: scaffold_output_id.clone(),
            generated_at: clock::format_rfc3339(context.now()),
            answers: theirs.answers.public(),
            secret_parameters: theirs.answers.secrets.clone(),
            libraries: theirs.libraries.clone(),
            content_hash: tree.content_hash.clone(),
        };
        let extra = vec![
            (
                format!("{PROVENANCE_DIR}/{}", provenance::SCAFFOLD_FILE),
                new_scaffold.to_yaml().into_bytes(),
            ),
            (
                format!("{PROVENANCE_DIR}/{}", provenance::MANIFEST_FILE),
                tree.manifest.into_bytes(),
            ),
        ];
        engine::apply::apply(&args.dir, &plan, &extra)?;
        let execution = Execution {
            execution_id,
            template_id: Some(template.id.clone()),
            template_version_id: Some(target.id.clone()),
            parameters: theirs.answers.public(),
            target: crate::generate::absolute(&args.dir),
        };
        let recorded = commands::execution_succeeded(
            &execution,
            commands::Scaffold {
                scaffold_output_id,
                libraries: theirs.libraries.clone(),
                repository: None,
                content_hash: tree.content_hash,
                file_count: theirs.tree.len() as u64,
                byte_count: theirs.tree.values().map(|f| f.bytes.len() as u64).sum(),
            },
            started.elapsed().as_millis() as u64,
        );
        // The plan caused the upgrade: ScaffoldGenerated and TemplateExecuted follow it.
        events.extend(recorded.into_iter().skip(1));
    }
    let written = store.write(&context, |_| Ok(Decision::events(events, ())));
    print_notices(app, &store);
    written?;

    let conflicts = plan.conflict_count();
    if app.json() {
        output::print_json(&json!({
            "planId": plan_id,
            "dir": args.dir,
            "template": template.name,
            "fromVersion": base_version.version,
            "toVersion": target.version,
            "applied": args.apply,
            "steps": steps,
            "unchanged": plan.unchanged,
            "parameters": parameters,
            "libraries": libraries,
            "conflictCount": conflicts,
        }));
    } else if app.human() {
        println!(
            "Upgrade {} from {}@{} to {}",
            args.dir.display(),
            template.name,
            base_version.version,
            target.version
        );
        for step in &plan.steps {
            let action = serde_json::to_value(step.action).expect("actions serialize");
            println!(
                "  {:<11} {}  ({})",
                action.as_str().unwrap_or_default(),
                step.path,
                step.reason
            );
        }
        for p in &parameters {
            match p["change"].as_str() {
                Some("added") => println!(
                    "  parameter  + {} = {}",
                    p["name"].as_str().unwrap_or_default(),
                    p["value"]
                ),
                _ => println!("  parameter  - {}", p["name"].as_str().unwrap_or_default()),
            }
        }
        for l in &libraries {
            println!(
                "  library    {} {} -> {}",
                l["packageName"].as_str().unwrap_or_default(),
                l["from"],
                l["to"]
            );
        }
        let verb = if args.apply {
            "applied"
        } else {
            "planned (pass --apply to carry it out)"
        };
        println!(
            "{} change(s), {} unchanged, {conflicts} conflict(s): {verb}",
            changes, plan.unchanged
        );
    }
    if conflicts > 0 {
        let listed: Vec<&str> = plan
            .steps
            .iter()
            .filter(|s| s.action == Action::Conflict)
            .map(|s| s.path.as_str())
            .collect();
        return Err(Error::verdict(format!(
            "{conflicts} conflict(s) need you: {}",
            listed.join(", ")
        ))
        .hint(if args.apply {
            "resolve the conflict markers (<<<<<<< … >>>>>>>) in those files"
        } else {
            "apply with --apply to get conflict markers in those files, then resolve them"
        }));
    }
    Ok(())
}
