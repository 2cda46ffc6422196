//! copier's copy over a folder that already holds files: each output file (and link, with
//! `_preserve_symlinks`) is judged against what the folder holds, and said as copier says it
//! (`    create  path`, `identical`, `conflict` then `skip` or `overwrite`). A file with the
//! same bytes (and executable bits), or a link to the same place, is left as it is, its time
//! included; one that differs is overwritten with `--force` (and always the answers file),
//! kept when a skip pattern (`_skip_if_exists`, `--skip`) matches it, and otherwise stops
//! the run before anything is placed, where copier would ask and, without a terminal, stops.
//! This is the one judgement of a folder's own files: placing the output
//! ([`super::output::Staging::place`]) writes over them only when told to.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};

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

/// What the run writes at a path.
pub enum Written<'a> {
    /// A file.
    File {
        /// Its bytes' hash.
        sha256: &'a str,
        /// Whether it is executable.
        executable: bool,
    },
    /// A link, and where it points.
    Link(&'a str),
}

/// What one path is judged by: the path in the output, and what the run writes there.
pub struct Candidate<'a> {
    /// Path in the output.
    pub path: &'a str,
    /// The file or link written there.
    pub written: Written<'a>,
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
        let path = candidate.path;
        let decision = if empty {
            Decision::Create
        } else {
            match judge(&target.join(path), &candidate.written) {
                Decision::Identical => Decision::Identical,
                Decision::Create => Decision::Create,
                _ if (settle.skip)(path) => Decision::Skip,
                _ if settle.force || settle.always.iter().any(|a| a == path) => Decision::Overwrite,
                _ => Decision::Unsettled,
            }
        };
        files.push((path.to_string(), decision));
    }
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(Decisions { files })
}

/// What the run writes against what is at `there`: created, identical, or different.
fn judge(there: &Path, written: &Written) -> Decision {
    // What is of another kind (a folder, a link where a file goes, a file where a folder
    // goes) differs: placing the output says what is in the way.
    let meta = match fs::symlink_metadata(there) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Decision::Create,
        Err(_) => return Decision::Unsettled,
    };
    let same = match *written {
        Written::File {
            sha256,
            executable: x,
        } => {
            meta.is_file()
                && crate::hash::sha256_file(there).is_ok_and(|h| h == sha256)
                && executable(&meta) == x
        }
        Written::Link(to) => {
            meta.file_type().is_symlink()
                && fs::read_link(there).is_ok_and(|at| at.as_os_str() == std::ffi::OsStr::new(to))
        }
    };
    if same {
        Decision::Identical
    } else {
        Decision::Unsettled
    }
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
        let files = [
            ("same.txt", "same\n"),
            ("other.txt", "new\n"),
            ("kept.txt", "new\n"),
            ("new.txt", "new\n"),
        ]
        .map(|(path, text)| (path, crate::hash::sha256_hex(text.as_bytes())));
        let candidates = || {
            files.iter().map(|(path, sha256)| Candidate {
                path,
                written: Written::File {
                    sha256,
                    executable: false,
                },
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

    #[cfg(unix)]
    #[test]
    fn a_link_is_judged_by_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("mine.txt"), "mine\n").unwrap();
        std::os::unix::fs::symlink("b.txt", dir.path().join("same")).unwrap();
        std::os::unix::fs::symlink("c.txt", dir.path().join("elsewhere")).unwrap();
        let candidates = ["mine.txt", "same", "elsewhere", "new"].map(|path| Candidate {
            path,
            written: Written::Link("b.txt"),
        });
        let settle = Settle {
            force: false,
            skip: &|_| false,
            always: &[],
        };
        let decided = decide(dir.path(), candidates, &settle).unwrap();
        assert_eq!(
            decided.lines(),
            [
                "  conflict  elsewhere",
                "  conflict  mine.txt",
                "    create  new",
                " identical  same",
            ]
        );
        // A file where the run writes a link differs, as a link where it writes a file.
        let file = Candidate {
            path: "same",
            written: Written::File {
                sha256: &crate::hash::sha256_hex(b"b.txt"),
                executable: false,
            },
        };
        let decided = decide(dir.path(), [file], &settle).unwrap();
        assert!(decided.check_settled(dir.path()).is_err());
    }
}
