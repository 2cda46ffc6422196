//! The `--json` documents of `remote`, `login`, `logout` and `search`.

use crate::app::remote;
use crate::store::config::Remote;

/// A remote as `remote add|list --json` print it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RemoteReport<'a> {
    pub(super) name: &'a str,
    pub(super) url: String,
    pub(super) default: bool,
    pub(super) plain_http: bool,
}

/// `remote list --json`.
#[derive(serde::Serialize)]
pub(super) struct RemotesReport<'a> {
    pub(super) remotes: Vec<RemoteReport<'a>>,
}

/// `remote remove --json`.
#[derive(serde::Serialize)]
pub(super) struct Removed<'a> {
    pub(super) removed: &'a str,
}

/// `login --json`: where the credential went.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LoginReport<'a> {
    pub(super) host: &'a str,
    pub(super) username: &'a str,
    pub(super) stored_in: &'a str,
}

/// `logout --json`.
#[derive(serde::Serialize)]
pub(super) struct LogoutReport<'a> {
    pub(super) host: &'a str,
    pub(super) removed: bool,
}

/// `search --json`: the templates found on the remotes.
#[derive(serde::Serialize)]
pub(super) struct SearchReport<'a> {
    pub(super) templates: &'a [remote::Found],
}

impl<'a> RemotesReport<'a> {
    pub(super) fn of(remotes: &'a [Remote], default: Option<&str>) -> Self {
        let remotes = remotes
            .iter()
            .map(|r| RemoteReport {
                name: &r.name,
                url: r.url.clone(),
                default: default == Some(r.name.as_str()),
                plain_http: r.plain_http,
            })
            .collect();
        RemotesReport { remotes }
    }
}
