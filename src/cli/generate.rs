//! `factory generate`: render a template into a new project.

use std::io::IsTerminal;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::{App, output, print_notices, prompt};
use crate::compat;
use crate::domain::commands::{self, Execution};
use crate::error::{Error, Result};
use crate::events::clock;
use crate::generate::{self, Progress, Request, Silent, source};
use crate::render::environment;
use crate::store::Decision;
use crate::template::answers;
use crate::template::yaml;

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// NAME[@VERSION] in the store, a template folder, or a git URL[#REF].
    source: String,
    /// The output folder.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// An answer, typed by the parameter (repeatable): --set service_name=orders.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Answers from a YAML or JSON file.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Take defaults without asking, even on a terminal.
    #[arg(long)]
    defaults: bool,
    /// Allow a version that is not published.
    #[arg(long)]
    allow_draft: bool,
    /// The runtime the project will run on, judged against the template's RuntimeRequires.
    #[arg(long, value_name = "TFM")]
    runtime: Option<String>,
    /// Write into a non-empty output folder, over what is there.
    #[arg(long)]
    force: bool,
    /// Print the files and content hash; write nothing and record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Commit the output to a git repository (initialised when missing).
    #[arg(long)]
    git: bool,
    /// Run the template's own code (cookiecutter hooks, copier tasks); refused without it.
    #[arg(long)]
    trust: bool,
    /// Also write cookiecutter's replay file or copier's .copier-answers.yml (without secrets).
    #[arg(long)]
    compat_answers: bool,
}

/// An indicatif bar on stderr.
struct Bar(indicatif::ProgressBar);

/// Runs shorter than this many files finish before a bar would help.
const BAR_FROM_FILES: u64 = 500;

impl Progress for Bar {
    fn start(&self, total: u64) {
        if total < BAR_FROM_FILES {
            self.0
                .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        self.0.set_length(total);
    }
    fn tick(&self) {
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn given_answers(args: &GenerateArgs) -> Result<Map<String, Value>> {
    let mut given = Map::new();
    if let Some(file) = &args.answers {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
        let value: Value = yaml::from_str(&text, &file.display().to_string())?;
        match value {
            Value::Object(map) => given.extend(map),
            Value::Null => {}
            _ => {
                return Err(Error::usage(format!(
                    "{} must hold a mapping of answers",
                    file.display()
                ))
                .hint("write one `name: value` line per parameter"));
            }
        }
    }
    for pair in &args.set {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            Error::usage(format!("--set `{pair}` is not NAME=VALUE"))
                .hint("for example --set service_name=orders")
        })?;
        // Typed later by the parameter, like every other answer.
        given.insert(name.trim().to_string(), Value::String(value.to_string()));
    }
    Ok(given)
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Writes the answers where cookiecutter (its replay file, `~/.cookiecutter_replay/NAME.json`)
/// or copier (`.copier-answers.yml` in the project) keep them, secrets left out.
fn write_compat_answers(
    args: &GenerateArgs,
    resolved: &source::ResolvedSource,
    answers: &answers::Answers,
) -> Result<()> {
    let public = answers.public();
    match resolved.manifest.namespace.as_deref() {
        Some("cookiecutter") => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .ok_or_else(|| Error::new("no HOME for cookiecutter's replay folder"))?;
            let dir = home.join(".cookiecutter_replay");
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
            let mut context = public;
            context.insert(
                "_template".into(),
                Value::String(resolved.source_ref.uri.clone()),
            );
            context.insert(
                "_output_dir".into(),
                Value::String(generate::absolute(&args.output)),
            );
            let name = crate::template::load::name_from_location(&resolved.source_ref.uri);
            let path = dir.join(format!("{name}.json"));
            let text = serde_json::to_string_pretty(&json!({ "cookiecutter": context }))
                .expect("answers serialize");
            std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
        }
        None if resolved.manifest.templates_suffix.is_some() => {
            let mut text =
                String::from("# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n");
            if let Some(commit) = &resolved.source_ref.commit {
                text.push_str(&format!("_commit: {commit}\n"));
            }
            text.push_str(&format!(
                "_src_path: {}\n",
                yaml::quote(&resolved.source_ref.uri)
            ));
            text.push_str(&serde_saphyr::to_string(&public).expect("answers serialize"));
            let name = resolved
                .manifest
                .answers_file
                .as_deref()
                .unwrap_or(".copier-answers.yml");
            crate::render::paths::check_inside(name)
                .map_err(|m| Error::new(format!("_answers_file: {m}")))?;
            let path = args.output.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
        }
        _ => Err(
            Error::usage("--compat-answers applies to cookiecutter and copier templates")
                .hint("factory's own templates keep their answers in .factory/scaffold.yaml"),
        ),
    }
}

/// Runs `generate`.
pub fn run(app: &App, args: GenerateArgs) -> Result<()> {
    let store = app.store()?;
    // Read once: the stored source and the compatibility gate both need it.
    let state = store.state();
    print_notices(app, &store);
    let state = state?;
    let resolved = if source::is_location(&args.source) {
        source::from_location(&args.source)?
    } else {
        source::stored(&state, &store.objects(), &args.source, args.allow_draft)?
    };
    if !args.dry_run {
        generate::check_target(&args.output, args.force)?;
    }
    let hooks = generate::hooks::Hooks::of(&resolved.files, &resolved.manifest)?;
    if !hooks.is_empty() && !args.trust && !args.dry_run {
        return Err(Error::new(format!(
            "{} wants to run code: {}; nothing was written",
            resolved.label,
            hooks.describe().join(", ")
        ))
        .hint("read what it runs, then pass --trust to allow it (or --dry-run to see the files without running anything)"));
    }
    let foreign =
        resolved.manifest.namespace.is_some() || resolved.manifest.templates_suffix.is_some();
    if args.compat_answers && !foreign {
        return Err(
            Error::usage("--compat-answers applies to cookiecutter and copier templates")
                .hint("factory's own templates keep their answers in .factory/scaffold.yaml"),
        );
    }
    let given = given_answers(&args)?;
    let interactive =
        !args.defaults && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let env = environment();
    let mut asker = prompt::TerminalAsker::new();
    let asker: Option<&mut dyn answers::Asker> = if interactive { Some(&mut asker) } else { None };
    let answers = answers::resolve_with(&resolved.manifest, &env, &given, true, asker).map_err(|problems| {
        Error::usage(format!("{}: the answers are not usable:\n  {}", resolved.label, problems.join("\n  ")))
            .hint("give answers with --set NAME=VALUE or --answers FILE; `factory show` lists the parameters")
    })?;
    let context = app.context(&store)?;

    // The compatibility gate: the libraries these answers select (and the runtime, when
    // named) against the registry. Incompatible means no output.
    let selected = generate::selected_libraries(&resolved.manifest, &answers.context())?;
    let subject = compat::TemplateSubject {
        label: resolved.label.clone(),
        name: resolved.manifest.name.clone(),
        manifest: resolved.manifest.clone(),
        selected: Some(selected.iter().map(|l| l.package_name.clone()).collect()),
    };
    let composition = compat::Composition {
        templates: vec![subject],
        libraries: Vec::new(),
        runtime: args.runtime.clone(),
    };
    let evaluation = compat::evaluate(&state, &composition)?;
    let execution = |execution_id: &str| Execution {
        execution_id: execution_id.to_string(),
        template_id: resolved.template_id.clone(),
        template_version_id: resolved.template_version_id.clone(),
        parameters: answers.public(),
        target: generate::absolute(&args.output),
    };
    if !evaluation.compatible {
        let message = format!(
            "{} cannot be generated with these answers: {}",
            resolved.label,
            compat::explain(&evaluation).replace('\n', "\n  ")
        );
        if !args.dry_run {
            let execution = execution(&crate::events::ids::new_id(crate::events::ids::EXECUTION));
            let mut events = commands::execution_failed(&execution, &message, 0);
            events.insert(1, compat::event("generate", &evaluation));
            let written = store.write(&context, |_| Ok(Decision::events(events, ())));
            print_notices(app, &store);
            written?;
        }
        return Err(Error::verdict(message)
            .hint("choose other answers or versions; `factory compat` shows the whole matrix"));
    }

    let request = Request {
        source: &resolved,
        answers: &answers,
        target: args.output.clone(),
        force: args.force,
        dry_run: args.dry_run,
        git: args.git,
        generated_at: clock::format_rfc3339(context.now()),
        hooks: if args.trust {
            hooks
        } else {
            Default::default()
        },
    };
    let bar;
    let progress: &dyn Progress =
        if std::io::stderr().is_terminal() && !app.global.quiet && !app.json() {
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} rendering {pos}/{len} files {wide_bar} {eta}",
            )
            .expect("the template is valid");
            bar = Bar(indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            )
            .with_style(style));
            &bar
        } else {
            &Silent
        };
    let result = generate::run(&request, progress);
    if args.dry_run {
        let outcome = result.map_err(|f| f.error)?;
        if app.json() {
            output::print_json(&json!({
                "dryRun": true,
                "template": resolved.label,
                "target": args.output,
                "contentHash": outcome.content_hash,
                "fileCount": outcome.files.len(),
                "byteCount": outcome.byte_count,
                "files": outcome.files.iter().map(|(p, s)| json!({"path": p, "size": s})).collect::<Vec<_>>(),
            }));
        } else if app.human() {
            for (path, size) in &outcome.files {
                println!("{size:>10}  {path}");
            }
            println!(
                "{} files, {} would be written to {} (dry run)\n{}",
                outcome.files.len(),
                human_size(outcome.byte_count),
                args.output.display(),
                outcome.content_hash
            );
        }
        return Ok(());
    }
    match result {
        Ok(outcome) => {
            let events = commands::execution_succeeded(
                &execution(&outcome.execution_id),
                commands::Scaffold {
                    scaffold_output_id: outcome.scaffold_output_id.clone(),
                    libraries: outcome.libraries.clone(),
                    repository: outcome.repository.clone(),
                    content_hash: outcome.content_hash.clone(),
                    file_count: outcome.files.len() as u64,
                    byte_count: outcome.byte_count,
                },
                outcome.duration_ms,
            );
            let written = store.write(&context, |_| Ok(Decision::events(events, ())));
            print_notices(app, &store);
            let (envelopes, ()) = written?;
            if args.compat_answers {
                write_compat_answers(&args, &resolved, &answers)?;
            }
            let target = generate::absolute(&args.output);
            if app.json() {
                output::print_json(&json!({
                    "executionId": outcome.execution_id,
                    "scaffoldOutputId": outcome.scaffold_output_id,
                    "template": resolved.label,
                    "templateId": resolved.template_id,
                    "templateVersionId": resolved.template_version_id,
                    "target": target,
                    "contentHash": outcome.content_hash,
                    "fileCount": outcome.files.len(),
                    "byteCount": outcome.byte_count,
                    "libraries": outcome.libraries,
                    "repository": outcome.repository,
                    "commit": outcome.commit,
                    "durationMs": outcome.duration_ms,
                    "events": envelopes.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
                }));
            } else if app.human() {
                println!(
                    "Generated {} from {}",
                    args.output.display(),
                    resolved.label
                );
                println!(
                    "  files   {} ({})",
                    outcome.files.len(),
                    human_size(outcome.byte_count)
                );
                println!("  hash    {}", outcome.content_hash);
                if let Some(commit) = &outcome.commit {
                    println!("  git     committed {}", &commit[..12]);
                }
                println!(
                    "  check   cd {} && sha256sum -c .factory/manifest.sha256",
                    args.output.display()
                );
            }
            Ok(())
        }
        Err(failure) => {
            let events = commands::execution_failed(
                &execution(&failure.execution_id),
                &failure.error.message,
                failure.duration_ms,
            );
            let recorded = store.write(&context, |_| Ok(Decision::events(events, ())));
            print_notices(app, &store);
            if let Err(e) = recorded {
                output::print_error(&e, false);
            }
            Err(failure.error)
        }
    }
}
