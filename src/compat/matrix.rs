//! The matrix: a verdict for every pair of subjects, with the rule that decided it; the
//! conflicts found on the way are added to the evaluation's.

use semver::Version;

use super::runtime::{self, Runtime};
use super::{
    Composition, Conflict, ConflictRule, Index, Judgement, Verdict, declared_range,
    dependency_range, package_and_range,
};
use crate::error::{Error, Result};
use crate::template::manifest::RuleKind;

/// Every pair's verdict.
pub(super) fn matrix(
    index: &Index,
    composition: &Composition,
    libraries: &[(String, Option<Version>)],
    runtime: Option<&Runtime>,
    conflicts: &mut Vec<Conflict>,
) -> Result<Vec<Verdict>> {
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
        for (name, version) in libraries {
            let mut verdict = (None, None);
            for l in &t.manifest.libraries {
                if l.package.eq_ignore_ascii_case(name) {
                    let req = declared_range(t, l)?;
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
                        conflicts.push(Conflict {
                            rule: ConflictRule::LibraryConflictsWith,
                            explanation: format!(
                                "{} conflicts with {}, which is in the composition",
                                t.label, rule.expression
                            ),
                        });
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
        if let Some(r) = runtime {
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
                    conflicts.push(Conflict {
                        rule: ConflictRule::RuntimeRequires,
                        explanation: format!(
                            "{} requires runtime {}, but the composition runs on {r}",
                            t.label, rule.expression
                        ),
                    });
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
                        conflicts.push(Conflict {
                            rule: ConflictRule::TemplateConflictsWith,
                            explanation: format!("{} conflicts with template {}", x.label, y.label),
                        });
                    }
                }
            }
            verdicts.push(cell(&t.label, &other.label, verdict.0, verdict.1));
        }
    }
    for (i, (name, version)) in libraries.iter().enumerate() {
        let release = version
            .as_ref()
            .and_then(|v| index.find(name)?.version(&v.to_string()));
        for (other, other_version) in &libraries[i + 1..] {
            let other_release = other_version
                .as_ref()
                .and_then(|v| index.find(other)?.version(&v.to_string()));
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
                    let req = dependency_range(&from_label, dep)?;
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
        if let (Some(r), Some(release)) = (runtime, release) {
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
                conflicts.push(Conflict {
                    rule: ConflictRule::TargetFrameworks,
                    explanation: format!(
                        "{} targets {}, none of which runs on {r}",
                        lib_label(name, version),
                        release.target_frameworks.join(", ")
                    ),
                });
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
    Ok(verdicts)
}
