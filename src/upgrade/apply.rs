//! Carrying out an upgrade plan, all or nothing: every file it touches is moved to a backup
//! first, new contents are staged and renamed into place, and any failure puts every file
//! back as it was.

use std::fs;
use std::path::{Path, PathBuf};

use super::plan::{Action, Plan};
use crate::error::{Error, Result};
use crate::hash::PROVENANCE_DIR;

/// What one completed step did, so it can be undone.
struct Done {
    target: PathBuf,
    backup: Option<PathBuf>,
    placed: bool,
}

/// Applies `plan` to `dir`, then writes the provenance files (`extra`: relative path →
/// bytes, such as `.factory/scaffold.yaml`) in the same transaction.
pub fn apply(dir: &Path, plan: &Plan, extra: &[(String, Vec<u8>)]) -> Result<()> {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let work = dir.join(PROVENANCE_DIR).join(format!("upgrade-{stamp}"));
    let (stage, backup) = (work.join("stage"), work.join("backup"));
    let mut writes: Vec<(String, Option<&[u8]>, bool)> = Vec::new();
    for step in &plan.steps {
        match (step.action, &step.write) {
            (Action::Delete, _) => writes.push((step.path.clone(), None, false)),
            (_, Some(file)) => writes.push((step.path.clone(), Some(&file.bytes), file.executable)),
            _ => {}
        }
    }
    for (path, bytes) in extra {
        writes.push((path.clone(), Some(bytes), false));
    }
    for (path, _, _) in &writes {
        crate::render::write::check_no_symlink(dir, Path::new(path))?;
        if dir.join(path).is_dir() {
            return Err(Error::new(format!(
                "{} is a folder; the upgrade writes a file there",
                dir.join(path).display()
            ))
            .hint("move that folder away, then upgrade again"));
        }
    }
    let result = (|| {
        // Stage every new content first: a full disk fails here, before anything moved.
        for (i, (_, bytes, executable)) in writes.iter().enumerate() {
            if let Some(bytes) = bytes {
                fs::create_dir_all(&stage).map_err(|e| Error::io("create", &stage, e))?;
                let staged = stage.join(i.to_string());
                fs::write(&staged, bytes).map_err(|e| Error::io("write", &staged, e))?;
                set_executable(&staged, *executable)?;
            }
        }
        let mut done: Vec<Done> = Vec::new();
        let outcome = (|| {
            for (i, (path, bytes, _)) in writes.iter().enumerate() {
                let target = dir.join(path);
                let mut entry = Done {
                    target: target.clone(),
                    backup: None,
                    placed: false,
                };
                if target.exists() {
                    let saved = backup.join(i.to_string());
                    fs::create_dir_all(&backup).map_err(|e| Error::io("create", &backup, e))?;
                    fs::rename(&target, &saved).map_err(|e| Error::io("move aside", &target, e))?;
                    entry.backup = Some(saved);
                }
                done.push(entry);
                if bytes.is_some() {
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
                    }
                    fs::rename(stage.join(i.to_string()), &target)
                        .map_err(|e| Error::io("write", &target, e))?;
                    done.last_mut().expect("just pushed").placed = true;
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            for entry in done.iter().rev() {
                if entry.placed {
                    let _ = fs::remove_file(&entry.target);
                }
                if let Some(saved) = &entry.backup {
                    let _ = fs::rename(saved, &entry.target);
                }
            }
        }
        outcome
    })();
    let _ = fs::remove_dir_all(&work);
    result
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
