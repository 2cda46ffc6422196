//! `generate`: render a template into a new project, with provenance a machine can check.
//!
//! Steps (after the caller's compatibility gate): plan every output path (so a bad name
//! stops the run before anything is written), render and write files in parallel into a staging folder
//! beside the target, add `.factory/`, move the result into place, and optionally commit it.

pub mod adopted;
pub mod existing;
pub mod hooks;
pub mod output;
pub mod provenance;
pub mod python;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::domain::events::LibraryUse;
use crate::error::{Error, Result};
use crate::hash::{self, HashedFile};
use crate::ids;
use crate::render::tree::{RenderProblem, Renderer};
use crate::render::write;
use crate::source::ResolvedSource;
use crate::template::answers::Answers;
use crate::template::manifest::Manifest;
use output::Staging;
use provenance::{Scaffold, TemplateOrigin};

/// Reports progress of long runs (an indicatif bar in the terminal, nothing elsewhere).
pub trait Progress: Sync {
    /// The run will write `total` files.
    fn start(&self, _total: u64) {}
    /// One more file was written.
    fn tick(&self) {}
    /// The run ended.
    fn finish(&self) {}
    /// A line for the person running factory, on stderr: a template's message (copier's
    /// `_message_before_copy`…) or copier's ` > Running task 1 of 2: …`. Nowhere by default
    /// (a worker: nobody watches).
    fn say(&self, _text: &str) {}
    /// A debug line (`generate --verbose`, `--debug-file`): what was read and decided, in
    /// the words and logger names cookiecutter's debug log uses for its templates.
    fn debug(&self, _logger: &str, _message: &str) {}
    /// Where the output of the template's own code (hooks, tasks) goes: kept by default and
    /// quoted only when the code fails.
    fn code_output(&self) -> hooks::Output {
        hooks::Output::Captured
    }
}

/// No progress reporting.
pub struct Silent;
impl Progress for Silent {}

/// What to generate and how.
pub struct Request<'a> {
    /// The template.
    pub source: &'a ResolvedSource,
    /// The template's renderer: the environment its answers were resolved in.
    pub renderer: &'a Renderer<'a>,
    /// The resolved answers.
    pub answers: &'a Answers,
    /// The output folder.
    pub target: PathBuf,
    /// A folder the output must stay inside as it is placed (a worker's output root),
    /// checked on the folder held open, so a link swapped in meanwhile cannot lead out.
    pub within: Option<PathBuf>,
    /// Write over a non-empty target.
    pub force: bool,
    /// Without `force`, the target may hold other files (copier copies into any folder); a
    /// file the template writes that is there already must hold the same bytes, or the run
    /// is refused before anything moves.
    pub into_existing: bool,
    /// On a failure after rendering started, leave what was written so far in the target
    /// (copier's `--no-cleanup`).
    pub no_cleanup: bool,
    /// Render and hash, write nothing.
    pub dry_run: bool,
    /// Commit the output to a git repository.
    pub git: bool,
    /// Lines for the end of that commit's message (a worker's `Factory-Command: cmd-…`).
    pub commit_trailer: Option<String>,
    /// When it happened, RFC 3339 (for the provenance file).
    pub generated_at: String,
    /// Hooks and tasks to run (the user passed `--trust`); empty otherwise.
    pub hooks: hooks::Hooks,
    /// Files the run writes beside the template's (copier's answers file): path and bytes.
    pub extra_files: Vec<(String, Vec<u8>)>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `exe-…`.
    pub execution_id: String,
    /// `out-…`.
    pub scaffold_output_id: String,
    /// The output's content hash (`.factory/` left out).
    pub content_hash: String,
    /// The files, path and size, in path order.
    pub files: Vec<(String, u64)>,
    /// Total bytes.
    pub byte_count: u64,
    /// Libraries the answers selected.
    pub libraries: Vec<LibraryUse>,
    /// The git repository, when `--git`.
    pub repository: Option<String>,
    /// The commit, when `--git`.
    pub commit: Option<String>,
    /// Milliseconds from start to end.
    pub duration_ms: u64,
    /// Forms of the template its tool deprecates (copier's answers-file template below the
    /// root), for the user: still honoured.
    pub deprecations: Vec<String>,
}

/// A run that failed after it started, with its ids so the failure can be recorded.
#[derive(Debug)]
pub struct Failure {
    /// `exe-…`.
    pub execution_id: String,
    /// Milliseconds until it failed.
    pub duration_ms: u64,
    /// Why.
    pub error: Error,
}

fn problems_error(label: &str, problems: Vec<RenderProblem>) -> Error {
    let mut message = format!("{label} did not render:");
    for problem in &problems {
        message.push_str("\n  ");
        message.push_str(&problem.to_string());
    }
    Error::new(message)
        .hint("fix the answers or the template; `factory validate --path DIR` checks a template")
}

/// Checks the target before anything starts: never a git repository's own folder or a
/// link; a non-empty folder needs `--force` (or `into_existing`, [`Request::into_existing`]).
pub fn check_target(target: &Path, force: bool, into_existing: bool) -> Result<()> {
    output::refuse_git_dir(target)?;
    output::refuse_link(target)?;
    if !output::is_missing_or_empty(target)? && !force && !into_existing {
        return Err(output::not_empty(target));
    }
    Ok(())
}

/// Runs a generation. Every error is a [`Failure`] carrying the execution id, so the caller
/// can record the failed execution.
pub fn run(request: &Request, progress: &dyn Progress) -> std::result::Result<Outcome, Failure> {
    let started = Instant::now();
    let execution_id = ids::new_id(ids::EXECUTION);
    let fail = |error: Error| Failure {
        execution_id: execution_id.clone(),
        duration_ms: started.elapsed().as_millis() as u64,
        error,
    };
    let source = request.source;
    let renderer = request.renderer;
    let ctx = request.answers.context();
    let (plan, links) = renderer
        .plan_with_links(&ctx)
        .map_err(|p| fail(problems_error(&source.label, p)))?;
    let libraries = renderer.libraries(&ctx).map_err(fail)?;
    let deprecations = deprecations(renderer, &plan);
    progress.start(plan.len() as u64);

    if request.dry_run {
        let mut files = Vec::with_capacity(plan.len() + request.extra_files.len());
        for planned in &plan {
            let bytes = renderer
                .render_file(&renderer.content[planned.content], planned.context(&ctx))
                .map_err(|p| fail(problems_error(&source.label, vec![p])))?;
            files.push((
                HashedFile {
                    path: planned.path.clone(),
                    sha256: hash::sha256_hex(&bytes),
                },
                bytes.len() as u64,
            ));
            progress.tick();
        }
        progress.finish();
        files.extend(extra_hashed(&request.extra_files));
        if request.into_existing {
            let keep = keep_existing(&source.manifest, renderer.env(), &ctx, &[]).map_err(fail)?;
            let executables: std::collections::HashSet<&str> = plan
                .iter()
                .filter(|p| renderer.files().files[renderer.content[p.content].index].executable)
                .map(|p| p.path.as_str())
                .collect();
            let executable = |path: &str| executables.contains(path);
            copier_decisions(
                request,
                &request.target,
                &files,
                &links,
                &executable,
                &keep,
                progress,
            )
            .map_err(fail)?;
        }
        let (tree, listing, byte_count) = provenance_of(files);
        return Ok(Outcome {
            execution_id,
            scaffold_output_id: ids::new_id(ids::SCAFFOLD_OUTPUT),
            content_hash: tree.content_hash,
            files: listing,
            byte_count,
            libraries,
            repository: None,
            commit: None,
            duration_ms: started.elapsed().as_millis() as u64,
            deprecations,
        });
    }

    if request.git {
        // Before anything is written: a `.git` already in the target must be a repository
        // of that folder's own, or the commit would land in another one.
        crate::git::check_own_repository(&request.target).map_err(fail)?;
    }
    let staging = Staging::new(&request.target, request.within.as_deref()).map_err(fail)?;
    let env = renderer.env();
    let written = match fill(request, (plan, links), &ctx, &staging.dir, progress) {
        Ok(written) => written,
        Err(error) => {
            if request.no_cleanup {
                keep_partial(request, staging, &ctx);
            }
            return Err(fail(error));
        }
    };

    let mut keep = keep_existing(&source.manifest, env, &ctx, &[]).map_err(fail)?;
    // The provenance describes the tree that is finally placed: what hooks and tasks left
    // (they may add, change or delete anything), the extra files, and the target's own
    // files that `_skip_if_exists` keeps.
    let mut files = if request.hooks.is_empty() {
        let mut files: Vec<(HashedFile, u64)> = written
            .iter()
            .map(|w| (HashedFile::from(w), w.size))
            .collect();
        files.extend(extra_hashed(&request.extra_files));
        files
    } else {
        hash::list_files(&staging.dir).map_err(fail)?
    };
    let target = staging.target();
    if request.into_existing {
        keep = judge_staged(request, &staging, &files, &keep, &ctx, progress).map_err(fail)?;
    }
    for (file, size) in &mut files {
        let existing = target.join(&file.path);
        if keep.is_match(&file.path) && existing.is_file() {
            file.sha256 = hash::sha256_file(&existing).map_err(fail)?;
            *size = existing.metadata().map(|m| m.len()).unwrap_or(*size);
        }
    }
    let (tree, listing, byte_count) = provenance_of(files);
    let scaffold_output_id = ids::new_id(ids::SCAFFOLD_OUTPUT);
    let mut outcome = Outcome {
        execution_id: execution_id.clone(),
        scaffold_output_id: scaffold_output_id.clone(),
        content_hash: tree.content_hash.clone(),
        files: listing,
        byte_count,
        libraries: libraries.clone(),
        repository: None,
        commit: None,
        duration_ms: 0,
        deprecations,
    };
    let scaffold = Scaffold::record(
        TemplateOrigin {
            id: source.template_id.clone(),
            name: source.manifest.name.clone(),
            version: source.version.clone(),
            version_id: source.template_version_id.clone(),
            source: source.source_ref.clone(),
        },
        execution_id.clone(),
        scaffold_output_id,
        request.generated_at.clone(),
        request.answers,
        libraries,
        tree.content_hash.clone(),
    );
    scaffold
        .write_into(&staging.dir, &tree.manifest)
        .map_err(fail)?;
    let placed = staging
        .place(request.force || request.into_existing, &keep)
        .map_err(fail)?;
    if request.git {
        let mut message = format!(
            "Scaffold from {}\n\nfactory execution {execution_id}\ncontent {}",
            source.label, tree.content_hash
        );
        if let Some(trailer) = &request.commit_trailer {
            message.push_str("\n\n");
            message.push_str(trailer);
        }
        let commit = crate::git::commit_all(&placed.dir(), &message).map_err(fail)?;
        outcome.repository = Some(absolute(&request.target));
        outcome.commit = Some(commit);
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    Ok(outcome)
}

/// Renders the plan into the staging folder `dir`, runs the trusted hooks and tasks there
/// and adds the extra files: the output as it will be placed, `.factory/` aside.
fn fill(
    request: &Request,
    (plan, links): (
        Vec<crate::render::tree::PlannedFile>,
        Vec<crate::render::tree::PlannedLink>,
    ),
    ctx: &minijinja::Value,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<write::WrittenFile>> {
    let (source, renderer, env) = (request.source, request.renderer, request.renderer.env());
    // Hooks run in the project folder (for a cookiecutter template the target is its project
    // folder), made before the pre-generation hook as cookiecutter does.
    let project = dir.to_path_buf();
    if !request.hooks.pre.is_empty() {
        std::fs::create_dir_all(&project).map_err(|e| Error::io("create", &project, e))?;
    }
    let shown = progress.code_output();
    // A hook that uses a Python extension's tag is rendered by Jinja2, as its files are.
    let run_hook =
        |hook: &hooks::Hook| match renderer.render_foreign_text(&hook.name, &hook.text, ctx) {
            Some(script) => script
                .map_err(|m| Error::new(format!("{}: {m}", hook.name)))
                .and_then(|script| hooks::run_rendered(hook, &script, &project, shown)),
            None => hooks::run_hook(hook, env, ctx, &project, shown),
        };
    for hook in &request.hooks.pre {
        run_hook(hook)?;
    }
    // A pre-generation hook may change the answers (`cookiecutter.update({...})`): the names
    // inside are decided again, as cookiecutter renders them after the hook.
    let (plan, links) = if request.hooks.pre.is_empty() {
        (plan, links)
    } else {
        renderer
            .plan_with_links(ctx)
            .map_err(|p| problems_error(&source.label, p))?
    };
    let written = write::write_plan(renderer, &plan, ctx, dir, &|| progress.tick())
        .map_err(|p| problems_error(&source.label, vec![p]))?;
    // Links kept as links (copier's `_preserve_symlinks`), checked to stay in the output.
    write::write_links(dir, &links, Some(&request.target))?;
    let folders = renderer
        .plan_folders(ctx)
        .map_err(|p| problems_error(&source.label, vec![p]))?;
    write::write_folders(dir, &folders, &links)?;
    // The bar goes before the template's code prints.
    progress.finish();
    for hook in &request.hooks.post {
        run_hook(hook)?;
    }
    let template_dir = request.source.local_dir();
    hooks::run_tasks(
        &request.hooks.tasks,
        (env, ctx),
        &project,
        (shown, template_dir.as_deref()),
        &|line| progress.say(line),
    )?;
    for (path, bytes) in &request.extra_files {
        write::write_new_file(dir, path, bytes)?;
    }

    Ok(written)
}

/// `--no-cleanup` after a failure: what the run wrote so far is placed in the target as
/// copier leaves it (without `.factory/`, and nothing recorded), by the same rules as a
/// finished run (copier over a folder: judged as it is, unsaid); when even that cannot be
/// done, the staging folder goes as usual.
fn keep_partial(request: &Request, staging: Staging, ctx: &minijinja::Value) {
    let mut keep = keep_existing(&request.source.manifest, request.renderer.env(), ctx, &[])
        .unwrap_or_else(|_| globset::GlobSet::empty());
    if request.into_existing {
        let judged = hash::list_files(&staging.dir)
            .and_then(|files| judge_staged(request, &staging, &files, &keep, ctx, &Silent));
        match judged {
            Ok(judged) => keep = judged,
            Err(_) => return,
        }
    }
    let _ = staging.place(request.force || request.into_existing, &keep);
}

/// What the plan relies on that the template's tool deprecates, one line each.
fn deprecations(renderer: &Renderer, plan: &[crate::render::tree::PlannedFile]) -> Vec<String> {
    plan.iter()
        .filter(|p| p.answers_below_root)
        .map(|p| {
            format!(
                "`{}` is an answers file template below the template's root, which copier deprecates (\"Answers file template locations other than the template root directory are deprecated\"): it is written at `{}`; name that place with `_answers_file` in copier.yml and keep the template at the root",
                crate::render::paths::shown(&renderer.content[p.content].path),
                crate::render::paths::shown(&p.path)
            )
        })
        .collect()
}

/// The extra files with their hashes and sizes.
fn extra_hashed(extra: &[(String, Vec<u8>)]) -> impl Iterator<Item = (HashedFile, u64)> + '_ {
    extra.iter().map(|(path, bytes)| {
        (
            HashedFile {
                path: path.clone(),
                sha256: hash::sha256_hex(bytes),
            },
            bytes.len() as u64,
        )
    })
}

/// The tree hash, the listing (path and size, in path order) and the byte count of files.
fn provenance_of(files: Vec<(HashedFile, u64)>) -> (hash::TreeHash, Vec<(String, u64)>, u64) {
    let mut listing: Vec<(String, u64)> = files.iter().map(|(f, s)| (f.path.clone(), *s)).collect();
    listing.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let byte_count = listing.iter().map(|f| f.1).sum();
    let mut hashed: Vec<HashedFile> = files.into_iter().map(|(f, _)| f).collect();
    (hash::tree_hash(&mut hashed), listing, byte_count)
}

/// copier over a folder that holds files: each staged file and link judged against it (said
/// on the way), the run stopped by one that differs unsettled; what is then left as the
/// folder has it: `keep`'s patterns and the identical files.
fn judge_staged(
    request: &Request,
    staging: &Staging,
    files: &[(HashedFile, u64)],
    keep: &globset::GlobSet,
    ctx: &minijinja::Value,
    progress: &dyn Progress,
) -> Result<globset::GlobSet> {
    let links = hash::list_links(&staging.dir)?;
    let executable = |path: &str| is_executable(&staging.dir.join(path));
    let target = staging.target();
    let decided = copier_decisions(request, &target, files, &links, &executable, keep, progress)?;
    let identical: Vec<&str> = decided.identical().collect();
    keep_existing(
        &request.source.manifest,
        request.renderer.env(),
        ctx,
        &identical,
    )
}

/// copier's decision for each file and link against the folder it copies over, each said
/// on the way; one that differs and is neither forced nor skipped stops the run.
fn copier_decisions(
    request: &Request,
    target: &Path,
    files: &[(HashedFile, u64)],
    links: &[crate::render::tree::PlannedLink],
    executable: &dyn Fn(&str) -> bool,
    keep: &globset::GlobSet,
    progress: &dyn Progress,
) -> Result<existing::Decisions> {
    let always: Vec<String> = request.extra_files.iter().map(|(p, _)| p.clone()).collect();
    let skip = |path: &str| keep.is_match(path);
    let files = files.iter().map(|(file, _)| existing::Candidate {
        path: &file.path,
        written: existing::Written::File {
            sha256: &file.sha256,
            executable: executable(&file.path),
        },
    });
    let links = links.iter().map(|(path, to)| existing::Candidate {
        path,
        written: existing::Written::Link(to),
    });
    let candidates = files.chain(links);
    let settle = existing::Settle {
        force: request.force,
        skip: &skip,
        always: &always,
    };
    let decided = existing::decide(target, candidates, &settle)?;
    for line in decided.lines() {
        progress.say(&line);
    }
    decided.check_settled(&request.target)?;
    Ok(decided)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}

/// The files a run leaves as the target has them: those `_skip_if_exists` (and `--skip`)
/// patterns name, and the `also` paths exactly (copier's identical files).
fn keep_existing(
    manifest: &Manifest,
    env: &minijinja::Environment<'static>,
    ctx: &minijinja::Value,
    also: &[&str],
) -> Result<globset::GlobSet> {
    let mut keep = globset::GlobSetBuilder::new();
    for path in also {
        keep.add(
            globset::GlobBuilder::new(&globset::escape(path))
                .literal_separator(true)
                .build()
                .map_err(|e| Error::new(format!("`{path}`: {e}")))?,
        );
    }
    for pattern in &manifest.skip_if_exists {
        let pattern = &crate::bounded::render_str_bounded(env, pattern, ctx)
            .map_err(|e| Error::new(format!("_skip_if_exists `{pattern}`: {e}")))?;
        keep.add(
            globset::Glob::new(pattern)
                .map_err(|e| Error::new(format!("_skip_if_exists `{pattern}`: {e}")))?,
        );
    }
    keep.build().map_err(|e| Error::new(e.to_string()))
}

/// An absolute form of a path for events and output.
pub fn absolute(path: &Path) -> String {
    std::fs::canonicalize(path)
        .or_else(|_| std::env::current_dir().map(|cwd| cwd.join(path)))
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
