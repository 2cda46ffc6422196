//! Settings resolved once per invocation (flags > environment > store.yaml), the only place
//! that reads the process environment; every engine gets what it needs from here as values.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::events::EventContext;
use crate::store::StoreConfig;
use crate::{clock, ids};

/// What the caller (the command line, a queue message) said, before the environment fills in.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--store` (or `FACTORY_STORE`, which clap reads).
    pub store: Option<PathBuf>,
    /// `--tenant`.
    pub tenant: Option<String>,
    /// `--project` (or `FACTORY_PROJECT`).
    pub project: Option<String>,
    /// `--module` (or `FACTORY_MODULE`).
    pub module: Option<String>,
    /// `--correlation-id`.
    pub correlation_id: Option<String>,
    /// `--causation-id`.
    pub causation_id: Option<String>,
    /// `--offline`: never ask a remote.
    pub offline: bool,
}

/// Everything a use case needs to know about where and when it runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The explicit store folder, if one was named.
    pub store: Option<PathBuf>,
    /// The current folder (where the nearest `.factory-store/` is looked for).
    pub cwd: PathBuf,
    /// The user data folder (`$XDG_DATA_HOME`, `~/.local/share`), the last store fallback.
    pub data_home: Option<PathBuf>,
    /// The home folder (cookiecutter's replay files live below it).
    pub home: Option<PathBuf>,
    /// Tenant from the flag or `FACTORY_TENANT`; store.yaml's when `None`.
    pub tenant: Option<String>,
    /// Project from the flag or environment; store.yaml's when `None`.
    pub project: Option<String>,
    /// Module from the flag or environment; store.yaml's when `None`.
    pub module: Option<String>,
    /// The trace id of `TRACEPARENT`, or a new one.
    pub trace_id: String,
    /// The caller's correlation id (`FACTORY_CORRELATION_ID`), or a new one.
    pub correlation_id: String,
    /// The event id that caused this invocation.
    pub causation_id: Option<String>,
    /// The pinned clock and uuid seed for rendering and envelopes.
    pub render: crate::render::Settings,
    /// How repositories are fetched (cache, abbreviations, tokens, timeout).
    pub git: GitSettings,
    /// The interpreter that runs a template's Python Jinja extensions (`FACTORY_PYTHON`,
    /// else `python3`).
    pub python: String,
    /// Where the user's default answers for cookiecutter and copier templates are kept
    /// (none for a worker: a command's answers are what it says).
    pub user_defaults: crate::template::user_defaults::Files,
    /// How registries are spoken to.
    pub registry: RegistrySettings,
}

/// Settings for registry remotes.
#[derive(Debug, Clone, Default)]
pub struct RegistrySettings {
    /// Requests in flight at once (`FACTORY_REGISTRY_PARALLEL`); store.yaml's
    /// `remote.parallel`, else 8, when `None`.
    pub parallel: Option<usize>,
}

/// `FACTORY_REGISTRY_PARALLEL`, checked.
fn registry_parallel() -> Result<Option<usize>> {
    let max = crate::registry::client::MAX_PARALLEL;
    match env_var("FACTORY_REGISTRY_PARALLEL") {
        None => Ok(None),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Error::usage(format!(
                "FACTORY_REGISTRY_PARALLEL is `{text}`, not a number of requests from 1 to {max}"
            ))
            .hint("set it to e.g. 8, or unset it")),
        },
    }
}

/// Settings for template repositories.
#[derive(Debug, Clone)]
pub struct GitSettings {
    /// The user's abbreviations from `$XDG_CONFIG_HOME/factory/config.yaml`.
    pub abbreviations: crate::git::url::Abbreviations,
    /// How repositories are fetched: the cache, `--offline`, progress and prompts (set by
    /// the command line), the timeout, the hosting services' tokens.
    pub fetch: crate::git::fetch::FetchOptions,
}

/// The user's configuration file (`config.yaml`): abbreviations for now.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserConfig {
    #[serde(default)]
    abbreviations: std::collections::BTreeMap<String, String>,
}

/// Reads the user's configuration file, when there is one.
fn user_config(home: Option<&PathBuf>) -> Result<UserConfig> {
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".config")));
    let Some(path) = dir.map(|d| d.join("factory").join("config.yaml")) else {
        return Ok(UserConfig::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            crate::template::yaml::from_str(&text, &path.display().to_string()).map_err(|e| {
                e.hint("config.yaml holds `abbreviations: {NAME: \"https://host/{0}.git\"}`")
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UserConfig::default()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

/// Where cookiecutter and copier keep the user's default answers.
fn user_defaults(home: Option<&std::path::Path>) -> crate::template::user_defaults::Files {
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    crate::template::user_defaults::Files::locate(env_var, home, config_home.as_deref())
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

fn env_var(name: &str) -> Option<String> {
    non_empty(std::env::var(name).ok())
}

impl Settings {
    /// Resolves the flags against the process environment.
    pub fn resolve(flags: Flags) -> Result<Settings> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::new(format!("cannot read the current folder: {e}")))?;
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(|d| PathBuf::from(d).join("factory"))
            .or_else(|| home.as_ref().map(|h| h.join(".local/share/factory")));
        let now = match env_var(clock::NOW_ENV) {
            Some(text) => Some(clock::parse_rfc3339(text.trim()).map_err(|e| {
                e.hint(format!(
                    "set {} to an RFC 3339 time such as 2026-06-11T09:05:00Z, or unset it",
                    clock::NOW_ENV
                ))
            })?),
            None => None,
        };
        let git = GitSettings {
            abbreviations: crate::git::url::Abbreviations::new(
                user_config(home.as_ref())?.abbreviations,
            ),
            fetch: crate::git::fetch::FetchOptions {
                cache_dir: std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| home.as_ref().map(|h| h.join(".cache")))
                    .unwrap_or_else(std::env::temp_dir)
                    .join("factory")
                    .join("git"),
                offline: flags.offline,
                progress: false,
                interactive: false,
                timeout: std::time::Duration::from_secs(
                    env_var("FACTORY_GIT_TIMEOUT")
                        .and_then(|s| s.trim().parse().ok())
                        .unwrap_or(300),
                ),
                tokens: [
                    ("github.com", "GITHUB_TOKEN"),
                    ("github.com", "GH_TOKEN"),
                    ("gitlab.com", "GITLAB_TOKEN"),
                ]
                .iter()
                .filter_map(|(host, var)| Some((host.to_string(), env_var(var)?)))
                .collect(),
            },
        };
        Ok(Settings {
            store: flags.store.filter(|p| !p.as_os_str().is_empty()),
            cwd,
            data_home,
            tenant: non_empty(flags.tenant).or_else(|| env_var("FACTORY_TENANT")),
            project: non_empty(flags.project),
            module: non_empty(flags.module),
            trace_id: env_var("TRACEPARENT")
                .and_then(|t| ids::trace_id_from_traceparent(&t))
                .unwrap_or_else(ids::new_trace_id),
            correlation_id: non_empty(flags.correlation_id)
                .or_else(|| env_var("FACTORY_CORRELATION_ID"))
                .unwrap_or_else(|| ids::new_id(ids::CORRELATION)),
            causation_id: non_empty(flags.causation_id),
            render: crate::render::Settings::new(now, env_var("FACTORY_UUID_SEED"))
                // The local time zone (TZ, /etc/localtime), read once while single-threaded.
                .with_local_offset(
                    time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC),
                ),
            git,
            python: env_var("FACTORY_PYTHON").unwrap_or_else(|| "python3".into()),
            user_defaults: user_defaults(home.as_deref()),
            home,
            registry: RegistrySettings {
                parallel: registry_parallel()?,
            },
        })
    }

    /// How to take a template from a repository, with the ref and folder a command named.
    pub fn fetch(
        &self,
        reference: Option<String>,
        directory: Option<String>,
    ) -> crate::source::Fetch {
        crate::source::Fetch {
            abbreviations: self.git.abbreviations.clone(),
            options: self.git.fetch.clone(),
            reference,
            directory,
            flavor: None,
            any_folder: true,
            prereleases: false,
        }
    }

    /// The envelope fields of this invocation's events, store.yaml filling what is unset.
    pub fn event_context(&self, config: &StoreConfig) -> EventContext {
        EventContext {
            tenant_id: self.tenant.clone().unwrap_or_else(|| config.tenant.clone()),
            project_id: self.project.clone().or_else(|| config.project.clone()),
            module_id: self.module.clone().or_else(|| config.module.clone()),
            trace_id: self.trace_id.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id.clone(),
            pinned_now: self.render.now,
        }
    }
}
