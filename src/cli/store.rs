//! `factory store check` and `factory store rebuild`.

use serde_json::json;

use super::{App, out};
use crate::error::{Error, Result};

/// Subcommands of `store`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum StoreCommand {
    /// Re-hash every object and compare the projections with a full replay; exit 3 on problems.
    Check,
    /// Rebuild state/ from the event log.
    Rebuild,
}

/// Runs `store …`.
pub(crate) fn run(app: &App, command: StoreCommand) -> Result<()> {
    let session = app.session()?;
    let store = &session.store;
    match command {
        StoreCommand::Check => {
            let report = crate::store::check::check(store)?;
            if app.json() {
                app.printer.json_document(
                    &json!({ "store": store.root(), "ok": report.ok(), "report": report }),
                );
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
                Err(Error::verdict(format!("the store has {} problem(s)", report.problems.len()))
                    .hint("`factory store rebuild` fixes state/; damaged objects or log lines need a backup"))
            }
        }
        StoreCommand::Rebuild => {
            let result = store.rebuild();
            app.warnings(&session);
            let state = result?;
            if app.json() {
                app.printer.json_document(
                    &json!({ "events": state.event_count, "templates": state.templates.len() }),
                );
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
    }
}
