//! The subjects of the matrix: the composition's templates, the libraries it names and those
//! its templates declare or require (versions chosen for deeper dependencies are reported in
//! `chosen` only), and the runtime.

use std::collections::BTreeMap;

use semver::Version;

use super::runtime::Runtime;
use super::{Composition, Index, package_and_range};
use crate::template::manifest::RuleKind;

/// The subjects' labels, and the libraries with the versions chosen (or pinned).
pub(super) fn subjects(
    index: &Index,
    composition: &Composition,
    chosen: &BTreeMap<String, String>,
    runtime: Option<&Runtime>,
) -> (Vec<String>, Vec<(String, Option<Version>)>) {
    // Subjects, with the versions chosen (or pinned).
    let mut labels: Vec<String> = composition
        .templates
        .iter()
        .map(|t| t.label.clone())
        .collect();
    let mut libraries: Vec<(String, Option<Version>)> = Vec::new();
    // The matrix's subjects: the libraries named in the composition and those its templates
    // declare or require; versions chosen for deeper dependencies are reported in `chosen`.
    let mut names: Vec<String> = composition
        .libraries
        .iter()
        .filter_map(|(n, _)| Some(index.find(n)?.package_name.clone()))
        .collect();
    for template in &composition.templates {
        let declared = template
            .manifest
            .libraries
            .iter()
            .map(|l| l.package.clone());
        let required = template
            .manifest
            .compatibility
            .iter()
            .filter(|r| r.kind == RuleKind::LibraryRequires)
            .map(|r| package_and_range(&r.expression).0);
        for name in declared.chain(required) {
            if let Some(lib) = index.find(&name).filter(|l| {
                chosen.contains_key(&l.package_name) && !names.contains(&l.package_name)
            }) {
                names.push(lib.package_name.clone());
            }
        }
    }
    for name in names {
        let version = chosen
            .get(&name)
            .cloned()
            .or_else(|| {
                composition
                    .libraries
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    .and_then(|(_, v)| v.clone())
            })
            .and_then(|v| Version::parse(&v).ok());
        labels.push(match &version {
            Some(v) => format!("{name}@{v}"),
            None => name.clone(),
        });
        libraries.push((name, version));
    }
    if let Some(r) = runtime {
        labels.push(r.to_string());
    }

    (labels, libraries)
}
