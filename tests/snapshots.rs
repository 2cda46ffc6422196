//! What people read, as they read it: the human output of the commands whose reports matter
//! most, with ids, hashes, times and temporary paths filtered. `INSTA_UPDATE=always cargo
//! test --test snapshots` rewrites the snapshots after an intended change; review the diff.

mod common;

use common::{Env, Run};

/// Runs `body` with filters for what changes from run to run.
fn filtered(env: &Env, body: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    let root = env.dir.path().display().to_string();
    let canonical = std::fs::canonicalize(env.dir.path())
        .unwrap()
        .display()
        .to_string();
    settings.add_filter(&regex_escape(&canonical), "[tmp]");
    settings.add_filter(&regex_escape(&root), "[tmp]");
    settings.add_filter(
        r"\b(tpl|tv|exe|out|evt|val|pub|lib|lv|graph|mtx|plan|sch|corr)-[0-9a-f]{8}-[0-9a-f-]{27}",
        "$1-[id]",
    );
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[hash]");
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]");
    settings.add_filter(r#""durationMs": \d+"#, r#""durationMs": [ms]"#);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(body);
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Exit code, stdout and stderr, as one text.
fn shown(run: &Run) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

const TEMPLATE: &[(&str, &str)] = &[
    (
        "template.yaml",
        "name: snap\ncategory: service\nparameters:\n  - name: service_name\n    default: orders\n    help: The service's name\n  - name: database\n    type: choice\n    choices: [postgresql, none]\n    default: postgresql\nlibraries:\n  - package: Acme.Json\n    version: \">=4.1.0, <5.0.0\"\ncompatibility:\n  - kind: LibraryConflictsWith\n    expression: Acme.Legacy\ntests:\n  - name: minimal\n    answers: {service_name: billing, database: none}\n",
    ),
    (
        "README.md",
        "# {{ service_name }}\n\nDatabase: {{ database }}\n",
    ),
    ("src/{{ service_name }}.txt", "service {{ service_name }}\n"),
];

/// `snap@1.0.0` registered, validated and published.
fn published() -> Env {
    let env = Env::new();
    let dir = env.template("snap-src", TEMPLATE);
    env.run(&["register", dir.to_str().unwrap()]).ok();
    env.run(&["version", "snap", "--version", "1.0.0"]).ok();
    env.run(&["validate", "snap@1.0.0"]).ok();
    env.run(&["publish", "snap@1.0.0"]).ok();
    env
}

#[test]
fn generate_reports_files_hash_and_how_to_check() {
    let env = published();
    let run = env.run(&["generate", "snap", "-o", "orders"]);
    filtered(&env, || insta::assert_snapshot!("generate", shown(&run)));
}

#[test]
fn validate_reports_every_check_passing_and_failing() {
    let env = Env::new();
    let good = env.template("good", TEMPLATE);
    let pass = env.run(&["validate", "--path", good.to_str().unwrap()]);
    let mut broken: Vec<(&str, &str)> = TEMPLATE.to_vec();
    broken[1] = ("README.md", "# {{ service_nme }}\n{% if %}\n");
    let bad = env.template("bad", &broken);
    let fail = env.run(&["validate", "--path", bad.to_str().unwrap()]);
    filtered(&env, || {
        insta::assert_snapshot!("validate_pass", shown(&pass));
        insta::assert_snapshot!("validate_fail", shown(&fail));
    });
}

#[test]
fn show_lists_a_version_and_its_parameters() {
    let env = published();
    let run = env.run(&["show", "snap@1.0.0"]);
    filtered(&env, || insta::assert_snapshot!("show", shown(&run)));
}

#[test]
fn compat_explains_an_incompatible_composition() {
    let env = published();
    for (name, version, deps) in [
        ("Acme.Json", "4.2.0", vec![]),
        ("Acme.Json", "5.0.0", vec![]),
        ("Acme.Data", "2.0.0", vec!["--dep", "Acme.Json@>=5.0.0"]),
    ] {
        if env.run(&["library", "show", name]).code != 0 {
            env.run(&["library", "register", name]).ok();
        }
        let mut args = vec!["library", "version", name, version];
        args.extend(deps);
        env.run(&args).ok();
    }
    let run = env.run(&["compat", "snap@1.0.0", "--with", "Acme.Data@2.0.0"]);
    filtered(&env, || {
        insta::assert_snapshot!("compat_incompatible", shown(&run))
    });
}

#[test]
fn upgrade_plans_a_conflict() {
    let env = published();
    env.run(&["generate", "snap", "-o", "proj"]).ok();
    let mut v2: Vec<(&str, &str)> = TEMPLATE.to_vec();
    v2[1] = (
        "README.md",
        "# {{ service_name }} (v2)\n\nDatabase: {{ database }}\n",
    );
    v2.push(("CHANGELOG.md", "2.0.0\n"));
    let dir = env.template("snap-v2", &v2);
    env.run(&[
        "version",
        "snap",
        "--from",
        dir.to_str().unwrap(),
        "--version",
        "2.0.0",
    ])
    .ok();
    env.run(&["validate", "snap@2.0.0"]).ok();
    env.run(&["publish", "snap@2.0.0"]).ok();
    std::fs::write(
        env.path("proj/README.md"),
        "# orders (mine)\n\nDatabase: postgresql\n",
    )
    .unwrap();
    let run = env.run(&["upgrade", "proj"]);
    filtered(&env, || {
        insta::assert_snapshot!("upgrade_conflict", shown(&run))
    });
}

#[test]
fn library_scan_explains_a_conflict() {
    let env = Env::new();
    for name in ["Acme.App", "Acme.A", "Acme.B", "Acme.C"] {
        env.run(&["library", "register", name]).ok();
    }
    for (name, version, dep) in [
        ("Acme.C", "1.0.0", None),
        ("Acme.C", "2.0.0", None),
        ("Acme.A", "1.0.0", Some("Acme.C@>=2.0")),
        ("Acme.B", "1.0.0", Some("Acme.C@[1.0,2.0)")),
    ] {
        let mut args = vec!["library", "version", name, version];
        if let Some(dep) = dep {
            args.extend(["--dep", dep]);
        }
        env.run(&args).ok();
    }
    env.run(&[
        "library",
        "version",
        "Acme.App",
        "1.0.0",
        "--dep",
        "Acme.A@^1",
        "--dep",
        "Acme.B@^1",
    ])
    .ok();
    let run = env.run(&["library", "scan", "Acme.App@1.0.0", "--fail-on", "conflict"]);
    filtered(&env, || {
        insta::assert_snapshot!("library_scan_conflict", shown(&run))
    });
}

/// The `--json` documents of the lifecycle and generate, as scripts read them: the report
/// types serialise to exactly these (issue 22).
#[test]
fn json_reports_of_the_platform_commands() {
    let env = Env::new();
    let dir = env.template("snap-src", TEMPLATE);
    let mut runs = vec![
        (
            "register",
            env.run(&["register", dir.to_str().unwrap(), "--json"]),
        ),
        (
            "version",
            env.run(&["version", "snap", "--version", "1.0.0", "--json"]),
        ),
        ("validate", env.run(&["validate", "snap@1.0.0", "--json"])),
        ("publish", env.run(&["publish", "snap@1.0.0", "--json"])),
        (
            "publish again",
            env.run(&["publish", "snap@1.0.0", "--json"]),
        ),
        (
            "generate",
            env.run(&["generate", "snap", "-o", "orders", "--json"]),
        ),
        ("compat", env.run(&["compat", "snap@1.0.0", "--json"])),
    ];
    runs.push(("verify", env.run(&["verify", "orders", "--json"])));
    let text: String = runs
        .iter()
        .map(|(name, run)| format!("=== {name}\n{}", shown(run)))
        .collect();
    filtered(&env, || insta::assert_snapshot!("json_reports", text));
}

/// The `--json` documents of the other commands: store, cache, hash, init and the library
/// commands; their report types serialise to exactly these (issue 22).
#[test]
fn json_reports_of_the_other_commands() {
    let env = Env::new();
    let dir = env.template("snap-src", TEMPLATE);
    let fresh = env.path("fresh-store");
    let mut runs = vec![
        (
            "init",
            env.run(&["init", "--store", fresh.to_str().unwrap(), "--json"]),
        ),
        ("hash", env.run(&["hash", dir.to_str().unwrap(), "--json"])),
        (
            "library register",
            env.run(&["library", "register", "Acme.C", "--json"]),
        ),
    ];
    env.run(&["library", "register", "Acme.App"]).ok();
    runs.extend([
        (
            "library version",
            env.run(&["library", "version", "Acme.C", "1.0.0", "--json"]),
        ),
        (
            "library version with a dependency",
            env.run(&[
                "library",
                "version",
                "Acme.App",
                "1.0.0",
                "--dep",
                "Acme.C@[1.0,2.0)",
                "--json",
            ]),
        ),
        (
            "library scan",
            env.run(&["library", "scan", "Acme.App@1.0.0", "--json"]),
        ),
        (
            "library advise",
            env.run(&["library", "advise", "--library", "Acme.App@1.0.0", "--json"]),
        ),
        ("library list", env.run(&["library", "list", "--json"])),
        (
            "library show",
            env.run(&["library", "show", "Acme.C@1.0.0", "--json"]),
        ),
        ("store check", env.run(&["store", "check", "--json"])),
        ("store rebuild", env.run(&["store", "rebuild", "--json"])),
        ("store gc", env.run(&["store", "gc", "--json"])),
        ("cache list", env.run(&["cache", "list", "--json"])),
    ]);
    let text: String = runs
        .iter()
        .map(|(name, run)| format!("=== {name}\n{}", shown(run)))
        .collect();
    filtered(&env, || insta::assert_snapshot!("json_reports_other", text));
}

/// The `--json` documents of the listing and settings commands (list, show, remote, logout,
/// commands list, events push --status/--dry-run) and of an error; their report types
/// serialise to exactly these (issue 22).
#[test]
fn json_reports_of_the_listing_commands() {
    let env = published();
    let remote = "oci://127.0.0.1:9/factory";
    let push_to = "amqp://guest:guest@127.0.0.1:9/%2f";
    let runs = [
        ("list", env.run(&["list", "--json"])),
        ("show", env.run(&["show", "snap", "--json"])),
        ("show version", env.run(&["show", "snap@1.0.0", "--json"])),
        (
            "remote add",
            env.run(&["remote", "add", "hub", remote, "--default", "--json"]),
        ),
        ("remote list", env.run(&["remote", "list", "--json"])),
        (
            "remote remove",
            env.run(&["remote", "remove", "hub", "--json"]),
        ),
        ("logout", env.run(&["logout", "127.0.0.1:9", "--json"])),
        ("commands list", env.run(&["commands", "list", "--json"])),
        (
            "events push --status",
            env.run(&["events", "push", "--status", "--json"]),
        ),
        (
            "events push --dry-run",
            env.run(&["events", "push", "--to", push_to, "--dry-run", "--json"]),
        ),
        ("an error", env.run(&["show", "nope", "--json"])),
    ];
    let text: String = runs
        .iter()
        .map(|(name, run)| format!("=== {name}\n{}", shown(run)))
        .collect();
    filtered(&env, || {
        insta::assert_snapshot!("json_reports_listing", text)
    });
}
