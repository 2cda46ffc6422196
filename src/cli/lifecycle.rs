//! `register`, `version` and `publish`: the template lifecycle commands.

use serde_json::json;

use super::{App, output, print_notices, split_reference};
use crate::domain::commands::{self, Bump, CreateVersion, Register, VersionSpec};
use crate::error::{Error, Result};
use crate::events::Envelope;
use crate::generate::source;
use crate::store::Decision;
use crate::template::manifest::Category;
use crate::template::params;

/// Arguments of `register`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
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
}

/// Arguments of `version`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("number").required(true).args(["version", "bump"]))]
pub struct VersionArgs {
    /// The template's name or id.
    template: String,
    /// The template folder or git URL[#REF] to snapshot (default: where it was registered from).
    #[arg(long, value_name = "PATH|URL")]
    from: Option<String>,
    /// The new version number, X.Y.Z.
    #[arg(long, value_name = "X.Y.Z")]
    version: Option<String>,
    /// Bump the highest existing version.
    #[arg(long, value_enum)]
    bump: Option<BumpArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BumpArg {
    Major,
    Minor,
    Patch,
}

/// Arguments of `publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// TEMPLATE@VERSION to publish.
    reference: String,
}

fn event_ids(envelopes: &[Envelope]) -> Vec<&str> {
    envelopes.iter().map(|e| e.event_id.as_str()).collect()
}

/// Runs `register`.
pub fn register(app: &App, args: RegisterArgs) -> Result<()> {
    let resolved = source::from_location(&args.location)?;
    let manifest = &resolved.manifest;
    let name = args.name.unwrap_or_else(|| manifest.name.clone());
    if name.trim().is_empty() || name.contains('@') || name.contains(char::is_whitespace) {
        return Err(
            Error::usage(format!("`{name}` is not a usable template name"))
                .hint("names have no spaces and no `@` (it separates name and version)"),
        );
    }
    let input = Register {
        title: manifest.title().to_string(),
        category: args
            .category
            .unwrap_or_else(|| manifest.category.as_str().to_string()),
        owner: args.owner.or(manifest.owner.clone()),
        tags: if args.tags.is_empty() {
            manifest.tags.clone()
        } else {
            args.tags
        },
        source: match resolved.source_ref.kind.as_str() {
            "path" => resolved.source_ref.uri.clone(),
            _ => args.location.clone(),
        },
        name,
    };
    let store = app.store()?;
    let context = app.context(&store)?;
    let result = store.write(&context, |state| {
        let events = commands::register(state, input)?;
        Ok(Decision::events(events, ()))
    });
    print_notices(app, &store);
    let (envelopes, ()) = result?;
    let payload = &envelopes[0].payload;
    if app.json() {
        output::print_json(&json!({
            "templateId": payload["templateId"],
            "name": payload["name"],
            "events": event_ids(&envelopes),
        }));
    } else if app.human() {
        println!(
            "Registered {} ({})\n  next: factory version {} --version 0.1.0",
            payload["name"].as_str().unwrap_or_default(),
            payload["templateId"].as_str().unwrap_or_default(),
            payload["name"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

/// Runs `version`.
pub fn version(app: &App, args: VersionArgs) -> Result<()> {
    let store = app.store()?;
    let state = store.state()?;
    let template = commands::find_template(&state, &args.template)?;
    let location = args.from.clone().unwrap_or_else(|| template.source.clone());
    let resolved = source::from_location(&location)?;
    let (files, manifest) = (&resolved.files, &resolved.manifest);
    // A folder whose manifest names another registered template is almost surely a mix-up;
    // a template registered under its own --name is not.
    if let Some(other) = state
        .template(&manifest.name)
        .filter(|t| t.id != template.id)
    {
        return Err(Error::new(format!(
            "{location} holds template `{}`, which is registered separately ({}), not `{}`",
            manifest.name, other.id, template.name
        ))
        .hint("pass --from with the folder of this template"));
    }
    let spec = match (args.version, args.bump) {
        (Some(v), _) => VersionSpec::Exact(v),
        (None, Some(BumpArg::Major)) => VersionSpec::Bump(Bump::Major),
        (None, Some(BumpArg::Minor)) => VersionSpec::Bump(Bump::Minor),
        (None, Some(BumpArg::Patch)) => VersionSpec::Bump(Bump::Patch),
        (None, None) => unreachable!("clap requires --version or --bump"),
    };
    let snapshot = files.snapshot()?;
    let tree_hash = &snapshot.tree_hash;
    let tree_hex = &snapshot.tree_hex;
    let byte_count = files.byte_count();
    let source_ref = resolved.source_ref.clone();
    let context = app.context(&store)?;
    let template_key = template.id.clone();
    let result = store.write(&context, |state| {
        // The schema names the version, so the number is decided first.
        let template = commands::find_template(state, &template_key)?;
        let number = commands::decide_version_number(template, &spec)?;
        let input = CreateVersion {
            version: VersionSpec::Exact(number.clone()),
            source_ref: source_ref.clone(),
            content_hash: tree_hash.content_hash.clone(),
            tree: format!("sha256:{tree_hex}"),
            file_count: files.files.len() as u64,
            byte_count,
            schema: params::schema_document(manifest, &number),
            parameter_count: manifest.parameters.len() as u64,
        };
        let (events, number) = commands::create_version(state, &template_key, input)?;
        let mut objects = snapshot.blobs.clone();
        objects.push((tree_hex.clone(), snapshot.tree_bytes.clone()));
        Ok(Decision::with_objects(events, objects, number))
    });
    print_notices(app, &store);
    let (envelopes, number) = result?;
    let payload = &envelopes[0].payload;
    if app.json() {
        output::print_json(&json!({
            "template": manifest.name,
            "templateId": payload["templateId"],
            "version": number,
            "templateVersionId": payload["templateVersionId"],
            "status": "Draft",
            "contentHash": payload["contentHash"],
            "fileCount": payload["fileCount"],
            "byteCount": payload["byteCount"],
            "events": event_ids(&envelopes),
        }));
    } else if app.human() {
        println!(
            "Created {}@{number} (Draft): {} files, {} bytes\n  content {}\n  next: factory validate {}@{number}",
            manifest.name,
            payload["fileCount"],
            payload["byteCount"],
            tree_hash.content_hash,
            manifest.name
        );
    }
    Ok(())
}

/// Runs `publish`.
pub fn publish(app: &App, args: PublishArgs) -> Result<()> {
    let (name, version) = split_reference(&args.reference);
    let version = version.ok_or_else(|| {
        Error::usage(format!("`{}` names no version", args.reference)).hint(format!(
            "publish one version at a time: factory publish {name}@X.Y.Z"
        ))
    })?;
    let store = app.store()?;
    let context = app.context(&store)?;
    let objects = store.objects();
    let result = store.write(&context, |state| {
        let mut events = commands::publish(state, name, version)?;
        // Publishing is a fact that changes compatibility: judge the version's declared
        // libraries against the registry, caused by the publication. A negative verdict is
        // reported, not a failure.
        let subject =
            super::compat::template_subject(state, &objects, &format!("{name}@{version}"))?;
        let composition = crate::compat::Composition {
            templates: vec![subject],
            ..Default::default()
        };
        let evaluation = crate::compat::evaluate(state, &composition)?;
        events.push(crate::compat::event("publish", &evaluation));
        Ok(Decision::events(events, evaluation))
    });
    print_notices(app, &store);
    let (envelopes, evaluation) = result?;
    let payload = &envelopes[0].payload;
    if !evaluation.compatible && !app.global.quiet {
        eprintln!(
            "warning: {name}@{version} is published, but its declared libraries do not fit the registry:\n  {}",
            crate::compat::explain(&evaluation).replace('\n', "\n  ")
        );
    }
    if app.json() {
        output::print_json(&json!({
            "template": name,
            "version": payload["version"],
            "publicationId": payload["publicationId"],
            "contentHash": payload["contentHash"],
            "events": event_ids(&envelopes),
        }));
    } else if app.human() {
        println!(
            "Published {name}@{} ({})\n  content {}",
            payload["version"].as_str().unwrap_or_default(),
            payload["publicationId"].as_str().unwrap_or_default(),
            payload["contentHash"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}
