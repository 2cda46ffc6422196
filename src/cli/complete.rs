//! Dynamic shell completion (`source <(COMPLETE=bash factory)`): what only the store knows —
//! template and library names with their versions — and the event types and topics.

use clap_complete::engine::CompletionCandidate;

use crate::app::{Flags, Session, Settings};
use crate::domain::{DomainEvent, State};

/// The state of the store this shell would use; nothing when there is none.
fn state() -> Option<State> {
    let flags = Flags {
        store: std::env::var_os("FACTORY_STORE").map(Into::into),
        ..Flags::default()
    };
    let session = Session::open(Settings::resolve(flags).ok()?).ok()?;
    session.store.state().ok()
}

/// `NAME` and `NAME@VERSION` of every registered template.
pub(crate) fn templates() -> Vec<CompletionCandidate> {
    let Some(state) = state() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for template in state.templates.values() {
        out.push(
            CompletionCandidate::new(&template.name).help(Some(template.title.clone().into())),
        );
        for version in &template.versions {
            out.push(
                CompletionCandidate::new(format!("{}@{}", template.name, version.version))
                    .help(Some(version.status.as_str().into())),
            );
        }
    }
    out
}

/// `NAME` and `NAME@VERSION` of every registered library.
pub(crate) fn libraries() -> Vec<CompletionCandidate> {
    let Some(state) = state() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for library in state.libraries.values() {
        out.push(CompletionCandidate::new(&library.package_name));
        for version in &library.versions {
            out.push(CompletionCandidate::new(format!(
                "{}@{}",
                library.package_name, version.version
            )));
        }
    }
    out
}

/// The event types of the catalog.
pub(crate) fn event_types() -> Vec<CompletionCandidate> {
    DomainEvent::TYPES
        .iter()
        .map(|t| CompletionCandidate::new(*t))
        .collect()
}

/// The topics events are routed to.
pub(crate) fn topics() -> Vec<CompletionCandidate> {
    crate::events::routing::TOPICS
        .iter()
        .map(|t| CompletionCandidate::new(*t))
        .collect()
}
