//! `upgrade`: move a generated project to another template version without losing local
//! edits. The plan compares three trees (base = the recorded version generated with the
//! recorded answers, theirs = the target version, ours = the files on disk); applying it is
//! all or nothing.

pub mod apply;
pub mod keep;
pub mod merge;
pub mod patch;
pub mod plan;
mod structured;

pub use plan::{Action, Plan, Step};

use std::path::Path;

use crate::error::{Error, Result};
use crate::hash::{self, PROVENANCE_DIR};
use crate::template::answers::Answers;
use crate::template::manifest::Manifest;
use plan::{FileState, Files};

/// A template version generated for one side of an upgrade (in a scratch folder, read back).
pub struct Rendered {
    /// Its manifest.
    pub manifest: Manifest,
    /// The answers used.
    pub answers: Answers,
    /// The files.
    pub files: Files,
    /// The libraries the answers select.
    pub libraries: Vec<crate::domain::events::LibraryUse>,
}

/// The files of a generated project as they are now (its `.factory/` and `.git/` left out;
/// symlinks are not followed: each is read as where it points).
pub fn read_project(dir: &Path) -> Result<Files> {
    let mut tree = Files::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            !(e.depth() == 1 && (e.file_name() == PROVENANCE_DIR || e.file_name() == ".git"))
        });
    for entry in walker {
        let entry = entry.map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
        if entry.file_type().is_symlink() {
            let path = hash::relative_slash_path(dir, entry.path())?;
            let to = std::fs::read_link(entry.path())
                .map_err(|e| Error::io("read the link", entry.path(), e))?;
            let bytes = to.to_string_lossy().into_owned().into_bytes();
            tree.insert(
                path,
                FileState {
                    bytes,
                    executable: false,
                    link: true,
                },
            );
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let path = hash::relative_slash_path(dir, entry.path())?;
        let bytes = std::fs::read(entry.path()).map_err(|e| Error::io("read", entry.path(), e))?;
        #[cfg(unix)]
        let executable = {
            use std::os::unix::fs::PermissionsExt;
            entry
                .metadata()
                .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
        };
        #[cfg(not(unix))]
        let executable = false;
        tree.insert(
            path,
            FileState {
                bytes,
                executable,
                link: false,
            },
        );
    }
    Ok(tree)
}
