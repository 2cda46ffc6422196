//! `factory init [DIR]`: create a store.

use std::path::PathBuf;

use super::{App, out};
use crate::error::Result;
use crate::store::Store;

// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Where to create the store (default: the store `factory` would find).
    dir: Option<PathBuf>,
}

/// Runs `init`.
pub(crate) fn run(app: &App, args: InitArgs) -> Result<()> {
    let root = match args.dir {
        Some(dir) => dir,
        None => crate::store::locate(
            app.settings.store.as_deref(),
            &app.settings.cwd,
            app.settings.data_home.as_deref(),
        )?,
    };
    let (store, created) = Store::init(&root, app.global.tenant.as_deref())?;
    // A typed --tenant that the existing store does not have would be dropped without a
    // word: say so (the variable FACTORY_TENANT only stamps events, as everywhere).
    if let Some(tenant) = app
        .filters
        .tenant
        .as_deref()
        .filter(|t| !created && *t != store.config().tenant)
    {
        return Err(crate::Error::conflict(format!(
            "the store at {} exists with tenant {}; --tenant {tenant} was not applied",
            store.root().display(),
            store.config().tenant
        ))
        .hint(format!(
            "to change it, edit `tenant:` in {}; to stamp one command's events, pass --tenant {tenant} to it (or set FACTORY_TENANT)",
            store.root().join("store.yaml").display()
        )));
    }
    if app.json() {
        #[derive(serde::Serialize)]
        struct Initialised<'a> {
            store: &'a std::path::Path,
            created: bool,
            tenant: &'a str,
        }
        app.printer.json_document(&Initialised {
            store: store.root(),
            created,
            tenant: &store.config().tenant,
        });
    } else if app.human() {
        let verb = if created { "Created" } else { "Found existing" };
        out!(
            app.printer,
            "{verb} store at {} (tenant {})",
            store.root().display(),
            store.config().tenant
        );
    }
    Ok(())
}
