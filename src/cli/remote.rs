//! `remote`, `login`, `logout`, `pull` and `search`: the store's registry remotes.

use std::io::Read;

use super::generate::human_size;
use super::remote_report::{
    LoginReport, LogoutReport, RemoteReport, RemotesReport, Removed, SearchReport,
};
use super::{App, out};

use crate::app::remote;
use crate::error::{Error, Result};

/// Subcommands of `remote`.
#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub(crate) enum RemoteCommand {
    /// Add a registry remote: oci://HOST[:PORT]/NAMESPACE.
    Add {
        /// The name commands use (`--to NAME`, `pull NAME/TEMPLATE`).
        name: String,
        /// oci://HOST[:PORT]/NAMESPACE.
        url: String,
        /// Make it `remote.default`, where `publish` pushes without `--to`.
        #[arg(long)]
        default: bool,
        /// Speak plain HTTP to it, not HTTPS (a registry on your own network; a loopback
        /// one is found to be plain without it).
        #[arg(long)]
        plain_http: bool,
    },
    /// List the remotes in the order `generate` asks them.
    List,
    /// Remove a remote.
    Remove {
        /// Its name.
        name: String,
    },
}

// Arguments of `login`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoginArgs {
    /// The registry host (`ghcr.io`, `127.0.0.1:5000`).
    host: String,
    /// The user name.
    #[arg(long, short)]
    username: Option<String>,
    /// Read the password or token from stdin (never from a flag).
    #[arg(long)]
    password_stdin: bool,
    /// Speak plain HTTP to the registry, not HTTPS.
    #[arg(long)]
    plain_http: bool,
}

// Arguments of `pull`.
#[derive(Debug, clap::Args)]
pub(crate) struct PullArgs {
    /// REMOTE/TEMPLATE[@VERSION] (default version: the newest).
    spec: String,
    /// Speak plain HTTP to the remote's registry, whatever its setting.
    #[arg(long)]
    plain_http: bool,
}

// Arguments of `search`.
#[derive(Debug, clap::Args)]
pub(crate) struct SearchArgs {
    /// A word to find in names, titles, descriptions and tags (default: everything).
    term: Option<String>,
    /// Search this remote only.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Speak plain HTTP to the remotes' registries, whatever their setting.
    #[arg(long)]
    plain_http: bool,
}

/// Runs `remote …`.
pub(crate) fn run(app: &App, command: RemoteCommand) -> Result<()> {
    let session = app.session()?;
    match command {
        RemoteCommand::Add {
            name,
            url,
            default,
            plain_http,
        } => {
            let added = remote::add_remote(&session, &name, &url, default, plain_http)?;
            if app.json() {
                app.printer.json_document(&RemoteReport {
                    name: &added.name,
                    url: added.url.to_string(),
                    default,
                    plain_http,
                });
            }
            out!(app.printer, "Added remote {} ({})", added.name, added.url);
        }
        RemoteCommand::Remove { name } => {
            remote::remove_remote(&session, &name)?;
            if app.json() {
                app.printer.json_document(&Removed { removed: &name });
            }
            out!(app.printer, "Removed remote {name}");
        }
        RemoteCommand::List => {
            let (remotes, default) = remote::list_remotes(&session);
            if app.json() {
                app.printer
                    .json_document(&RemotesReport::of(&remotes, default.as_deref()));
            }
            if remotes.is_empty() {
                out!(
                    app.printer,
                    "No remotes.\n  add one: factory remote add NAME oci://HOST/NAMESPACE [--default]"
                );
            }
            for r in &remotes {
                let mark = if default.as_deref() == Some(r.name.as_str()) {
                    " (default)"
                } else {
                    ""
                };
                let plain = if r.plain_http { " (plain HTTP)" } else { "" };
                out!(app.printer, "{}\t{}{plain}{mark}", r.name, r.url);
            }
        }
    }
    app.warnings(&session);
    Ok(())
}

/// Runs `login`: the password from stdin or a prompt, checked with the registry, kept as
/// docker keeps it.
pub(crate) fn login(app: &App, args: LoginArgs) -> Result<()> {
    let username = match args.username {
        Some(name) => name,
        None if app.interactive() => dialoguer::Input::<String>::new()
            .with_prompt("Username")
            .interact_text()
            .map_err(|e| Error::new(format!("cannot read the user name: {e}")))?,
        None => return Err(Error::usage("no user name").hint("pass --username USER")),
    };
    let secret = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Error::new(format!("cannot read the password from stdin: {e}")))?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if app.interactive() {
        dialoguer::Password::new()
            .with_prompt("Password")
            .interact()
            .map_err(|e| Error::new(format!("cannot read the password: {e}")))?
    } else {
        return Err(Error::usage("no password: stdin is not a terminal").hint(
            "pipe it in: echo \"$TOKEN\" | factory login HOST --username USER --password-stdin",
        ));
    };
    if secret.is_empty() {
        return Err(Error::usage("the password is empty"));
    }
    let stored = remote::login(&args.host, &username, &secret, args.plain_http);
    for warning in remote::registry_warnings() {
        app.printer.warn(warning);
    }
    let stored = stored?;
    if app.json() {
        app.printer.json_document(&LoginReport {
            host: &args.host,
            username: &username,
            stored_in: &stored,
        });
    }
    out!(
        app.printer,
        "Login Succeeded ({username} on {}; kept in {stored})",
        args.host
    );
    Ok(())
}

/// Runs `logout`.
pub(crate) fn logout(app: &App, host: String) -> Result<()> {
    let removed = remote::logout(&host)?;
    if app.json() {
        app.printer.json_document(&LogoutReport {
            host: &host,
            removed,
        });
    }
    if removed {
        out!(app.printer, "Removed the login for {host}");
    } else {
        out!(app.printer, "Not logged in to {host}");
    }
    Ok(())
}

/// Runs `pull`.
pub(crate) fn pull(app: &App, args: PullArgs) -> Result<()> {
    let pulled = app.in_session(|session| remote::pull(session, &args.spec, args.plain_http))?;
    if app.json() {
        app.printer
            .json_document(&super::transfer::PulledReport::of(&pulled));
    }
    let what = if pulled.events.is_empty() {
        "Already had"
    } else {
        "Pulled"
    };
    out!(
        app.printer,
        "{what} {}@{} from {} ({} events, {} blobs, {} received)\n  content {}\n  artifact {}",
        pulled.template,
        pulled.version,
        pulled.remote,
        pulled.events.len(),
        pulled.blobs_fetched,
        human_size(pulled.traffic.bytes_received),
        pulled.content_hash,
        pulled.artifact
    );
    Ok(())
}

/// Runs `search`.
pub(crate) fn search(app: &App, args: SearchArgs) -> Result<()> {
    let found = app.in_session(|session| {
        remote::search(
            session,
            args.term.as_deref(),
            args.remote.as_deref(),
            args.plain_http,
        )
    })?;
    if app.json() {
        app.printer
            .json_document(&SearchReport { templates: &found });
    }
    for f in &found {
        out!(
            app.printer,
            "{}/{}  {}  [{}]",
            f.remote,
            f.name,
            f.title,
            f.versions.join(", ")
        );
        if let Some(description) = &f.description {
            out!(app.printer, "    {description}");
        }
        if !f.tags.is_empty() {
            out!(app.printer, "    tags: {}", f.tags.join(", "));
        }
    }
    if found.is_empty() {
        out!(app.printer, "No templates found");
    }
    Ok(())
}
