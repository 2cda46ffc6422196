//! What the library commands print: scans, lists, releases and advice.

use serde::Serialize;

use super::ScanFormat;
use crate::app::library::{Advised, Scanned};
use crate::cli::{App, out};
use crate::domain::library;
use crate::domain::state::{Library, LibraryVersion};
use crate::error::Result;
use crate::library::graph;

/// `library scan --json`: the graph with the release it belongs to.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScanReport<'a> {
    library: &'a str,
    version: &'a str,
    graph_id: &'a str,
    nodes: &'a [graph::Node],
    edges: &'a [graph::Edge],
    conflicts: &'a [graph::Conflict],
    cycles: &'a [Vec<String>],
    advisories: &'a [crate::library::advisories::AdvisoryMatch],
    possibly_affected: &'a [crate::library::advisories::AdvisoryMatch],
}

/// `library list --json`.
#[derive(Serialize)]
struct LibraryList<'a> {
    libraries: Vec<LibrarySummary<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LibrarySummary<'a> {
    library_id: &'a str,
    package_name: &'a str,
    ecosystem: &'a str,
    area: Option<&'a str>,
    versions: Vec<&'a str>,
}

pub(super) fn scan(app: &App, scanned: &Scanned, format: ScanFormat) {
    let resolved = &scanned.graph;
    match format {
        ScanFormat::Json => app.printer.json_document(&ScanReport {
            library: &scanned.library,
            version: &scanned.version,
            graph_id: &scanned.graph_id,
            nodes: &resolved.nodes,
            edges: &resolved.edges,
            conflicts: &resolved.conflicts,
            cycles: &resolved.cycles,
            advisories: &resolved.advisories,
            possibly_affected: &resolved.possibly_affected,
        }),
        ScanFormat::Dot => app.printer.raw(graph::dot(resolved).as_bytes()),
        ScanFormat::Tree if app.human() => {
            app.printer.raw(graph::tree(resolved).as_bytes());
            for conflict in &resolved.conflicts {
                out!(app.printer, "conflict: {}", conflict.explanation);
            }
            for cycle in &resolved.cycles {
                out!(app.printer, "cycle: {}", cycle.join(" -> "));
            }
            for advisory in &resolved.advisories {
                out!(
                    app.printer,
                    "advisory: {} affects {}@{}: {}",
                    advisory.id,
                    advisory.package_name,
                    advisory.version,
                    advisory.summary
                );
            }
            for advisory in &resolved.possibly_affected {
                out!(
                    app.printer,
                    "possibly affected: {} for {} {} (the range allows affected versions; a lock file would tell): {}",
                    advisory.id,
                    advisory.package_name,
                    advisory.version,
                    advisory.summary
                );
            }
            out!(
                app.printer,
                "{} nodes, {} edges, {} conflicts, {} cycles, {} advisories",
                resolved.nodes.len(),
                resolved.edges.len(),
                resolved.conflicts.len(),
                resolved.cycles.len(),
                resolved.advisories.len()
            );
        }
        ScanFormat::Tree => {}
    }
}

pub(super) fn advice(app: &App, advised: &Advised) {
    if app.json() {
        app.printer.json_document(advised);
    }
    out!(app.printer, "Library versions for {}:", advised.subject);
    for a in &advised.advice {
        out!(
            app.printer,
            "  {:<48} {:<20} -> {}{}",
            a.package_name,
            a.range,
            a.recommended.as_deref().unwrap_or("-"),
            a.note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
}

pub(super) fn list(app: &App) -> Result<()> {
    let (session, state) = app.read_state()?;
    let store = &session.store;
    let mut libraries: Vec<_> = state.libraries.values().collect();
    libraries.sort_by(|a, b| a.package_name.cmp(&b.package_name));
    if app.json() {
        let libraries = libraries
            .iter()
            .map(|l| LibrarySummary {
                library_id: &l.id,
                package_name: &l.package_name,
                ecosystem: &l.ecosystem,
                area: l.area.as_deref(),
                versions: l.versions.iter().map(|v| v.version.as_str()).collect(),
            })
            .collect();
        app.printer.json_document(&LibraryList { libraries });
    } else if app.human() {
        if libraries.is_empty() {
            out!(
                app.printer,
                "No libraries in {}.\n  add one: factory library register NAME",
                store.root().display()
            );
        }
        for l in libraries {
            let versions: Vec<&str> = l.versions.iter().map(|v| v.version.as_str()).collect();
            out!(
                app.printer,
                "{:<48}  {:<6}  {}",
                l.package_name,
                l.ecosystem,
                if versions.is_empty() {
                    "-".to_string()
                } else {
                    versions.join(", ")
                }
            );
        }
    }
    Ok(())
}

pub(super) fn show(app: &App, text: &str) -> Result<()> {
    let (_session, state) = app.read_state()?;
    let crate::app::Reference {
        name,
        version: number,
    } = crate::app::Reference::parse(text);
    let found = library::find(&state, name)?;
    if app.json() {
        match number {
            Some(number) => app
                .printer
                .json_document(library::find_version(&state, name, number)?.1),
            None => app.printer.json_document(found),
        }
    } else if app.human() {
        out!(
            app.printer,
            "{} ({}, {})",
            found.package_name,
            found.id,
            found.ecosystem
        );
        match number {
            Some(number) => print_release(app, library::find_version(&state, name, number)?.1),
            None => print_library(app, found),
        }
    }
    Ok(())
}

fn print_release(app: &App, v: &LibraryVersion) {
    out!(app.printer, "  version     {} ({})", v.version, v.id);
    out!(
        app.printer,
        "  frameworks  {}",
        v.target_frameworks.join(", ")
    );
    for d in &v.dependencies {
        out!(app.printer, "  depends on  {} {}", d.package_name, d.range);
    }
    for p in &v.publications {
        out!(
            app.printer,
            "  published   {} ({})",
            p.feed_ref,
            p.publication_id
        );
    }
}

fn print_library(app: &App, found: &Library) {
    for c in &found.api_clients {
        out!(
            app.printer,
            "  API client  {} ({} operations)",
            c.client_name,
            c.operation_count
        );
    }
    for v in &found.versions {
        out!(
            app.printer,
            "  {:<12} {} dependencies",
            v.version,
            v.dependencies.len()
        );
    }
}
