//! `factory verify DIR`: has a generated project drifted since generation?

use std::path::PathBuf;

use serde::Serialize;

use super::{App, out};
use crate::error::{Error, Result};
use crate::generate::verify;

// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The generated project (default: the current folder).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

/// Runs `verify`; exit 3 when files were added, removed or changed.
pub(crate) fn run(app: &App, args: VerifyArgs) -> Result<()> {
    // A run killed while it wrote over the project is undone before it is compared.
    for note in crate::transaction::recover_interrupted(&args.dir) {
        app.printer.warn(note);
    }
    let drift = verify::verify(&args.dir)?;
    if app.json() {
        app.printer.json_document(&VerifyReport {
            dir: &args.dir,
            clean: drift.is_clean(),
            drift: &drift,
        });
    } else if app.human() {
        for path in &drift.added {
            let path = crate::render::paths::shown(path);
            out!(app.printer, "added    {path}");
        }
        for path in &drift.removed {
            let path = crate::render::paths::shown(path);
            out!(app.printer, "removed  {path}");
        }
        for path in &drift.changed {
            let path = crate::render::paths::shown(path);
            out!(app.printer, "changed  {path}");
        }
        if drift.is_clean() {
            out!(
                app.printer,
                "{}: {} files as generated",
                args.dir.display(),
                drift.unchanged
            );
        }
    }
    if drift.is_clean() {
        Ok(())
    } else {
        Err(Error::verdict(format!(
            "{} drifted since generation: {} added, {} removed, {} changed",
            args.dir.display(),
            drift.added.len(),
            drift.removed.len(),
            drift.changed.len()
        ))
        .hint("review the changes; `factory upgrade` keeps local edits when moving to a new template version"))
    }
}

/// `verify --json`.
#[derive(Serialize)]
struct VerifyReport<'a> {
    dir: &'a std::path::Path,
    clean: bool,
    drift: &'a verify::Drift,
}
