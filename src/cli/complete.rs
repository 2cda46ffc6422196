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

/// `NAME=` for each parameter of the template the `generate` line being completed names (a
/// stored template, or a template folder), and `NAME=CHOICE` once a name is typed; nothing
/// when the line names none (a URL is not fetched for a completion).
pub(crate) fn parameters(current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let Some(schema) = template_on_line().and_then(|t| schema_of(&t)) else {
        return Vec::new();
    };
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    let candidates: Vec<CompletionCandidate> = match current.split_once('=') {
        Some((name, _)) => {
            let p = properties.get(name).cloned().unwrap_or_default();
            let choices = p.get("enum").or_else(|| p["items"].get("enum")).cloned();
            choices
                .as_ref()
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| match v.as_str() {
                    Some(s) => format!("{name}={s}"),
                    None => format!("{name}={v}"),
                })
                .map(CompletionCandidate::new)
                .collect()
        }
        None => properties
            .iter()
            .map(|(name, p)| {
                let help = p["description"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| p["type"].as_str().map(str::to_string));
                CompletionCandidate::new(format!("{name}=")).help(help.map(Into::into))
            })
            .collect(),
    };
    candidates
        .into_iter()
        .filter(|c| {
            c.get_value()
                .to_string_lossy()
                .starts_with(current.as_ref())
        })
        .collect()
}

/// The template the `generate` command line being completed names: the first word after
/// `generate` that is neither an option nor an option's value. The shell passes the line
/// after `--` (`factory -- factory generate T --set …`).
fn template_on_line() -> Option<String> {
    let words: Vec<String> = std::env::args().skip_while(|a| a != "--").skip(2).collect();
    let at = words.iter().position(|w| w == "generate")?;
    let command = super::args::Cli::definition();
    let generate = command.find_subcommand("generate")?;
    let takes_value = |word: &str| {
        let arguments = || generate.get_arguments().chain(command.get_arguments());
        let found = match word.strip_prefix("--") {
            Some(long) => arguments().find(|a| {
                a.get_long() == Some(long)
                    || a.get_all_aliases().is_some_and(|all| all.contains(&long))
            }),
            None => {
                let short = word.trim_start_matches('-').chars().next();
                arguments().find(|a| a.get_short().is_some() && a.get_short() == short)
            }
        };
        found.is_some_and(|a| a.get_action().takes_values())
    };
    let mut skip = false;
    for word in &words[at + 1..] {
        if std::mem::take(&mut skip) {
            continue;
        }
        if word.starts_with('-') {
            skip = !word.contains('=') && takes_value(word);
            continue;
        }
        return Some(word.clone());
    }
    None
}

/// The parameters' JSON Schema of a stored template (the version named, else the newest) or
/// of a template folder.
fn schema_of(template: &str) -> Option<serde_json::Value> {
    let path = std::path::Path::new(template);
    if path.is_dir() {
        let files = crate::template::snapshot::TemplateFiles::load_dir(path).ok()?;
        let name = crate::template::load::name_from_location(template);
        let manifest = crate::template::load::manifest_of(&files, template, &name).ok()?;
        return Some(crate::template::params::schema_document(&manifest, ""));
    }
    let state = state()?;
    let reference = crate::app::Reference::parse(template);
    let stored = state
        .templates
        .values()
        .find(|t| t.name == reference.name || t.id == reference.name)?;
    let version = match reference.version {
        Some(v) => stored.versions.iter().find(|x| x.version == v)?,
        None => stored.latest_published().or_else(|| stored.latest())?,
    };
    version.schema.clone()
}
