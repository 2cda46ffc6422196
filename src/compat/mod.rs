//! Compatibility of a composition of template versions, library versions and a runtime:
//! library versions chosen by a real solver (pubgrub) over the versions registered in the
//! store, the manifests' `compatibility:` rules checked, a matrix of verdicts, and for an
//! unsatisfiable composition a derivation a person can follow.

mod matrix;
mod provider;
pub mod runtime;
mod solve;
mod subjects;

use std::collections::BTreeMap;

use pubgrub::Ranges;
use semver::{Comparator, Op, Version, VersionReq};
use serde::Serialize;

use crate::domain::State;
use crate::domain::library;
use crate::error::{Error, Result};
use crate::template::manifest::Manifest;
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

/// Which rule a conflict broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConflictRule {
    /// No choice of library versions satisfies every requirement (the solver's derivation).
    #[serde(rename = "library versions")]
    LibraryVersions,
    /// A template conflicts with a library in the composition.
    LibraryConflictsWith,
    /// A template needs another runtime.
    RuntimeRequires,
    /// Two templates exclude each other.
    TemplateConflictsWith,
    /// A library targets no framework that runs on the runtime.
    #[serde(rename = "targetFrameworks")]
    TargetFrameworks,
}

/// Why a composition is incompatible, for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The rule.
    pub rule: ConflictRule,
    /// What happened, in words.
    pub explanation: String,
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
    pub conflicts: Vec<Conflict>,
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
pub(crate) fn package_and_range(expression: &str) -> (String, Option<VersionReq>) {
    let expression = expression.trim();
    match expression.split_once(char::is_whitespace) {
        Some((name, range)) => (name.to_string(), ranges::parse_range(range).ok()),
        None => (expression.to_string(), None),
    }
}

/// The solver's root package: the composition itself.
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
    let index = Index::new(state);
    let world = provider::world(state, &index, composition)?;
    let (chosen, mut conflicts) = solve::solve(&world)?;
    let (labels, libraries) = subjects::subjects(&index, composition, &chosen, runtime.as_ref());
    let verdicts = matrix::matrix(
        &index,
        composition,
        &libraries,
        runtime.as_ref(),
        &mut conflicts,
    )?;
    let compatible = conflicts.is_empty()
        && !verdicts
            .iter()
            .any(|v| v.verdict == Judgement::Incompatible);
    Ok(Evaluation {
        subjects: labels,
        compatible,
        verdicts,
        conflicts,
        chosen,
    })
}

/// The registered libraries by lower-case name: looked up many times, indexed once
/// (case-insensitive, as NuGet compares).
pub(crate) struct Index<'s> {
    by_name: std::collections::HashMap<String, &'s crate::domain::state::Library>,
}

impl<'s> Index<'s> {
    fn new(state: &'s State) -> Index<'s> {
        Index {
            by_name: state
                .libraries
                .values()
                .map(|l| (l.package_name.to_ascii_lowercase(), l))
                .collect(),
        }
    }

    /// A registered library by name, any case.
    pub(crate) fn find(&self, name: &str) -> Option<&'s crate::domain::state::Library> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }
}

/// The range a template declares for a library, or an error pointing at it.
pub(crate) fn declared_range(
    template: &TemplateSubject,
    library: &crate::template::manifest::LibraryRef,
) -> Result<VersionReq> {
    ranges::parse_range(&library.version).map_err(|e| {
        Error::new(format!(
            "{}: libraries: `{}` version `{}`: {e}",
            template.label, library.package, library.version
        ))
        .hint("write a version range such as \">=4.1.0, <5.0.0\"; `factory validate` checks the manifest")
    })
}

/// A recorded dependency's range as a requirement, or an error naming it.
pub(crate) fn dependency_range(
    from: &str,
    dependency: &crate::domain::events::DependencyRange,
) -> Result<VersionReq> {
    crate::library::resolve::requirement(
        &dependency.range,
        &format!("{from} -> {}", dependency.package_name),
    )
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
            conflicts: evaluation
                .conflicts
                .iter()
                .map(|c| serde_json::to_value(c).expect("conflicts serialize"))
                .collect(),
        },
    )
}

/// One line per conflict, for errors and reports.
pub fn explain(evaluation: &Evaluation) -> String {
    evaluation
        .conflicts
        .iter()
        .map(|c| c.explanation.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
