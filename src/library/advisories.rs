//! Known vulnerabilities from a folder of OSV documents (the format osv.dev publishes),
//! matched by ecosystem, package and affected ranges or versions.

use std::path::Path;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct OsvEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<OsvEvent>,
}

#[derive(Debug, Clone, Deserialize)]
struct OsvAffected {
    package: OsvPackage,
    #[serde(default)]
    ranges: Vec<OsvRange>,
    #[serde(default)]
    versions: Vec<String>,
}

/// One OSV advisory.
#[derive(Debug, Clone, Deserialize)]
pub struct Advisory {
    id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    affected: Vec<OsvAffected>,
}

/// OSV's name for a factory ecosystem.
fn osv_ecosystem(ecosystem: &str) -> &str {
    match ecosystem {
        "nuget" => "NuGet",
        "cargo" => "crates.io",
        "npm" => "npm",
        other => other,
    }
}

fn parse_version(text: &str) -> Option<Version> {
    Version::parse(text)
        .ok()
        .or_else(|| crate::template::ranges::normalise(text).and_then(|v| Version::parse(&v).ok()))
}

/// Whether `version` falls in an OSV range: walk its events in order, switching affected on at
/// `introduced` and off after `fixed` / `last_affected`.
fn in_range(range: &OsvRange, version: &Version) -> bool {
    if range.kind != "SEMVER" && range.kind != "ECOSYSTEM" {
        return false;
    }
    let mut affected = false;
    for event in &range.events {
        if let Some(introduced) = &event.introduced {
            let start = if introduced == "0" {
                Some(Version::new(0, 0, 0))
            } else {
                parse_version(introduced)
            };
            if start.is_some_and(|s| *version >= s) {
                affected = true;
            }
        }
        if let Some(fixed) = event.fixed.as_deref().and_then(parse_version)
            && *version >= fixed
        {
            affected = false;
        }
        if let Some(last) = event.last_affected.as_deref().and_then(parse_version)
            && *version > last
        {
            affected = false;
        }
    }
    affected
}

/// An advisory that affects (or may affect) a package of a graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvisoryMatch {
    /// The advisory's id (GHSA-…, RUSTSEC-…).
    pub id: String,
    /// Other ids (CVE-…).
    pub aliases: Vec<String>,
    /// What it is about.
    pub summary: String,
    /// The package it affects.
    pub package_name: String,
    /// The version (or, when possibly affected, the range).
    pub version: String,
}

impl Advisory {
    /// Whether this advisory affects `package@version` in `ecosystem`.
    pub fn affects(&self, ecosystem: &str, package: &str, version: &str) -> bool {
        let Some(parsed) = parse_version(version) else {
            return false;
        };
        let ecosystem = osv_ecosystem(ecosystem);
        self.affected.iter().any(|a| {
            a.package.ecosystem == ecosystem
                && (if ecosystem == "NuGet" {
                    a.package.name.eq_ignore_ascii_case(package)
                } else {
                    a.package.name == package
                })
                && (a.versions.iter().any(|v| v == version)
                    || a.ranges.iter().any(|r| in_range(r, &parsed)))
        })
    }

    /// Whether some version `range` allows could be affected: for a dependency whose version
    /// its ecosystem does not determine from the range alone.
    pub fn may_affect(&self, ecosystem: &str, package: &str, range: &semver::VersionReq) -> bool {
        let ecosystem = osv_ecosystem(ecosystem);
        let bounds = range
            .comparators
            .iter()
            .map(|c| Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)));
        self.affected.iter().any(|a| {
            let same = a.package.ecosystem == ecosystem
                && (if ecosystem == "NuGet" {
                    a.package.name.eq_ignore_ascii_case(package)
                } else {
                    a.package.name == package
                });
            if !same {
                return false;
            }
            // Candidates: where the range starts and where each affected span starts.
            let starts = a.ranges.iter().flat_map(|r| &r.events).filter_map(|e| {
                e.introduced.as_deref().map(|i| {
                    if i == "0" {
                        Version::new(0, 0, 0)
                    } else {
                        parse_version(i).unwrap_or(Version::new(0, 0, 0))
                    }
                })
            });
            let listed = a.versions.iter().filter_map(|v| parse_version(v));
            bounds
                .clone()
                .chain(starts)
                .chain(listed)
                .any(|v| range.matches(&v) && a.ranges.iter().any(|r| in_range(r, &v)))
        })
    }

    /// The advisory as reported for a match.
    pub fn report(&self, package: &str, version: &str) -> AdvisoryMatch {
        AdvisoryMatch {
            id: self.id.clone(),
            aliases: self.aliases.clone(),
            summary: self.summary.clone(),
            package_name: package.to_string(),
            version: version.to_string(),
        }
    }
}

/// Reads every `*.json` below `dir` as an OSV advisory.
/// Unreadable or malformed files are skipped, each named in the returned warnings, so one bad
/// file does not stop a scan.
pub fn load(dir: &Path) -> Result<(Vec<Advisory>, Vec<String>)> {
    if !dir.is_dir() {
        return Err(
            Error::usage(format!("{} is not a folder of advisories", dir.display()))
                .hint("--advisories takes a folder of OSV documents (*.json)"),
        );
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|x| x != "json") {
            continue;
        }
        let path = entry.path();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                skipped.push(format!("skipped {}: cannot read it: {e}", path.display()));
                continue;
            }
        };
        match serde_json::from_str::<Advisory>(&text) {
            Ok(advisory) => out.push(advisory),
            Err(e) => skipped.push(format!(
                "skipped {}:{}:{}: not an OSV advisory: {e}",
                path.display(),
                e.line(),
                e.column()
            )),
        }
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_switch_on_and_off() {
        let advisory: Advisory = serde_json::from_value(serde_json::json!({
            "id": "GHSA-1", "affected": [{"package": {"ecosystem": "NuGet", "name": "Acme.Json"},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.1.2"}, {"introduced": "5.0.0"}, {"last_affected": "5.0.3"}]}]}]
        }))
        .unwrap();
        assert!(advisory.affects("nuget", "acme.json", "4.1.1"));
        assert!(!advisory.affects("nuget", "Acme.Json", "4.1.2"));
        assert!(advisory.affects("nuget", "Acme.Json", "5.0.3"));
        assert!(!advisory.affects("nuget", "Acme.Json", "5.0.4"));
        assert!(!advisory.affects("npm", "Acme.Json", "4.0.0"));
    }
}
