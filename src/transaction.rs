//! All-or-nothing replacement of files in a folder, for `upgrade --apply` and for
//! `generate --force` where the staged tree cannot be exchanged with the target in one step
//! (`generate::output`). Before anything moves, a journal beside the folder
//! (`.NAME.factory-backup-PID-STAMP/journal`) lists every path the run writes or deletes and
//! whether it existed; each existing file is moved into the backup just before it is
//! replaced. A failure rolls back at once; a run killed part-way is rolled back by the next
//! command on that folder (`recover_interrupted`), which can tell from the journal which files
//! were the user's and which the run had added. Success removes the backup.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The journal inside a backup: one line per path, `~path` (it existed: restore it) or
/// `+path` (the run adds it: remove it).
const JOURNAL: &str = "journal";

/// One run's journaled changes to `target`.
pub struct Transaction {
    dir: PathBuf,
    target: PathBuf,
}

impl Transaction {
    /// Journals every path the run will write or delete, before any of them changes.
    pub fn begin(target: &Path, paths: &[PathBuf]) -> Result<Transaction> {
        let (parent, name) = beside(target);
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let dir = parent.join(format!(
            ".{name}.factory-backup-{}-{stamp}",
            std::process::id()
        ));
        fs::create_dir_all(dir.join("files")).map_err(|e| Error::io("create", &dir, e))?;
        let mut journal = String::new();
        for rel in paths {
            let existed = fs::symlink_metadata(target.join(rel)).is_ok();
            journal.push(if existed { '~' } else { '+' });
            journal.push_str(&rel.to_string_lossy());
            journal.push('\n');
        }
        // Written whole under another name, then renamed: a kill while it is written leaves
        // no journal (nothing has moved yet), never a cut one naming a path that is not.
        let path = dir.join(JOURNAL);
        let partial = dir.join("journal.partial");
        let written = fs::File::create(&partial)
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, journal.as_bytes())?;
                f.sync_all()
            })
            .and_then(|()| fs::rename(&partial, &path));
        written.map_err(|e| Error::io("write", &path, e))?;
        Ok(Transaction {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// A folder for staging new contents: beside the target, so a rename moves them in.
    pub fn stage_dir(&self) -> PathBuf {
        self.dir.join("stage")
    }

    /// Replaces `target/rel` with the staged file `new`, or deletes it when `new` is `None`;
    /// what was there moves into the backup first.
    pub fn put(&self, rel: &Path, new: Option<&Path>) -> Result<()> {
        let to = self.target.join(rel);
        if fs::symlink_metadata(&to).is_ok() {
            let kept = self.dir.join("files").join(rel);
            if let Some(parent) = kept.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            fs::rename(&to, &kept).map_err(|e| Error::io("back up", &to, e))?;
        }
        if let Some(new) = new {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            fs::rename(new, &to).map_err(|e| Error::io("move the output to", &to, e))?;
        }
        Ok(())
    }

    /// Puts the folder back as it was before `begin`.
    pub fn rollback(self) {
        restore(&self.dir, &self.target);
    }

    /// Keeps the changes and drops the backup.
    pub fn commit(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Replaced files return; files the run added go; files it had not reached yet stay.
fn restore(backup: &Path, target: &Path) {
    let journal = fs::read_to_string(backup.join(JOURNAL)).unwrap_or_default();
    for line in journal.lines() {
        let (existed, rel) = match line.split_at_checked(1) {
            Some(("~", rel)) => (true, rel),
            Some(("+", rel)) => (false, rel),
            _ => continue,
        };
        let to = target.join(rel);
        let kept = backup.join("files").join(rel);
        if existed {
            // Not in the backup: the run had not reached it, the user's file is in place.
            if fs::symlink_metadata(&kept).is_ok() {
                let _ = fs::remove_file(&to);
                let _ = fs::rename(&kept, &to);
            }
        } else if fs::symlink_metadata(&to).is_ok_and(|m| !m.is_dir()) {
            let _ = fs::remove_file(&to);
        }
    }
    let _ = fs::remove_dir_all(backup);
}

/// The folder a target's staging and backup live in, and the target's name.
pub fn beside(target: &Path) -> (PathBuf, String) {
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    (parent, name)
}

/// What a run left in a folder under a name with its process id: `.NAME.factory-KIND-PID-STAMP`
/// (`KIND` is `tmp` for a staging folder, `backup` for a journal). Returns NAME and PID.
fn left_by(file_name: &str, kind: &str) -> Option<(String, u32)> {
    let marker = format!(".factory-{kind}-");
    let rest = file_name.strip_prefix('.')?;
    let at = rest.rfind(&marker)?;
    let (pid, stamp) = rest[at + marker.len()..].split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if at == 0 || !digits(pid) || !digits(stamp) {
        return None;
    }
    Some((rest[..at].to_string(), pid.parse().ok()?))
}

/// Removes a staging folder and everything in it; a folder in it without write permission
/// (a read-only folder carried from a target) is made writable first. Whether it is gone.
pub fn remove_tree(dir: &Path) -> bool {
    if fs::remove_dir_all(dir).is_ok() {
        return true;
    }
    #[cfg(unix)]
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        use std::os::unix::fs::PermissionsExt;
        if entry.file_type().is_dir()
            && let Ok(meta) = entry.metadata()
        {
            let mode = meta.permissions().mode() | 0o700;
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode));
        }
    }
    fs::remove_dir_all(dir).is_ok()
}

/// Removes the staging folders killed runs left in `parent` (beside any target there):
/// their names carry the process id, and a process that is gone will not move them into
/// place. A staging folder holds either a new tree that was never placed or, after an
/// exchange, the old tree it replaced: neither is wanted. Returns what it removed.
pub fn remove_dead_stagings(parent: &Path) -> Vec<(String, u32)> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(parent) else {
        return removed;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((name, pid)) = left_by(&file_name, "tmp") else {
            continue;
        };
        if !crate::process::alive(pid) && remove_tree(&entry.path()) {
            removed.push((name, pid));
        }
    }
    removed
}

/// Puts back what killed runs in `target`'s folder had changed: each journal a dead run left
/// there is rolled back into its own target, and dead runs' staging folders are removed.
/// Every command that reads or writes a target (`generate`, `verify`, `upgrade`, `hash`)
/// calls this first; returns what it did, to tell the user.
pub fn recover_interrupted(target: &Path) -> Vec<String> {
    let target = &fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let (parent, _) = beside(target);
    let mut notes = Vec::new();
    if let Ok(entries) = fs::read_dir(&parent) {
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some((name, pid)) = left_by(&file_name, "backup") else {
                continue;
            };
            if crate::process::alive(pid) {
                continue;
            }
            let written = parent.join(&name);
            restore(&entry.path(), &written);
            notes.push(format!(
                "an interrupted run (process {pid}) that was writing over {} was undone: its files are as they were before it",
                written.display()
            ));
        }
    }
    for (name, pid) in remove_dead_stagings(&parent) {
        notes.push(format!(
            "removed the staging folder an interrupted run (process {pid}) left beside {} (which holds one whole tree: the run's, or the one before it)",
            parent.join(&name).display()
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_left_by_a_run_are_told_from_names_that_look_alike() {
        assert_eq!(
            left_by(".proj.factory-tmp-12-345", "tmp"),
            Some(("proj".into(), 12))
        );
        assert_eq!(
            left_by(".a.factory-tmp-.factory-tmp-7-8", "tmp"),
            Some(("a.factory-tmp-".into(), 7))
        );
        assert_eq!(
            left_by(".proj.factory-backup-9-1", "backup"),
            Some(("proj".into(), 9))
        );
        for other in [
            ".proj.factory-tmp-12",
            ".proj.factory-tmp-x-1",
            ".proj.factory-tmp-1-2-3",
            ".factory-tmp-1-2",
            "proj.factory-tmp-1-2",
            ".proj.factory-backup-1-2",
        ] {
            assert_eq!(left_by(other, "tmp"), None, "{other}");
        }
    }

    #[test]
    fn a_kill_at_any_step_rolls_back_to_exactly_the_users_files() {
        // Three paths: `a` replaced, `b` replaced, `n` added. Kill after each step.
        for steps_done in 0..=3 {
            let root = tempfile::tempdir().unwrap();
            let target = root.path().join("proj");
            fs::create_dir_all(&target).unwrap();
            fs::write(target.join("a"), "old a").unwrap();
            fs::write(target.join("b"), "old b").unwrap();
            let paths: Vec<PathBuf> = ["a", "b", "n"].iter().map(PathBuf::from).collect();
            let tx = Transaction::begin(&target, &paths).unwrap();
            fs::create_dir_all(tx.stage_dir()).unwrap();
            for (i, rel) in paths.iter().enumerate().take(steps_done) {
                let staged = tx.stage_dir().join(i.to_string());
                fs::write(&staged, "new").unwrap();
                tx.put(rel, Some(&staged)).unwrap();
            }
            // What a kill leaves: the backup stays; rolling back from the journal alone.
            let dir = tx.dir.clone();
            std::mem::forget(tx);
            restore(&dir, &target);
            assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "old a");
            assert_eq!(fs::read_to_string(target.join("b")).unwrap(), "old b");
            assert!(!target.join("n").exists(), "after {steps_done} steps");
            assert!(!dir.exists());
        }
    }
}
