//! What a new user meets first: output folders as cargo, copier and `dotnet new` treat them,
//! a minimal manifest, and errors a script can read.

mod common;

use common::Env;

#[test]
fn the_current_folder_and_a_fresh_repository_count_as_empty() {
    let env = Env::new();
    let template = env.template("t", &[("template.yaml", "name: t\n"), ("a.txt", "a\n")]);
    std::fs::create_dir_all(env.path("app")).unwrap();
    let here = env
        .command(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            ".",
            "--defaults",
        ])
        .current_dir(env.path("app"))
        .output()
        .unwrap();
    assert!(
        here.status.success(),
        "{}",
        String::from_utf8_lossy(&here.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(env.path("app/a.txt")).unwrap(),
        "a\n"
    );
    env.run(&["verify", "app"]).ok();
    // Nothing was staged inside the folder, and nothing is left beside it.
    let beside: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("factory-tmp"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
    // A folder holding only .git (a fresh `git init`) is empty too; its .git stays.
    std::fs::create_dir_all(env.path("repo/.git")).unwrap();
    std::fs::write(env.path("repo/.git/HEAD"), "ref: refs/heads/main\n").unwrap();
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "repo",
        "--defaults",
    ])
    .ok();
    assert!(env.path("repo/a.txt").is_file() && env.path("repo/.git/HEAD").is_file());
    // Anything else still needs --force.
    std::fs::write(env.path("busy.txt"), "x").unwrap();
    std::fs::create_dir_all(env.path("busy")).unwrap();
    std::fs::write(env.path("busy/mine.txt"), "mine\n").unwrap();
    let busy = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "busy",
        "--defaults",
    ]);
    busy.expect_code(1);
    assert!(busy.stderr.contains("busy is not empty"), "{}", busy.stderr);
}

#[test]
fn a_manifest_with_only_a_name_is_a_service_unless_the_flag_says_otherwise() {
    let env = Env::new();
    let template = env.template(
        "only-name",
        &[("template.yaml", "name: only-name\n"), ("x.txt", "x\n")],
    );
    env.run(&["validate", "--path", template.to_str().unwrap()])
        .ok();
    env.run(&[
        "register",
        template.to_str().unwrap(),
        "--category",
        "library",
    ])
    .ok();
    let shown = env.run(&["show", "only-name", "--json"]).json();
    assert_eq!(shown["category"], "library");
    let other = env.template(
        "other",
        &[("template.yaml", "name: other\n"), ("x.txt", "x\n")],
    );
    env.run(&["register", other.to_str().unwrap()]).ok();
    assert_eq!(
        env.run(&["show", "other", "--json"]).json()["category"],
        "service"
    );
    // An unknown category names the ones there are.
    let webapp = env.template(
        "webapp",
        &[("template.yaml", "name: webapp\ncategory: webapp\n")],
    );
    let refused = env.run(&["validate", "--path", webapp.to_str().unwrap()]);
    refused.expect_code(3);
    assert!(
        refused.stdout.contains("expected one of service, library"),
        "{}",
        refused.stdout
    );
}

fn event_lines(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let out = env.run(args);
    out.ok();
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn events_find_a_whole_execution_keep_the_newest_and_follow_from_now() {
    let env = Env::new();
    env.published_example();
    env.run(&[
        "generate",
        common::EXAMPLE_NAME,
        "-o",
        "orders",
        "--set",
        "service_name=orders",
    ])
    .ok();
    // Every event of the execution is found by template, TemplateExecuted included.
    let of_template = event_lines(&env, &["events", "--template", common::EXAMPLE_NAME]);
    let types: Vec<&str> = of_template
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"TemplateExecuted"), "{types:?}");
    let executed = of_template.last().unwrap();
    assert_eq!(executed["eventType"], "TemplateExecuted");
    assert!(
        executed["payload"]["templateVersionId"]
            .as_str()
            .unwrap()
            .starts_with("tv-")
    );
    // --limit N: the newest N, oldest first.
    let all = event_lines(&env, &["events"]);
    let newest = event_lines(&env, &["events", "--limit", "2"]);
    assert_eq!(newest, all[all.len() - 2..].to_vec());
    // --since takes durations.
    assert_eq!(
        event_lines(&env, &["events", "--since", "1h"]).len(),
        all.len()
    );
    // --follow alone starts at the end: only what is appended is printed.
    let mut child = env
        .command(&["events", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    env.run(&["validate", common::EXAMPLE_NAME]).ok();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["eventType"], "TemplateValidated");
    assert!(!all.iter().any(|e| e["eventId"] == first["eventId"]));
}

#[test]
fn errors_are_json_with_json_and_suggest_the_closest_name() {
    let env = Env::new();
    env.published_example();
    // --json: one JSON document on stdout, the exit code kept.
    let missing = env.run(&["show", "ConnectSoft.Template.ReservationApi", "--json"]);
    missing.expect_code(1);
    let error = missing.json();
    assert_eq!(error["error"]["exitCode"], 1);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `ConnectSoft.Template.ReservationsApi`?"),
        "{error}"
    );
    // A mistyped --set name, library name and `version NAME X.Y.Z`.
    let set = env.run(&[
        "generate",
        common::EXAMPLE_NAME,
        "-o",
        "x",
        "--set",
        "service_nme=orders",
    ]);
    set.expect_code(2);
    assert!(
        set.stderr.contains("did you mean `service_name`?"),
        "{}",
        set.stderr
    );
    env.run(&["library", "register", "Acme.Json"]).ok();
    let library = env.run(&["library", "show", "acme.jsn"]);
    assert!(
        library.stderr.contains("did you mean `Acme.Json`?"),
        "{}",
        library.stderr
    );
    let version = env.run(&["version", common::EXAMPLE_NAME, "0.2.0"]);
    version.expect_code(2);
    assert!(
        version.stderr.contains("--version 0.2.0"),
        "{}",
        version.stderr
    );
}

#[test]
fn validate_reports_each_problem_once_from_the_template_root_even_when_quiet() {
    let env = Env::new();
    let bad_key = env.template(
        "bad-key",
        &[("template.yaml", "name: bad-key\nparamters: []\n")],
    );
    let out = env.run(&["validate", "--path", bad_key.to_str().unwrap()]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("did you mean `parameters`?"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("skip"),
        "one error, not a skip per check:\n{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("not run (they need a manifest that parses)"),
        "{}",
        out.stdout
    );
    // Quiet hides passes, never failures.
    let quiet = env.run(&["validate", "--path", bad_key.to_str().unwrap(), "--quiet"]);
    quiet.expect_code(3);
    assert!(
        quiet.stdout.contains("FAIL  manifest/parse"),
        "{}",
        quiet.stdout
    );
    assert!(!quiet.stdout.contains("pass"), "{}", quiet.stdout);
    // Locations in content files are from the template's root; a test case is named once.
    let content = env.template(
        "content-dir",
        &[
            (
                "template.yaml",
                "name: content-dir\ncontent: content\nparameters:\n  - name: service_name\n    required: true\ntests:\n  - name: minimal\n    answers: {}\n",
            ),
            ("content/README.md", "{{ service_nme }}\n{% if %}\n"),
        ],
    );
    let out = env.run(&["validate", "--path", content.to_str().unwrap()]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("content/README.md:2:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("test `minimal`: missing answers"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("test `minimal`: test `minimal`"),
        "{}",
        out.stdout
    );
}

#[test]
fn answers_say_what_is_dropped_name_only_root_causes_and_replay_a_project() {
    let env = Env::new();
    let template = env.template(
        "answers",
        &[
            (
                "template.yaml",
                "name: answers\nparameters:\n  - name: service_name\n    required: true\n  - name: package\n    default: \"{{ service_name | snake_case }}\"\n  - name: database\n    type: bool\n    default: false\n  - name: pool\n    type: int\n    default: 5\n    when: database\n",
            ),
            ("README.md", "{{ service_name }} {{ package }} {{ database }}\n"),
        ],
    );
    let t = template.to_str().unwrap();
    // Only the root cause: the missing answer, not the default computed from it.
    let missing = env.run(&["generate", t, "-o", "x"]);
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("missing answers for: service_name"),
        "{}",
        missing.stderr
    );
    assert!(!missing.stderr.contains("failed"), "{}", missing.stderr);
    // An answer whose `when` is false is dropped with a warning naming it.
    let dropped = env.run(&[
        "generate",
        t,
        "-o",
        "a",
        "--set",
        "service_name=orders",
        "--set",
        "pool=9",
    ]);
    dropped.ok();
    assert!(
        dropped.stderr.contains("`pool` is not used"),
        "{}",
        dropped.stderr
    );
    // Booleans: one rule from --set and from an answers file.
    std::fs::write(
        env.path("answers.yaml"),
        "service_name: billing\ndatabase: 1\n",
    )
    .unwrap();
    env.run(&["generate", t, "-o", "b", "--answers", "answers.yaml"])
        .ok();
    env.run(&[
        "generate",
        t,
        "-o",
        "c",
        "--set",
        "service_name=billing",
        "--set",
        "database=yes",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("b/README.md")).unwrap(),
        std::fs::read_to_string(env.path("c/README.md")).unwrap()
    );
    let bad = env.run(&[
        "generate",
        t,
        "-o",
        "d",
        "--set",
        "service_name=x",
        "--set",
        "database=maybe",
    ]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("yes/no"), "{}", bad.stderr);
    // A project regenerated with its recorded answers, two ways.
    env.run(&[
        "generate",
        t,
        "-o",
        "again",
        "--answers",
        "b/.factory/scaffold.yaml",
    ])
    .ok();
    env.run(&["generate", t, "-o", "replayed", "--replay", "b"])
        .ok();
    for dir in ["again", "replayed"] {
        assert_eq!(
            std::fs::read_to_string(env.path(&format!("{dir}/README.md"))).unwrap(),
            "billing billing True\n"
        );
    }
}

#[test]
fn validate_catches_what_generate_defaults_would_fail_on() {
    let env = Env::new();
    let template = env.template(
        "order",
        &[
            (
                "template.yaml",
                "name: order\nparameters:\n  - name: package\n    default: \"{{ service_name | snake_case }}\"\n  - name: service_name\n    default: orders\n",
            ),
            ("README.md", "{{ package }}\n"),
        ],
    );
    let out = env.run(&["validate", "--path", template.to_str().unwrap()]);
    out.expect_code(3);
    assert!(
        out.stdout.contains(
            "FAIL  parameter/order       template.yaml:3: `package` refers to `service_name`, which is declared after it (template.yaml:5)"
        ),
        "{}",
        out.stdout
    );
    // The same template through generate fails as validate said it would.
    let generated = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "x",
        "--defaults",
    ]);
    generated.expect_code(2);
    // A template whose defaults only fail when rendered: required answers get placeholders.
    let rendered = env.template(
        "defaults",
        &[
            (
                "template.yaml",
                "name: defaults\nparameters:\n  - name: service_name\n    required: true\n  - name: flavour\n    default: plain\n",
            ),
            ("README.md", "{{ service_name }} {% if flavour == 'plain' %}{{ flavour | no_such_filter }}{% endif %}\n"),
        ],
    );
    let out = env.run(&["validate", "--path", rendered.to_str().unwrap()]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("FAIL  defaults/render"),
        "{}",
        out.stdout
    );
}

#[test]
fn show_tells_each_parameter_in_full() {
    let env = Env::new();
    env.published_example();
    let newest = env.run(&["show", common::EXAMPLE_NAME]);
    newest.ok();
    assert!(
        newest.stdout.contains("of 1.0.0 (the newest):"),
        "{}",
        newest.stdout
    );
    let version = env.run(&["show", &format!("{}@1.0.0", common::EXAMPLE_NAME)]);
    version.ok();
    for text in [
        "service_name         string      required, pattern ^[a-z][a-z0-9-]*$",
        "Lower-case name of the service",
        "choices [\"postgresql\",\"sqlserver\",\"none\"]",
        "connection_pool      int         default 20, from 1 to 500, when database != 'none'",
        "api_key              string      secret",
    ] {
        assert!(version.stdout.contains(text), "{text}:\n{}", version.stdout);
    }
    let json = env.run(&["show", common::EXAMPLE_NAME, "--json"]).json();
    assert_eq!(
        json["parameters"]["properties"]["database"]["default"],
        "postgresql"
    );
}

#[test]
fn generate_help_groups_the_event_metadata_and_cites_no_design_document() {
    let env = Env::new();
    let help = env.run(&["generate", "--help"]);
    help.ok();
    let heading = help.stdout.find("Event metadata:").expect("a heading");
    for flag in [
        "--tenant",
        "--project",
        "--module",
        "--correlation-id",
        "--causation-id",
    ] {
        let at = help.stdout.find(flag).unwrap();
        assert!(at > heading, "{flag} is under the heading");
    }
    for command in ["hash", "generate", "events", "validate"] {
        let help = env.run(&[command, "--help"]);
        assert!(
            !help.stdout.contains("DESIGN"),
            "{command}: {}",
            help.stdout
        );
    }
}

#[test]
fn an_undefined_name_in_a_file_suggests_the_closest_parameter() {
    let env = Env::new();
    let template = env.template(
        "typo",
        &[
            (
                "template.yaml",
                "name: typo\nparameters:\n  - name: service_name\n    default: orders\n",
            ),
            ("a.txt", "{{ service_nme }}\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "x",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("undefined variable in `service_nme` (did you mean `service_name`?)"),
        "{}",
        out.stderr
    );
    let validated = env.run(&["validate", "--path", template.to_str().unwrap()]);
    assert!(
        validated.stdout.contains("did you mean `service_name`?"),
        "{}",
        validated.stdout
    );
}

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

#[test]
fn bash_completes_templates_versions_libraries_event_types_and_topics() {
    let env = Env::new();
    env.published_example();
    env.run(&["library", "register", "Acme.Json"]).ok();
    env.run(&["library", "version", "Acme.Json", "4.1.0"]).ok();
    let templates = bash_completes(&env, &["factory", "generate", "ConnectSoft.Template.Res"]);
    assert!(
        templates.contains(&common::EXAMPLE_NAME.to_string()),
        "{templates:?}"
    );
    assert!(
        templates.contains(&format!("{}@1.0.0", common::EXAMPLE_NAME)),
        "{templates:?}"
    );
    let libraries = bash_completes(&env, &["factory", "library", "scan", "Acme"]);
    assert!(
        libraries.contains(&"Acme.Json@4.1.0".to_string()),
        "{libraries:?}"
    );
    let types = bash_completes(&env, &["factory", "events", "--type", "TemplatePu"]);
    assert_eq!(types, ["TemplatePublished".to_string()]);
    let topics = bash_completes(&env, &["factory", "events", "--topic", "factory.int"]);
    assert_eq!(topics, ["factory.integration".to_string()]);
    // `help` knows the subcommands of subcommands, though each is built only when run.
    let helped = bash_completes(&env, &["factory", "help", "events", ""]);
    assert_eq!(helped, ["schema".to_string(), "push".to_string()]);
    let helped = bash_completes(&env, &["factory", "help", "remote", "re"]);
    assert_eq!(helped, ["remove".to_string()]);
}
