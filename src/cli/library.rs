//! `factory library …`: register, version, scan, publish, list, show and advise.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{App, output, print_notices, split_reference};
use crate::domain::events::DependencyRange;
use crate::domain::library::{self, CreateLibraryVersion, ECOSYSTEMS, RegisterLibrary, ScanResult};
use crate::error::{Error, Result};
use crate::generate::provenance::Scaffold;
use crate::library::{advise, advisories, feed, graph, openapi, project};
use crate::store::Decision;
use crate::template::ranges;

/// Subcommands of `library`.
#[derive(Debug, clap::Subcommand)]
pub enum LibraryCommand {
    /// Register a library (and catalog an API client with --api-client --spec).
    Register(RegisterArgs),
    /// Record a release with its target frameworks and direct dependencies.
    Version(VersionArgs),
    /// Resolve a release's dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on.
    Scan(ScanArgs),
    /// Publish a release's .nupkg to a folder feed or an HTTP NuGet feed.
    Publish(PublishArgs),
    /// List the registered libraries.
    List,
    /// Show a library or one of its releases.
    Show {
        /// NAME or NAME@VERSION.
        reference: String,
    },
    /// Recommend the newest registered versions that satisfy every constraint.
    Advise(AdviseArgs),
}

/// Arguments of `library register`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// The package name.
    name: String,
    /// Its ecosystem.
    #[arg(long, default_value = "nuget", value_parser = clap::builder::PossibleValuesParser::new(ECOSYSTEMS))]
    ecosystem: String,
    /// Functional area (persistence, messaging, …).
    #[arg(long)]
    area: Option<String>,
    /// What it is for.
    #[arg(long)]
    description: Option<String>,
    /// It is an API client: catalog it from its OpenAPI document (--spec).
    #[arg(long, requires = "spec")]
    api_client: bool,
    /// The OpenAPI 3.x document (YAML or JSON).
    #[arg(long, value_name = "FILE", requires = "api_client")]
    spec: Option<PathBuf>,
    /// The client's name (default: the spec's title).
    #[arg(long)]
    client_name: Option<String>,
}

/// Arguments of `library version`.
#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// The library.
    name: String,
    /// The release's version.
    version: String,
    /// Read frameworks and dependencies from the project in this folder (.csproj, Cargo.toml, package.json).
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// A dependency NAME@RANGE (repeatable), when there is no project to read.
    #[arg(long = "dep", value_name = "NAME@RANGE")]
    deps: Vec<String>,
    /// A target framework (repeatable), when there is no project to read.
    #[arg(long = "framework", value_name = "TFM")]
    frameworks: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Conflict,
    Advisory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScanFormat {
    Tree,
    Json,
    Dot,
}

/// Arguments of `library scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// NAME@VERSION.
    reference: String,
    /// A folder of OSV advisories (JSON).
    #[arg(long, value_name = "DIR")]
    advisories: Option<PathBuf>,
    /// Exit 3 when the scan finds these (repeatable; cycles count as conflicts).
    #[arg(long, value_enum)]
    fail_on: Vec<FailOn>,
    /// Output format.
    #[arg(long, value_enum, default_value = "tree")]
    format: ScanFormat,
}

/// Arguments of `library publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// NAME@VERSION.
    reference: String,
    /// The .nupkg to publish.
    #[arg(long, value_name = "FILE")]
    package: PathBuf,
    /// A folder feed, or an HTTP feed's v3 service index (…/index.json).
    #[arg(long, value_name = "DIR|URL")]
    feed: String,
    /// The environment variable holding the HTTP feed's API key.
    #[arg(long, default_value = "NUGET_API_KEY", value_name = "NAME")]
    api_key_env: String,
}

/// Arguments of `library advise`.
#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    /// A generated project (default: the current folder).
    dir: Option<PathBuf>,
    /// Advise on a release's dependencies instead: NAME@VERSION.
    #[arg(long, value_name = "NAME@VERSION", conflicts_with = "dir")]
    library: Option<String>,
}

fn reference(text: &str) -> Result<(&str, &str)> {
    match split_reference(text) {
        (name, Some(version)) => Ok((name, version)),
        (name, None) => Err(
            Error::usage(format!("`{text}` names no version")).hint(format!(
                "use {name}@X.Y.Z; `factory library show {name}` lists its versions"
            )),
        ),
    }
}

/// Runs `library …`.
pub fn run(app: &App, command: LibraryCommand) -> Result<()> {
    match command {
        LibraryCommand::Register(args) => register(app, args),
        LibraryCommand::Version(args) => version(app, args),
        LibraryCommand::Scan(args) => scan(app, args),
        LibraryCommand::Publish(args) => publish(app, args),
        LibraryCommand::List => list(app),
        LibraryCommand::Show { reference } => show(app, &reference),
        LibraryCommand::Advise(args) => advise_cmd(app, args),
    }
}

fn register(app: &App, args: RegisterArgs) -> Result<()> {
    let store = app.store()?;
    let mut objects = Vec::new();
    let api_client = match &args.spec {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            let text = String::from_utf8(bytes.clone())
                .map_err(|_| Error::usage(format!("{} is not UTF-8 text", path.display())))?;
            let spec = openapi::read(&text, &path.display().to_string())?;
            let hex = crate::hash::sha256_hex(&bytes);
            objects.push((hex.clone(), bytes));
            let name = args
                .client_name
                .clone()
                .unwrap_or(if spec.title.is_empty() {
                    args.name.clone()
                } else {
                    spec.title
                });
            Some((name, format!("sha256:{hex}"), spec.operation_count))
        }
        None => None,
    };
    let input = RegisterLibrary {
        package_name: args.name.clone(),
        area: args.area,
        ecosystem: args.ecosystem,
        description: args.description,
        api_client,
    };
    let context = app.context(&store)?;
    let result = store.write(&context, |state| {
        Ok(Decision::with_objects(
            library::register(state, input)?,
            objects,
            (),
        ))
    });
    print_notices(app, &store);
    let (envelopes, ()) = result?;
    if app.json() {
        output::print_json(
            &json!({"libraryId": envelopes[0].payload["libraryId"], "events": envelopes.iter().map(|e| &e.event_id).collect::<Vec<_>>()}),
        );
    } else if app.human() {
        println!(
            "Registered library {} ({})",
            args.name,
            envelopes[0].payload["libraryId"]
                .as_str()
                .unwrap_or_default()
        );
        if let Some(client) = envelopes.get(1) {
            println!(
                "  API client {} with {} operations (spec {})",
                client.payload["clientName"].as_str().unwrap_or_default(),
                client.payload["operationCount"],
                client.payload["specRef"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn version(app: &App, args: VersionArgs) -> Result<()> {
    let store = app.store()?;
    let state = store.state()?;
    let found = library::find(&state, &args.name)?;
    let mut input = CreateLibraryVersion {
        version: args.version.clone(),
        target_frameworks: args.frameworks.clone(),
        dependencies: Vec::new(),
        locked: Vec::new(),
        manifest: None,
    };
    if let Some(dir) = &args.path {
        let info = project::read_project(dir)?;
        if info.ecosystem != found.ecosystem {
            return Err(Error::usage(format!(
                "{} is a {} project but {} is a {} library",
                info.manifest, info.ecosystem, found.package_name, found.ecosystem
            ))
            .hint("pass the folder of this library's project"));
        }
        input.target_frameworks.extend(info.target_frameworks);
        input.dependencies = info.dependencies;
        input.locked = info.locked;
        input.manifest = Some(info.manifest);
    }
    for dep in &args.deps {
        let (name, range) = dep.split_once('@').ok_or_else(|| {
            Error::usage(format!("--dep `{dep}` is not NAME@RANGE"))
                .hint("for example --dep Acme.Json@[4.1,5.0) or --dep serde@^1")
        })?;
        let parsed = ranges::parse_range_in(&found.ecosystem, range).map_err(|e| {
            Error::usage(format!("--dep {name}: {e}"))
                .hint("use a semver requirement (>=4.1, <5) or a NuGet interval ([4.1,5.0))")
        })?;
        input.dependencies.push(DependencyRange {
            package_name: name.to_string(),
            range: parsed.to_string(),
        });
    }
    if found.ecosystem == "nuget" {
        input.version = ranges::normalise(&input.version).unwrap_or(input.version);
    }
    let context = app.context(&store)?;
    let key = found.id.clone();
    let result = store.write(&context, |state| {
        Ok(Decision::events(
            library::create_version(state, &key, input)?,
            (),
        ))
    });
    print_notices(app, &store);
    let (envelopes, ()) = result?;
    let payload = &envelopes[0].payload;
    if app.json() {
        output::print_json(payload);
    } else if app.human() {
        println!(
            "Recorded {}@{} ({})",
            found.package_name,
            payload["version"].as_str().unwrap_or_default(),
            payload["libraryVersionId"].as_str().unwrap_or_default()
        );
        if let Some(frameworks) = payload["targetFrameworks"]
            .as_array()
            .filter(|f| !f.is_empty())
        {
            let names: Vec<&str> = frameworks.iter().filter_map(Value::as_str).collect();
            println!("  frameworks  {}", names.join(", "));
        }
        for dep in payload["dependencies"].as_array().into_iter().flatten() {
            println!(
                "  depends on  {} {}",
                dep["packageName"].as_str().unwrap_or_default(),
                dep["range"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Graphs larger than this are stored as an object and referenced from the event.
const EMBEDDED_GRAPH_BYTES: usize = 200 * 1024;

fn scan(app: &App, args: ScanArgs) -> Result<()> {
    let (name, number) = reference(&args.reference)?;
    let store = app.store()?;
    let state = store.state()?;
    let (found, release) = library::find_version(&state, name, number)?;
    let advisories = match &args.advisories {
        Some(dir) => advisories::load(dir)?,
        None => Vec::new(),
    };
    let resolved = graph::resolve(&state, found, release, &advisories);
    let shape = json!({"nodes": resolved.nodes, "edges": resolved.edges, "conflicts": resolved.conflicts, "cycles": resolved.cycles});
    let bytes = serde_json::to_vec(&shape).expect("graphs serialize");
    let (graph_value, objects) = if bytes.len() <= EMBEDDED_GRAPH_BYTES {
        (shape.clone(), Vec::new())
    } else {
        let hex = crate::hash::sha256_hex(&bytes);
        (
            json!({"object": format!("sha256:{hex}"), "truncated": true}),
            vec![(hex, bytes)],
        )
    };
    let result = ScanResult {
        node_count: resolved.nodes.len() as u64,
        edge_count: resolved.edges.len() as u64,
        conflict_count: (resolved.conflicts.len() + resolved.cycles.len()) as u64,
        advisories: resolved.advisories.clone(),
        graph: graph_value,
    };
    let context = app.context(&store)?;
    let (library_id, version_id) = (found.id.clone(), release.id.clone());
    let store_objects = store.objects();
    let scanned = (found.package_name.clone(), release.version.clone());
    let written = store.write(&context, |state| {
        let mut events = library::record_scan(state, &library_id, &version_id, result)?;
        // A scan is a fact that changes compatibility: judge every published template that
        // declares this library with this version, each caused by the scan.
        let mut causes = vec![None];
        for template in state.templates.values() {
            let Some(published) = template.latest_published() else {
                continue;
            };
            let subject = super::compat::template_subject(
                state,
                &store_objects,
                &format!("{}@{}", template.name, published.version),
            )?;
            if !subject
                .manifest
                .libraries
                .iter()
                .any(|l| l.package.eq_ignore_ascii_case(&scanned.0))
            {
                continue;
            }
            let composition = crate::compat::Composition {
                templates: vec![subject],
                libraries: vec![(scanned.0.clone(), Some(scanned.1.clone()))],
                runtime: None,
            };
            events.push(crate::compat::event(
                "scan",
                &crate::compat::evaluate(state, &composition)?,
            ));
            causes.push(Some(0));
        }
        let mut decision = Decision::with_objects(events, objects, ());
        decision.causes = causes;
        Ok(decision)
    });
    print_notices(app, &store);
    let (envelopes, ()) = written?;
    for evaluated in envelopes
        .iter()
        .skip(1)
        .filter(|e| e.payload["compatible"] == false)
    {
        if !app.global.quiet {
            eprintln!(
                "warning: incompatible with {}: {}",
                evaluated.payload["subjects"][0]
                    .as_str()
                    .unwrap_or_default(),
                evaluated.payload["conflicts"][0]["explanation"]
                    .as_str()
                    .unwrap_or_default()
            );
        }
    }
    let format = if app.json() {
        ScanFormat::Json
    } else {
        args.format
    };
    match format {
        ScanFormat::Json => output::print_json(&json!({
            "library": found.package_name,
            "version": release.version,
            "graphId": envelopes[0].payload["graphId"],
            "nodes": resolved.nodes,
            "edges": resolved.edges,
            "conflicts": resolved.conflicts,
            "cycles": resolved.cycles,
            "advisories": resolved.advisories,
        })),
        ScanFormat::Dot => print!("{}", graph::dot(&resolved)),
        ScanFormat::Tree if !app.global.quiet => {
            print!("{}", graph::tree(&resolved));
            for conflict in &resolved.conflicts {
                println!("conflict: {}", conflict.explanation);
            }
            for cycle in &resolved.cycles {
                println!("cycle: {}", cycle.join(" -> "));
            }
            for advisory in &resolved.advisories {
                println!(
                    "advisory: {} affects {}@{}: {}",
                    advisory["id"].as_str().unwrap_or_default(),
                    advisory["packageName"].as_str().unwrap_or_default(),
                    advisory["version"].as_str().unwrap_or_default(),
                    advisory["summary"].as_str().unwrap_or_default()
                );
            }
            println!(
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
    let conflicts = resolved.conflicts.len() + resolved.cycles.len();
    if args.fail_on.contains(&FailOn::Conflict) && conflicts > 0 {
        return Err(Error::verdict(format!(
            "{}@{} has {conflicts} dependency conflict(s)",
            found.package_name, release.version
        ))
        .hint("the scan lists each conflict with the requirements behind it"));
    }
    if args.fail_on.contains(&FailOn::Advisory) && !resolved.advisories.is_empty() {
        return Err(Error::verdict(format!(
            "{}@{} depends on {} package version(s) with known advisories",
            found.package_name,
            release.version,
            resolved.advisories.len()
        ))
        .hint("upgrade past the affected ranges; `factory library advise` suggests versions"));
    }
    Ok(())
}

fn publish(app: &App, args: PublishArgs) -> Result<()> {
    let (name, number) = reference(&args.reference)?;
    let store = app.store()?;
    let state = store.state()?;
    let (found, release) = library::find_version(&state, name, number)?;
    let package = feed::read_package(&args.package)?;
    if !package.id.eq_ignore_ascii_case(&found.package_name) {
        return Err(Error::usage(format!(
            "{} is package {}, not {}",
            args.package.display(),
            package.id,
            found.package_name
        ))
        .hint("pass the .nupkg of this library"));
    }
    if package.version != feed::normalise_version(&release.version) {
        return Err(Error::usage(format!(
            "{} is version {}, not {}",
            args.package.display(),
            package.version,
            release.version
        ))
        .hint("pack the release you are publishing, or name its version"));
    }
    // Refuse before touching the feed when the store already knows of a publication.
    library::publish(&state, &found.id, &release.id, "", &package.sha512)?;
    let http = args.feed.starts_with("http://") || args.feed.starts_with("https://");
    let feed_ref = if http {
        let key = std::env::var(&args.api_key_env)
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                Error::new(format!(
                    "the environment variable {} holding the feed's API key is not set",
                    args.api_key_env
                ))
                .hint("export the key, or name another variable with --api-key-env")
            })?;
        feed::publish_to_http(&args.feed, &package, &key)?;
        crate::broker::target::redact_url(&args.feed)
    } else {
        let path = feed::publish_to_folder(std::path::Path::new(&args.feed), &package)?;
        crate::generate::absolute(&path)
    };
    let context = app.context(&store)?;
    let (library_id, version_id, hash) =
        (found.id.clone(), release.id.clone(), package.sha512.clone());
    let written = store.write(&context, |state| {
        Ok(Decision::events(
            library::publish(state, &library_id, &version_id, &feed_ref, &hash)?,
            (),
        ))
    });
    print_notices(app, &store);
    let (envelopes, ()) = written?;
    if app.json() {
        output::print_json(&envelopes[0].payload);
    } else if app.human() {
        println!(
            "Published {} {} to {}\n  sha512 {}",
            package.id,
            package.version,
            envelopes[0].payload["feedRef"].as_str().unwrap_or_default(),
            package.sha512
        );
    }
    Ok(())
}

fn list(app: &App) -> Result<()> {
    let store = app.store()?;
    let state = store.state();
    print_notices(app, &store);
    let state = state?;
    let mut libraries: Vec<_> = state.libraries.values().collect();
    libraries.sort_by(|a, b| a.package_name.cmp(&b.package_name));
    if app.json() {
        output::print_json(&json!({"libraries": libraries.iter().map(|l| json!({
            "libraryId": l.id, "packageName": l.package_name, "ecosystem": l.ecosystem, "area": l.area,
            "versions": l.versions.iter().map(|v| &v.version).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()}));
    } else if app.human() {
        if libraries.is_empty() {
            println!(
                "No libraries in {}.\n  add one: factory library register NAME",
                store.root().display()
            );
        }
        for l in libraries {
            let versions: Vec<&str> = l.versions.iter().map(|v| v.version.as_str()).collect();
            println!(
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

fn show(app: &App, text: &str) -> Result<()> {
    let store = app.store()?;
    let state = store.state()?;
    let (name, number) = split_reference(text);
    let found = library::find(&state, name)?;
    let doc = match number {
        Some(number) => serde_json::to_value(library::find_version(&state, name, number)?.1)
            .expect("state serializes"),
        None => serde_json::to_value(found).expect("state serializes"),
    };
    if app.json() {
        output::print_json(&doc);
    } else if app.human() {
        println!("{} ({}, {})", found.package_name, found.id, found.ecosystem);
        if let Some(number) = number {
            let (_, v) = library::find_version(&state, name, number)?;
            println!("  version     {} ({})", v.version, v.id);
            println!("  frameworks  {}", v.target_frameworks.join(", "));
            for d in &v.dependencies {
                println!("  depends on  {} {}", d.package_name, d.range);
            }
            for p in &v.publications {
                println!("  published   {} ({})", p.feed_ref, p.publication_id);
            }
        } else {
            for c in &found.api_clients {
                println!(
                    "  API client  {} ({} operations)",
                    c.client_name, c.operation_count
                );
            }
            for v in &found.versions {
                println!("  {:<12} {} dependencies", v.version, v.dependencies.len());
            }
        }
    }
    Ok(())
}

fn advise_cmd(app: &App, args: AdviseArgs) -> Result<()> {
    let store = app.store()?;
    let state = store.state()?;
    let (subject, requirements) = match &args.library {
        Some(text) => {
            let (name, number) = reference(text)?;
            let (found, release) = library::find_version(&state, name, number)?;
            (
                format!("{}@{}", found.package_name, release.version),
                release.dependencies.clone(),
            )
        }
        None => {
            let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
            let scaffold = Scaffold::load(&dir)?;
            let requirements = scaffold
                .libraries
                .iter()
                .map(|l| {
                    let range = ranges::parse_range(&l.version)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|_| l.version.clone());
                    DependencyRange {
                        package_name: l.package_name.clone(),
                        range,
                    }
                })
                .collect();
            (dir.display().to_string(), requirements)
        }
    };
    let advice = advise::advise(&state, &requirements);
    if app.json() {
        output::print_json(&json!({"subject": subject, "advice": advice}));
    } else if app.human() {
        println!("Library versions for {subject}:");
        for a in &advice {
            println!(
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
    Ok(())
}
