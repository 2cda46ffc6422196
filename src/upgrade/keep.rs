//! What an upgrade leaves to the project, as copier and cruft do: a file `_skip_if_exists`
//! names is written only when the project lacks it; paths cruft's `skip` names are never
//! touched; the answers file is regenerated, never merged.

use super::plan::{Action, Files, Plan, Step};
use crate::error::{Error, Result};

/// copier's `_skip_if_exists` (gitignore-style patterns, as copier matches them with
/// pathspec; already rendered): a matching file the project has is left as it is (out of
/// both renders); one it lacks is written from the new version (out of the base, so it is
/// new), even when it was deleted on purpose, as copier does.
pub fn skip_if_exists(
    base: &mut Files,
    theirs: &mut Files,
    ours: &Files,
    patterns: &[String],
) -> Result<()> {
    if patterns.is_empty() {
        return Ok(());
    }
    let set = crate::render::gitignore::Spec::new(patterns.iter().map(String::as_str))
        .map_err(|m| Error::new(format!("_skip_if_exists: {m}")))?;
    base.retain(|path, _| !set.is_excluded(path));
    theirs.retain(|path, _| !(set.is_excluded(path) && ours.contains_key(path)));
    Ok(())
}

/// cruft's `skip`: each entry a path (a file, or a folder and everything below it) or, with
/// a `*`, a glob; matching paths are out of both renders, so the project keeps them.
pub fn skip_paths(base: &mut Files, theirs: &mut Files, skip: &[String]) -> Result<()> {
    let mut globs = globset::GlobSetBuilder::new();
    let mut paths = Vec::new();
    for entry in skip {
        let entry = entry.trim_start_matches("./").trim_end_matches('/');
        if entry.contains('*') {
            globs.add(
                globset::Glob::new(entry)
                    .map_err(|e| Error::new(format!("cruft's skip `{entry}`: {e}")))?,
            );
        } else {
            paths.push(entry.to_string());
        }
    }
    let globs = globs.build().map_err(|e| Error::new(e.to_string()))?;
    let skipped = |path: &String| {
        globs.is_match(path)
            || paths.iter().any(|p| {
                path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
    };
    base.retain(|path, _| !skipped(path));
    theirs.retain(|path, _| !skipped(path));
    Ok(())
}

/// The answers file at `path` is what the new version renders, whatever the project's copy
/// says (copier excludes it from the merge and writes it anew).
pub fn regenerate(plan: &mut Plan, path: &str, theirs: &Files, ours: &Files) {
    plan.steps.retain(|s| s.path != path);
    let Some(new) = theirs.get(path) else {
        return;
    };
    if ours.get(path) == Some(new) {
        return;
    }
    let at = plan.steps.partition_point(|s| s.path.as_str() < path);
    plan.steps.insert(
        at,
        Step {
            path: path.to_string(),
            action: if ours.contains_key(path) {
                Action::Update
            } else {
                Action::Add
            },
            reason: "the answers file, written anew for the new version".to_string(),
            write: Some(new.clone()),
            reject: None,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::plan::FileState;

    fn tree(paths: &[(&str, &str)]) -> Files {
        paths
            .iter()
            .map(|(p, b)| {
                (
                    p.to_string(),
                    FileState {
                        bytes: b.as_bytes().to_vec(),
                        executable: false,
                        link: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn skip_if_exists_keeps_what_the_project_has_and_writes_what_it_lacks() {
        let mut base = tree(&[("conf/local.env", "a"), ("keep.txt", "a"), ("x", "1")]);
        let mut theirs = tree(&[("conf/local.env", "b"), ("keep.txt", "b"), ("x", "2")]);
        let ours = tree(&[("conf/local.env", "mine"), ("x", "1")]);
        skip_if_exists(
            &mut base,
            &mut theirs,
            &ours,
            &["conf/*.env".into(), "keep.txt".into()],
        )
        .unwrap();
        assert_eq!(base.keys().collect::<Vec<_>>(), ["x"]);
        assert_eq!(theirs.keys().collect::<Vec<_>>(), ["keep.txt", "x"]);
    }

    #[test]
    fn cruft_skip_takes_paths_folders_and_globs() {
        let mut base = tree(&[("docs/a.md", ""), ("docsx", ""), ("a.lock", ""), ("b", "")]);
        let mut theirs = base.clone();
        skip_paths(&mut base, &mut theirs, &["docs/".into(), "*.lock".into()]).unwrap();
        assert_eq!(base.keys().collect::<Vec<_>>(), ["b", "docsx"]);
        assert_eq!(theirs, base);
    }

    #[test]
    fn the_answers_file_is_replaced_never_merged() {
        let theirs = tree(&[("a", "x"), (".copier-answers.yml", "new")]);
        let ours = tree(&[("a", "x"), (".copier-answers.yml", "edited")]);
        let mut plan = Plan {
            steps: vec![Step {
                path: ".copier-answers.yml".into(),
                action: Action::Conflict,
                reason: "both".into(),
                write: None,
                reject: None,
            }],
            unchanged: 1,
        };
        regenerate(&mut plan, ".copier-answers.yml", &theirs, &ours);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].action, Action::Update);
        assert_eq!(plan.steps[0].write.as_ref().unwrap().bytes, b"new");
    }
}
