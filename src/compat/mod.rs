//! Compatibility of a composition of template versions, library versions and a runtime:
//! library versions chosen by a real solver (pubgrub) over the versions registered in the
//! store, the manifests' `compatibility:` rules checked, a matrix of verdicts, and for an
//! unsatisfiable composition a derivation a person can follow.

pub mod runtime;

use std::collections::BTreeMap;

use pubgrub::{DefaultStringReporter, OfflineDependencyProvider, PubGrubError, Ranges, Reporter};
use semver::{Comparator, Op, Version, VersionReq};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::State;
use crate::domain::library;
use crate::error::{Error, Result};
use crate::template::manifest::{Manifest, RuleKind};
use crate::template::ranges;
use runtime::Runtime;

/// A template in a composition: its label and manifest.
#[derive(Debug, Clone)]
pub struct TemplateSubject {
    /// `Name@version`.
    pub label: String,
    /// The template's name.
    pub name: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// Library packages whose `if` holds (None: every declared library counts).
    pub selected: Option<Vec<String>>,
}

/// What to judge.
#[derive(Debug, Clone, Default)]
pub struct Composition {
    /// Templates.
    pub templates: Vec<TemplateSubject>,
    /// Libraries: name and, when pinned, a version.
    pub libraries: Vec<(String, Option<String>)>,
    /// The runtime, if named.
    pub runtime: Option<String>,
}

/// What the matrix says of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Judgement {
    /// No rule and no requirement says no.
    #[serde(rename = "compatible")]
    Compatible,
    /// A rule or a requirement says no.
    #[serde(rename = "incompatible")]
    Incompatible,
    /// Nothing relates the two.
    #[serde(rename = "not related")]
    NotRelated,
}

impl std::fmt::Display for Judgement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `{:<13}` in the matrix pads what this writes.
        f.pad(match self {
            Judgement::Compatible => "compatible",
            Judgement::Incompatible => "incompatible",
            Judgement::NotRelated => "not related",
        })
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// A subject.
    pub a: String,
    /// Another.
    pub b: String,
    /// `compatible`, `incompatible` or `not related`.
    pub verdict: Judgement,
    /// The rule that decided it.
    pub rule: Option<String>,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Subjects, labelled with chosen versions.
    pub subjects: Vec<String>,
    /// Whether everything fits.
    pub compatible: bool,
    /// The matrix, one entry per pair.
    pub verdicts: Vec<Verdict>,
    /// Why not, each with its explanation.
    pub conflicts: Vec<Value>,
    /// Chosen library versions.
    pub chosen: BTreeMap<String, String>,
}

/// A semver requirement as a pubgrub version set.
pub fn to_ranges(req: &VersionReq) -> Ranges<Version> {
    req.comparators
        .iter()
        .fold(Ranges::full(), |acc, c| acc.intersection(&comparator(c)))
}

fn comparator(c: &Comparator) -> Ranges<Version> {
    let low = Version {
        major: c.major,
        minor: c.minor.unwrap_or(0),
        patch: c.patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: Default::default(),
    };
    // The first version past a partial one: 1.2 → 1.3.0, 1 → 2.0.0.
    let past = match (c.minor, c.patch) {
        (Some(m), Some(p)) => Version::new(c.major, m, p + 1),
        (Some(m), None) => Version::new(c.major, m + 1, 0),
        (None, _) => Version::new(c.major + 1, 0, 0),
    };
    match c.op {
        Op::Exact | Op::Wildcard => match (c.minor, c.patch) {
            (Some(_), Some(_)) => Ranges::singleton(low),
            _ => Ranges::between(low, past),
        },
        Op::Greater => match (c.minor, c.patch) {
            (Some(_), Some(_)) => Ranges::strictly_higher_than(low),
            _ => Ranges::higher_than(past),
        },
        Op::GreaterEq => Ranges::higher_than(low),
        Op::Less => Ranges::strictly_lower_than(low),
        Op::LessEq => match (c.minor, c.patch) {
            (Some(_), Some(_)) => Ranges::lower_than(low),
            _ => Ranges::strictly_lower_than(past),
        },
        Op::Tilde => {
            let upper = match c.minor {
                Some(m) => Version::new(c.major, m + 1, 0),
                None => Version::new(c.major + 1, 0, 0),
            };
            Ranges::between(low, upper)
        }
        Op::Caret => {
            let upper = match (c.major, c.minor, c.patch) {
                (0, Some(0), Some(p)) => Version::new(0, 0, p + 1),
                (0, Some(0), None) => Version::new(0, 1, 0),
                (0, Some(m), _) => Version::new(0, m + 1, 0),
                (major, _, _) => Version::new(major + 1, 0, 0),
            };
            Ranges::between(low, upper)
        }
        _ => Ranges::full(),
    }
}

/// `Package [range]` from a `LibraryRequires` / `LibraryConflictsWith` expression.
fn package_and_range(expression: &str) -> (String, Option<VersionReq>) {
    let expression = expression.trim();
    match expression.split_once(char::is_whitespace) {
        Some((name, range)) => (name.to_string(), ranges::parse_range(range).ok()),
        None => (expression.to_string(), None),
    }
}

const ROOT: &str = "the composition";

/// Judges a composition against the libraries registered in `state`.
pub fn evaluate(state: &State, composition: &Composition) -> Result<Evaluation> {
    let runtime = match &composition.runtime {
        Some(text) => Some(Runtime::parse(text).ok_or_else(|| {
            Error::usage(format!("`{text}` is not a runtime"))
                .hint("name a target framework such as net8.0, netstandard2.0 or node18")
        })?),
        None => None,
    };
    for (name, _) in &composition.libraries {
        library::find(state, name)?;
    }
    // Names are looked up many times; index them once (case-insensitive, as NuGet compares).
    let by_name: std::collections::HashMap<String, &crate::domain::state::Library> = state
        .libraries
        .values()
        .map(|l| (l.package_name.to_ascii_lowercase(), l))
        .collect();
    let find = |name: &str| by_name.get(&name.to_ascii_lowercase()).copied();
    // The solver's world: every registered library version with its dependencies on other
    // registered libraries; each template a package depending on what it declares; a root
    // depending on the composition.
    let mut provider: OfflineDependencyProvider<String, Ranges<Version>> =
        OfflineDependencyProvider::new();
    for lib in state.libraries.values() {
        for v in &lib.versions {
            let Ok(version) = Version::parse(&v.version) else {
                continue;
            };
            let deps: Vec<(String, Ranges<Version>)> = v
                .dependencies
                .iter()
                .filter_map(|d| {
                    let target = find(&d.package_name)?;
                    Some((
                        target.package_name.clone(),
                        to_ranges(&VersionReq::parse(&d.range).unwrap_or(VersionReq::STAR)),
                    ))
                })
                .collect();
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
            if let (true, Some(lib)) = (selected, find(&library.package)) {
                let req = ranges::parse_range(&library.version).unwrap_or(VersionReq::STAR);
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
            if let Some(lib) = find(&name) {
                deps.push((
                    lib.package_name.clone(),
                    req.as_ref().map_or(Ranges::full(), to_ranges),
                ));
            }
        }
        let package = format!("template {}", template.name);
        let version = template
            .label
            .rsplit_once('@')
            .and_then(|(_, v)| Version::parse(v).ok())
            .unwrap_or(Version::new(0, 0, 0));
        provider.add_dependencies(package.clone(), version.clone(), deps);
        root_deps.push((package, Ranges::singleton(version)));
    }
    provider.add_dependencies(ROOT.to_string(), Version::new(0, 0, 0), root_deps);

    let mut conflicts = Vec::new();
    let mut chosen: BTreeMap<String, String> = BTreeMap::new();
    match pubgrub::resolve(&provider, ROOT.to_string(), Version::new(0, 0, 0)) {
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
            conflicts.push(json!({"rule": "library versions", "explanation": explanation}));
        }
        Err(e) => return Err(Error::new(format!("the compatibility solver failed: {e}"))),
    }

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
        .filter_map(|(n, _)| Some(find(n)?.package_name.clone()))
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
            if let Some(lib) = find(&name).filter(|l| {
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
    if let Some(r) = &runtime {
        labels.push(r.to_string());
    }

    // The matrix.
    let mut verdicts = Vec::new();
    let cell = |a: &str, b: &str, ok: Option<bool>, rule: Option<String>| Verdict {
        a: a.to_string(),
        b: b.to_string(),
        verdict: match ok {
            Some(true) => Judgement::Compatible,
            Some(false) => Judgement::Incompatible,
            None => Judgement::NotRelated,
        },
        rule,
    };
    let lib_label = |name: &str, v: &Option<Version>| {
        v.as_ref()
            .map_or(name.to_string(), |v| format!("{name}@{v}"))
    };
    for (i, t) in composition.templates.iter().enumerate() {
        for (name, version) in &libraries {
            let mut verdict = (None, None);
            for l in &t.manifest.libraries {
                if l.package.eq_ignore_ascii_case(name) {
                    let req = ranges::parse_range(&l.version).unwrap_or(VersionReq::STAR);
                    verdict = (
                        version.as_ref().map(|v| req.matches(v)),
                        Some(format!("{} declares {} {}", t.name, l.package, l.version)),
                    );
                }
            }
            for rule in &t.manifest.compatibility {
                let (package, req) = package_and_range(&rule.expression);
                if !package.eq_ignore_ascii_case(name) {
                    continue;
                }
                let matches = version
                    .as_ref()
                    .is_none_or(|v| req.as_ref().is_none_or(|r| r.matches(v)));
                match rule.kind {
                    RuleKind::LibraryConflictsWith if matches => {
                        verdict = (
                            Some(false),
                            Some(format!("{} conflicts with {}", t.name, rule.expression)),
                        );
                        conflicts.push(json!({"rule": "LibraryConflictsWith", "explanation": format!("{} conflicts with {}, which is in the composition", t.label, rule.expression)}));
                    }
                    RuleKind::LibraryRequires => {
                        verdict = (
                            version
                                .as_ref()
                                .map(|v| req.as_ref().is_none_or(|r| r.matches(v))),
                            Some(format!("{} requires {}", t.name, rule.expression)),
                        );
                    }
                    _ => {}
                }
            }
            verdicts.push(cell(
                &t.label,
                &lib_label(name, version),
                verdict.0,
                verdict.1,
            ));
        }
        if let Some(r) = &runtime {
            let mut verdict = (None, None);
            for rule in t
                .manifest
                .compatibility
                .iter()
                .filter(|r| r.kind == RuleKind::RuntimeRequires)
            {
                let ok = runtime::satisfies(r, &rule.expression).ok_or_else(|| {
                    Error::new(format!(
                        "{}: RuntimeRequires `{}` is not a runtime expression",
                        t.label, rule.expression
                    ))
                    .hint("write it like >= net8.0")
                })?;
                if !ok {
                    conflicts.push(json!({"rule": "RuntimeRequires", "explanation": format!("{} requires runtime {}, but the composition runs on {r}", t.label, rule.expression)}));
                }
                verdict = (
                    Some(ok && verdict.0 != Some(false)),
                    Some(format!("{} requires runtime {}", t.name, rule.expression)),
                );
            }
            verdicts.push(cell(&t.label, &r.to_string(), verdict.0, verdict.1));
        }
        for other in &composition.templates[i + 1..] {
            let mut verdict = (None, None);
            for (x, y) in [(t, other), (other, t)] {
                for rule in x
                    .manifest
                    .compatibility
                    .iter()
                    .filter(|r| r.kind == RuleKind::TemplateConflictsWith)
                {
                    if rule.expression.trim() == y.name {
                        verdict = (
                            Some(false),
                            Some(format!("{} conflicts with template {}", x.name, y.name)),
                        );
                        conflicts.push(json!({"rule": "TemplateConflictsWith", "explanation": format!("{} conflicts with template {}", x.label, y.label)}));
                    }
                }
            }
            verdicts.push(cell(&t.label, &other.label, verdict.0, verdict.1));
        }
    }
    for (i, (name, version)) in libraries.iter().enumerate() {
        let release = version
            .as_ref()
            .and_then(|v| find(name)?.version(&v.to_string()));
        for (other, other_version) in &libraries[i + 1..] {
            let other_release = other_version
                .as_ref()
                .and_then(|v| find(other)?.version(&v.to_string()));
            let mut verdict = (None, None);
            for (from, from_label, to, to_version) in [
                (release, lib_label(name, version), other, other_version),
                (
                    other_release,
                    lib_label(other, other_version),
                    name,
                    version,
                ),
            ] {
                if let Some(dep) = from.and_then(|r| {
                    r.dependencies
                        .iter()
                        .find(|d| d.package_name.eq_ignore_ascii_case(to))
                }) {
                    let req = VersionReq::parse(&dep.range).unwrap_or(VersionReq::STAR);
                    verdict = (
                        to_version.as_ref().map(|v| req.matches(v)),
                        Some(format!(
                            "{from_label} depends on {} {}",
                            dep.package_name, dep.range
                        )),
                    );
                }
            }
            verdicts.push(cell(
                &lib_label(name, version),
                &lib_label(other, other_version),
                verdict.0,
                verdict.1,
            ));
        }
        if let (Some(r), Some(release)) = (&runtime, release) {
            let fits = release
                .target_frameworks
                .iter()
                .filter_map(|f| runtime::runs_on(f, r))
                .collect::<Vec<_>>();
            let verdict = if fits.is_empty() {
                None
            } else {
                Some(fits.iter().any(|ok| *ok))
            };
            if verdict == Some(false) {
                conflicts.push(json!({"rule": "targetFrameworks", "explanation": format!("{} targets {}, none of which runs on {r}", lib_label(name, version), release.target_frameworks.join(", "))}));
            }
            verdicts.push(cell(
                &lib_label(name, version),
                &r.to_string(),
                verdict,
                Some(format!(
                    "{} targets {}",
                    name,
                    release.target_frameworks.join(", ")
                )),
            ));
        }
    }
    let compatible = conflicts.is_empty() && !verdicts.iter().any(|v| v.verdict == Judgement::Incompatible);
    Ok(Evaluation {
        subjects: labels,
        compatible,
        verdicts,
        conflicts,
        chosen,
    })
}

/// The event recording an evaluation.
pub fn event(scope: &str, evaluation: &Evaluation) -> crate::domain::DomainEvent {
    crate::domain::DomainEvent::CompatibilityEvaluated(
        crate::domain::events::CompatibilityEvaluated {
            matrix_id: crate::ids::new_id(crate::ids::MATRIX),
            scope: scope.to_string(),
            subjects: evaluation.subjects.clone(),
            compatible: evaluation.compatible,
            verdicts: evaluation
                .verdicts
                .iter()
                .map(|v| serde_json::to_value(v).expect("verdicts serialize"))
                .collect(),
            conflicts: evaluation.conflicts.clone(),
        },
    )
}

/// One line per conflict, for errors and reports.
pub fn explain(evaluation: &Evaluation) -> String {
    evaluation
        .conflicts
        .iter()
        .map(|c| c["explanation"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
