//! What `publish`, `pull` and `remote` print about a registry transfer, as people and
//! scripts (`--json`) read it.

use serde::Serialize;

use super::generate::human_size;
use super::{App, out};
use crate::app::registry::{Pulled, Pushed};

/// A pull, as `--json` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PulledReport<'a> {
    remote: &'a str,
    template: &'a str,
    version: &'a str,
    content_hash: &'a str,
    artifact: &'a str,
    events: &'a [String],
    blobs_fetched: u64,
    bytes_received: u64,
    requests: u64,
}

impl<'a> PulledReport<'a> {
    pub(crate) fn of(pulled: &'a Pulled) -> PulledReport<'a> {
        PulledReport {
            remote: &pulled.remote,
            template: &pulled.template,
            version: &pulled.version,
            content_hash: &pulled.content_hash,
            artifact: &pulled.artifact,
            events: &pulled.events,
            blobs_fetched: pulled.blobs_fetched as u64,
            bytes_received: pulled.traffic.bytes_received,
            requests: pulled.traffic.requests,
        }
    }
}

/// A push, as `--json` prints it (within `publish`'s report).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PushedReport<'a> {
    remote: &'a str,
    artifact: &'a str,
    already_there: bool,
    blob_count: u64,
    blobs_uploaded: u64,
    blobs_mounted: u64,
    bytes_sent: u64,
    requests: u64,
    indexed: bool,
}

impl<'a> PushedReport<'a> {
    pub(crate) fn of(pushed: &'a Pushed) -> PushedReport<'a> {
        PushedReport {
            remote: &pushed.remote,
            artifact: &pushed.artifact,
            already_there: pushed.already_there,
            blob_count: pushed.blob_count as u64,
            blobs_uploaded: pushed.blobs_uploaded as u64,
            blobs_mounted: pushed.blobs_mounted as u64,
            bytes_sent: pushed.traffic.bytes_sent,
            requests: pushed.traffic.requests,
            indexed: pushed.indexed,
        }
    }
}

/// A push, for people.
pub(crate) fn print_pushed(app: &App, pushed: &Pushed) {
    let verb = if pushed.already_there {
        "Already on"
    } else {
        "Pushed to"
    };
    out!(
        app.printer,
        "{verb} {}: {}\n  {} of {} blobs uploaded ({} mounted), {} sent in {} requests",
        pushed.remote,
        pushed.artifact,
        pushed.blobs_uploaded,
        pushed.blob_count,
        pushed.blobs_mounted,
        human_size(pushed.traffic.bytes_sent),
        pushed.traffic.requests
    );
}
