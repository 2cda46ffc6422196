//! The solver's world: every registered library version with its dependencies on other
//! registered libraries; each template a package depending on what it declares; a root
//! depending on the composition.

use pubgrub::{OfflineDependencyProvider, Ranges};
use semver::Version;

use super::{
    Composition, Index, ROOT, declared_range, dependency_range, package_and_range, to_ranges,
};
use crate::domain::State;
use crate::domain::library;
use crate::error::{Error, Result};
use crate::template::manifest::RuleKind;
use crate::template::ranges;

/// What pubgrub solves over.
pub(super) type World = OfflineDependencyProvider<String, Ranges<Version>>;

/// Builds the world of a composition.
pub(super) fn world(state: &State, index: &Index, composition: &Composition) -> Result<World> {
    let mut provider = World::new();
    for lib in state.libraries.values() {
        for v in &lib.versions {
            let Ok(version) = Version::parse(&v.version) else {
                continue;
            };
            let mut deps: Vec<(String, Ranges<Version>)> = Vec::new();
            for d in &v.dependencies {
                if let Some(target) = index.find(&d.package_name) {
                    let from = format!("{}@{}", lib.package_name, v.version);
                    let req = dependency_range(&from, d)?;
                    deps.push((target.package_name.clone(), to_ranges(&req)));
                }
            }
            provider.add_dependencies(lib.package_name.clone(), version, deps);
        }
    }
    let mut root_deps: Vec<(String, Ranges<Version>)> = Vec::new();
    for (name, version) in &composition.libraries {
        let lib = library::find(state, name)?;
        let set = match version {
            Some(v) => {
                let parsed = Version::parse(&ranges::normalise(v).unwrap_or_else(|| v.clone()))
                    .map_err(|e| Error::usage(format!("{name}@{v}: {e}")))?;
                Ranges::singleton(parsed)
            }
            None => Ranges::full(),
        };
        root_deps.push((lib.package_name.clone(), set));
    }
    for template in &composition.templates {
        let mut deps = Vec::new();
        for library in &template.manifest.libraries {
            let selected = template
                .selected
                .as_ref()
                .is_none_or(|s| s.iter().any(|p| p.eq_ignore_ascii_case(&library.package)));
            if let (true, Some(lib)) = (selected, index.find(&library.package)) {
                let req = declared_range(template, library)?;
                deps.push((lib.package_name.clone(), to_ranges(&req)));
            }
        }
        for rule in template
            .manifest
            .compatibility
            .iter()
            .filter(|r| r.kind == RuleKind::LibraryRequires)
        {
            let (name, req) = package_and_range(&rule.expression);
            if let Some(lib) = index.find(&name) {
                deps.push((
                    lib.package_name.clone(),
                    req.as_ref().map_or(Ranges::full(), to_ranges),
                ));
            }
        }
        let package = format!("template {}", template.name);
        let version = crate::domain::Reference::parse(&template.label)
            .version
            .and_then(|v| Version::parse(v).ok())
            .unwrap_or(Version::new(0, 0, 0));
        provider.add_dependencies(package.clone(), version.clone(), deps);
        root_deps.push((package, Ranges::singleton(version)));
    }
    provider.add_dependencies(ROOT.to_string(), Version::new(0, 0, 0), root_deps);

    Ok(provider)
}
