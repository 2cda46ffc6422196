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
