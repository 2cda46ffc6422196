//! `factory cache`: the clone cache of template repositories.

use serde_json::json;

use super::generate::human_size;
use super::{App, out};
use crate::error::Result;
use crate::git::fetch;

/// Subcommands of `cache`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CacheCommand {
    /// List the cached repositories.
    List,
    /// Remove every cached repository, or the one of URL.
    Clean {
        /// Only this repository.
        url: Option<String>,
    },
}

/// Runs `cache …`.
pub(crate) fn run(app: &App, command: CacheCommand) -> Result<()> {
    let dir = &app.settings.git.fetch.cache_dir;
    let (entries, verb) = match command {
        CacheCommand::List => (fetch::list(dir)?, "cached"),
        CacheCommand::Clean { url } => (fetch::clean(dir, url.as_deref())?, "removed"),
    };
    if app.json() {
        app.printer
            .json_document(&json!({"cache": dir, verb: entries}));
    }
    for entry in &entries {
        out!(
            app.printer,
            "{:>10}  {}",
            human_size(entry.bytes),
            entry.url
        );
    }
    out!(
        app.printer,
        "{} repositor{} {verb} in {}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        dir.display()
    );
    Ok(())
}
