//! `factory library …`: register, version, scan, publish, list, show and advise.

use std::path::PathBuf;

mod report;

use super::{App, out};
use crate::app::library as lib;
use crate::domain::library::ECOSYSTEMS;
use crate::error::{Error, Result};

/// Subcommands of `library`.
#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub(crate) enum LibraryCommand {
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
        #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::complete::libraries))]
        reference: String,
    },
    /// Recommend the newest registered versions that satisfy every constraint.
    Advise(AdviseArgs),
}

// Arguments of `library register`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
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

// Arguments of `library version`.
#[derive(Debug, clap::Args)]
pub(crate) struct VersionArgs {
    /// The library.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::complete::libraries))]
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
pub(super) enum ScanFormat {
    Tree,
    Json,
    Dot,
}

// Arguments of `library scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// NAME@VERSION.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::complete::libraries))]
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

// Arguments of `library publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct PublishArgs {
    /// NAME@VERSION.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::complete::libraries))]
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

// Arguments of `library advise`.
#[derive(Debug, clap::Args)]
pub(crate) struct AdviseArgs {
    /// A generated project (default: the current folder).
    dir: Option<PathBuf>,
    /// Advise on a release's dependencies instead: NAME@VERSION.
    #[arg(long, value_name = "NAME@VERSION", conflicts_with = "dir")]
    library: Option<String>,
}

/// Runs `library …`.
pub(crate) fn run(app: &App, command: LibraryCommand) -> Result<()> {
    match command {
        LibraryCommand::Register(args) => register(app, args),
        LibraryCommand::Version(args) => version(app, args),
        LibraryCommand::Scan(args) => scan(app, args),
        LibraryCommand::Publish(args) => publish(app, args),
        LibraryCommand::List => report::list(app),
        LibraryCommand::Show { reference } => report::show(app, &reference),
        LibraryCommand::Advise(args) => advise_cmd(app, args),
    }
}

fn register(app: &App, args: RegisterArgs) -> Result<()> {
    let request = lib::RegisterLibrary {
        name: args.name.clone(),
        ecosystem: args.ecosystem,
        area: args.area,
        description: args.description,
        spec: args.spec,
        client_name: args.client_name,
    };
    let registered = app.execute(request)?;
    if app.json() {
        app.printer.json_document(&registered);
    }
    out!(
        app.printer,
        "Registered library {} ({})",
        registered.registered.package_name,
        registered.library_id
    );
    if let Some(client) = &registered.api_client {
        out!(
            app.printer,
            "  API client {} with {} operations (spec {})",
            client.client_name,
            client.operation_count,
            client.spec_ref
        );
    }
    Ok(())
}

fn version(app: &App, args: VersionArgs) -> Result<()> {
    let request = lib::CreateLibraryVersion {
        library: args.name,
        version: args.version,
        path: args.path,
        dependencies: args.deps,
        frameworks: args.frameworks,
    };
    let recorded = app.execute(request)?;
    if app.json() {
        app.printer.json_document(&recorded);
    }
    let created = &recorded.created;
    out!(
        app.printer,
        "Recorded {}@{} ({})",
        recorded.library,
        created.version,
        created.library_version_id
    );
    if !created.target_frameworks.is_empty() {
        out!(
            app.printer,
            "  frameworks  {}",
            created.target_frameworks.join(", ")
        );
    }
    for dep in &created.dependencies {
        out!(
            app.printer,
            "  depends on  {} {}",
            dep.package_name,
            dep.range
        );
    }
    Ok(())
}

fn scan(app: &App, args: ScanArgs) -> Result<()> {
    let request = lib::ScanDependencies {
        library: args.reference,
        advisories: args.advisories,
    };
    let scanned = app.execute(request)?;
    for (subject, explanation) in &scanned.incompatible {
        app.printer
            .warn(format!("incompatible with {subject}: {explanation}"));
    }
    let format = if app.json() {
        ScanFormat::Json
    } else {
        args.format
    };
    report::scan(app, &scanned, format);
    let resolved = &scanned.graph;
    let conflicts = resolved.conflicts.len() + resolved.cycles.len();
    if args.fail_on.contains(&FailOn::Conflict) && conflicts > 0 {
        return Err(Error::verdict(format!(
            "{}@{} has {conflicts} dependency conflict(s)",
            scanned.library, scanned.version
        ))
        .hint("the scan lists each conflict with the requirements behind it"));
    }
    if args.fail_on.contains(&FailOn::Advisory) && !resolved.advisories.is_empty() {
        return Err(Error::verdict(format!(
            "{}@{} depends on {} package version(s) with known advisories",
            scanned.library,
            scanned.version,
            resolved.advisories.len()
        ))
        .hint("upgrade past the affected ranges; `factory library advise` suggests versions"));
    }
    Ok(())
}

fn publish(app: &App, args: PublishArgs) -> Result<()> {
    let request = lib::PublishPackage {
        library: args.reference,
        package: args.package,
        feed: args.feed,
        api_key: std::env::var(&args.api_key_env)
            .ok()
            .filter(|k| !k.is_empty()),
        api_key_source: args.api_key_env,
    };
    let published = app.execute(request)?;
    if app.json() {
        app.printer.json_document(&published);
    }
    let package = &published.package;
    out!(
        app.printer,
        "Published {} {} to {}\n  sha512 {}",
        package.id,
        package.version,
        published.published.feed_ref,
        package.sha512
    );
    Ok(())
}

fn advise_cmd(app: &App, args: AdviseArgs) -> Result<()> {
    let request = match args.library {
        Some(library) => lib::AdvisePackageUpgrade {
            library,
            project: None,
        },
        None => lib::AdvisePackageUpgrade {
            library: String::new(),
            project: Some(args.dir.unwrap_or_else(|| PathBuf::from("."))),
        },
    };
    report::advice(app, &app.execute(request)?);
    Ok(())
}
