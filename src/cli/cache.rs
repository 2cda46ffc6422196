//! `factory cache`: the clone cache of template repositories.

use super::generate::human_size;
use super::{App, out};
use crate::error::Result;
use crate::git::fetch;

/// Subcommands of `cache`.
#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
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
        /// `cache list|clean --json`: the cache folder and the entries listed or removed.
        #[derive(serde::Serialize)]
        struct CacheReport<'a, T> {
            cache: &'a std::path::Path,
            #[serde(skip_serializing_if = "Option::is_none")]
            cached: Option<&'a [T]>,
            #[serde(skip_serializing_if = "Option::is_none")]
            removed: Option<&'a [T]>,
        }
        let listed = verb == "cached";
        app.printer.json_document(&CacheReport {
            cache: dir,
            cached: listed.then_some(entries.as_slice()),
            removed: (!listed).then_some(entries.as_slice()),
        });
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
