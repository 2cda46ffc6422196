//! Upgrade advice: for a set of library requirements, the newest registered versions that
//! still satisfy every constraint (the requirers' ranges and the chosen versions' own
//! dependencies on each other).

use std::collections::BTreeMap;

use semver::{Version, VersionReq};
use serde::Serialize;

use super::resolve::{requirement, settle};
use crate::domain::events::DependencyRange;
use crate::domain::state::State;
use crate::error::Result;

/// One recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advice {
    /// The package.
    pub package_name: String,
    /// The range asked for.
    pub range: String,
    /// The newest registered version that fits, if any.
    pub recommended: Option<String>,
    /// Why there is none, or what limited it.
    pub note: Option<String>,
}

/// Advice for `requirements` over the libraries registered in `state`.
pub fn advise(state: &State, requirements: &[DependencyRange]) -> Result<Vec<Advice>> {
    let mut asked: BTreeMap<String, (&DependencyRange, VersionReq)> = BTreeMap::new();
    for r in requirements {
        let req = requirement(&r.range, &r.package_name)?;
        asked.insert(r.package_name.to_ascii_lowercase(), (r, req));
    }
    let mut notes: BTreeMap<String, String> = BTreeMap::new();
    // Each library at its newest version allowed by its requirer and by what the other
    // chosen versions require of it.
    let chosen = settle(|chosen: &BTreeMap<String, Version>| {
        let mut next = BTreeMap::new();
        for (key, (_, req)) in &asked {
            let Some(library) = state.library(key) else {
                continue;
            };
            let mut constraints: Vec<(String, VersionReq)> = Vec::new();
            for (other, v) in chosen.iter().filter(|(other, _)| *other != key) {
                let Some(lib) = state.library(other) else {
                    continue;
                };
                let Some(lv) = lib.version(&v.to_string()) else {
                    continue;
                };
                if let Some(d) = lv
                    .dependencies
                    .iter()
                    .find(|d| d.package_name.eq_ignore_ascii_case(key))
                {
                    let by = format!("{}@{v}", lib.package_name);
                    let req = requirement(&d.range, &format!("{by} -> {}", d.package_name))?;
                    constraints.push((by, req));
                }
            }
            let mut versions: Vec<Version> = library
                .versions
                .iter()
                .filter_map(|v| Version::parse(&v.version).ok())
                .collect();
            versions.sort();
            let best = versions
                .iter()
                .rev()
                .find(|v| req.matches(v) && constraints.iter().all(|(_, c)| c.matches(v)));
            match best {
                Some(v) => {
                    if let Some(newest) = versions.iter().rev().find(|n| req.matches(n))
                        && newest != v
                    {
                        let by: Vec<&str> = constraints
                            .iter()
                            .filter(|(_, c)| !c.matches(newest))
                            .map(|(b, _)| b.as_str())
                            .collect();
                        notes.insert(
                            key.clone(),
                            format!("{newest} is newer but {} does not allow it", by.join(", ")),
                        );
                    } else {
                        notes.remove(key);
                    }
                    next.insert(key.clone(), v.clone());
                }
                None => {
                    notes.insert(
                        key.clone(),
                        "no registered version satisfies every constraint".into(),
                    );
                }
            }
        }
        Ok(next)
    })?;
    Ok(asked
        .iter()
        .map(|(key, (r, _))| Advice {
            package_name: r.package_name.clone(),
            range: r.range.clone(),
            recommended: chosen.get(key).map(Version::to_string),
            note: if state.library(key).is_none() {
                Some("not registered in the store".into())
            } else {
                notes.get(key).cloned()
            },
        })
        .collect())
}
