//! `factory hash DIR`: the content hash of a folder.

use std::path::PathBuf;

use super::{App, output};
use crate::error::Result;

/// Arguments of `hash`.
#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// The folder to hash.
    dir: PathBuf,
    /// Print the sha256sum manifest instead of the hash.
    #[arg(long)]
    manifest: bool,
}

/// Runs `hash`.
pub fn run(app: &App, args: HashArgs) -> Result<()> {
    let tree = crate::hash::hash_dir(&args.dir)?;
    if app.json() {
        output::print_json(&serde_json::json!({
            "contentHash": tree.content_hash,
            "fileCount": tree.file_count,
        }));
    } else if args.manifest {
        print!("{}", tree.manifest);
    } else if !app.global.quiet {
        println!("{}", tree.content_hash);
    }
    Ok(())
}
