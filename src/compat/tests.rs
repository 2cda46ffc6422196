//! `evaluate` on a table of compositions, without the command line or a store.

use super::*;
use crate::domain::DomainEvent;
use crate::domain::events::{DependencyRange, LibraryRegistered, LibraryVersionCreated};

/// A release: its version, `NAME@RANGE` dependencies and target frameworks.
type Release<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);

/// A registry: each library with its releases.
fn registry(libraries: &[(&str, &[Release])]) -> State {
    let mut state = State::default();
    for (n, (name, versions)) in libraries.iter().enumerate() {
        let library_id = format!("lib-{n}");
        let registered = DomainEvent::LibraryRegistered(LibraryRegistered {
            library_id: library_id.clone(),
            package_name: name.to_string(),
            area: None,
            ecosystem: "nuget".into(),
            description: None,
        });
        state.apply("evt", "2026-06-11T09:05:00.000Z", Some(&registered));
        for (m, (version, dependencies, frameworks)) in versions.iter().enumerate() {
            let created = DomainEvent::LibraryVersionCreated(LibraryVersionCreated {
                library_id: library_id.clone(),
                library_version_id: format!("lv-{n}-{m}"),
                version: version.to_string(),
                target_frameworks: frameworks.iter().map(|f| f.to_string()).collect(),
                dependencies: dependencies
                    .iter()
                    .map(|d| {
                        let (package, range) = d.split_once('@').unwrap();
                        DependencyRange {
                            package_name: package.into(),
                            range: range.into(),
                        }
                    })
                    .collect(),
                locked: Vec::new(),
                manifest: None,
            });
            state.apply("evt", "2026-06-11T09:05:00.000Z", Some(&created));
        }
    }
    state
}

fn template(name: &str, body: &str) -> TemplateSubject {
    let text = format!("name: {name}\ncategory: service\n{body}");
    TemplateSubject {
        label: format!("{name}@1.0.0"),
        name: name.into(),
        manifest: Manifest::parse(&text, "template.yaml").unwrap(),
        selected: None,
    }
}

struct Case {
    name: &'static str,
    templates: Vec<TemplateSubject>,
    libraries: Vec<(&'static str, Option<&'static str>)>,
    runtime: Option<&'static str>,
    compatible: bool,
    /// Text every conflict explanation together must hold.
    explains: &'static str,
}

#[test]
fn compositions_are_judged_as_the_table_says() {
    let state = registry(&[
        (
            "Acme.Json",
            &[("4.1.0", &[], &["net8.0"]), ("5.0.0", &[], &["net8.0"])],
        ),
        (
            "Acme.Data",
            &[("2.0.0", &["Acme.Json@>=5.0.0"], &["net8.0"])],
        ),
        ("Acme.Old", &[("1.0.0", &[], &["net6.0"])]),
    ]);
    let json4 = "libraries:\n  - package: Acme.Json\n    version: \">=4.1.0, <5.0.0\"\n";
    let cases = vec![
        Case {
            name: "a declared range the registry satisfies",
            templates: vec![template("svc", json4)],
            libraries: vec![],
            runtime: None,
            compatible: true,
            explains: "",
        },
        Case {
            name: "two requirers that cannot share a version",
            templates: vec![template("svc", json4)],
            libraries: vec![("Acme.Data", Some("2.0.0"))],
            runtime: None,
            compatible: false,
            explains: "Acme.Data 2.0.0 depends on Acme.Json >=5.0.0",
        },
        Case {
            name: "a library the template conflicts with",
            templates: vec![template(
                "svc",
                "compatibility:\n  - kind: LibraryConflictsWith\n    expression: Acme.Old\n",
            )],
            libraries: vec![("Acme.Old", Some("1.0.0"))],
            runtime: None,
            compatible: false,
            explains: "conflicts with Acme.Old",
        },
        Case {
            name: "a runtime below what the template requires",
            templates: vec![template(
                "svc",
                "compatibility:\n  - kind: RuntimeRequires\n    expression: \">= net8.0\"\n",
            )],
            libraries: vec![],
            runtime: Some("net6.0"),
            compatible: false,
            explains: "requires runtime >= net8.0",
        },
        Case {
            name: "a library whose frameworks do not run on the runtime",
            templates: vec![],
            libraries: vec![("Acme.Json", Some("4.1.0"))],
            runtime: Some("net6.0"),
            compatible: false,
            explains: "none of which runs on net6.0",
        },
        Case {
            name: "two templates that exclude each other",
            templates: vec![
                template(
                    "a",
                    "compatibility:\n  - kind: TemplateConflictsWith\n    expression: b\n",
                ),
                template("b", ""),
            ],
            libraries: vec![],
            runtime: None,
            compatible: false,
            explains: "conflicts with template b@1.0.0",
        },
    ];
    for case in cases {
        let composition = Composition {
            templates: case.templates,
            libraries: case
                .libraries
                .iter()
                .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
                .collect(),
            runtime: case.runtime.map(str::to_string),
        };
        let evaluation = evaluate(&state, &composition).unwrap();
        assert_eq!(evaluation.compatible, case.compatible, "{}", case.name);
        let explained = explain(&evaluation);
        assert!(
            explained.contains(case.explains),
            "{}: {explained}",
            case.name
        );
    }
}

#[test]
fn the_solver_chooses_the_newest_version_in_range() {
    let state = registry(&[(
        "Acme.Json",
        &[
            ("4.1.0", &[], &[]),
            ("4.2.0", &[], &[]),
            ("5.0.0", &[], &[]),
        ],
    )]);
    let composition = Composition {
        templates: vec![template(
            "svc",
            "libraries:\n  - package: Acme.Json\n    version: \">=4.1.0, <5.0.0\"\n",
        )],
        ..Default::default()
    };
    let evaluation = evaluate(&state, &composition).unwrap();
    assert_eq!(evaluation.chosen["Acme.Json"], "4.2.0");
    assert_eq!(evaluation.subjects, ["svc@1.0.0", "Acme.Json@4.2.0"]);
}

#[test]
fn a_declared_range_that_does_not_parse_is_an_error_naming_it() {
    let state = registry(&[("Acme.Json", &[("4.1.0", &[], &[])])]);
    let composition = Composition {
        templates: vec![template(
            "svc",
            "libraries:\n  - package: Acme.Json\n    version: \"not a range\"\n",
        )],
        ..Default::default()
    };
    let err = evaluate(&state, &composition).unwrap_err();
    assert!(
        err.message.contains("svc@1.0.0") && err.message.contains("not a range"),
        "{}",
        err.message
    );
}
