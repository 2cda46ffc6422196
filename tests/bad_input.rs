//! Bad input: malformed templates and store states, each with its error text and exit
//! code, and the store left exactly as it was.

mod common;

use common::{EXAMPLE_NAME, Env};

/// A case: files of a template folder, the check id that must fail, and text the report
/// must contain for it.
struct BadTemplate {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    check: &'static str,
    text: &'static str,
}

const BASE: &str = "name: t\ncategory: service\n";

const BAD_TEMPLATES: &[BadTemplate] = &[
    BadTemplate {
        name: "malformed-yaml",
        files: &[("template.yaml", "name: t\ncategory: [service\n")],
        check: "manifest/parse",
        text: "template.yaml:",
    },
    BadTemplate {
        name: "unknown-key",
        files: &[("template.yaml", "name: t\ncategory: service\ncolour: red\n")],
        check: "manifest/parse",
        text: "template.yaml:3:1: unknown field `colour`",
    },
    BadTemplate {
        name: "unknown-parameter-key",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: a\n    requried: true\n",
        )],
        check: "manifest/parse",
        text: "template.yaml:5:5: unknown field `requried`",
    },
    BadTemplate {
        name: "bad-category",
        files: &[("template.yaml", "name: t\ncategory: widget\n")],
        check: "manifest/parse",
        text: "unknown variant `widget`",
    },
    BadTemplate {
        name: "bad-type",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: a\n    type: strng\n",
        )],
        check: "manifest/parse",
        text: "template.yaml:5:11: unknown variant `strng`",
    },
    BadTemplate {
        name: "duplicate-key",
        files: &[("template.yaml", "name: t\nname: u\ncategory: service\n")],
        check: "manifest/parse",
        text: "duplicate mapping key",
    },
    BadTemplate {
        name: "missing-name",
        files: &[("template.yaml", "category: service\n")],
        check: "manifest/parse",
        text: "missing field `name`",
    },
    BadTemplate {
        name: "no-manifest",
        files: &[("README.md", "hello\n")],
        check: "manifest/parse",
        text: "no template.yaml",
    },
    BadTemplate {
        name: "bad-parameter-name",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: 2fast\n",
        )],
        check: "parameter/definition",
        text: "`2fast` is not a valid parameter name",
    },
    BadTemplate {
        name: "duplicate-parameter",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: a\n  - name: a\n",
        )],
        check: "parameter/definition",
        text: "declared twice",
    },
    BadTemplate {
        name: "choice-without-choices",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: db\n    type: choice\n",
        )],
        check: "parameter/definition",
        text: "has no choices",
    },
    BadTemplate {
        name: "bad-pattern",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: a\n    pattern: '(['\n",
        )],
        check: "parameter/definition",
        text: "pattern does not compile",
    },
    BadTemplate {
        name: "default-not-in-choices",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: db\n    type: choice\n    choices: [a, b]\n    default: c\n",
        )],
        check: "parameter/default",
        text: "c is not one of the choices: a, b",
    },
    BadTemplate {
        name: "default-out-of-range",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: n\n    type: int\n    max: 5\n    default: 9\n",
        )],
        check: "parameter/default",
        text: "above the maximum",
    },
    BadTemplate {
        name: "default-expression-broken",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: n\n    default: '{{ oops'\n",
        )],
        check: "parameter/default",
        text: "default expression does not compile",
    },
    BadTemplate {
        name: "template-syntax",
        files: &[("template.yaml", BASE), ("a.txt", "ok\n{% for x in %}\n")],
        check: "template/syntax",
        text: "a.txt:2:",
    },
    BadTemplate {
        name: "condition-syntax",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nparameters:\n  - name: a\n    type: bool\n    when: 'a =='\n",
        )],
        check: "condition/syntax",
        text: "does not compile",
    },
    BadTemplate {
        name: "undeclared-variable",
        files: &[("template.yaml", BASE), ("a.txt", "line\n{{ who }}\n")],
        check: "template/undeclared",
        text: "a.txt:2: `who` is used but is not a parameter",
    },
    BadTemplate {
        name: "windows-illegal-name",
        files: &[("template.yaml", BASE), ("what?.txt", "x\n")],
        check: "path/portable",
        text: "`what?.txt` contains `?`",
    },
    BadTemplate {
        name: "windows-reserved-name",
        files: &[("template.yaml", BASE), ("aux.txt", "x\n")],
        check: "path/portable",
        text: "reserved device name",
    },
    BadTemplate {
        name: "case-collision",
        files: &[
            ("template.yaml", BASE),
            ("Readme.md", "x\n"),
            ("README.md", "y\n"),
        ],
        check: "path/case-collision",
        text: "differ only in case",
    },
    BadTemplate {
        name: "long-path",
        files: &[
            ("template.yaml", BASE),
            (
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccccccccccccccccccccccccccc/dddddddddddddddddddddddddddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/f.txt",
                "x\n",
            ),
        ],
        check: "path/length",
        text: "characters long (limit 250)",
    },
    BadTemplate {
        name: "bad-library-range",
        files: &[(
            "template.yaml",
            "name: t\ncategory: service\nlibraries:\n  - package: Some.Lib\n    version: '[1.0'\n",
        )],
        check: "library/reference",
        text: "Some.Lib: `[1.0` is not a NuGet interval",
    },
    BadTemplate {
        name: "test-case-missing-answer",
        files: &[
            (
                "template.yaml",
                "name: t\ncategory: service\nparameters:\n  - name: svc\n    required: true\ntests:\n  - name: empty\n    answers: {}\n",
            ),
            ("a.txt", "{{ svc }}\n"),
        ],
        check: "tests/render",
        text: "test `empty`: missing answers for: svc",
    },
    BadTemplate {
        name: "test-case-escapes-target",
        files: &[
            (
                "template.yaml",
                "name: t\ncategory: service\nparameters:\n  - name: dir\n    default: x\ntests:\n  - name: evil\n    answers: {dir: '../../etc'}\n",
            ),
            ("{{ dir }}/a.txt", "x\n"),
        ],
        check: "path/escape",
        text: "would leave or alias the target folder",
    },
    BadTemplate {
        name: "cookiecutter-without-project-folder",
        files: &[
            ("cookiecutter.json", "{\"name\": \"x\"}\n"),
            ("README.md", "no {{cookiecutter.x}} folder beside\n"),
        ],
        check: "manifest/parse",
        text: "cookiecutter.json: no project folder",
    },
    BadTemplate {
        name: "runaway-loop",
        files: &[
            (
                "template.yaml",
                "name: t\ncategory: service\ntests:\n  - name: t\n    answers: {}\n",
            ),
            (
                "a.txt",
                "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}\n",
            ),
        ],
        check: "tests/render",
        text: "out of fuel",
    },
];

#[test]
fn malformed_templates_fail_validation_with_located_errors() {
    assert!(BAD_TEMPLATES.len() >= 20);
    let env = Env::new();
    for case in BAD_TEMPLATES {
        let dir = env.template(case.name, case.files);
        let out = env.run(&["validate", "--path", dir.to_str().unwrap(), "--json"]);
        assert_eq!(
            out.code, 3,
            "{}: exit code\n{}{}",
            case.name, out.stdout, out.stderr
        );
        let report = out.json();
        let failures: Vec<String> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail" && c["check"] == case.check)
            .map(|c| {
                format!(
                    "{}: {}",
                    c["location"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            failures.iter().any(|f| f.contains(case.text)),
            "{}: expected a {} failure containing {:?}, got {:#?}",
            case.name,
            case.check,
            case.text,
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["status"] == "fail")
                .collect::<Vec<_>>()
        );
        assert!(
            out.stderr.contains("failed validation"),
            "{}: {}",
            case.name,
            out.stderr
        );
    }
}

#[test]
fn a_symlink_out_of_the_template_is_refused_everywhere() {
    let env = Env::new();
    let dir = env.template("linked", &[("template.yaml", BASE), ("a.txt", "x\n")]);
    std::os::unix::fs::symlink("/etc/hostname", dir.join("host")).unwrap();
    let out = env.run(&["validate", "--path", dir.to_str().unwrap()]);
    out.expect_code(3);
    assert!(
        out.stdout
            .contains("symlink host -> /etc/hostname points outside the template"),
        "{}",
        out.stdout
    );
    let out = env.run(&["register", dir.to_str().unwrap()]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("points outside the template"),
        "{}",
        out.stderr
    );
    assert!(env.events().is_empty());
    // Registered while clean, then linked: `version` refuses it.
    std::fs::remove_file(dir.join("host")).unwrap();
    env.run(&["register", dir.to_str().unwrap()]).ok();
    std::os::unix::fs::symlink("/etc/hostname", dir.join("host")).unwrap();
    let before = env.store_snapshot();
    let out = env.run(&["version", "t", "--version", "1.0.0"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("symlink host -> /etc/hostname points outside the template"),
        "{}",
        out.stderr
    );
    assert_eq!(before, env.store_snapshot());
}

/// A command that must fail: its arguments, exit code and error text.
fn refused(env: &Env, args: &[&str], code: i32, text: &str) {
    let before = env.store_snapshot();
    let out = env.run(args);
    assert_eq!(
        out.code, code,
        "{args:?}: exit code\n{}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains(text),
        "{args:?}: expected {text:?} in\n{}",
        out.stderr
    );
    assert!(
        out.stderr.starts_with("error") || code == 2,
        "{args:?}: {}",
        out.stderr
    );
    assert_eq!(before, env.store_snapshot(), "{args:?} changed the store");
}

#[test]
fn bad_commands_and_store_states_leave_the_store_unchanged() {
    let env = Env::new();
    let path = env.published_example();
    let path = path.to_str().unwrap();
    let bad_manifest = env.template("broken", &[("template.yaml", "name: [\n")]);
    let missing = env.path("nowhere");

    refused(
        &env,
        &["register", path],
        1,
        "a template named `ConnectSoft.Template.ReservationsApi` is already registered",
    );
    refused(
        &env,
        &["register", bad_manifest.to_str().unwrap()],
        1,
        "template.yaml:",
    );
    refused(
        &env,
        &["register", missing.to_str().unwrap()],
        1,
        "is not a folder",
    );
    refused(
        &env,
        &["register", path, "--name", "has space"],
        2,
        "not a usable template name",
    );
    refused(
        &env,
        &["version", "NoSuchTemplate", "--version", "1.0.0"],
        1,
        "no template named `NoSuchTemplate`",
    );
    refused(
        &env,
        &["version", EXAMPLE_NAME, "--version", "1.0"],
        2,
        "`1.0` is not a semantic version",
    );
    refused(
        &env,
        &["version", EXAMPLE_NAME, "--version", "1.0.0"],
        1,
        "@1.0.0 already exists",
    );
    refused(&env, &["version", EXAMPLE_NAME], 2, "--version");
    refused(&env, &["publish", EXAMPLE_NAME], 2, "names no version");
    refused(
        &env,
        &["publish", &format!("{EXAMPLE_NAME}@9.9.9")],
        1,
        "has no version `9.9.9`",
    );
    refused(
        &env,
        &["publish", &format!("{EXAMPLE_NAME}@1.0.0")],
        1,
        "already published",
    );
    refused(&env, &["show", "nothing"], 1, "no template named `nothing`");
    refused(
        &env,
        &["validate", "nothing@1.0.0"],
        1,
        "no template named `nothing`",
    );
    refused(&env, &["frobnicate"], 2, "unrecognized subcommand");
    refused(&env, &["hash", path, "--bogus"], 2, "unexpected argument");

    let mut env2 = Env::new();
    env2.set_env("FACTORY_NOW", "half past nine");
    let p = env2.example();
    refused(&env2, &["register", p.to_str().unwrap()], 2, "FACTORY_NOW");
}

#[test]
fn folders_that_are_not_stores_are_refused() {
    let env = Env::new();
    let path = env.example();
    // A folder with files and no store.yaml.
    let not_a_store = env.template("not-a-store", &[("notes.txt", "mine\n")]);
    let out = env.run(&[
        "--store",
        not_a_store.to_str().unwrap(),
        "register",
        path.to_str().unwrap(),
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("is not a factory store: it has files but no store.yaml"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(&not_a_store).unwrap().count(), 1);
    // A file.
    let file = env.path("not-a-store/notes.txt");
    let out = env.run(&["--store", file.to_str().unwrap(), "list"]);
    out.expect_code(1);
    assert!(out.stderr.contains("it is a file"), "{}", out.stderr);
    // A store.yaml that does not parse, or from the future.
    let broken = env.template("broken-store", &[("store.yaml", "formatVersion: [\n")]);
    let out = env.run(&["--store", broken.to_str().unwrap(), "list"]);
    out.expect_code(1);
    assert!(out.stderr.contains("store.yaml:"), "{}", out.stderr);
    let future = env.template(
        "future-store",
        &[("store.yaml", "formatVersion: 99\ntenant: x\n")],
    );
    let out = env.run(&["--store", future.to_str().unwrap(), "list"]);
    out.expect_code(1);
    assert!(out.stderr.contains("format version 99"), "{}", out.stderr);
    // A log line that is not an envelope.
    env.run(&["register", path.to_str().unwrap()]).ok();
    std::fs::remove_dir_all(env.store.join("state")).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(env.store.join("events.jsonl"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"this is not json\n"))
        .unwrap();
    // A command that only reads answers from the other lines and names the damaged one; a
    // command that writes refuses.
    let out = env.run(&["list"]);
    out.ok();
    assert!(
        out.stderr
            .contains("warning: events.jsonl:2 is damaged (not an event envelope"),
        "{}",
        out.stderr
    );
    let out = env.run(&["register", path.to_str().unwrap(), "--name", "Other.Name"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("error: events.jsonl:2 is damaged"),
        "{}",
        out.stderr
    );
    let out = env.run(&["store", "check"]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("events.jsonl:2: not an event envelope"),
        "{}",
        out.stdout
    );
}

#[test]
fn store_discovery_follows_the_documented_order() {
    let env = Env::new();
    let path = env.example();
    // Nearest .factory-store/ walking up, when no --store and no FACTORY_STORE.
    let project = env.path("project/sub/dir");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(env.path("project/.factory-store")).unwrap();
    let out = env
        .command(&["register", path.to_str().unwrap()])
        .env_remove("FACTORY_STORE")
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.path("project/.factory-store/events.jsonl").is_file());
    // Then the user data folder.
    let out = env
        .command(&["init"])
        .env_remove("FACTORY_STORE")
        .env("XDG_DATA_HOME", env.path("xdg"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(env.path("xdg/factory/store.yaml").is_file());
    // --store beats FACTORY_STORE.
    let explicit = env.path("explicit");
    env.run(&["--store", explicit.to_str().unwrap(), "init"])
        .ok();
    assert!(explicit.join("store.yaml").is_file());
    assert!(!env.store.exists());
}

#[test]
fn a_refused_command_on_a_new_store_leaves_no_store_behind() {
    let env = Env::new();
    let out = env.run(&["publish", "nothing@1.0.0"]);
    out.expect_code(1);
    assert!(
        !env.store.exists(),
        "the store made for the command was removed"
    );
    std::fs::create_dir_all(&env.store).unwrap();
    env.run(&["library", "version", "Nope", "1.0.0"])
        .expect_code(1);
    assert_eq!(
        std::fs::read_dir(&env.store).unwrap().count(),
        0,
        "an empty folder stays empty"
    );
}

/// An `SSL_CERT_FILE` that holds no certificate is an error that says where to look, not an
/// abort, whichever command needs HTTPS.
#[test]
fn a_certificate_file_without_certificates_is_an_error_not_an_abort() {
    let mut env = Env::new();
    let empty = env.path("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    env.set_env("SSL_CERT_FILE", empty.to_str().unwrap());
    let run = env.run(&[
        "generate",
        "https://127.0.0.1:9/template.zip",
        "-o",
        "out",
        "--defaults",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot set up HTTPS") && run.stderr.contains("SSL_CERT_FILE"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!env.path("out").exists());
}
