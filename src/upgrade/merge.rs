//! Merging one file changed on both sides: TOML, YAML and JSON by structure (see
//! [`super::structured`]), everything else (and what the structured merge cannot decide) by
//! lines; and the conflicts written as copier and cruft users know them.

use super::plan::ConflictStyle;
use super::structured::{self, Format, Outcome};

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileMerge {
    /// Merged without conflicts.
    Clean {
        /// The merged text.
        bytes: Vec<u8>,
        /// How, in words.
        reason: String,
    },
    /// Conflicts remain.
    Conflict {
        /// What to write: markers around the conflicts, or (`rej`) your side of them.
        bytes: Vec<u8>,
        /// For `rej`: the template's side of the conflicts as rejected hunks, for `PATH.rej`.
        reject: Option<Vec<u8>>,
        /// Why, in words.
        reason: String,
    },
    /// A binary file (or one that is not UTF-8) changed on both sides: not merged.
    Binary,
}

/// Your change to a file applied to the template's new version as copier applies it (see
/// `crate::upgrade::patch`): copier's update, file by file.
pub trait Patcher {
    /// `base` → `ours` applied to `theirs`; `None` when it cannot be done (no git): the file
    /// is then merged by lines.
    fn apply_yours(&self, path: &str, base: &[u8], ours: &[u8], theirs: &[u8]) -> Option<Applied>;
}

/// What [`Patcher::apply_yours`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The new version with the hunks of your change that applied.
    pub bytes: Vec<u8>,
    /// The hunks that did not, as `git apply --reject` writes them to `FILE.rej`.
    pub rejected: Option<Vec<u8>>,
}

/// Merges `path`'s three versions; `base` is `None` when both sides added the file. With a
/// `patcher` (a copier template), a file the structured merge does not settle is updated as
/// copier updates it: your change applied to the new version, and when a hunk of it does not
/// apply, `git merge-file`'s markers (inline) or the new version with your rejected hunks in
/// `FILE.rej` (rej).
pub(crate) fn merge_file(
    path: &str,
    base: Option<&[u8]>,
    ours: &[u8],
    theirs: &[u8],
    style: ConflictStyle,
    patcher: Option<&dyn Patcher>,
    structured: bool,
) -> FileMerge {
    fn text(b: &[u8]) -> Option<&str> {
        (!crate::render::tree::is_binary(b))
            .then(|| std::str::from_utf8(b).ok())
            .flatten()
    }
    let (Some(base_text), Some(ours), Some(theirs)) =
        (text(base.unwrap_or_default()), text(ours), text(theirs))
    else {
        return FileMerge::Binary;
    };
    let added = base.is_none();
    let format = Format::of(path);
    if let Some(format) = format.filter(|_| structured) {
        let base = (!added).then_some(base_text);
        match structured::merge(format, base, ours, theirs) {
            Some(Outcome::Clean(merged)) => {
                return FileMerge::Clean {
                    bytes: merged.into_bytes(),
                    reason: format!(
                        "{} by both; merged key by key",
                        if added { "added" } else { "changed" }
                    ),
                };
            }
            Some(Outcome::Conflict {
                at,
                base,
                ours: o,
                theirs: t,
            }) => {
                let chunks = line_merge(&base, &o, &t);
                if chunks.iter().any(|c| matches!(c, Chunk::Conflict { .. })) {
                    let keys: Vec<String> = at
                        .iter()
                        .map(|k| format!("`{}`", if k.is_empty() { "(the whole file)" } else { k }))
                        .collect();
                    let what = format!(
                        "{} by both: {} {} in conflict",
                        if added { "added" } else { "changed" },
                        keys.join(", "),
                        if keys.len() == 1 { "is" } else { "are" }
                    );
                    return conflict(path, &chunks, style, &what);
                }
            }
            None => {}
        }
    }
    if let Some(applied) = patcher.and_then(|p| {
        p.apply_yours(
            path,
            base_text.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
        )
    }) {
        return as_copier_does(path, (base_text, ours, theirs), applied, style, added);
    }
    let chunks = line_merge(base_text, ours, theirs);
    if chunks.iter().any(|c| matches!(c, Chunk::Conflict { .. })) {
        let what = if added {
            "added by both with different contents"
        } else {
            "changed by both on the same lines"
        };
        return conflict(path, &chunks, style, what);
    }
    let merged = resolve(&chunks, Pick::Ours);
    // A line merge knows nothing of the format: a merged TOML, YAML or JSON file that no longer
    // parses (while all three sides did) is never written as if it were fine.
    if let Some(format) = format {
        let sides_parse = [(!added).then_some(base_text), Some(ours), Some(theirs)]
            .into_iter()
            .flatten()
            .all(|t| format.problem(t).is_none());
        if let (true, Some(problem)) = (sides_parse, format.problem(&merged)) {
            return FileMerge::Conflict {
                bytes: merged.into_bytes(),
                reject: None,
                reason: format!(
                    "changed by both on different lines, but the merged lines are not valid {} ({problem}); merged as is, fix it by hand",
                    format.name()
                ),
            };
        }
    }
    FileMerge::Clean {
        bytes: merged.into_bytes(),
        reason: if added {
            "added by both; merged".to_string()
        } else {
            "changed by both on different lines; merged".to_string()
        },
    }
}

/// copier's outcome for a file both sides changed, once your change was applied to the new
/// version: what applied, else (inline, diff3) `git merge-file` of the three versions with
/// copier's labels, or (rej) the new version with your rejected hunks beside it.
fn as_copier_does(
    path: &str,
    (base, ours, theirs): (&str, &str, &str),
    applied: Applied,
    style: ConflictStyle,
    added: bool,
) -> FileMerge {
    let what = if added {
        "added by both with different contents"
    } else {
        "changed by both"
    };
    let Some(rejected) = applied.rejected else {
        return FileMerge::Clean {
            bytes: applied.bytes,
            reason: format!("{what}; your changes applied to the new version"),
        };
    };
    if style == ConflictStyle::Rej {
        return FileMerge::Conflict {
            bytes: applied.bytes,
            reject: Some(rejected),
            reason: format!(
                "{what}; the new version written with those of your changes that apply, the others in {path}.rej"
            ),
        };
    }
    match git_merge_file(base, ours, theirs, style == ConflictStyle::Diff3) {
        Some((bytes, true)) => FileMerge::Clean {
            bytes,
            reason: format!("{what}; merged"),
        },
        Some((bytes, false)) => FileMerge::Conflict {
            bytes,
            reject: None,
            reason: format!("{what} on the same lines; conflict markers written"),
        },
        None => {
            let chunks = line_merge(base, ours, theirs);
            conflict(path, &chunks, style, what)
        }
    }
}

/// `git merge-file -L "before updating" -L "last update" -L "after updating"` (libgit2's copy
/// of git's merge, at git's level): the merged bytes and whether they are free of conflicts.
fn git_merge_file(base: &str, ours: &str, theirs: &str, diff3: bool) -> Option<(Vec<u8>, bool)> {
    let (mut b, mut o, mut t) = (
        git2::MergeFileInput::new(),
        git2::MergeFileInput::new(),
        git2::MergeFileInput::new(),
    );
    b.content(base.as_bytes());
    o.content(ours.as_bytes());
    t.content(theirs.as_bytes());
    let mut options = git2::MergeFileOptions::new();
    options
        .our_label("before updating")
        .ancestor_label("last update")
        .their_label("after updating")
        .simplify_alnum(true)
        .style_diff3(diff3);
    // git2's merge_file does not set libgit2 up itself; making a buffer does.
    drop(git2::Buf::new());
    let merged = git2::merge_file(&b, &o, &t, Some(&mut options)).ok()?;
    Some((merged.content().to_vec(), merged.is_automergeable()))
}

/// A stretch of a merged file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    /// Merged.
    Clean(String),
    /// In conflict: each side's lines.
    Conflict {
        ours: String,
        base: String,
        theirs: String,
    },
}

#[derive(Clone, Copy)]
enum Pick {
    Ours,
    Theirs,
}

/// A 3-way line merge (diffy), as chunks. diffy only prints its result; it prints it here with
/// markers longer than any run of marker characters in the inputs, so the markers it wrote
/// are found again without mistaking a line of the file for one.
fn line_merge(base: &str, ours: &str, theirs: &str) -> Vec<Chunk> {
    let longest_run = [base, ours, theirs]
        .iter()
        .flat_map(|t| {
            ['<', '|', '=', '>']
                .map(|c| t.split(|x| x != c).map(str::len).max().unwrap_or_default())
        })
        .max()
        .unwrap_or_default();
    let len = (longest_run + 1).max(7);
    let mut options = diffy::MergeOptions::new();
    options
        .set_conflict_marker_length(len)
        .set_conflict_style(diffy::ConflictStyle::Diff3)
        // Markers right after the last bytes: what was a line end and what was not stays known.
        .set_incomplete_hunk_style(diffy::IncompleteHunkStyle::Diff3);
    let printed = match options.merge(base, ours, theirs) {
        Ok(merged) => return vec![Chunk::Clean(merged)],
        Err(printed) => printed,
    };
    let marker = |c: char, label: &str| format!("{}{label}\n", c.to_string().repeat(len));
    let (open, middle, separator, close) = (
        marker('<', " ours"),
        marker('|', " original"),
        marker('=', ""),
        marker('>', " theirs"),
    );
    let mut chunks = Vec::new();
    let mut rest = printed.as_str();
    let take = |rest: &mut &str, until: &str| -> String {
        let (before, after) = rest.split_once(until).unwrap_or((rest, ""));
        *rest = after;
        before.to_string()
    };
    while !rest.is_empty() {
        let clean = take(&mut rest, &open);
        if !clean.is_empty() {
            chunks.push(Chunk::Clean(clean));
        }
        if rest.is_empty() {
            break;
        }
        let ours = take(&mut rest, &middle);
        let base = take(&mut rest, &separator);
        let theirs = take(&mut rest, &close);
        chunks.push(Chunk::Conflict { ours, base, theirs });
    }
    chunks
}

fn resolve(chunks: &[Chunk], pick: Pick) -> String {
    chunks
        .iter()
        .map(|c| match (c, pick) {
            (Chunk::Clean(t), _) => t.as_str(),
            (Chunk::Conflict { ours, .. }, Pick::Ours) => ours,
            (Chunk::Conflict { theirs, .. }, Pick::Theirs) => theirs,
        })
        .collect()
}

/// Conflict markers as copier writes them (`git merge-file` with copier's labels); a marker
/// always starts a line, even after a last line without a line break.
fn with_markers(chunks: &[Chunk], diff3: bool) -> String {
    let mut out = String::new();
    let marker = |out: &mut String, m: &str| {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(m);
        out.push('\n');
    };
    for chunk in chunks {
        match chunk {
            Chunk::Clean(t) => out.push_str(t),
            Chunk::Conflict { ours, base, theirs } => {
                marker(&mut out, "<<<<<<< before updating");
                out.push_str(ours);
                if diff3 {
                    marker(&mut out, "||||||| last update");
                    out.push_str(base);
                }
                marker(&mut out, "=======");
                out.push_str(theirs);
                marker(&mut out, ">>>>>>> after updating");
            }
        }
    }
    out
}

fn conflict(path: &str, chunks: &[Chunk], style: ConflictStyle, what: &str) -> FileMerge {
    match style {
        ConflictStyle::Merge | ConflictStyle::Diff3 => FileMerge::Conflict {
            bytes: with_markers(chunks, style == ConflictStyle::Diff3).into_bytes(),
            reject: None,
            reason: format!("{what}; conflict markers written"),
        },
        ConflictStyle::Rej => {
            let ours = resolve(chunks, Pick::Ours);
            let theirs = resolve(chunks, Pick::Theirs);
            FileMerge::Conflict {
                reject: Some(reject(path, &ours, &theirs).into_bytes()),
                bytes: ours.into_bytes(),
                reason: format!("{what}; yours kept, the template's side written to {path}.rej"),
            }
        }
    }
}

/// The rejected hunks as `git apply --reject` writes them (the format of copier's and cruft's
/// `.rej` files): what would take the file as written to the template's side of the
/// conflicts, with three lines of context.
fn reject(path: &str, written: &str, theirs: &str) -> String {
    let patch = diffy::create_patch(written, theirs);
    // git writes an empty context line as a single space.
    let patch = diffy::PatchFormatter::new()
        .suppress_blank_empty(false)
        .fmt_patch(&patch)
        .to_string();
    let hunks = patch
        .find("\n@@ ")
        .map_or(patch.as_str(), |i| &patch[i + 1..]);
    format!("diff a/{path} b/{path}\t(rejected hunks)\n{hunks}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(path: &str, b: &str, o: &str, t: &str, style: ConflictStyle) -> FileMerge {
        merge_file(
            path,
            Some(b.as_bytes()),
            o.as_bytes(),
            t.as_bytes(),
            style,
            None,
            true,
        )
    }

    /// The three versions, as copier merges them (with `git apply` and `git merge-file`).
    fn as_copier(b: Option<&str>, o: &str, t: &str, style: ConflictStyle) -> FileMerge {
        merge_file(
            "dir/f.txt",
            b.map(str::as_bytes),
            o.as_bytes(),
            t.as_bytes(),
            style,
            Some(&crate::upgrade::patch::GitPatcher::default()),
            true,
        )
    }

    #[test]
    fn copier_templates_merge_as_copier_update_does() {
        let base = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        // Two lines apart: git apply rejects your hunk (its context changed), git merge-file
        // merges it: inline, merged; rej, the new version and your hunk in the .rej.
        let ours = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\n";
        let theirs = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let FileMerge::Clean { bytes, .. } =
            as_copier(Some(base), ours, theirs, ConflictStyle::Merge)
        else {
            panic!("merged")
        };
        assert_eq!(text(&bytes), "a\nB\nc\nD\ne\nf\ng\nh\ni\nj\n");
        let FileMerge::Conflict { bytes, reject, .. } =
            as_copier(Some(base), ours, theirs, ConflictStyle::Rej)
        else {
            panic!("rejected")
        };
        assert_eq!(text(&bytes), theirs);
        assert!(text(&reject.unwrap()).contains("-d\n+D\n"));
        // The same line: git merge-file's markers with copier's labels, a last line without a
        // line break ended before the marker as git ends it.
        let FileMerge::Conflict { bytes, .. } =
            as_copier(Some("x\ny"), "x\nmine", "x\ntheirs", ConflictStyle::Merge)
        else {
            panic!("a conflict")
        };
        assert_eq!(
            text(&bytes),
            "x\n<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after updating\n"
        );
        // Added by both: your file is a patch against nothing.
        let FileMerge::Conflict { bytes, reject, .. } =
            as_copier(None, "mine\n", "template\n", ConflictStyle::Rej)
        else {
            panic!("rejected")
        };
        assert_eq!(text(&bytes), "template\n");
        assert_eq!(
            text(&reject.unwrap()),
            "diff a/dir/f.txt b/dir/f.txt\t(rejected hunks)\n@@ -0,0 +1 @@\n+mine\n"
        );
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn markers_start_a_line_after_a_last_line_without_a_line_break() {
        let FileMerge::Conflict { bytes, .. } = merged(
            "a.txt",
            "a\nb",
            "a\nours",
            "a\ntheirs",
            ConflictStyle::Merge,
        ) else {
            panic!("a conflict")
        };
        assert_eq!(
            text(&bytes),
            "a\n<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n"
        );
        let FileMerge::Conflict { bytes, .. } = merged(
            "a.txt",
            "a\nb",
            "a\nours",
            "a\ntheirs",
            ConflictStyle::Diff3,
        ) else {
            panic!("a conflict")
        };
        assert_eq!(
            text(&bytes),
            "a\n<<<<<<< before updating\nours\n||||||| last update\nb\n=======\ntheirs\n>>>>>>> after updating\n"
        );
    }

    #[test]
    fn lines_of_the_file_that_look_like_markers_are_not_taken_for_markers() {
        let base = "x\n=======\ny\n";
        let FileMerge::Conflict { bytes, .. } = merged(
            "a.txt",
            base,
            "x\n=======\nmine\n",
            "x\n=======\ntheirs\n",
            ConflictStyle::Rej,
        ) else {
            panic!("a conflict")
        };
        assert_eq!(text(&bytes), "x\n=======\nmine\n");
    }

    #[test]
    fn rej_keeps_your_side_and_writes_the_template_side_as_git_apply_rejects_it() {
        let base = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let ours = "1\n2\n3\n4\nO\n6\n7\n8\n9\n";
        let theirs = "T1\n2\n3\n4\nT\n6\n7\n8\n9\n";
        let FileMerge::Conflict {
            bytes,
            reject,
            reason,
        } = merged("dir/f.txt", base, ours, theirs, ConflictStyle::Rej)
        else {
            panic!("a conflict")
        };
        // The change that merges is applied; the conflicting one is left out of the file.
        assert_eq!(text(&bytes), "T1\n2\n3\n4\nO\n6\n7\n8\n9\n");
        assert_eq!(
            text(&reject.unwrap()),
            "diff a/dir/f.txt b/dir/f.txt\t(rejected hunks)\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-O\n+T\n 6\n 7\n 8\n"
        );
        assert!(reason.contains("dir/f.txt.rej"), "{reason}");
    }

    #[test]
    fn a_clean_line_merge_that_does_not_parse_is_a_conflict() {
        // An anchor leaves the file to the line merge; both add `z` at different places: the
        // lines merge, and the result holds `z` twice.
        let base = "a: &x 1\nb: 2\nc: 3\nd: 4\n";
        let ours = "a: &x 1\nz: 1\nb: 2\nc: 3\nd: 4\n";
        let theirs = "a: &x 1\nb: 2\nc: 3\nd: 4\nz: 2\n";
        let out = merged("c.yaml", base, ours, theirs, ConflictStyle::Merge);
        let FileMerge::Conflict { reason, bytes, .. } = out else {
            panic!("{out:?}")
        };
        assert!(reason.contains("not valid YAML"), "{reason}");
        assert_eq!(text(&bytes), "a: &x 1\nz: 1\nb: 2\nc: 3\nd: 4\nz: 2\n");
    }
}
