//! `store.yaml`: the store's format version and its defaults for the envelope.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::template::yaml;

/// The store format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The tenant used when none is configured anywhere.
pub const DEFAULT_TENANT: &str = "default";

/// The contents of `store.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoreConfig {
    /// The store format; a store from a newer `factory` is refused.
    pub format_version: u32,
    /// The default tenant for events.
    pub tenant: String,
    /// The default project for events.
    #[serde(default)]
    pub project: Option<String>,
    /// The default module for events.
    #[serde(default)]
    pub module: Option<String>,
    /// Broker push settings.
    #[serde(default)]
    pub push: PushConfig,
    /// Registry remotes, in the order `generate` asks them.
    #[serde(default)]
    pub remotes: Vec<Remote>,
    /// Remote settings.
    #[serde(default)]
    pub remote: RemoteConfig,
}

/// One entry of `remotes:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Remote {
    /// The name commands use (`--to NAME`, `NAME/TEMPLATE`).
    pub name: String,
    /// `oci://HOST[:PORT]/NAMESPACE`.
    pub url: String,
    /// Spoken to over plain HTTP (`remote add --plain-http`), as oras and helm do with
    /// `--plain-http`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plain_http: bool,
}

/// `remote:` in store.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteConfig {
    /// The remote `publish` pushes to when no `--to` is given.
    #[serde(default)]
    pub default: Option<String>,
    /// Requests in flight at once to a registry (default 8; `FACTORY_REGISTRY_PARALLEL`
    /// wins).
    #[serde(default)]
    pub parallel: Option<usize>,
}

/// `push:` in store.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushConfig {
    /// Push to `targets` after every command that writes events; a failure only warns.
    #[serde(default)]
    pub auto: bool,
    /// Targets for the automatic push.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Service Bus connection strings by name, for `--to servicebus:NAME` when the
    /// environment has no variable of that name.
    #[serde(default)]
    pub connection_strings: std::collections::BTreeMap<String, String>,
    /// Stop a RabbitMQ push at an event no queue is bound for (default: push it and warn).
    #[serde(default)]
    pub require_route: bool,
}

impl PushConfig {
    /// A Service Bus connection string: the environment variable, else the store's entry.
    pub fn connection_string(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.connection_strings.get(name).cloned())
    }
}

impl StoreConfig {
    /// A new store's configuration.
    pub fn new(tenant: Option<&str>) -> Self {
        StoreConfig {
            format_version: FORMAT_VERSION,
            tenant: tenant.unwrap_or(DEFAULT_TENANT).to_string(),
            project: None,
            module: None,
            push: PushConfig::default(),
            remotes: Vec::new(),
            remote: RemoteConfig::default(),
        }
    }

    /// Reads and checks `store.yaml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        let config: StoreConfig = yaml::from_str(&text, &path.display().to_string())
            .map_err(|e| e.hint("fix store.yaml, or move it aside and run `factory init` again"))?;
        if config.format_version > FORMAT_VERSION {
            return Err(Error::new(format!(
                "{} has format version {}; this factory reads up to {FORMAT_VERSION}",
                path.display(),
                config.format_version
            ))
            .hint("upgrade factory to use this store"));
        }
        Ok(config)
    }

    /// The YAML text written to `store.yaml`.
    pub fn to_yaml(&self) -> String {
        let mut text = String::from("# factory store configuration\n");
        text.push_str(&format!("formatVersion: {}\n", self.format_version));
        text.push_str(&format!("tenant: {}\n", yaml::quote(&self.tenant)));
        for (key, value) in [("project", &self.project), ("module", &self.module)] {
            match value {
                Some(v) => text.push_str(&format!("{key}: {}\n", yaml::quote(v))),
                None => text.push_str(&format!("{key}: null\n")),
            }
        }
        if self.push != PushConfig::default() {
            let push = &self.push;
            text.push_str(&format!("push:\n  auto: {}\n", push.auto));
            text.push_str(&format!("  requireRoute: {}\n", push.require_route));
            text.push_str("  targets:");
            text.push_str(if push.targets.is_empty() {
                " []\n"
            } else {
                "\n"
            });
            for target in &push.targets {
                text.push_str(&format!("    - {}\n", yaml::quote(target)));
            }
            text.push_str("  connectionStrings:");
            text.push_str(if push.connection_strings.is_empty() {
                " {}\n"
            } else {
                "\n"
            });
            for (name, value) in &push.connection_strings {
                text.push_str(&format!(
                    "    {}: {}\n",
                    yaml::quote(name),
                    yaml::quote(value)
                ));
            }
        }
        if !self.remotes.is_empty() {
            text.push_str("remotes:\n");
            for remote in &self.remotes {
                text.push_str(&format!(
                    "  - name: {}\n    url: {}\n",
                    yaml::quote(&remote.name),
                    yaml::quote(&remote.url)
                ));
                if remote.plain_http {
                    text.push_str("    plainHttp: true\n");
                }
            }
        }
        if self.remote != RemoteConfig::default() {
            text.push_str("remote:\n");
            if let Some(default) = &self.remote.default {
                text.push_str(&format!("  default: {}\n", yaml::quote(default)));
            }
            if let Some(parallel) = self.remote.parallel {
                text.push_str(&format!("  parallel: {parallel}\n"));
            }
        }
        text
    }

    /// A remote by name.
    pub fn remote(&self, name: &str) -> Option<&Remote> {
        self.remotes.iter().find(|r| r.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_yaml_written_whole_reads_back_the_same() {
        let mut config = StoreConfig::new(Some("contoso"));
        config.push.auto = true;
        config.push.targets = vec!["amqp://rabbit/%2f".into()];
        config
            .push
            .connection_strings
            .insert("SB".into(), "Endpoint=sb://x/;SharedAccessKey=k".into());
        config.remotes.push(Remote {
            name: "shared".into(),
            url: "oci://127.0.0.1:5000/factory".into(),
            plain_http: true,
        });
        config.remote.default = Some("shared".into());
        config.remote.parallel = Some(16);
        let text = config.to_yaml();
        let read: StoreConfig = yaml::from_str(&text, "store.yaml").unwrap();
        assert_eq!(read, config, "{text}");
    }
}
