//! What a new user trips over (issue 27): completion of parameter names after `--set` (item
//! 11), template tests with an expected tree (item 20), the upgrade plan's source (item 19).

mod common;

use common::Env;

/// What bash completes for the command line `words` (the last one being completed), through
/// the script `COMPLETE=bash factory` prints, as a user's shell would run it.
fn bash_completes(env: &Env, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(COMPLETE=bash \"$F\")\n\
         COMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         _clap_complete_factory factory \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len() - 1
    );
    let out = env.program("bash").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

const MANIFEST: &str = "name: svc\ncategory: service\nparameters:\n  - name: service_name\n    help: The service's name\n  - name: database\n    type: choice\n    choices: [postgres, mysql]\n    default: postgres\n  - name: port\n    type: int\n    default: 8080\n";

#[test]
fn set_completes_parameter_names_then_choices() {
    let env = Env::new();
    let t = env.template(
        "svc",
        &[
            ("template.yaml", MANIFEST),
            ("a.txt", "{{ service_name }}\n"),
        ],
    );
    let t = t.to_str().unwrap();
    let all = bash_completes(&env, &["factory", "generate", t, "--set", ""]);
    assert_eq!(all, ["service_name=", "database=", "port="], "{all:?}");
    let some = bash_completes(&env, &["factory", "generate", t, "-o", "out", "-d", "se"]);
    assert_eq!(some, ["service_name="]);
    let choices = bash_completes(&env, &["factory", "generate", t, "--set", "database="]);
    assert_eq!(choices, ["database=postgres", "database=mysql"]);
    // After the template, as cookiecutter's extra context.
    let extra = bash_completes(&env, &["factory", "generate", "--defaults", t, "po"]);
    assert_eq!(extra, ["port="]);
    // A stored template: the newest version's parameters, or the version named.
    env.run(&["register", t]).ok();
    env.run(&["version", "svc", "--version", "1.0.0"]).ok();
    let stored = bash_completes(&env, &["factory", "generate", "svc", "--set", "da"]);
    assert_eq!(stored, ["database="]);
    let named = bash_completes(
        &env,
        &["factory", "generate", "svc@1.0.0", "--set", "database=m"],
    );
    assert_eq!(named, ["database=mysql"]);
    // Nothing for a template the store does not have, or no template yet.
    assert!(bash_completes(&env, &["factory", "generate", "nope", "--set", ""]).is_empty());
    assert!(bash_completes(&env, &["factory", "generate", "--set", ""]).is_empty());
}

const EXPECTING: &str = "name: ex\ncategory: service\nparameters:\n  - name: service\n    default: x\n  - name: docs\n    type: bool\n    default: false\ntests:\n  - name: with-docs\n    answers: {service: orders, docs: true}\n    expected: tests/expected/with-docs\n  - name: plain\n    answers: {service: orders}\n";

#[test]
fn a_test_case_with_an_expected_tree_is_compared_by_validate() {
    let env = Env::new();
    let t = env.template(
        "ex",
        &[
            ("template.yaml", EXPECTING),
            ("README.md", "# {{ service }}\nline two\n"),
            (
                "{% if docs %}docs{% endif %}/index.md",
                "docs of {{ service }}\n",
            ),
            ("tests/expected/with-docs/README.md", "# orders\nline two\n"),
            ("tests/expected/with-docs/docs/index.md", "docs of orders\n"),
        ],
    );
    let p = t.to_str().unwrap();
    let ok = env.run(&["validate", "--path", p]);
    ok.ok();
    assert!(ok.stdout.contains("pass  tests/render"), "{}", ok.stdout);
    // The expected tree is the template's record, never output.
    env.run(&[
        "generate",
        p,
        "-o",
        "out",
        "--set",
        "service=orders",
        "--set",
        "docs=true",
    ])
    .ok();
    assert!(!env.path("out/tests").exists());
    assert!(env.path("out/docs/index.md").is_file());

    // The template changes; the expected tree does not: each difference is reported.
    std::fs::write(t.join("README.md"), "# {{ service }}\nline 2\n").unwrap();
    std::fs::write(t.join("NEW.md"), "new\n").unwrap();
    std::fs::write(t.join("tests/expected/with-docs/OLD.md"), "old\n").unwrap();
    let bad = env.run(&["validate", "--path", p]);
    bad.expect_code(3);
    for line in [
        "FAIL  tests/render          tests/expected/with-docs/README.md:2: test `with-docs`: `README.md` differs from the expected file: line 2: expected \"line two\\n\", generated \"line 2\\n\"",
        "FAIL  tests/render          tests/expected/with-docs/NEW.md: test `with-docs`: `NEW.md` is generated but not in `tests/expected/with-docs`",
        "FAIL  tests/render          tests/expected/with-docs/OLD.md: test `with-docs`: `OLD.md` is expected but not generated",
    ] {
        assert!(bad.stdout.contains(line), "{line}\n{}", bad.stdout);
    }
    let json = env.run(&["validate", "--path", p, "--json"]).json();
    let failed: Vec<&serde_json::Value> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed.len(), 3, "{json}");
    assert!(
        failed
            .iter()
            .any(|c| c["location"] == "tests/expected/with-docs/README.md:2"),
        "{json}"
    );

    // A folder that holds nothing, or one outside the template, is named.
    std::fs::write(
        t.join("template.yaml"),
        EXPECTING.replace("tests/expected/with-docs", "tests/nothing-here"),
    )
    .unwrap();
    let empty = env.run(&["validate", "--path", p]);
    empty.expect_code(3);
    assert!(
        empty
            .stdout
            .contains("test `with-docs`: the expected tree `tests/nothing-here` holds no files"),
        "{}",
        empty.stdout
    );
    std::fs::write(
        t.join("template.yaml"),
        EXPECTING.replace("tests/expected/with-docs", "../elsewhere"),
    )
    .unwrap();
    let outside = env.run(&["validate", "--path", p]);
    outside.expect_code(3);
    assert!(
        outside
            .stdout
            .contains("test `with-docs`: expected `../elsewhere`"),
        "{}",
        outside.stdout
    );
}
