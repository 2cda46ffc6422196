//! The command line's shape: the global options, the subcommands, and the options every
//! command that takes a template source shares.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{
    cache, compat, events, generate, hash, init, library, lifecycle, remote, send, show, store,
    upgrade, validate, verify, worker,
};
use crate::app::Flags;

/// factory: a local store of project templates, their lifecycle, and an event log.
#[derive(Debug, Parser)]
#[command(name = "factory", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder).
    #[arg(
        long,
        global = true,
        env = "FACTORY_STORE",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub(crate) store: Option<PathBuf>,
    /// Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter
    /// (the flag only, not the variable).
    #[arg(
        long,
        global = true,
        env = "FACTORY_TENANT",
        hide_env_values = true,
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    pub(crate) tenant: Option<String>,
    /// Project for events (default: FACTORY_PROJECT, then store.yaml).
    #[arg(
        long,
        global = true,
        env = "FACTORY_PROJECT",
        hide_env_values = true,
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    pub(crate) project: Option<String>,
    /// Module for events (default: FACTORY_MODULE, then store.yaml).
    #[arg(
        long,
        global = true,
        env = "FACTORY_MODULE",
        hide_env_values = true,
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    pub(crate) module: Option<String>,
    /// Correlation id shared by this invocation's events (default: FACTORY_CORRELATION_ID, or
    /// a new one); with `events`, a filter.
    #[arg(
        long,
        global = true,
        env = "FACTORY_CORRELATION_ID",
        hide_env_values = true,
        value_name = "ID",
        help_heading = "Event metadata"
    )]
    pub(crate) correlation_id: Option<String>,
    /// The event id that caused this invocation.
    #[arg(
        long,
        global = true,
        value_name = "EVENT_ID",
        help_heading = "Event metadata"
    )]
    pub(crate) causation_id: Option<String>,
    /// Print one JSON document to stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Never fetch: take repositories from the clone cache only.
    #[arg(long, global = true)]
    pub(crate) offline: bool,
    /// When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb;
    /// CLICOLOR_FORCE=1 colours elsewhere too), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub(crate) color: super::color::ColorWhen,
}

// Where in a repository a template is: the options every command that takes a source has
// (a plain comment: see `Command`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RepoArgs {
    /// The branch, tag or commit of a repository source (same as URL#REF).
    #[arg(long = "ref", value_name = "REF")]
    pub(crate) reference: Option<String>,
    /// The template's folder inside a repository source.
    #[arg(long, value_name = "SUBDIR")]
    pub(crate) directory: Option<String>,
}

// Each subcommand's arguments are added when it is the one run (`defer`): building every
// command's arguments at start-up took most of the time `factory --version` spent in clap.
// A deferred `Args` struct's doc comment would then replace the variant's as the command's
// description, so those structs carry plain comments (`committed_contracts_are_current`
// catches one that does not: the completions and man page would change).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum Command {
    /// Create a store (default: the one `factory` would find).
    #[command(
        after_long_help = "Examples:\n  factory init --tenant acme\n  factory init ./.factory-store"
    )]
    Init(init::InitArgs),
    /// Register a template folder under its name.
    #[command(
        after_long_help = "Examples:\n  factory register templates/orders-api\n  factory register file:///srv/templates.git#v1.2.0 --owner platform-team"
    )]
    Register(lifecycle::RegisterArgs),
    /// Snapshot a template's files as a new immutable version.
    #[command(
        after_long_help = "Examples:\n  factory version orders-api --version 1.0.0\n  factory version orders-api --bump minor --from ../orders-api"
    )]
    Version(lifecycle::VersionArgs),
    /// Check a template version (or a folder, with --path); exit 3 when a check fails.
    #[command(
        after_long_help = "Examples:\n  factory validate orders-api@1.0.0\n  factory validate --path templates/orders-api --matrix --format sarif > report.sarif"
    )]
    Validate(validate::ValidateArgs),
    /// Publish a validated template version.
    #[command(after_long_help = "Examples:\n  factory publish orders-api@1.0.0")]
    Publish(lifecycle::PublishArgs),
    /// Render a template into a new project (from the store, a folder or a git URL).
    #[command(
        after_long_help = "Examples:\n  factory generate orders-api -o orders --set service_name=orders\n  factory generate ./my-template -o /tmp/try --defaults --dry-run\n  factory generate file:///srv/templates.git#main -o api --answers answers.yaml --git"
    )]
    Generate(Box<generate::GenerateArgs>),
    /// Judge a composition of templates, libraries and a runtime; exit 3 when incompatible.
    #[command(
        after_long_help = "Examples:\n  factory compat orders-api@1.0.0 --with Acme.Data --runtime net8.0\n  factory compat --composition composition.yaml --json"
    )]
    Compat(compat::CompatArgs),
    /// Plan (or --apply) a move of a generated project to another template version.
    #[command(
        after_long_help = "Examples:\n  factory upgrade orders\n  factory upgrade orders --to 2.0.0 --apply --conflict-style diff3"
    )]
    Upgrade(upgrade::UpgradeArgs),
    /// Report files added, removed or changed in a generated project; exit 3 on drift.
    #[command(after_long_help = "Examples:\n  factory verify orders")]
    Verify(verify::VerifyArgs),
    /// List the registered templates.
    #[command(
        after_long_help = "Examples:\n  factory list\n  factory list --json | jq -r '.templates[].name'"
    )]
    List,
    /// Show a template or one of its versions.
    #[command(
        after_long_help = "Examples:\n  factory show orders-api\n  factory show orders-api@1.0.0 --json"
    )]
    Show(show::ShowArgs),
    /// Print the content hash of a folder (docs/content-hash.md).
    #[command(
        after_long_help = "Examples:\n  factory hash orders\n  factory hash orders --manifest"
    )]
    Hash(hash::HashArgs),
    /// Print the event log as JSON Lines, filtered; or its JSON Schemas.
    #[command(
        after_long_help = "Examples:\n  factory events --type TemplatePublished | jq -r .payload.version\n  factory events --follow --format table\n  factory events push --to amqp://factory:$PASSWORD@rabbit:5672/%2f"
    )]
    Events(events::EventsArgs),
    /// Register, version, scan and publish reusable libraries.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory library register Acme.Json\n  factory library version Acme.Json 4.1.0 --path src/Acme.Json\n  factory library scan Acme.Json@4.1.0 --fail-on conflict"
    )]
    Library(library::LibraryCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_long_help = "Examples:\n  factory completions bash > ~/.local/share/bash-completion/completions/factory\n  factory completions zsh > \"${fpath[1]}/_factory\""
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_long_help = "Examples:\n  factory man > factory.1 && man ./factory.1")]
    Man,
    /// Check, rebuild or clean the store.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory store check\n  factory store rebuild\n  factory store gc"
    )]
    Store(store::StoreCommand),
    /// Show or clean the clone cache of template repositories.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory cache list\n  factory cache clean https://github.com/org/template.git"
    )]
    Cache(cache::CacheCommand),
    /// Manage the registry remotes (OCI registries) templates are published to.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory remote add shared oci://ghcr.io/contoso/templates --default\n  factory remote list"
    )]
    Remote(remote::RemoteCommand),
    /// Log in to a registry (kept where docker keeps it).
    #[command(
        after_long_help = "Examples:\n  echo \"$TOKEN\" | factory login ghcr.io --username me --password-stdin"
    )]
    Login(remote::LoginArgs),
    /// Forget the login for a registry.
    #[command(after_long_help = "Examples:\n  factory logout ghcr.io")]
    Logout {
        /// The registry host.
        host: String,
    },
    /// Import a published template version from a remote into the store.
    #[command(
        after_long_help = "Examples:\n  factory pull shared/orders-api@1.2.0\n  factory pull shared/orders-api"
    )]
    Pull(remote::PullArgs),
    /// Put a command on its queue; with --wait, wait for its outcome.
    #[command(
        after_long_help = "Examples:\n  factory send GenerateScaffold --to amqp://factory:$PASSWORD@rabbit/%2f --payload cmd.json --wait"
    )]
    Send(send::SendArgs),
    /// Serve the platform's commands from RabbitMQ queues.
    #[command(
        after_long_help = "Examples:\n  factory worker --from amqp://factory:$PASSWORD@rabbit/%2f --services scaffold-engine --concurrency 4 --output-root /srv/out"
    )]
    Worker(worker::WorkerArgs),
    /// The command catalog: the types, their queues and their JSON Schemas.
    #[command(subcommand)]
    #[command(
        after_long_help = "Examples:\n  factory commands list\n  factory commands schema GenerateScaffold"
    )]
    Commands(worker::CommandsCommand),
    /// List the templates on the remotes.
    #[command(
        after_long_help = "Examples:\n  factory search api\n  factory search --remote shared --json"
    )]
    Search(remote::SearchArgs),
}

impl GlobalArgs {
    /// What the flags say, for the settings to resolve.
    pub(crate) fn flags(&self) -> Flags {
        Flags {
            store: self.store.clone(),
            tenant: self.tenant.clone(),
            project: self.project.clone(),
            module: self.module.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id.clone(),
            offline: self.offline,
        }
    }
}
