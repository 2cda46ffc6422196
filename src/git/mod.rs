//! git: template repositories fetched where they live (through the user's `git`, into a
//! clone cache), and a scaffold committed to a repository (libgit2).

pub mod fetch;
pub mod url;

pub use url::{is_git_url, split_ref};

use std::path::Path;

use crate::error::{Error, Result};

/// Refuses a `.git` in `dir` through which a commit would land in another repository: a
/// `gitdir:` file, a link, a link anywhere inside it, a shared `commondir`, a
/// `core.worktree`, a bare repository. No `.git` at all is fine: the commit makes one.
pub fn check_own_repository(dir: &Path) -> Result<()> {
    let dot_git = dir.join(".git");
    let refuse = |why: String| {
        Error::new(format!(
            "{} {why}; --git commits only to a repository of the output's own",
            dir.join(".git").display()
        ))
        .hint("remove that .git (or generate without --git and commit yourself)")
    };
    let meta = match std::fs::symlink_metadata(&dot_git) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read", &dot_git, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse("is a link to another folder".into()));
    }
    if !meta.is_dir() {
        let first = std::fs::read_to_string(&dot_git)
            .ok()
            .and_then(|text| text.lines().next().map(str::to_string))
            .unwrap_or_default();
        return Err(refuse(format!(
            "is a file (`{}`) that makes another folder the repository",
            first.chars().take(200).collect::<String>().escape_debug()
        )));
    }
    if dot_git.join("commondir").exists() {
        return Err(refuse(
            "shares another repository's objects and branches (commondir)".into(),
        ));
    }
    for entry in walkdir::WalkDir::new(&dot_git).min_depth(1) {
        let entry =
            entry.map_err(|e| Error::new(format!("cannot read {}: {e}", dot_git.display())))?;
        if entry.path_is_symlink() {
            return Err(refuse(format!(
                "holds a link, {}, that leads elsewhere",
                entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap_or(entry.path())
                    .display()
            )));
        }
    }
    let repo = git2::Repository::open(&dot_git).map_err(|e| {
        refuse(format!(
            "is not a repository git can open ({})",
            e.message()
        ))
    })?;
    let config = repo
        .config()
        .and_then(|c| c.open_level(git2::ConfigLevel::Local))
        .map_err(|e| {
            refuse(format!(
                "has a configuration git cannot read ({})",
                e.message()
            ))
        })?;
    if let Ok(worktree) = config.get_string("core.worktree") {
        return Err(refuse(format!(
            "sets core.worktree = {worktree}: its working folder is elsewhere"
        )));
    }
    let own = match (repo.workdir(), std::fs::canonicalize(dir)) {
        (Some(workdir), Ok(real)) => std::fs::canonicalize(workdir).is_ok_and(|w| w == real),
        _ => false,
    };
    if !own {
        return Err(refuse("is not the repository of this folder".into()));
    }
    Ok(())
}

/// Commits everything in `dir` (initialising a repository when there is none, refusing a
/// `.git` that belongs elsewhere); returns the commit id.
pub fn commit_all(dir: &Path, message: &str) -> Result<String> {
    let fail = |e: git2::Error| Error::new(format!("git in {}: {}", dir.display(), e.message()));
    check_own_repository(dir)?;
    let repo = if dir.join(".git").is_dir() {
        git2::Repository::open(dir.join(".git")).map_err(fail)?
    } else {
        git2::Repository::init(dir).map_err(fail)?
    };
    let mut index = repo.index().map_err(fail)?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(fail)?;
    index.write().map_err(fail)?;
    let tree = repo
        .find_tree(index.write_tree().map_err(fail)?)
        .map_err(fail)?;
    let signature = repo
        .signature()
        .or_else(|_| git2::Signature::now("factory", "factory@localhost"))
        .map_err(fail)?;
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    let id = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )
        .map_err(fail)?;
    Ok(id.to_string())
}

/// What `git status` shows as changed or untracked under `dir` (paths relative to the
/// repository), when `dir` is in a git repository; `None` when it is in none.
pub fn uncommitted(dir: &Path) -> Result<Option<Vec<String>>> {
    let Ok(repo) = git2::Repository::discover(dir) else {
        return Ok(None);
    };
    let fail = |e: git2::Error| Error::new(format!("git in {}: {}", dir.display(), e.message()));
    let Some(workdir) = repo.workdir() else {
        return Ok(None);
    };
    let (Ok(workdir), Ok(here)) = (std::fs::canonicalize(workdir), std::fs::canonicalize(dir))
    else {
        return Ok(None);
    };
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if let Ok(inside) = here.strip_prefix(&workdir)
        && !inside.as_os_str().is_empty()
    {
        options.pathspec(inside).disable_pathspec_match(false);
    }
    let statuses = repo.statuses(Some(&mut options)).map_err(fail)?;
    Ok(Some(
        statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT)
            .filter_map(|s| s.path().ok().map(str::to_string))
            .collect(),
    ))
}

/// One file an upgrade left with conflict markers: its path under the project and the old
/// and new template versions' bytes (`None` where that version has no such file).
pub struct Unmerged<'a> {
    /// Relative to the project folder, `/`-separated.
    pub path: &'a str,
    /// The old version's bytes (stage 1).
    pub base: Option<&'a [u8]>,
    /// The new version's bytes (stage 3).
    pub theirs: Option<&'a [u8]>,
}

/// The work tree of `repo` and `dir` relative to it (links resolved), when it is inside.
fn path_in_worktree(
    repo: &git2::Repository,
    dir: &Path,
) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let here = std::fs::canonicalize(dir).ok()?;
    let inside = here.strip_prefix(&workdir).ok()?.to_path_buf();
    Some((workdir, inside))
}

/// Marks `files` as unmerged in the index of the repository `dir` is in, as copier does after
/// an inline merge, so `git status` shows them as `UU` until resolved: stage 1 the old
/// version, stage 2 what the index had (the project's), stage 3 the new version. A file the
/// index does not hold, or a `dir` in no repository, is left alone.
pub fn mark_unmerged(dir: &Path, files: &[Unmerged]) -> Result<()> {
    let Ok(repo) = git2::Repository::discover(dir) else {
        return Ok(());
    };
    let fail = |e: git2::Error| Error::new(format!("git in {}: {}", dir.display(), e.message()));
    let Some((workdir, inside)) = path_in_worktree(&repo, dir) else {
        return Ok(());
    };
    let index = repo.index().map_err(fail)?;
    // libgit2 cannot add conflict entries: `git update-index --index-info` does, as copier
    // uses it.
    let mut lines = String::new();
    for file in files {
        let relative = inside.join(file.path);
        let Some(ours) = index.get_path(&relative, 0) else {
            continue;
        };
        let shown = relative.to_string_lossy().replace('\\', "/");
        let mode = ours.mode;
        lines.push_str(&format!("0 {}\t{shown}\n", "0".repeat(40)));
        lines.push_str(&format!("{mode:o} {} 2\t{shown}\n", ours.id));
        for (stage, bytes) in [(1, file.base), (3, file.theirs)] {
            if let Some(bytes) = bytes {
                let id = repo.blob(bytes).map_err(fail)?;
                lines.push_str(&format!("{mode:o} {id} {stage}\t{shown}\n"));
            }
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let mut child = std::process::Command::new("git")
        .arg("-C")
        .arg(&workdir)
        .args(["update-index", "--index-info"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::new(format!(
                "cannot run git to mark conflicts in {}: {e}",
                dir.display()
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, lines.as_bytes())
            .map_err(|e| Error::new(format!("git update-index in {}: {e}", dir.display())))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::new(format!("git update-index in {}: {e}", dir.display())))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "git update-index in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Records the executable bit of files an update wrote in the index of the repository `dir`
/// is in, when that repository has `core.fileMode` false (git then ignores the bit on disk,
/// and the template's change of it would be lost at the next commit), as copier's update
/// does with `git update-index --cacheinfo`: only the mode changes, the staged content stays.
/// With `core.fileMode` true or unset git sees the new mode itself, unstaged, and nothing is
/// done; so for files the index does not hold, or a `dir` in no repository.
pub fn sync_executable_bits(dir: &Path, files: &[(&str, bool)]) -> Result<()> {
    let Ok(repo) = git2::Repository::discover(dir) else {
        return Ok(());
    };
    let fail = |e: git2::Error| Error::new(format!("git in {}: {}", dir.display(), e.message()));
    let file_mode = repo.config().and_then(|c| c.get_bool("core.filemode"));
    if !matches!(file_mode, Ok(false)) {
        return Ok(());
    }
    let Some((_, inside)) = path_in_worktree(&repo, dir) else {
        return Ok(());
    };
    let mut index = repo.index().map_err(fail)?;
    let mut changed = false;
    for (path, executable) in files {
        let Some(mut entry) = index.get_path(&inside.join(path), 0) else {
            continue;
        };
        // Only regular files: a link or a submodule keeps its mode.
        if entry.mode & 0o170000 != 0o100000 || (entry.mode & 0o111 != 0) == *executable {
            continue;
        }
        entry.mode = if *executable { 0o100755 } else { 0o100644 };
        index.add(&entry).map_err(fail)?;
        changed = true;
    }
    if changed {
        index.write().map_err(fail)?;
    }
    Ok(())
}
