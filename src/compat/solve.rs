//! Choosing library versions: pubgrub over the world, and for a composition without a
//! solution the derivation a person can follow.

use std::collections::BTreeMap;

use pubgrub::{DefaultStringReporter, PubGrubError, Reporter};
use semver::Version;

use super::provider::World;
use super::{Conflict, ConflictRule, ROOT};
use crate::error::{Error, Result};

/// The versions chosen (by package), or the conflict that prevents a choice.
pub(super) fn solve(world: &World) -> Result<(BTreeMap<String, String>, Vec<Conflict>)> {
    let mut conflicts = Vec::new();
    let mut chosen: BTreeMap<String, String> = BTreeMap::new();
    match pubgrub::resolve(world, ROOT.to_string(), Version::new(0, 0, 0)) {
        Ok(solution) => {
            for (package, version) in solution {
                if package != ROOT && !package.starts_with("template ") {
                    chosen.insert(package, version.to_string());
                }
            }
        }
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let explanation = DefaultStringReporter::report(&tree)
                .replace("the composition 0.0.0", "the composition");
            conflicts.push(Conflict {
                rule: ConflictRule::LibraryVersions,
                explanation,
            });
        }
        Err(e) => return Err(Error::new(format!("the compatibility solver failed: {e}"))),
    }

    Ok((chosen, conflicts))
}
