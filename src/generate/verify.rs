//! `factory verify`: what changed in a generated project since generation, from
//! `.factory/manifest.sha256`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::provenance::MANIFEST_FILE;
use crate::error::{Error, Result};
use crate::hash::{self, PROVENANCE_DIR};

/// Files added, removed or changed since generation.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Drift {
    /// Files that were not generated.
    pub added: Vec<String>,
    /// Generated files that are gone.
    pub removed: Vec<String>,
    /// Generated files whose bytes differ.
    pub changed: Vec<String>,
    /// How many generated files are unchanged.
    pub unchanged: usize,
}

impl Drift {
    /// Whether nothing drifted.
    pub fn is_clean(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Parses `sha256sum` lines into path → hex, undoing coreutils' escapes.
pub fn parse_manifest(text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let (escaped, line) = match line.strip_prefix('\\') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (hex, path) = line
            .split_once("  ")
            .filter(|(hex, _)| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                Error::new(format!(
                    "{PROVENANCE_DIR}/{MANIFEST_FILE}:{}: not a sha256sum line",
                    i + 1
                ))
            })?;
        let path = if escaped {
            path.replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\\\", "\\")
        } else {
            path.to_string()
        };
        out.insert(path, hex.to_string());
    }
    Ok(out)
}

/// Compares a project with its recorded manifest.
pub fn verify(project: &Path) -> Result<Drift> {
    let manifest_path = project.join(PROVENANCE_DIR).join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        Error::io("read", &manifest_path, e)
            .hint("verify works on folders made by `factory generate`")
    })?;
    let recorded = parse_manifest(&text)?;
    let current = parse_manifest(&hash::hash_dir(project)?.manifest)?;
    let mut drift = Drift::default();
    for (path, hex) in &recorded {
        match current.get(path) {
            None => drift.removed.push(path.clone()),
            Some(now) if now != hex => drift.changed.push(path.clone()),
            Some(_) => drift.unchanged += 1,
        }
    }
    drift.added = current
        .keys()
        .filter(|p| !recorded.contains_key(*p))
        .cloned()
        .collect();
    Ok(drift)
}
