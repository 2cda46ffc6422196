//! `factory init [DIR]`: create a store.

use std::path::PathBuf;

use super::{App, output};
use crate::error::{Error, Result};
use crate::store::Store;

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to create the store (default: the store `factory` would find).
    dir: Option<PathBuf>,
}

/// Runs `init`.
pub fn run(app: &App, args: InitArgs) -> Result<()> {
    let root = match args.dir {
        Some(dir) => dir,
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| Error::new(format!("cannot read the current folder: {e}")))?;
            crate::store::locate(app.global.store.as_deref(), &cwd)?
        }
    };
    let (store, created) = Store::init(&root, app.global.tenant.as_deref())?;
    if app.json() {
        output::print_json(&serde_json::json!({
            "store": store.root(),
            "created": created,
            "tenant": store.config().tenant,
        }));
    } else if app.human() {
        let verb = if created { "Created" } else { "Found existing" };
        println!(
            "{verb} store at {} (tenant {})",
            store.root().display(),
            store.config().tenant
        );
    }
    Ok(())
}
