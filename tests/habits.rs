//! Habits users bring from cookiecutter, copier, npm and `dotnet new` (issue 27): what
//! factory accepts from them, and what it says when it does not.

mod common;

use common::Env;

/// A template with one required parameter that lands in a file.
fn greeting(env: &Env) -> String {
    env.template(
        "greeting",
        &[
            (
                "template.yaml",
                "name: greeting\nparameters:\n  - name: who\n    required: true\n  - name: mood\n    default: calm\n",
            ),
            ("hello.txt", "{{ who }} {{ mood }}\n"),
        ],
    )
    .to_str()
    .unwrap()
    .to_string()
}

#[test]
fn cookiecutter_and_copier_spellings_of_answers_are_answers() {
    let env = Env::new();
    let t = greeting(&env);
    // cookiecutter's --no-input and extra context after the template.
    env.run(&["generate", &t, "who=ada", "--no-input", "-o", "a"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("a/hello.txt")).unwrap(),
        "ada calm\n"
    );
    // copier's -d and --data.
    env.run(&[
        "generate",
        &t,
        "-d",
        "who=bo",
        "--data",
        "mood=glad",
        "-o",
        "b",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("b/hello.txt")).unwrap(),
        "bo glad\n"
    );
    // --set wins over the same name given bare.
    env.run(&[
        "generate",
        &t,
        "who=x",
        "--set",
        "who=cy",
        "-o",
        "c",
        "--no-input",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("c/hello.txt")).unwrap(),
        "cy calm\n"
    );
    // copier's `copy SRC DEST` habit: a bare folder after the template is refused with the
    // spelling to use, and nothing is written.
    let dest = env.run(&["generate", &t, "out", "--defaults"]);
    dest.expect_code(2);
    assert!(
        dest.stderr.contains("`out` is not NAME=VALUE") && dest.stderr.contains("use -o out"),
        "{}",
        dest.stderr
    );
    assert!(!env.path("out").exists());
    // The help names the peers' spellings.
    let help = env.run(&["generate", "--help"]);
    help.ok();
    for spelling in ["--no-input", "--data", "-d", "[NAME=VALUE]"] {
        assert!(
            help.stdout.contains(spelling),
            "{spelling}:\n{}",
            help.stdout
        );
    }
}

#[test]
fn the_output_folder_defaults_to_the_current_one_only_when_it_is_empty() {
    let env = Env::new();
    let t = greeting(&env);
    std::fs::create_dir_all(env.path("here")).unwrap();
    env.command(&["generate", &t, "who=ada", "--defaults"])
        .current_dir(env.path("here"))
        .output()
        .map(common::Run::from)
        .unwrap()
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("here/hello.txt")).unwrap(),
        "ada calm\n"
    );
    // Now the folder holds a project: a second run without -o is refused, and the first
    // project's files stay as they were.
    std::fs::write(env.path("here/hello.txt"), "mine\n").unwrap();
    let again: common::Run = env
        .command(&["generate", &t, "who=bo", "--defaults"])
        .current_dir(env.path("here"))
        .output()
        .unwrap()
        .into();
    again.expect_code(1);
    assert!(
        again.stderr.contains(". is not empty") && again.stderr.contains("-o"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("here/hello.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn versions_may_be_spelled_with_a_v_and_latest_means_the_newest() {
    let env = Env::new();
    let t = greeting(&env);
    env.run(&["register", &t]).ok();
    let created = env.run(&["version", "greeting", "--version", "v2.0.0"]);
    created.ok();
    assert!(
        created.stdout.contains("Created greeting@2.0.0"),
        "{}",
        created.stdout
    );
    env.run(&["validate", "greeting@v2.0.0"]).ok();
    env.run(&["publish", "greeting@2.0.0"]).ok();
    let latest = env.run(&[
        "generate",
        "greeting@latest",
        "who=ada",
        "-o",
        "l",
        "--json",
    ]);
    latest.ok();
    assert_eq!(
        latest.json()["template"],
        "greeting@2.0.0",
        "{}",
        latest.stdout
    );
    // Anything else is still refused as not a version, with the spelling to use.
    let bad = env.run(&["version", "greeting", "--version", "version2"]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("`version2` is not a semantic version")
            && bad.stderr.contains("MAJOR.MINOR.PATCH"),
        "{}",
        bad.stderr
    );
}

/// A loopback port nothing listens on.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_push_to_a_refused_port_says_each_retry_and_its_budget() {
    let env = Env::new();
    env.run(&[
        "register",
        common::repo().join(common::EXAMPLE).to_str().unwrap(),
    ])
    .ok();
    let port = refused_port();
    let to = format!("amqp://factory:s3cret-pw@127.0.0.1:{port}/%2f");
    let out = env.run(&["events", "push", "--to", &to, "--max-retries", "2"]);
    out.expect_code(1);
    let retries: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("  retry "))
        .collect();
    assert_eq!(retries.len(), 2, "{}", out.stderr);
    assert!(
        retries[0].starts_with("  retry 1 of 2 in ")
            && retries[0].ends_with(
                "; the push gives up after 2 retries or 120 s (--max-retries, --deadline)"
            ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("warning: RabbitMQ at amqp://factory:***@127.0.0.1:")
            && out.stderr.contains("Connection refused"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("after 2 retries in ")
            && out.stderr.contains("error: push to amqp://factory:***@"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret-pw"));
    // A user name that is the password itself is masked with it, the same in every line.
    let guest = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let out = env.run(&["events", "push", "--to", &guest, "--max-retries", "1"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("amqp://***:***@127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("guest"), "{}", out.stderr);
    let dry = env.run(&["events", "push", "--to", &guest, "--dry-run"]);
    dry.ok();
    assert!(
        dry.stdout.contains("amqp://***:***@127.0.0.1"),
        "{}",
        dry.stdout
    );
}

#[test]
fn a_mistyped_event_type_gets_the_nearest_one() {
    let env = Env::new();
    env.run(&["init"]).ok();
    let out = env.run(&["events", "--type", "TemplateRegisterd"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "error: `TemplateRegisterd` is not an event type (did you mean `TemplateRegistered`?)"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("ApiClientCataloged"), "{}", out.stderr);
    let schema = env.run(&["events", "schema", "scaffoldgenerated"]);
    schema.expect_code(2);
    assert!(
        schema.stderr.contains("did you mean `ScaffoldGenerated`?"),
        "{}",
        schema.stderr
    );
    // Nothing near: the list.
    let far = env.run(&["events", "--type", "Coffee"]);
    far.expect_code(2);
    assert!(
        far.stderr.contains("event types are: TemplateRegistered"),
        "{}",
        far.stderr
    );
}

#[test]
fn colour_follows_the_flag_then_no_color_and_clicolor_force() {
    let env = Env::new();
    env.run(&["init"]).ok();
    let error_of = |args: &[&str], vars: &[(&str, Option<&str>)]| -> String {
        let mut command = env.command(args);
        for (k, v) in vars {
            match v {
                Some(v) => command.env(k, v),
                None => command.env_remove(k),
            };
        }
        let out: common::Run = command.output().unwrap().into();
        assert_ne!(out.code, 0, "{}", out.stderr);
        out.stderr
    };
    let red = "\u{1b}[1;31merror\u{1b}[0m: ";
    let missing = ["show", "no-such-template"];
    // Not a terminal, NO_COLOR set (the test environment): plain.
    assert!(error_of(&missing, &[]).starts_with("error: "));
    // --color always wins over NO_COLOR and a pipe.
    let always = [&["--color", "always"][..], &missing[..]].concat();
    assert!(
        error_of(&always, &[]).starts_with(red),
        "{:?}",
        error_of(&always, &[])
    );
    // CLICOLOR_FORCE colours a pipe; NO_COLOR beats it; --color never beats both.
    let forced = [("NO_COLOR", None), ("CLICOLOR_FORCE", Some("1"))];
    assert!(error_of(&missing, &forced).starts_with(red));
    assert!(error_of(&missing, &[("CLICOLOR_FORCE", Some("1"))]).starts_with("error: "));
    let never = [&["--color=never"][..], &missing[..]].concat();
    assert!(error_of(&never, &forced).starts_with("error: "));
    // clap's own usage errors follow the flag too.
    let usage = error_of(&["--color", "always", "generate"], &[]);
    assert!(usage.contains('\u{1b}'), "{usage:?}");
    assert!(!error_of(&["--color", "never", "generate"], &forced).contains('\u{1b}'));
    // The verdict label on stdout.
    let bad = env.template(
        "bad",
        &[("template.yaml", "name: bad\n"), ("a.txt", "{{ nope }}\n")],
    );
    let out = env.run(&[
        "--color",
        "always",
        "validate",
        "--path",
        bad.to_str().unwrap(),
    ]);
    out.expect_code(3);
    assert!(
        out.stdout.contains("\u{1b}[1;31mFAIL\u{1b}[0m"),
        "{}",
        out.stdout
    );
}

/// Issue 27 item 10: the user's default answers, where the peers keep them, stand in for a
/// template's own defaults; explicit answers win; the peers produce the same files.
#[test]
fn user_default_answers_come_from_the_peers_settings_files() {
    let mut env = Env::new();
    let cc = env.template(
        "cc",
        &[
            (
                "cookiecutter.json",
                r#"{"project_slug": "demo", "author": "Nobody", "license": ["MIT", "BSD"], "year": 2020}"#,
            ),
            (
                "{{cookiecutter.project_slug}}/README.md",
                "{{ cookiecutter.author }} {{ cookiecutter.license }} {{ cookiecutter.year }}\n",
            ),
        ],
    );
    // ~/.cookiecutterrc (HOME is the test folder).
    std::fs::write(
        env.path(".cookiecutterrc"),
        "default_context:\n  author: Ada Lovelace\n  license: BSD\n  year: 1843\n  unused: x\n",
    )
    .unwrap();
    let cc = cc.to_str().unwrap();
    env.run(&["generate", cc, "--defaults", "-o", "ours"]).ok();
    let ours = std::fs::read_to_string(env.path("ours/demo/README.md")).unwrap();
    assert_eq!(ours, "Ada Lovelace BSD 1843\n");
    if let Some(cookiecutter) = common::python::tool("cookiecutter", "2.7.1", "cookiecutter") {
        let mut theirs = common::python::reference_command(&env, &cookiecutter);
        theirs.args(["--no-input", "-o", env.path("theirs").to_str().unwrap(), cc]);
        common::python::run_reference(theirs, env.dir.path());
        assert_eq!(
            std::fs::read_to_string(env.path("theirs/demo/README.md")).unwrap(),
            ours,
            "cookiecutter reads ~/.cookiecutterrc the same way"
        );
    }
    // Explicit answers win over the user's defaults.
    env.run(&["generate", cc, "--no-input", "author=Bo", "-o", "explicit"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("explicit/demo/README.md")).unwrap(),
        "Bo BSD 1843\n"
    );
    // A choice the template does not offer: a warning, and the template's default.
    std::fs::write(env.path("other.yaml"), "default_context:\n  license: GPL\n").unwrap();
    env.set_env(
        "COOKIECUTTER_CONFIG",
        env.path("other.yaml").to_str().unwrap(),
    );
    let warned = env.run(&["generate", cc, "--defaults", "-o", "warned"]);
    warned.ok();
    assert!(
        warned
            .stderr
            .contains("warning: the default answer \"GPL\" for `license`")
            && warned.stderr.contains("none of its choices"),
        "{}",
        warned.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("warned/demo/README.md")).unwrap(),
        "Nobody MIT 2020\n"
    );
    // COOKIECUTTER_CONFIG naming no file is an error, as in cookiecutter; nothing written.
    let mut missing = Env::new();
    missing.set_env("COOKIECUTTER_CONFIG", "/nonexistent/cookiecutterrc");
    let out = missing.run(&["generate", cc, "--defaults", "-o", "x"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "COOKIECUTTER_CONFIG names /nonexistent/cookiecutterrc, which does not exist"
        ),
        "{}",
        out.stderr
    );
    assert!(!missing.path("x").exists());
    // A broken file is named with where it is broken.
    std::fs::write(env.path("other.yaml"), "default_context: [1, 2]\n").unwrap();
    let broken = env.run(&["generate", cc, "--defaults", "-o", "broken"]);
    broken.expect_code(1);
    assert!(
        broken
            .stderr
            .contains("other.yaml: `default_context` is not a mapping"),
        "{}",
        broken.stderr
    );
}

#[test]
fn copier_user_defaults_come_from_its_settings_file() {
    let mut env = Env::new();
    let t = env.template(
        "cp",
        &[
            (
                "copier.yml",
                "author:\n  type: str\n  default: Nobody\ngreeting:\n  type: str\n  default: \"hello {{ author }}\"\n",
            ),
            ("README.md.jinja", "{{ greeting }}\n"),
        ],
    );
    let t = t.to_str().unwrap();
    // The platform's config folder: $XDG_CONFIG_HOME/copier/settings.yml.
    std::fs::create_dir_all(env.path("config/copier")).unwrap();
    std::fs::write(
        env.path("config/copier/settings.yml"),
        "defaults:\n  author: Ada\n",
    )
    .unwrap();
    env.set_env("XDG_CONFIG_HOME", env.path("config").to_str().unwrap());
    env.run(&["generate", t, "--defaults", "-o", "ours"]).ok();
    let ours = std::fs::read_to_string(env.path("ours/README.md")).unwrap();
    assert_eq!(ours, "hello Ada\n");
    if let Some(copier) = common::python::tool("copier", "9.19.1", "copier") {
        let mut theirs = common::python::reference_command(&env, &copier);
        theirs.args([
            "copy",
            "--defaults",
            t,
            env.path("theirs").to_str().unwrap(),
        ]);
        common::python::run_reference(theirs, env.dir.path());
        assert_eq!(
            std::fs::read_to_string(env.path("theirs/README.md")).unwrap(),
            ours,
            "copier reads its settings file the same way"
        );
    }
    // COPIER_SETTINGS_PATH first; one naming no file is a warning, as in copier.
    std::fs::write(env.path("s.yml"), "defaults:\n  author: Bo\n").unwrap();
    env.set_env("COPIER_SETTINGS_PATH", env.path("s.yml").to_str().unwrap());
    env.run(&["generate", t, "--defaults", "-o", "named"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("named/README.md")).unwrap(),
        "hello Bo\n"
    );
    // Explicit answers win.
    env.run(&[
        "generate",
        t,
        "--defaults",
        "-o",
        "explicit",
        "-d",
        "author=Cy",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("explicit/README.md")).unwrap(),
        "hello Cy\n"
    );
    env.set_env("COPIER_SETTINGS_PATH", "/nonexistent/settings.yml");
    let gone = env.run(&["generate", t, "--defaults", "-o", "gone"]);
    gone.ok();
    assert!(
        gone.stderr.contains(
            "warning: COPIER_SETTINGS_PATH names /nonexistent/settings.yml, which does not exist"
        ),
        "{}",
        gone.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("gone/README.md")).unwrap(),
        "hello Nobody\n"
    );
}

/// Issue 27 item 18: SARIF paths from the repository root, with `%SRCROOT%` naming it, and
/// every result with a location, wherever in the repository validate runs.
#[test]
fn sarif_paths_start_at_the_repository_root_and_every_result_has_one() {
    let env = Env::new();
    let t = env.template(
        "repo/templates/bad",
        &[
            (
                "template.yaml",
                "name: bad\nparameters:\n  - name: x\n    required: true\ntests:\n  - name: minimal\n    answers: {}\n",
            ),
            ("a.txt", "{{ x }}\n{% if %}\n"),
        ],
    );
    std::fs::create_dir_all(env.path("repo/.git")).unwrap();
    let root = std::fs::canonicalize(env.path("repo")).unwrap();
    for (cwd, path) in [("repo", "templates/bad"), ("repo/templates", "bad")] {
        let out: common::Run = env
            .command(&["validate", "--path", path, "--format", "sarif"])
            .current_dir(env.path(cwd))
            .output()
            .unwrap()
            .into();
        out.expect_code(3);
        let log = out.json();
        let run = &log["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            format!("file://{}/", root.display())
        );
        let results = run["results"].as_array().unwrap();
        assert!(results.len() >= 2, "{}", out.stdout);
        for result in results {
            let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(location["uriBaseId"], "%SRCROOT%", "{result}");
            assert!(
                location["uri"]
                    .as_str()
                    .unwrap()
                    .starts_with("templates/bad/"),
                "{result}"
            );
        }
        let syntax = results
            .iter()
            .find(|r| r["ruleId"] == "template/syntax")
            .unwrap();
        assert_eq!(
            syntax["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "templates/bad/a.txt"
        );
        assert_eq!(
            syntax["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        // A result about no file (a test case) points at the manifest.
        let case = results
            .iter()
            .find(|r| r["ruleId"] == "tests/render")
            .unwrap();
        assert_eq!(
            case["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "templates/bad/template.yaml"
        );
    }
    let _ = t;
}

/// Issue 27 item 19: the small things.
#[test]
fn small_things_say_what_they_mean() {
    let env = Env::new();
    // A store named with --store that is not there: an error, not an empty list.
    let missing = env.path("no-such-store");
    for args in [vec!["list"], vec!["show", "x"]] {
        let mut all = vec!["--store", missing.to_str().unwrap()];
        all.extend(args);
        let out = env.run(&all);
        out.expect_code(1);
        assert!(
            out.stderr.contains(&format!(
                "error: there is no store at {}",
                missing.display()
            )) && out.stderr.contains("factory init"),
            "{}",
            out.stderr
        );
    }
    assert!(!missing.exists());
    // init --tenant on an existing store with another tenant: said, not dropped.
    env.run(&["init", "--tenant", "acme"]).ok();
    env.run(&["init", "--tenant", "acme"]).ok();
    env.run(&["init"]).ok();
    let other = env.run(&["init", "--tenant", "other"]);
    other.expect_code(1);
    assert!(
        other
            .stderr
            .contains("exists with tenant acme; --tenant other was not applied")
            && other.stderr.contains("store.yaml"),
        "{}",
        other.stderr
    );
    // Ranges in words.
    let t = env.template(
        "ranged",
        &[
            (
                "template.yaml",
                "name: ranged\nparameters:\n  - name: pool\n    type: int\n    default: 5\n    min: 1\n    max: 500\n  - name: floor\n    type: int\n    default: 5\n    min: 2\n",
            ),
            ("a.txt", "{{ pool }} {{ floor }}\n"),
        ],
    );
    env.run(&["register", t.to_str().unwrap()]).ok();
    env.run(&["version", "ranged", "--version", "1.0.0"]).ok();
    let shown = env.run(&["show", "ranged"]);
    shown.ok();
    assert!(
        shown.stdout.contains("from 1 to 500") && shown.stdout.contains("at least 2"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains("..="), "{}", shown.stdout);
    // Help names the variables without an empty value.
    let help = env
        .command(&["generate", "--help"])
        .env_remove("FACTORY_STORE")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("[env: FACTORY_STORE]"), "{help}");
    assert!(!help.contains("=]"), "{help}");
    // No remotes: a line saying so.
    let remotes = env.run(&["remote", "list"]);
    remotes.ok();
    assert!(
        remotes.stdout.starts_with("No remotes."),
        "{}",
        remotes.stdout
    );
    // An output folder that cannot be written is named, not its staging folder.
    let unwritable = env.run(&[
        "generate",
        t.to_str().unwrap(),
        "--defaults",
        "-o",
        "/proc/out",
    ]);
    unwritable.expect_code(1);
    assert!(
        unwritable
            .stderr
            .contains("error: cannot write /proc/out: ")
            && !unwritable.stderr.contains("factory-tmp"),
        "{}",
        unwritable.stderr
    );
    // git's reason for a refused connection, not its last line.
    let url = format!("ssh://git@127.0.0.1:{}/x.git", refused_port());
    let refused = env.run(&["generate", &url, "--defaults", "-o", "g"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Connection refused")
            && !refused
                .stderr
                .contains("Could not read from remote repository"),
        "{}",
        refused.stderr
    );
}

/// Issue 27 item 17: every subcommand's help has examples, as docs/commands.md promises, and
/// that page lists every subcommand.
#[test]
fn every_subcommand_has_examples_and_a_page() {
    let env = Env::new();
    let top = env.run(&["--help"]);
    top.ok();
    let commands: Vec<String> = top
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 25, "{commands:?}");
    let page = std::fs::read_to_string(common::repo().join("docs/commands.md")).unwrap();
    for command in &commands {
        let help = env.run(&[command, "--help"]);
        help.ok();
        assert!(
            help.stdout.contains("Examples:"),
            "{command} --help:\n{}",
            help.stdout
        );
        assert!(
            page.contains(&format!("`{command}`")),
            "docs/commands.md lacks {command}"
        );
    }
}
