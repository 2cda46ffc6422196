//! The output folder: a temporary folder beside the target, moved into place only when
//! everything succeeded, so a failure leaves no half-written project.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Whether a folder is missing or empty. A folder holding only `.git` (a fresh `git init`, or
/// a repository just made on a hosting service) counts as empty, as `cargo init`, `copier copy`
/// and `dotnet new` allow.
pub fn is_missing_or_empty(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("read", dir, e))?;
                if entry.file_name() != ".git" {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(Error::new(format!(
            "{} is a file, not a folder",
            dir.display()
        ))
        .hint("choose another output folder with -o")),
        Err(e) => Err(Error::io("read", dir, e)),
    }
}

use crate::transaction::{Transaction, beside};

/// Refuses an output folder that is itself a symlink: writing into it would write wherever it
/// points.
pub fn refuse_link(target: &Path) -> Result<()> {
    match fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::new(format!(
            "{} is a symlink; factory does not write through links",
            target.display()
        ))
        .hint("name the real folder with -o")),
        _ => Ok(()),
    }
}

/// A temporary folder beside the target, removed on drop unless it was moved into place;
/// also removes the folders above the target that it had to create.
pub struct Staging {
    /// The temporary folder.
    pub dir: PathBuf,
    target: PathBuf,
    created_parents: Vec<PathBuf>,
    placed: bool,
}

impl Staging {
    /// Creates the staging folder beside `target` (creating the target's parents if needed).
    /// An existing target is named by its real path, so `-o .` stages beside the current
    /// folder, not inside it.
    pub fn new(target: &Path) -> Result<Staging> {
        refuse_link(target)?;
        let target = &fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
        let (parent, name) = beside(target);
        let parent = parent.as_path();
        let mut created_parents = Vec::new();
        let mut missing = parent.to_path_buf();
        while !missing.exists() {
            created_parents.push(missing.clone());
            match missing.parent() {
                Some(p) if !p.as_os_str().is_empty() => missing = p.to_path_buf(),
                _ => break,
            }
        }
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        crate::transaction::remove_dead_stagings(parent, &name);
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let dir = parent.join(format!(
            ".{name}.factory-tmp-{}-{stamp}",
            std::process::id()
        ));
        fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            created_parents,
            placed: false,
        })
    }

    /// Moves the staged files into the target: a rename when the target is missing or empty;
    /// with `force` into a non-empty target, file by file over what is there (refusing
    /// symlinked folders in the target, which could lead outside it).
    pub fn place(mut self, force: bool, keep_existing: &globset::GlobSet) -> Result<()> {
        if !self.target.exists() {
            fs::rename(&self.dir, &self.target)
                .map_err(|e| Error::io("move the output to", &self.target, e))?;
            self.placed = true;
            return Ok(());
        }
        if is_missing_or_empty(&self.target)? {
            // An empty folder (or one holding only `.git`) stays: it may be the current
            // folder, or a repository. The output's top-level entries move into it.
            let entries = fs::read_dir(&self.dir).map_err(|e| Error::io("read", &self.dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("read", &self.dir, e))?;
                let to = self.target.join(entry.file_name());
                if to.exists() {
                    return Err(Error::new(format!(
                        "{} already exists in the target; the template writes it too",
                        to.display()
                    ))
                    .hint("generate into an empty folder"));
                }
                fs::rename(entry.path(), &to)
                    .map_err(|e| Error::io("move the output to", &to, e))?;
            }
            return Ok(());
        }
        if !force {
            return Err(not_empty(&self.target));
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(1) {
            let entry = entry
                .map_err(|e| Error::new(format!("cannot read {}: {e}", self.dir.display())))?;
            let rel = entry
                .path()
                .strip_prefix(&self.dir)
                .expect("below staging")
                .to_path_buf();
            crate::render::write::check_no_symlink(&self.target, &rel)?;
            // Links the template keeps as links move like files.
            if entry.file_type().is_file() || entry.file_type().is_symlink() {
                files.push(rel);
            }
        }
        // Everything is checked before anything moves; then each file the output replaces is
        // moved into a backup first, so a failure (or a kill) part-way can be undone.
        let mut moves = Vec::new();
        for rel in files {
            let to = self.target.join(&rel);
            if to.exists() && keep_existing.is_match(&rel) {
                continue;
            }
            if to.is_dir() {
                return Err(Error::new(format!(
                    "{} is a folder in the target; the template writes a file there",
                    to.display()
                ))
                .hint("move that folder away, or generate into an empty folder"));
            }
            moves.push(rel);
        }
        let transaction = Transaction::begin(&self.target, &moves)?;
        for rel in &moves {
            if let Err(e) = transaction.put(rel, Some(&self.dir.join(rel))) {
                transaction.rollback();
                return Err(e);
            }
        }
        transaction.commit();
        Ok(())
    }
}

/// The error for a non-empty target without `--force`.
pub fn not_empty(target: &Path) -> Error {
    Error::conflict(format!("{} is not empty", target.display()))
        .hint("choose an empty or new folder with -o, or pass --force to write over it")
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.placed {
            let _ = fs::remove_dir_all(&self.dir);
            for dir in &self.created_parents {
                let _ = fs::remove_dir(dir);
            }
        }
    }
}
