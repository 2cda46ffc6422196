//! Compatibility: table-driven cases over the four constraint kinds with semver and NuGet
//! ranges, the event flow (publish, scan) and the gate in generate.

mod common;

use common::Env;
use serde_json::Value;

fn template(env: &Env, name: &str, yaml_tail: &str) {
    let dir = env.template(
        name,
        &[(
            "template.yaml",
            &format!("name: {name}\ncategory: service\nparameters:\n  - name: db\n    type: choice\n    choices: [json, none]\n    default: json\n{yaml_tail}"),
        ), ("README.md", "{{ db }}\n")],
    );
    env.run(&["register", dir.to_str().unwrap()]).ok();
    env.run(&["version", name, "--version", "1.0.0"]).ok();
    env.run(&["validate", &format!("{name}@1.0.0")]).ok();
    env.run(&["publish", &format!("{name}@1.0.0")]).ok();
}

/// The fixture: libraries with versions and dependencies, and three templates.
fn fixture() -> Env {
    let env = Env::new();
    let lib = |name: &str, versions: &[(&str, &[&str])]| {
        env.run(&["library", "register", name]).ok();
        for (version, deps) in versions {
            let mut args = vec!["library", "version", name, version];
            for dep in *deps {
                args.push("--dep");
                args.push(dep);
            }
            env.run(&args).ok();
        }
    };
    lib(
        "Acme.Json",
        &[
            ("3.0.0", &[]),
            ("4.0.0", &[]),
            ("4.1.0", &[]),
            ("4.5.0", &[]),
            ("5.0.0", &[]),
        ],
    );
    lib(
        "Acme.Data",
        &[
            ("1.0.0", &["Acme.Json@>=4.0.0, <5.0.0"]),
            ("2.0.0", &["Acme.Json@>=5.0.0"]),
        ],
    );
    lib("Acme.Bus", &[("0.5.0", &[]), ("1.0.0", &[])]);
    lib("NServiceBus", &[("8.0.0", &[])]);
    env.run(&["library", "register", "Acme.Legacy"]).ok();
    env.run(&[
        "library",
        "version",
        "Acme.Legacy",
        "1.0.0",
        "--dep",
        "Acme.Json@[3.0,4.0)",
        "--framework",
        "net6.0",
    ])
    .ok();
    template(
        &env,
        "svc",
        "libraries:\n  - package: Acme.Json\n    version: \">=4.1.0, <5.0.0\"\n    if: \"db == 'json'\"\ncompatibility:\n  - kind: RuntimeRequires\n    expression: \">= net8.0\"\n  - kind: LibraryConflictsWith\n    expression: NServiceBus\n  - kind: TemplateConflictsWith\n    expression: legacy-svc\n",
    );
    template(
        &env,
        "legacy-svc",
        "libraries:\n  - package: Acme.Legacy\n    version: \"[1.0,2.0)\"\n",
    );
    template(
        &env,
        "worker",
        "compatibility:\n  - kind: LibraryRequires\n    expression: \"Acme.Bus >=1.0\"\n",
    );
    env
}

/// Arguments, exit code, texts the output must hold, chosen versions.
type Case<'a> = (&'a [&'a str], i32, &'a [&'a str], &'a [(&'a str, &'a str)]);

#[test]
fn compositions_are_judged_with_explanations() {
    let env = fixture();
    let cases: &[Case] = &[
        (&["svc"], 0, &["compatible"], &[("Acme.Json", "4.5.0")]),
        (
            &["svc", "--with", "Acme.Json@4.0.0"],
            3,
            &["template svc 1.0.0", "Acme.Json"],
            &[],
        ),
        (
            &["svc", "--with", "Acme.Data"],
            0,
            &["compatible"],
            &[("Acme.Data", "1.0.0"), ("Acme.Json", "4.5.0")],
        ),
        (
            &["svc", "--with", "Acme.Data@2.0.0"],
            3,
            &[
                "Acme.Data 2.0.0 depends on Acme.Json",
                "template svc 1.0.0 depends on Acme.Json",
            ],
            &[],
        ),
        (
            &["svc", "--runtime", "net8.0"],
            0,
            &["svc requires runtime >= net8.0"],
            &[],
        ),
        (
            &["svc", "--runtime", "net6.0"],
            3,
            &["svc@1.0.0 requires runtime >= net8.0, but the composition runs on net6.0"],
            &[],
        ),
        (
            &["svc", "--with", "NServiceBus@8.0.0"],
            3,
            &["svc@1.0.0 conflicts with NServiceBus, which is in the composition"],
            &[],
        ),
        (
            &["svc", "legacy-svc"],
            3,
            &["svc@1.0.0 conflicts with template legacy-svc@1.0.0"],
            &[],
        ),
        (
            &["worker"],
            0,
            &["worker requires Acme.Bus >=1.0"],
            &[("Acme.Bus", "1.0.0")],
        ),
        (
            &["worker", "--with", "Acme.Bus@0.5.0"],
            3,
            &["Acme.Bus"],
            &[],
        ),
        (
            &["--with", "Acme.Legacy@1.0.0", "--runtime", "net8.0"],
            0,
            &["Acme.Legacy targets net6.0"],
            &[("Acme.Json", "3.0.0")],
        ),
        (
            &["--with", "Acme.Legacy@1.0.0", "--runtime", "net5.0"],
            3,
            &["Acme.Legacy@1.0.0 targets net6.0, none of which runs on net5.0"],
            &[],
        ),
        (
            &["--with", "Acme.Data", "--with", "Acme.Legacy"],
            3,
            &["Acme.Legacy", "Acme.Data", "Acme.Json"],
            &[],
        ),
        (
            &["legacy-svc@1.0.0", "--with", "Acme.Json@3.0.0"],
            0,
            &["compatible"],
            &[("Acme.Legacy", "1.0.0")],
        ),
    ];
    assert!(cases.len() >= 12);
    for (args, code, texts, chosen) in cases {
        let mut full = vec!["compat"];
        full.extend_from_slice(args);
        let out = env.run(&full);
        assert_eq!(out.code, *code, "{args:?}\n{}{}", out.stdout, out.stderr);
        let text = format!("{}{}", out.stdout, out.stderr);
        for expected in *texts {
            assert!(
                text.contains(expected),
                "{args:?}: expected {expected:?} in\n{text}"
            );
        }
        let event = env.events().pop().unwrap();
        assert_eq!(event["eventType"], "CompatibilityEvaluated");
        assert_eq!(event["payload"]["compatible"], *code == 0, "{args:?}");
        assert_eq!(event["payload"]["scope"], "composition");
        if !chosen.is_empty() {
            full.push("--json");
            let json = env.run(&full).json();
            for (name, version) in *chosen {
                assert_eq!(json["chosen"][name], *version, "{args:?}: {json}");
            }
        }
    }
    // The unsatisfiable case's derivation names both requirers.
    let out = env.run(&["compat", "svc", "--with", "Acme.Data@2.0.0", "--json"]);
    let json = out.json();
    let explanation = json["conflicts"][0]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("Acme.Data 2.0.0 depends on Acme.Json")
            && explanation.contains("template svc 1.0.0"),
        "{explanation}"
    );
    // The matrix: every pair has a cell.
    let cells: Vec<(&str, &str, &str)> = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["a"].as_str().unwrap(),
                v["b"].as_str().unwrap(),
                v["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        cells.iter().any(|(a, b, v)| *a == "svc@1.0.0"
            && b.starts_with("Acme.Data")
            && *v == "not related"),
        "{cells:?}"
    );

    // A composition file, and bad input.
    std::fs::write(
        env.path("composition.yaml"),
        "templates: [svc]\nlibraries: [Acme.Data]\nruntime: net8.0\n",
    )
    .unwrap();
    env.run(&[
        "compat",
        "--composition",
        env.path("composition.yaml").to_str().unwrap(),
    ])
    .ok();
    let out = env.run(&["compat", "svc", "--with", "Nope"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("no library named `Nope`"),
        "{}",
        out.stderr
    );
    env.run(&["compat"]).expect_code(2);
    let out = env.run(&["compat", "svc", "--runtime", "mainframe"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("`mainframe` is not a runtime"),
        "{}",
        out.stderr
    );
}

#[test]
fn scans_judge_templates_and_generate_is_gated() {
    let env = fixture();
    // A scan of a library a published template declares records a verdict caused by the scan.
    env.run(&["library", "scan", "Acme.Json@5.0.0"]).ok();
    let events = env.events();
    let n = events.len();
    assert_eq!(events[n - 2]["eventType"], "DependencyScanned");
    let judged: Vec<&Value> = events[n - 1..].iter().collect();
    assert_eq!(judged[0]["eventType"], "CompatibilityEvaluated");
    assert_eq!(judged[0]["causationId"], events[n - 2]["eventId"]);
    assert_eq!(judged[0]["payload"]["scope"], "scan");
    assert_eq!(
        judged[0]["payload"]["compatible"], false,
        "svc needs Acme.Json <5"
    );

    // generate: the answers select Acme.Json; with a runtime svc refuses, nothing is written.
    let out = env.run(&["generate", "svc", "-o", "out", "--runtime", "net6.0"]);
    out.expect_code(3);
    assert!(
        out.stderr.contains("requires runtime >= net8.0"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out").exists());
    let events = env.events();
    let n = events.len();
    let types: Vec<&str> = events[n - 3..]
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "TemplateExecutionRequested",
            "CompatibilityEvaluated",
            "TemplateExecuted"
        ]
    );
    assert_eq!(events[n - 1]["payload"]["status"], "Failed");
    assert_eq!(events[n - 2]["payload"]["scope"], "generate");
    env.run(&["generate", "svc", "-o", "out", "--runtime", "net8.0"])
        .ok();

    // A template whose declared range no registered version meets cannot be generated.
    let t = env.template(
        "future",
        &[("template.yaml", "name: future\ncategory: service\nlibraries:\n  - package: Acme.Json\n    version: \">=9.0.0\"\n"), ("a.txt", "x\n")],
    );
    let out = env.run(&["generate", t.to_str().unwrap(), "-o", "future-out"]);
    out.expect_code(3);
    assert!(out.stderr.contains("Acme.Json"), "{}", out.stderr);
    assert!(!env.path("future-out").exists());
}
