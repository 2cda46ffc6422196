//! `register`, `version` and `publish`: the template lifecycle commands.

use super::{App, out};
use crate::app::template::{CreateTemplateVersion, PublishTemplate, RegisterTemplate};
use crate::domain::commands::Bump;
use crate::error::Result;
use crate::template::manifest::Category;

// Arguments of `register`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    /// The template folder (holding template.yaml), or a git URL[#REF].
    location: String,
    /// Register under this name instead of the manifest's.
    #[arg(long)]
    name: Option<String>,
    /// The owning team or person.
    #[arg(long)]
    owner: Option<String>,
    /// Override the manifest's category.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(Category::ALL))]
    category: Option<String>,
    /// A tag (repeatable); replaces the manifest's tags.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    #[command(flatten)]
    repo: crate::cli::RepoArgs,
}

// Arguments of `version`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("number").required(true).args(["version", "bump"]))]
pub(crate) struct VersionArgs {
    /// The template's name or id.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::templates))]
    template: String,
    /// The template folder or git URL[#REF] to snapshot (default: where it was registered from).
    #[arg(long, value_name = "PATH|URL")]
    from: Option<String>,
    /// The new version number, X.Y.Z.
    #[arg(long, value_name = "X.Y.Z")]
    version: Option<String>,
    /// Bump the highest existing version.
    #[arg(long, value_parser = clap::builder::TypedValueParser::try_map(clap::builder::PossibleValuesParser::new(Bump::NAMES), |b| b.parse::<Bump>()))]
    bump: Option<Bump>,
    #[command(flatten)]
    repo: crate::cli::RepoArgs,
}

// Arguments of `publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct PublishArgs {
    /// TEMPLATE@VERSION to publish.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::templates))]
    reference: String,
    /// Push it to this remote too (default: `remote.default` in store.yaml); a version
    /// published before is only pushed.
    #[arg(long, value_name = "REMOTE")]
    to: Option<String>,
}

/// Runs `register`.
pub(crate) fn register(app: &App, args: RegisterArgs) -> Result<()> {
    let request = RegisterTemplate {
        location: args.location,
        name: args.name,
        owner: args.owner,
        category: args.category,
        tags: args.tags,
        reference: args.repo.reference,
        directory: args.repo.directory,
    };
    let registered = app.execute(request)?;
    if app.json() {
        app.printer.json_document(&registered);
    }
    out!(
        app.printer,
        "Registered {} ({})\n  next: factory version {} --version 0.1.0",
        registered.name,
        registered.template_id,
        registered.name
    );
    Ok(())
}

/// Runs `version`.
pub(crate) fn version(app: &App, args: VersionArgs) -> Result<()> {
    let request = CreateTemplateVersion {
        template: args.template,
        from: args.from,
        version: args.version,
        bump: args.bump,
        reference: args.repo.reference,
        directory: args.repo.directory,
    };
    let created = app.execute(request)?;
    if app.json() {
        app.printer.json_document(&created);
    }
    out!(
        app.printer,
        "Created {}@{} (Draft): {} files, {} bytes\n  content {}\n  next: factory validate {}@{}",
        created.template,
        created.version,
        created.file_count,
        created.byte_count,
        created.content_hash,
        created.template,
        created.version
    );
    Ok(())
}

/// Runs `publish`.
pub(crate) fn publish(app: &App, args: PublishArgs) -> Result<()> {
    let request = PublishTemplate {
        template: args.reference,
        to: args.to,
    };
    let (published, pushed) = app.execute(request)?;
    if let Some(evaluation) = published.evaluation.as_ref().filter(|e| !e.compatible) {
        app.printer.warn(format!(
            "{}@{} is published, but its declared libraries do not fit the registry:\n  {}",
            published.template,
            published.version,
            crate::compat::explain(evaluation).replace('\n', "\n  ")
        ));
    }
    if app.json() {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            published: &'a crate::app::template::Published,
            pushed: Option<super::transfer::PushedReport<'a>>,
        }
        app.printer.json_document(&Shown {
            published: &published,
            pushed: pushed.as_ref().map(super::transfer::PushedReport::of),
        });
    }
    let verb = if published.newly {
        "Published"
    } else {
        "Already published"
    };
    out!(
        app.printer,
        "{verb} {}@{} ({})\n  content {}",
        published.template,
        published.version,
        published.publication_id,
        published.content_hash
    );
    if let Some(pushed) = &pushed {
        super::transfer::print_pushed(app, pushed);
    }
    Ok(())
}
