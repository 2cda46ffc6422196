//! `factory store check`, `factory store rebuild` and `factory store gc`.

use std::path::Path;

use serde::Serialize;

use super::{App, out};
use crate::error::{Error, Result};

/// Subcommands of `store`.
#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub(crate) enum StoreCommand {
    /// Re-hash every object and compare the projections with a full replay; exit 3 on problems.
    Check,
    /// Rebuild state/ from the event log.
    Rebuild,
    /// Remove temporary files of stopped writers and objects no event refers to.
    Gc,
}

/// Runs `store …`.
pub(crate) fn run(app: &App, command: StoreCommand) -> Result<()> {
    let session = app.session()?;
    match command {
        StoreCommand::Check => check(app, &session.store),
        StoreCommand::Rebuild => rebuild(app, &session),
        StoreCommand::Gc => gc(app, &session.store),
    }
}

fn check(app: &App, store: &crate::store::Store) -> Result<()> {
    let report = crate::store::check::check(store)?;
    if app.json() {
        app.printer.json_document(&CheckReport {
            store: store.root(),
            ok: report.ok(),
            report: &report,
        });
    } else if app.human() {
        out!(
            app.printer,
            "Checked {}: {} events, {} objects, {} template versions",
            store.root().display(),
            report.events,
            report.objects,
            report.versions
        );
        for note in &report.notes {
            out!(app.printer, "  note: {note}");
        }
        for path in report
            .garbage
            .temporaries
            .iter()
            .chain(&report.garbage.unreferenced)
        {
            out!(app.printer, "    {}", path.display());
        }
        for problem in &report.problems {
            out!(app.printer, "  problem: {problem}");
        }
        if report.ok() {
            out!(
                app.printer,
                "  ok: every object hashes to its name and state/ equals a replay of the log"
            );
        }
    }
    if report.ok() {
        Ok(())
    } else {
        Err(Error::verdict(format!(
            "the store has {} problem(s)",
            report.problems.len()
        ))
        .hint("`factory store rebuild` fixes state/ and moves damaged log lines to recovered/; damaged objects need a backup"))
    }
}

fn rebuild(app: &App, session: &crate::app::Session) -> Result<()> {
    let store = &session.store;
    let result = store.rebuild();
    app.warnings(session);
    let state = result?;
    if app.json() {
        app.printer.json_document(&Rebuilt {
            events: state.event_count,
            templates: state.templates.len(),
        });
    } else if app.human() {
        out!(
            app.printer,
            "Rebuilt state/ from {} events ({} templates)",
            state.event_count,
            state.templates.len()
        );
    }
    Ok(())
}

fn gc(app: &App, store: &crate::store::Store) -> Result<()> {
    let removed = crate::store::gc::collect(store)?;
    if app.json() {
        app.printer.json_document(&Collected {
            store: store.root(),
            removed: &removed,
        });
    } else if app.human() {
        out!(app.printer, "Removed {}", removed.summary());
    }
    Ok(())
}

/// `store check --json`.
#[derive(Serialize)]
struct CheckReport<'a> {
    store: &'a Path,
    ok: bool,
    report: &'a crate::store::check::CheckReport,
}

/// `store rebuild --json`.
#[derive(Serialize)]
struct Rebuilt {
    events: u64,
    templates: usize,
}

/// `store gc --json`.
#[derive(Serialize)]
struct Collected<'a> {
    store: &'a Path,
    removed: &'a crate::store::gc::Garbage,
}
