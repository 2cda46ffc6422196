//! `factory hash DIR`: the content hash of a folder.

use std::path::PathBuf;

use super::{App, out};
use crate::error::Result;

// Arguments of `hash`.
#[derive(Debug, clap::Args)]
pub(crate) struct HashArgs {
    /// The folder to hash.
    dir: PathBuf,
    /// Print the sha256sum manifest instead of the hash.
    #[arg(long)]
    manifest: bool,
}

/// Runs `hash`.
pub(crate) fn run(app: &App, args: HashArgs) -> Result<()> {
    // A run killed while it wrote over the folder is undone before it is hashed.
    for note in crate::transaction::recover_interrupted(&args.dir) {
        app.printer.warn(note);
    }
    let tree = crate::hash::hash_dir(&args.dir)?;
    if app.json() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Hashed<'a> {
            content_hash: &'a str,
            file_count: u64,
        }
        app.printer.json_document(&Hashed {
            content_hash: &tree.content_hash,
            file_count: tree.file_count as u64,
        });
    } else if args.manifest {
        app.printer.raw(tree.manifest.as_bytes());
    } else if !app.printer.quiet() {
        out!(app.printer, "{}", tree.content_hash);
    }
    Ok(())
}
