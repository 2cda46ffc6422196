//! `factory list` and `factory show`.

use super::template_report::{ListReport, TemplateReport, VersionOfTemplateReport};
use super::{App, out};
use crate::domain::commands;
use crate::domain::state::{Template, TemplateVersion};
use crate::error::Result;

// Arguments of `show`.
#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// TEMPLATE or TEMPLATE@VERSION in the store, or a template folder, zip or git URL[#REF].
    #[arg(
        value_name = "REFERENCE",
        add = clap_complete::ArgValueCandidates::new(super::complete::templates)
    )]
    template: String,
    #[command(flatten)]
    repo: crate::cli::RepoArgs,
}

/// Runs `list`.
pub(crate) fn list(app: &App) -> Result<()> {
    let (session, state) = app.read_state()?;
    let store = &session.store;
    let mut templates: Vec<&Template> = state.templates.values().collect();
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    if app.json() {
        app.printer.json_document(&ListReport::of(&templates));
    } else if app.human() {
        if templates.is_empty() {
            out!(
                app.printer,
                "No templates in {}.\n  add one: factory register PATH",
                store.root().display()
            );
            return Ok(());
        }
        let width = templates
            .iter()
            .map(|t| t.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        out!(
            app.printer,
            "{:<width$}  {:<13}  {:<10}  {:<10}  PUBLISHED",
            "NAME",
            "CATEGORY",
            "LATEST",
            "STATUS"
        );
        for t in templates {
            let latest = t.latest();
            out!(
                app.printer,
                "{:<width$}  {:<13}  {:<10}  {:<10}  {}",
                t.name,
                t.category,
                latest.map_or("-", |v| v.version.as_str()),
                latest.map_or("-", |v| v.status.as_str()),
                t.latest_published().map_or("-", |v| v.version.as_str()),
            );
        }
    }
    Ok(())
}

/// A version for people.
fn print_version(app: &App, template: &Template, v: &TemplateVersion) {
    out!(app.printer, "{}@{} ({})", template.name, v.version, v.id);
    out!(app.printer, "  status:   {}", v.status.as_str());
    out!(
        app.printer,
        "  content:  {} ({} files, {} bytes)",
        v.content_hash,
        v.file_count,
        v.byte_count
    );
    out!(
        app.printer,
        "  source:   {} {}",
        v.source_ref.kind,
        v.source_ref.uri
    );
    out!(app.printer, "  created:  {}", v.created_at);
    if let Some(val) = &v.validation {
        let verdict = if val.passed { "passed" } else { "failed" };
        out!(
            app.printer,
            "  validated: {verdict} at {} ({})",
            val.at,
            val.validation_id
        );
    }
    if let Some(at) = &v.published_at {
        out!(app.printer, "  published: {at}");
    }
    print_parameters(app, v.schema.as_ref());
}

/// Runs `show`.
pub(crate) fn show(app: &App, args: ShowArgs) -> Result<()> {
    let location = crate::source::is_location(&args.template, &app.settings.git.abbreviations);
    if args.repo.reference.is_some() || args.repo.directory.is_some() {
        return super::inspect::show_location(app, &args.template, args.repo);
    }
    let read = app.read_state();
    // A bare name that is also a folder here is the stored template when the store has it.
    let name = crate::app::Reference::parse(&args.template).name;
    let stored = |r: &Result<_>| {
        r.as_ref()
            .is_ok_and(|(_, s)| commands::find_template(s, name).is_ok())
    };
    if location && !stored(&read) {
        return super::inspect::show_location(app, &args.template, args.repo);
    }
    let (_session, state) = read?;
    let crate::app::Reference { name, version } = crate::app::Reference::parse(&args.template);
    let template = commands::find_template(&state, name)?;
    if let Some(version) = version {
        let (_, v) = commands::find_version(&state, name, version)?;
        if app.json() {
            app.printer
                .json_document(&VersionOfTemplateReport::of(template, v));
        } else {
            print_version(app, template, v);
        }
        return Ok(());
    }
    if app.json() {
        app.printer.json_document(&TemplateReport::of(template));
    } else if app.human() {
        print_template(app, template);
    }
    Ok(())
}

/// A stored template for people: its fields, versions and newest parameters.
fn print_template(app: &App, template: &Template) {
    out!(app.printer, "{} ({})", template.name, template.id);
    out!(app.printer, "  title:    {}", template.title);
    out!(app.printer, "  category: {}", template.category);
    if let Some(owner) = &template.owner {
        out!(app.printer, "  owner:    {owner}");
    }
    if !template.tags.is_empty() {
        out!(app.printer, "  tags:     {}", template.tags.join(", "));
    }
    out!(app.printer, "  source:   {}", template.source);
    if template.versions.is_empty() {
        out!(
            app.printer,
            "  no versions yet: factory version {} --version 0.1.0",
            template.name
        );
    }
    for v in &template.versions {
        out!(
            app.printer,
            "  {:<10}  {:<10}  {}",
            v.version,
            v.status.as_str(),
            v.content_hash
        );
    }
    if let Some(newest) = template.latest() {
        out!(app.printer, "  of {} (the newest):", newest.version);
        print_parameters(app, newest.schema.as_ref());
    }
}

/// A template's parameters for people, from their JSON Schema.
pub(super) fn print_parameters(app: &App, schema: Option<&serde_json::Value>) {
    let Some(properties) = schema.and_then(|s| s["properties"].as_object()) else {
        return;
    };
    if properties.is_empty() {
        return;
    }
    let required: Vec<&str> = schema
        .and_then(|s| s["required"].as_array())
        .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    out!(app.printer, "  parameters:");
    for (name, p) in properties {
        let kind = match (p["type"].as_str(), p.get("enum"), p["items"].get("enum")) {
            (_, Some(_), _) => "choice",
            (Some("array"), _, Some(_)) => "multichoice",
            (Some("array"), _, _) => "list",
            (Some("boolean"), _, _) => "bool",
            (Some("integer"), _, _) => "int",
            (Some("number"), _, _) => "float",
            (Some(kind), _, _) => kind,
            (None, _, _) => "yaml",
        };
        let notes = notes(p, kind, required.contains(&name.as_str()));
        out!(
            app.printer,
            "    {name:<20} {kind:<11} {}",
            notes.join(", ")
        );
        if let Some(help) = p["description"].as_str() {
            out!(app.printer, "    {:<20} {help}", "");
        }
    }
}

/// What `show` says of a parameter after its type, from its JSON Schema.
fn notes(p: &serde_json::Value, kind: &str, required: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if required {
        notes.push("required".to_string());
    }
    if let Some(d) = p
        .get("default")
        .or_else(|| p.get("x-factory-default-expression"))
    {
        notes.push(format!("default {d}"));
    }
    if let Some(choices) = p.get("enum").or_else(|| p["items"].get("enum")) {
        notes.push(format!("choices {choices}"));
    }
    let number = |v: &serde_json::Value| match v.as_f64() {
        Some(f) if f.fract() == 0.0 && kind == "int" => format!("{}", f as i64),
        _ => v.to_string(),
    };
    match (p.get("minimum").map(number), p.get("maximum").map(number)) {
        (Some(min), Some(max)) => notes.push(format!("from {min} to {max}")),
        (Some(min), None) => notes.push(format!("at least {min}")),
        (None, Some(max)) => notes.push(format!("at most {max}")),
        (None, None) => {}
    }
    if let Some(pattern) = p["pattern"].as_str() {
        notes.push(format!("pattern {pattern}"));
    }
    if let Some(when) = p["x-factory-when"].as_str() {
        notes.push(format!("when {when}"));
    }
    if p.get("x-factory-secret").is_some() {
        notes.push("secret".to_string());
    }
    notes
}
