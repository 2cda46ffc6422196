//! Carrying out an upgrade plan, all or nothing (`crate::transaction`): new contents are
//! staged beside the project, every file the plan touches is journaled and moved to a backup
//! before it is replaced, and a failure (or, through the next command, a kill) puts every file
//! back as it was.

use std::fs;
use std::path::{Path, PathBuf};

use super::plan::{Action, Plan};
use crate::error::{Error, Result};
use crate::transaction::Transaction;

/// Applies `plan` to `dir` (with the `.rej` files of its conflicts), then writes the provenance files (`extra`: relative path →
/// bytes, such as `.factory/scaffold.yaml`) in the same transaction.
pub fn apply(dir: &Path, plan: &Plan, extra: &[(String, Vec<u8>)]) -> Result<()> {
    let dir = &fs::canonicalize(dir).map_err(|e| Error::io("read", dir, e))?;
    // Each write: the path, its bytes (`None`: deleted), whether executable, whether a link.
    let mut writes: Vec<(String, Option<&[u8]>, bool, bool)> = Vec::new();
    for step in &plan.steps {
        match (step.action, &step.write) {
            (Action::Delete, _) => writes.push((step.path.clone(), None, false, false)),
            (_, Some(file)) => writes.push((
                step.path.clone(),
                Some(&file.bytes),
                file.executable,
                file.link,
            )),
            _ => {}
        }
        // `--conflict rej`: the template's side of the conflicts beside the file.
        if let Some(reject) = &step.reject {
            writes.push((format!("{}.rej", step.path), Some(reject), false, false));
        }
    }
    for (path, bytes) in extra {
        writes.push((path.clone(), Some(bytes), false, false));
    }
    // A link the plan itself replaces (the project's file is one) is moved away, never
    // written through; any other link, or one on the way to a file, is refused.
    let planned: std::collections::HashSet<&str> =
        plan.steps.iter().map(|s| s.path.as_str()).collect();
    for (path, _, _, _) in &writes {
        let checked = match planned.contains(path.as_str()) {
            true => Path::new(path).parent().unwrap_or(Path::new("")),
            false => Path::new(path),
        };
        crate::render::write::check_no_symlink(dir, checked)?;
        if fs::symlink_metadata(dir.join(path)).is_ok_and(|m| m.is_dir()) {
            return Err(Error::new(format!(
                "{} is a folder; the upgrade writes a file there",
                dir.join(path).display()
            ))
            .hint("move that folder away, then upgrade again"));
        }
    }
    let paths: Vec<PathBuf> = writes
        .iter()
        .map(|(path, _, _, _)| PathBuf::from(path))
        .collect();
    let transaction = Transaction::begin(dir, &paths)?;
    // Stage every new content first: a full disk fails here, before anything moved.
    let stage = transaction.stage_dir();
    let staged = (|| {
        fs::create_dir_all(&stage).map_err(|e| Error::io("create", &stage, e))?;
        for (i, (_, bytes, executable, link)) in writes.iter().enumerate() {
            if let Some(bytes) = bytes {
                let staged = stage.join(i.to_string());
                if *link {
                    make_link(bytes, &staged)?;
                    continue;
                }
                fs::write(&staged, bytes).map_err(|e| Error::io("write", &staged, e))?;
                set_executable(&staged, *executable)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = staged {
        transaction.rollback();
        return Err(e);
    }
    for (i, (path, bytes, _, _)) in writes.iter().enumerate() {
        let new = bytes.map(|_| stage.join(i.to_string()));
        if let Err(e) = transaction.put(Path::new(path), new.as_deref()) {
            transaction.rollback();
            return Err(e);
        }
    }
    transaction.commit();
    // A folder the deletions emptied goes too, as copier removes it.
    for (path, bytes, _, _) in &writes {
        if bytes.is_none() {
            remove_emptied_folders(dir, Path::new(path));
        }
    }
    Ok(())
}

/// Removes the folders above `path` (inside `dir`) that are now empty, deepest first.
fn remove_emptied_folders(dir: &Path, path: &Path) {
    for folder in path.ancestors().skip(1) {
        if folder.as_os_str().is_empty() || fs::remove_dir(dir.join(folder)).is_err() {
            break;
        }
    }
}

/// A link at `at` to `to` (its bytes), as the template keeps it.
#[cfg(unix)]
fn make_link(to: &[u8], at: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(to), at)
        .map_err(|e| Error::io("create the link", at, e))
}

#[cfg(not(unix))]
fn make_link(_to: &[u8], at: &Path) -> Result<()> {
    Err(Error::new(format!(
        "{}: links are kept as links on unix only",
        at.display()
    )))
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", path, e))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path, _executable: bool) -> Result<()> {
    Ok(())
}
