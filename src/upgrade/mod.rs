//! `upgrade`: move a generated project to another template version without losing local
//! edits. The plan compares three trees (base = the recorded version rendered with the
//! recorded answers, theirs = the target version, ours = the files on disk); applying it is
//! all or nothing.

pub mod apply;
pub mod keep;
pub mod plan;

pub use plan::{Action, Plan, Step};

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::hash::{self, PROVENANCE_DIR};
use crate::render::tree::Renderer;
use crate::template::answers::{self, Answers};
use crate::template::manifest::Manifest;
use crate::template::snapshot::TemplateFiles;
use plan::{FileState, Tree};

/// A template version rendered in memory.
pub struct Rendered {
    /// Its manifest.
    pub manifest: Manifest,
    /// The answers used.
    pub answers: Answers,
    /// The files.
    pub tree: Tree,
    /// The libraries the answers select.
    pub libraries: Vec<crate::domain::events::LibraryUse>,
}

/// Renders a template's files with `given` answers (unknown names dropped: a parameter the
/// version does not have), defaults filling the rest; `asker`, when given, is asked for
/// what has neither.
pub fn render(
    files: TemplateFiles,
    origin: &str,
    name: &str,
    given: &Map<String, Value>,
    settings: &crate::render::Settings,
    asker: Option<&mut dyn answers::Asker>,
) -> Result<Rendered> {
    let manifest = crate::template::load::manifest_of(&files, origin, name)?;
    let given: Map<String, Value> = given
        .iter()
        .filter(|(k, _)| manifest.parameter(k).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let files = Arc::new(files);
    let asking = Renderer::new(&manifest, Arc::clone(&files), settings)
        .map_err(|m| Error::new(format!("{origin}: {m}")))?;
    // Both sides of an upgrade render with the same tool values, so they cancel in the merge.
    let run = crate::template::context::Run::preview(origin, &given);
    let answers = answers::resolve_with(&manifest, asking.env(), &given, true, asker, &run)
        .map_err(|problems| {
            answers::not_usable(origin, &problems)
                .hint("give the missing answers with --set NAME=VALUE")
        })?;
    let ctx = answers.context();
    let chosen = asking
        .for_answers(&ctx)
        .map_err(|m| Error::new(format!("{origin}: {m}")))?;
    let renderer = chosen.as_ref().unwrap_or(&asking);
    let rendered = renderer.render_all(&ctx).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        Error::new(format!(
            "{origin} did not render:\n  {}",
            lines.join("\n  ")
        ))
    })?;
    let libraries = renderer.libraries(&ctx)?;
    drop(chosen);
    drop(asking);
    let tree = rendered
        .into_iter()
        .map(|f| {
            (
                f.path,
                FileState {
                    bytes: f.bytes,
                    executable: f.executable,
                },
            )
        })
        .collect();
    Ok(Rendered {
        manifest,
        answers,
        tree,
        libraries,
    })
}

/// The files of a generated project as they are now (its `.factory/` and `.git/` left out;
/// symlinks are not followed).
pub fn read_project(dir: &Path) -> Result<Tree> {
    let mut tree = Tree::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            !(e.depth() == 1 && (e.file_name() == PROVENANCE_DIR || e.file_name() == ".git"))
        });
    for entry in walker {
        let entry = entry.map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
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
        tree.insert(path, FileState { bytes, executable });
    }
    Ok(tree)
}
