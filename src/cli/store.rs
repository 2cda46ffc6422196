//! `factory store check` and `factory store rebuild`.

use serde_json::json;

use super::{App, output, print_notices};
use crate::error::{Error, Result};

/// Subcommands of `store`.
#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Re-hash every object and compare the projections with a full replay; exit 3 on problems.
    Check,
    /// Rebuild state/ from the event log.
    Rebuild,
}

/// Runs `store …`.
pub fn run(app: &App, command: StoreCommand) -> Result<()> {
    let store = app.store()?;
    match command {
        StoreCommand::Check => {
            let report = crate::store::check::check(&store)?;
            if app.json() {
                output::print_json(
                    &json!({ "store": store.root(), "ok": report.ok(), "report": report }),
                );
            } else if app.human() {
                println!(
                    "Checked {}: {} events, {} objects, {} template versions",
                    store.root().display(),
                    report.events,
                    report.objects,
                    report.versions
                );
                for note in &report.notes {
                    println!("  note: {note}");
                }
                for problem in &report.problems {
                    println!("  problem: {problem}");
                }
                if report.ok() {
                    println!(
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
            print_notices(app, &store);
            let state = result?;
            if app.json() {
                output::print_json(
                    &json!({ "events": state.event_count, "templates": state.templates.len() }),
                );
            } else if app.human() {
                println!(
                    "Rebuilt state/ from {} events ({} templates)",
                    state.event_count,
                    state.templates.len()
                );
            }
            Ok(())
        }
    }
}
