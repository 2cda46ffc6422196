//! `factory show PATH|URL`: a template that is not in the store, read where it is.

use super::{App, out};
use crate::error::Result;

/// Shows the template at `location`: what it is and its parameters, as `show NAME` does for
/// a stored one; nothing is stored or recorded.
pub(crate) fn show_location(app: &App, location: &str, repo: super::RepoArgs) -> Result<()> {
    let session = app.session()?;
    let shown =
        crate::app::template::inspect_location(&session, location, repo.reference, repo.directory);
    app.warnings(&session);
    let shown = shown?;
    for note in &shown.notes {
        app.printer.note(note.clone());
    }
    if app.json() {
        /// `show PATH|URL --json`.
        #[derive(serde::Serialize)]
        struct InspectedReport<'a> {
            template: &'a str,
            name: &'a str,
            flavour: &'a str,
            parameters: &'a serde_json::Value,
        }
        app.printer.json_document(&InspectedReport {
            template: &shown.label,
            name: &shown.name,
            flavour: shown.flavour,
            parameters: &shown.schema,
        });
        return Ok(());
    }
    out!(
        app.printer,
        "{} ({} template, not in the store)",
        shown.label,
        shown.flavour
    );
    out!(app.printer, "  name:     {}", shown.name);
    let none = shown.schema["properties"]
        .as_object()
        .is_none_or(|p| p.is_empty());
    if none {
        out!(app.printer, "  parameters: none");
    }
    super::show::print_parameters(app, Some(&shown.schema));
    out!(
        app.printer,
        "  generate: factory generate {location} -o DIR [--set NAME=VALUE]…"
    );
    Ok(())
}
