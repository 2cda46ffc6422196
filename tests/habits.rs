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
    env.run(&["generate", &t, "-d", "who=bo", "--data", "mood=glad", "-o", "b", "--defaults"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("b/hello.txt")).unwrap(),
        "bo glad\n"
    );
    // --set wins over the same name given bare.
    env.run(&["generate", &t, "who=x", "--set", "who=cy", "-o", "c", "--no-input"])
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
        dest.stderr.contains("`out` is not NAME=VALUE")
            && dest.stderr.contains("use -o out"),
        "{}",
        dest.stderr
    );
    assert!(!env.path("out").exists());
    // The help names the peers' spellings.
    let help = env.run(&["generate", "--help"]);
    help.ok();
    for spelling in ["--no-input", "--data", "-d", "[NAME=VALUE]"] {
        assert!(help.stdout.contains(spelling), "{spelling}:\n{}", help.stdout);
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
    let latest = env.run(&["generate", "greeting@latest", "who=ada", "-o", "l", "--json"]);
    latest.ok();
    assert_eq!(latest.json()["template"], "greeting@2.0.0", "{}", latest.stdout);
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
    env.run(&["register", common::repo().join(common::EXAMPLE).to_str().unwrap()])
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
            && retries[0]
                .ends_with("; the push gives up after 2 retries or 120 s (--max-retries, --deadline)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("warning: RabbitMQ at amqp://factory:***@127.0.0.1:")
            && out.stderr.contains("Connection refused"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("after 2 retries in ") && out.stderr.contains("error: push to amqp://factory:***@"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret-pw"));
    // A user name that is the password itself is masked with it, the same in every line.
    let guest = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let out = env.run(&["events", "push", "--to", &guest, "--max-retries", "1"]);
    out.expect_code(1);
    assert!(out.stderr.contains("amqp://***:***@127.0.0.1"), "{}", out.stderr);
    assert!(!out.stderr.contains("guest"), "{}", out.stderr);
    let dry = env.run(&["events", "push", "--to", &guest, "--dry-run"]);
    dry.ok();
    assert!(dry.stdout.contains("amqp://***:***@127.0.0.1"), "{}", dry.stdout);
}

#[test]
fn a_mistyped_event_type_gets_the_nearest_one() {
    let env = Env::new();
    env.run(&["init"]).ok();
    let out = env.run(&["events", "--type", "TemplateRegisterd"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("error: `TemplateRegisterd` is not an event type (did you mean `TemplateRegistered`?)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("ApiClientCataloged"), "{}", out.stderr);
    let schema = env.run(&["events", "schema", "scaffoldgenerated"]);
    schema.expect_code(2);
    assert!(schema.stderr.contains("did you mean `ScaffoldGenerated`?"), "{}", schema.stderr);
    // Nothing near: the list.
    let far = env.run(&["events", "--type", "Coffee"]);
    far.expect_code(2);
    assert!(far.stderr.contains("event types are: TemplateRegistered"), "{}", far.stderr);
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
    assert!(error_of(&always, &[]).starts_with(red), "{:?}", error_of(&always, &[]));
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
    let bad = env.template("bad", &[("template.yaml", "name: bad\n"), ("a.txt", "{{ nope }}\n")]);
    let out = env.run(&["--color", "always", "validate", "--path", bad.to_str().unwrap()]);
    out.expect_code(3);
    assert!(out.stdout.contains("\u{1b}[1;31mFAIL\u{1b}[0m"), "{}", out.stdout);
}
