//! The upgrade plan: per file, what a 3-way comparison says to do.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::merge::{FileMerge, Patcher, merge_file};

/// A file's bytes and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// Its bytes (for a link, where it points).
    pub bytes: Vec<u8>,
    /// Whether it is executable.
    pub executable: bool,
    /// Whether it is a symlink (copier's `_preserve_symlinks` keeps links as links).
    pub link: bool,
}

/// One side of a merge: its files by relative path (the base, the new version or the project
/// as it is). Not the stored tree object ([`crate::tree::Tree`]).
pub type Files = BTreeMap<String, FileState>;

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The template adds it.
    Add,
    /// The template changed it and you did not: replaced.
    Update,
    /// The template removed it and you did not change it: deleted.
    Delete,
    /// You changed it and the template did not: kept.
    KeepLocal,
    /// Both changed it on different lines: merged.
    Merge,
    /// Both changed the same lines, or one deleted what the other changed: needs you.
    Conflict,
}

/// One file's step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Relative path.
    pub path: String,
    /// What happens.
    pub action: Action,
    /// Why, in words.
    pub reason: String,
    /// What to write (`None`: nothing to write, or delete for `Delete`).
    #[serde(skip)]
    pub write: Option<FileState>,
    /// With `--conflict rej`: the rejected hunks, written to `PATH.rej`.
    #[serde(skip)]
    pub reject: Option<Vec<u8>>,
}

/// The whole plan.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Steps for every file that changes or needs attention, in path order.
    pub steps: Vec<Step>,
    /// Files left as they are.
    pub unchanged: usize,
}

impl Plan {
    /// How many steps are conflicts.
    pub fn conflict_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.action == Action::Conflict)
            .count()
    }
}

/// How conflicts are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConflictStyle {
    /// Inline markers around yours and theirs (copier's `inline`, the default).
    #[default]
    Merge,
    /// Inline markers around yours, the base and theirs.
    Diff3,
    /// Yours kept in the file, the template's side in `PATH.rej` as `git apply --reject`
    /// writes it (copier's and cruft's `rej`).
    Rej,
}

/// How a plan settles what both sides changed.
#[derive(Clone, Copy, Default)]
pub struct How<'a> {
    /// How conflicts are written.
    pub style: ConflictStyle,
    /// For a copier template: a file changed on both sides is updated as copier updates it
    /// (see [`super::merge::Patcher`]).
    pub patcher: Option<&'a dyn Patcher>,
    /// A file the template removed that you changed is deleted, as copier deletes it (with
    /// `rej`, your change goes to `FILE.rej`); otherwise it is kept, as a conflict.
    pub delete_removed: bool,
    /// TOML, YAML and JSON merge by lines too, as copier and cruft merge them (otherwise by
    /// structure first).
    pub line_merge: bool,
}

/// Compares the three trees.
pub fn plan(base: &Files, theirs: &Files, ours: &Files, how: How) -> Plan {
    let (style, patcher) = (how.style, how.patcher);
    let paths: BTreeSet<&String> = base
        .keys()
        .chain(theirs.keys())
        .chain(ours.keys())
        .collect();
    let mut plan = Plan::default();
    for path in paths {
        let (b, t, o) = (base.get(path), theirs.get(path), ours.get(path));
        let step = |action, reason: &str, write| Step {
            path: path.clone(),
            action,
            reason: reason.to_string(),
            write,
            reject: None,
        };
        // A `.rej` beside a file the template itself writes would be overwritten: such a file
        // gets inline markers.
        let rej = format!("{path}.rej");
        let style = match style {
            ConflictStyle::Rej if base.contains_key(&rej) || theirs.contains_key(&rej) => {
                ConflictStyle::Merge
            }
            style => style,
        };
        let merged = |b: Option<&FileState>, o: &FileState, t: &FileState| {
            // The mode merges as the bytes do: yours where you changed it, else the template's.
            let executable = match b {
                Some(b) if b.executable != o.executable => o.executable,
                _ => t.executable,
            };
            let file = |bytes| FileState {
                bytes,
                executable,
                link: false,
            };
            // A link has no lines to merge: where both sides moved it, yours stays.
            if [b, Some(o), Some(t)].into_iter().flatten().any(|f| f.link) {
                return step(
                    Action::Conflict,
                    "a symlink changed by both; yours kept",
                    None,
                );
            }
            match merge_file(
                path,
                b.map(|b| b.bytes.as_slice()),
                &o.bytes,
                &t.bytes,
                style,
                patcher,
                !how.line_merge,
            ) {
                FileMerge::Clean { bytes, reason } => {
                    step(Action::Merge, &reason, Some(file(bytes)))
                }
                FileMerge::Conflict {
                    bytes,
                    reject,
                    reason,
                } => Step {
                    reject,
                    ..step(Action::Conflict, &reason, Some(file(bytes)))
                },
                FileMerge::Binary => step(
                    Action::Conflict,
                    if b.is_some() {
                        "a binary file changed by both; yours kept"
                    } else {
                        "a binary file added by both with different contents; yours kept"
                    },
                    None,
                ),
            }
        };
        let next = match (b, t, o) {
            // The template did not change it: whatever you did stays.
            (b, t, o) if b == t => match (b, o) {
                (Some(_), None) => None,
                (Some(b), Some(o)) if b != o => Some(step(
                    Action::KeepLocal,
                    "you changed it; the template did not",
                    None,
                )),
                (None, Some(_)) => None,
                _ => None,
            },
            (None, Some(t), None) => {
                Some(step(Action::Add, "new in the template", Some(t.clone())))
            }
            (None, Some(t), Some(o)) if t == o => None,
            (None, Some(t), Some(o)) => Some(merged(None, o, t)),
            // copier's update never removes a link (nor what it leads to): one the template
            // no longer has stays.
            (Some(b), None, Some(o)) if b == o && o.link => Some(step(
                Action::KeepLocal,
                "a link the template no longer has; kept, as copier keeps links",
                None,
            )),
            (Some(b), None, Some(o)) if b == o => {
                Some(step(Action::Delete, "removed from the template", None))
            }
            (Some(b), None, Some(o)) if how.delete_removed => Some(Step {
                // copier applies your change to the file as it is, and rejects it.
                reject: patcher
                    .filter(|_| style == ConflictStyle::Rej)
                    .and_then(|p| p.apply_yours(path, &b.bytes, &o.bytes, &o.bytes))
                    .and_then(|applied| applied.rejected),
                ..step(
                    Action::Delete,
                    "removed from the template; deleted with your changes (--delete-removed)",
                    None,
                )
            }),
            (Some(_), None, Some(_)) => Some(step(
                Action::Conflict,
                "removed from the template but changed by you; kept",
                None,
            )),
            (Some(_), None, None) => None,
            // copier and cruft keep a file you deleted deleted.
            (Some(_), Some(_), None) => Some(step(
                Action::KeepLocal,
                "deleted by you; the template changed it; left deleted",
                None,
            )),
            (Some(b), Some(t), Some(o)) if o == b => Some(step(
                Action::Update,
                "changed in the template",
                Some(t.clone()),
            )),
            (Some(_), Some(t), Some(o)) if o == t => None,
            (Some(b), Some(t), Some(o)) => Some(merged(Some(b), o, t)),
            (None, None, _) => None,
        };
        match next {
            Some(step) => plan.steps.push(step),
            None => plan.unchanged += usize::from(o.is_some()),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Files {
        files
            .iter()
            .map(|(p, t)| {
                (
                    p.to_string(),
                    FileState {
                        bytes: t.as_bytes().to_vec(),
                        executable: false,
                        link: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn three_way_decisions() {
        let base = tree(&[
            ("same", "a\n"),
            ("local", "a\n"),
            ("tpl", "a\n"),
            ("both", "1\n2\n3\n4\n5\n"),
            ("clash", "x\n"),
            ("gone", "g\n"),
            ("gone-edited", "g\n"),
        ]);
        let theirs = tree(&[
            ("same", "a\n"),
            ("local", "a\n"),
            ("tpl", "b\n"),
            ("both", "1\nT\n3\n4\n5\n"),
            ("clash", "theirs\n"),
            ("new", "n\n"),
        ]);
        let ours = tree(&[
            ("same", "a\n"),
            ("local", "mine\n"),
            ("tpl", "a\n"),
            ("both", "1\n2\n3\n4\nO\n"),
            ("clash", "ours\n"),
            ("gone", "g\n"),
            ("gone-edited", "edited\n"),
        ]);
        let plan = plan(&base, &theirs, &ours, How::default());
        let actions: Vec<(&str, Action)> = plan
            .steps
            .iter()
            .map(|s| (s.path.as_str(), s.action))
            .collect();
        assert_eq!(
            actions,
            [
                ("both", Action::Merge),
                ("clash", Action::Conflict),
                ("gone", Action::Delete),
                ("gone-edited", Action::Conflict),
                ("local", Action::KeepLocal),
                ("new", Action::Add),
                ("tpl", Action::Update),
            ]
        );
        assert_eq!(
            plan.steps[0].write.as_ref().unwrap().bytes,
            b"1\nT\n3\n4\nO\n"
        );
        let clash = String::from_utf8(plan.steps[1].write.clone().unwrap().bytes).unwrap();
        assert!(
            clash.contains("<<<<<<<") && clash.contains("ours") && clash.contains("theirs"),
            "{clash}"
        );
        assert_eq!(plan.conflict_count(), 2);
        assert_eq!(plan.unchanged, 1);
    }
}
