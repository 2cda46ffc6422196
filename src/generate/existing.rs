//! copier's copy over a folder that already holds files: each output file is judged against
//! what the folder holds, and said as copier says it (`    create  path`, `identical`,
//! `conflict` then `skip` or `overwrite`). A file with the same bytes (and executable bits)
//! is left as it is, its time included; a file that differs is overwritten with `--force`
//! (and always the answers file), kept when a skip pattern (`_skip_if_exists`, `--skip`)
//! matches it, and otherwise stops the run before anything is placed, where copier would ask
//! and, without a terminal, stops.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::hash::HashedFile;

/// What copier decides for one output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing there yet.
    Create,
    /// The same bytes and executable bits: left as it is.
    Identical,
    /// Different, and a skip pattern keeps the folder's own.
    Skip,
    /// Different, and written over (`--force`, or the answers file).
    Overwrite,
    /// Different, and nothing says what to do.
    Unsettled,
}

/// The decisions for a run's files, and the lines that say them.
#[derive(Debug, Default)]
pub struct Decisions {
    /// Each file's path and decision, in path order.
    pub files: Vec<(String, Decision)>,
}

/// What one file is judged by: its path, its bytes' hash, whether it is executable.
pub struct Candidate<'a> {
    /// Path in the output.
    pub file: &'a HashedFile,
    /// Whether the file the run writes is executable.
    pub executable: bool,
}

/// How a file that differs is settled.
pub struct Settle<'a> {
    /// `--force`.
    pub force: bool,
    /// Whether a skip pattern keeps the folder's file at this path.
    pub skip: &'a dyn Fn(&str) -> bool,
    /// Paths always written over (copier's answers file).
    pub always: &'a [String],
}

/// Judges each candidate against `target` (missing or empty: every file is created).
pub fn decide<'a>(
    target: &Path,
    candidates: impl IntoIterator<Item = Candidate<'a>>,
    settle: &Settle,
) -> Result<Decisions> {
    let empty = super::output::is_missing_or_empty(target)?;
    let mut files = Vec::new();
    for candidate in candidates {
        let path = &candidate.file.path;
        let decision = if empty {
            Decision::Create
        } else {
            match judge(&target.join(path), candidate) {
                Decision::Identical => Decision::Identical,
                Decision::Create => Decision::Create,
                _ if (settle.skip)(path) => Decision::Skip,
                _ if settle.force || settle.always.contains(path) => Decision::Overwrite,
                _ => Decision::Unsettled,
            }
        };
        files.push((path.clone(), decision));
    }
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(Decisions { files })
}

/// One file against what is at `there`: created, identical, or different.
fn judge(there: &Path, candidate: Candidate) -> Decision {
    // What cannot be read as a file (a folder, a link, a file where a folder goes) differs:
    // placing the output says what is in the way.
    let meta = match fs::symlink_metadata(there) {
        Ok(meta) if meta.is_file() => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Decision::Create,
        _ => return Decision::Unsettled,
    };
    let same_bytes = crate::hash::sha256_file(there).is_ok_and(|h| h == candidate.file.sha256);
    if same_bytes && executable(&meta) == candidate.executable {
        return Decision::Identical;
    }
    Decision::Unsettled
}

#[cfg(unix)]
fn executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_meta: &fs::Metadata) -> bool {
    false
}

impl Decisions {
    /// copier's lines for them (its `printf`: the action right-aligned in ten columns).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.files.len());
        for (path, decision) in &self.files {
            let actions: &[&str] = match decision {
                Decision::Create => &["create"],
                Decision::Identical => &["identical"],
                Decision::Skip => &["conflict", "skip"],
                Decision::Overwrite => &["conflict", "overwrite"],
                Decision::Unsettled => &["conflict"],
            };
            for action in actions {
                out.push(format!(
                    "{action:>10}  {}",
                    crate::render::paths::shown(path)
                ));
            }
        }
        out
    }

    /// The files left as the folder has them.
    pub fn identical(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|(_, d)| *d == Decision::Identical)
            .map(|(p, _)| p.as_str())
    }

    /// The refusal when a file that differs is not settled: nothing is placed.
    pub fn check_settled(&self, target: &Path) -> Result<()> {
        let unsettled: Vec<&str> = self
            .files
            .iter()
            .filter(|(_, d)| *d == Decision::Unsettled)
            .map(|(p, _)| p.as_str())
            .collect();
        if unsettled.is_empty() {
            return Ok(());
        }
        let shown: Vec<_> = unsettled
            .iter()
            .take(10)
            .map(|p| crate::render::paths::shown(p))
            .collect();
        let more = match unsettled.len() {
            n if n > shown.len() => format!(" and {} more", n - shown.len()),
            _ => String::new(),
        };
        Err(Error::conflict(format!(
            "{} already holds {} file{} the template writes otherwise: {}{more}",
            target.display(),
            unsettled.len(),
            if unsettled.len() == 1 { "" } else { "s" },
            shown.join(", ")
        ))
        .hint("pass --force to overwrite them, or --skip PATTERN to keep them (copier would ask; Consider using `--overwrite`)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_judged_and_said_as_copier_says_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("same.txt"), "same\n").unwrap();
        fs::write(dir.path().join("other.txt"), "old\n").unwrap();
        fs::write(dir.path().join("kept.txt"), "old\n").unwrap();
        let file = |path: &str, text: &str| HashedFile {
            path: path.to_string(),
            sha256: crate::hash::sha256_hex(text.as_bytes()),
        };
        let files = [
            file("same.txt", "same\n"),
            file("other.txt", "new\n"),
            file("kept.txt", "new\n"),
            file("new.txt", "new\n"),
        ];
        let candidates = || {
            files.iter().map(|f| Candidate {
                file: f,
                executable: false,
            })
        };
        let skip = |p: &str| p == "kept.txt";
        let settle = |force| Settle {
            force,
            skip: &skip,
            always: &[],
        };
        let decided = decide(dir.path(), candidates(), &settle(false)).unwrap();
        assert_eq!(
            decided.lines(),
            [
                "  conflict  kept.txt",
                "      skip  kept.txt",
                "    create  new.txt",
                "  conflict  other.txt",
                " identical  same.txt",
            ]
        );
        let err = decided.check_settled(dir.path()).unwrap_err();
        assert!(
            err.message
                .contains("1 file the template writes otherwise: other.txt")
        );
        let forced = decide(dir.path(), candidates(), &settle(true)).unwrap();
        assert!(forced.check_settled(dir.path()).is_ok());
        assert!(
            forced
                .lines()
                .contains(&" overwrite  other.txt".to_string())
        );
        assert_eq!(forced.identical().collect::<Vec<_>>(), ["same.txt"]);
    }
}
