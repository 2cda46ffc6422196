//! Remotes and their credentials: `remote add|list|remove`, `login`, `logout`, `search`,
//! and the look-up `generate` makes in the remotes when the store lacks a template.

use super::Session;
use super::registry::{self, NamedRemote, Pulled};
use crate::error::{Error, Result};
use crate::registry::RemoteUrl;
use crate::registry::client::Registry;
use crate::registry::credentials::{self, Credential};
use crate::store::config::Remote;

/// Adds a remote (and makes it the default when asked).
pub fn add_remote(
    session: &Session,
    name: &str,
    url: &str,
    default: bool,
    plain_http: bool,
) -> Result<NamedRemote> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Error::usage(format!("`{name}` is not a remote name")).hint(
            "use letters, digits, `-` and `_` (it is typed as NAME/TEMPLATE and --to NAME)",
        ));
    }
    let parsed = RemoteUrl::parse(url)?;
    let mut config = session.store.config().clone();
    if let Some(existing) = config.remote(name) {
        return Err(Error::usage(format!(
            "there is already a remote `{name}` ({})",
            existing.url
        ))
        .hint(format!("remove it first: factory remote remove {name}")));
    }
    config.remotes.push(Remote {
        name: name.to_string(),
        url: parsed.to_string(),
        plain_http,
    });
    if default {
        config.remote.default = Some(name.to_string());
    }
    session.store.save_config(&config)?;
    Ok(NamedRemote {
        name: name.to_string(),
        url: parsed,
        plain_http,
    })
}

/// Removes a remote (and the default that named it).
pub fn remove_remote(session: &Session, name: &str) -> Result<()> {
    registry::remote_named(session, name)?;
    let mut config = session.store.config().clone();
    config.remotes.retain(|r| r.name != name);
    if config.remote.default.as_deref() == Some(name) {
        config.remote.default = None;
    }
    session.store.save_config(&config)
}

/// The remotes in the order `generate` asks them, and the default's name.
pub fn list_remotes(session: &Session) -> (Vec<Remote>, Option<String>) {
    let config = session.store.config();
    (config.remotes.clone(), config.remote.default.clone())
}

/// Checks a credential against the registry (`GET /v2/` through its challenge) and keeps
/// it as docker does; where it went.
pub fn login(host: &str, username: &str, secret: &str, plain_http: bool) -> Result<String> {
    let options = crate::registry::client::Options {
        plain_http,
        ..Default::default()
    };
    crate::secrets::register(secret);
    if host.contains('/') || host.contains('@') {
        // `user:password@host` is shown without what comes before the `@`.
        crate::http::register_password(host);
        let shown = match host.rsplit_once('@') {
            _ if host.contains("://") => crate::http::redact_url(host),
            Some((_, rest)) => format!("***@{rest}"),
            None => host.to_string(),
        };
        return Err(Error::usage(format!("`{shown}` is not a registry host"))
            .hint("name the host alone: factory login ghcr.io"));
    }
    let credential = Credential {
        username: username.to_string(),
        secret: secret.to_string(),
        source: "the login".to_string(),
    };
    let registry = Registry::with_credential(
        host,
        Some(credential),
        vec!["the login".to_string()],
        options,
    )?;
    registry.ping()?;
    credentials::store(host, username, secret)
}

/// What the registry clients of this process warned about since the last call (a
/// credential sent to a token service on another host), to show once.
pub fn registry_warnings() -> Vec<String> {
    crate::registry::client::take_warnings()
}

/// Forgets a host's credential; whether there was one.
pub fn logout(host: &str) -> Result<bool> {
    credentials::erase(host)
}

/// One template a remote's index lists.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Found {
    /// The remote's name.
    pub remote: String,
    /// The template's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its versions, lowest first.
    pub versions: Vec<String>,
}

/// The templates of one remote (or every remote) whose name, title, description or tags
/// hold `term` (any case).
pub fn search(
    session: &Session,
    term: Option<&str>,
    remote: Option<&str>,
    plain_http: bool,
) -> Result<Vec<Found>> {
    let mut remotes = match remote {
        Some(name) => vec![registry::remote_named(session, name)?],
        None => configured(session)?,
    };
    for remote in &mut remotes {
        remote.plain_http |= plain_http;
    }
    if remotes.is_empty() {
        return Err(Error::usage("there are no remotes to search")
            .hint("add one: factory remote add NAME oci://HOST/NAMESPACE"));
    }
    let term = term.map(str::to_lowercase);
    let mut found = Vec::new();
    for remote in remotes {
        let read = remote.connect(session).and_then(|registry| {
            registry.plan(&[(remote.url.index_repository().as_str(), "pull")]);
            crate::registry::index::read_index(&|note| session.note(note), &registry, &remote.url)
        });
        let Some(index) = go_past_unreachable(&remote, read)? else {
            continue;
        };
        let Some(index) = index else {
            session.note(format!(
                "{} has no index yet: nothing was published to it with factory",
                remote.name
            ));
            continue;
        };
        for (name, entry) in index.templates {
            let matches = term.as_deref().is_none_or(|t| {
                name.to_lowercase().contains(t)
                    || entry.title.to_lowercase().contains(t)
                    || entry
                        .description
                        .as_deref()
                        .is_some_and(|d| d.to_lowercase().contains(t))
                    || entry.tags.iter().any(|tag| tag.to_lowercase().contains(t))
            });
            if matches {
                found.push(Found {
                    remote: remote.name.clone(),
                    name,
                    title: entry.title,
                    description: entry.description,
                    tags: entry.tags,
                    versions: entry.versions,
                });
            }
        }
    }
    Ok(found)
}

fn configured(session: &Session) -> Result<Vec<NamedRemote>> {
    session
        .store
        .config()
        .remotes
        .iter()
        .map(NamedRemote::of)
        .collect()
}

/// Pulls `name[@version]` from the first remote, in order, that has it; `None` when none
/// has (or there are no remotes, or `--offline`).
pub fn pull_from_remotes(
    session: &Session,
    name: &str,
    version: Option<&str>,
) -> Result<Option<Pulled>> {
    if session.settings.git.fetch.offline {
        return Ok(None);
    }
    for remote in configured(session)? {
        let found = go_past_unreachable(&remote, registry::pull(session, &remote, name, version))?;
        if let Some(pulled) = found.flatten() {
            session.note(format!(
                "pulled {}@{} from {} ({})",
                pulled.template, pulled.version, pulled.remote, pulled.artifact
            ));
            return Ok(Some(pulled));
        }
    }
    Ok(None)
}

/// A remote's answer, or `None` with a warning when the remote did not answer (nothing
/// listens, no answer in time): the next remote is asked. Any other failure (a refused
/// credential, a plain HTTP or TLS mix-up, an artifact refused) stops the command: it is
/// that remote's to fix, and going past it would hide it.
fn go_past_unreachable<T>(remote: &NamedRemote, result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind == crate::error::ErrorKind::Unavailable => {
            crate::registry::client::warn(format!(
                "the remote {} ({}) did not answer, went on without it: {}",
                remote.name, remote.url, e.message
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Brings the store up to what the remotes hold for `name[@version]` before `generate` or
/// `upgrade` uses it: a template or version the store lacks is pulled from the first remote
/// that has it. With no version named, a template that is on a remote (a version of it was
/// pushed to or pulled from one) is brought to the newest version the remotes hold when
/// that is newer than the store's newest published one, with a note, as helm and copier
/// take the newest: a store that pulled 1.0.0 generates 1.1.0 once it is published.
/// `--offline` asks nothing. Whether something was pulled.
pub fn refresh(
    session: &Session,
    name: &str,
    version: Option<&str>,
    allow_draft: bool,
) -> Result<bool> {
    if session.settings.git.fetch.offline {
        return Ok(false);
    }
    let state = session.store.state()?;
    let template = state.template(name);
    let here = template.is_some_and(|t| match version {
        Some(v) => t.version(v).is_some(),
        None => t.latest_published().is_some() || allow_draft && t.latest().is_some(),
    });
    if !here {
        return Ok(pull_from_remotes(session, name, version)?.is_some());
    }
    let Some(template) = template.filter(|t| t.versions.iter().any(|v| !v.artifacts.is_empty()))
    else {
        return Ok(false);
    };
    if version.is_some() {
        return Ok(false);
    }
    let local = template.latest_published().map(|v| v.version.clone());
    for remote in configured(session)? {
        let asked = remote.connect(session).and_then(|registry| {
            registry.plan(&[(remote.url.repository(&template.name).as_str(), "pull")]);
            crate::registry::pull::newest_version(&registry, &remote.url, &template.name)
        });
        let Some(newest) = go_past_unreachable(&remote, asked)?.flatten() else {
            continue;
        };
        let newer = local
            .as_deref()
            .is_none_or(|l| crate::registry::artifact::compare_versions(l, &newest).is_lt());
        if newer && registry::pull(session, &remote, &template.name, Some(&newest))?.is_some() {
            session.note(format!(
                "{remote_name} has {name}@{newest}, newer than the {local} in the store: pulled it (--offline keeps to the store)",
                remote_name = remote.name,
                name = template.name,
                local = local.as_deref().unwrap_or("none"),
            ));
            return Ok(true);
        }
    }
    Ok(false)
}

/// `pull REMOTE/TEMPLATE[@VERSION]`.
pub fn pull(session: &Session, spec: &str, plain_http: bool) -> Result<Pulled> {
    let (remote, template) = spec.split_once('/').ok_or_else(|| {
        Error::usage(format!("`{spec}` names no remote"))
            .hint("write it as REMOTE/TEMPLATE[@VERSION], e.g. shared/orders-api@1.0.0")
    })?;
    let mut remote = registry::remote_named(session, remote)?;
    remote.plain_http |= plain_http;
    let reference = super::Reference::parse(template);
    registry::pull(session, &remote, reference.name, reference.version)?.ok_or_else(|| {
        let what = match reference.version {
            Some(v) => format!("{}@{v}", reference.name),
            None => reference.name.to_string(),
        };
        Error::new(format!("{} ({}) has no {what}", remote.name, remote.url)).hint(format!(
            "list what it has: factory search --remote {}",
            remote.name
        ))
    })
}
