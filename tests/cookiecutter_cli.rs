//! cookiecutter's command-line habits, on the built binary and against cookiecutter 2.7.1
//! itself: generating again from a replay file, a project folder that exists, `--directory`
//! inside a folder, the messages its users' scripts read (a cookiecutter.json that is not
//! JSON, an extension that does not load), hooks that use an extension's tag, the debug log.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Env;
use common::python::{assert_same, reference_command, tree};

const VERSION: &str = "2.7.1";

fn cookiecutter() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("cookiecutter", VERSION, "cookiecutter"))
        .clone()
}

/// `cookiecutter ARGS…` in the test's folder, HOME there too; its output, whatever it exits.
fn cookiecutter_run(env: &Env, tool: &Path, args: &[&str]) -> std::process::Output {
    let mut command: Command = reference_command(env, tool);
    command.args(args).env("HOME", env.dir.path());
    command.output().expect("cookiecutter starts")
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn replay_template(env: &Env) -> PathBuf {
    env.template(
        "cc-replay",
        &[
            (
                "cookiecutter.json",
                "{\"project_name\": \"Replay Project\", \"repo_name\": \"{{ cookiecutter.project_name|lower|replace(' ', '-') }}\", \"description\": \"original\", \"license\": [\"MIT\", \"BSD\"]}\n",
            ),
            (
                "{{cookiecutter.repo_name}}/README.md",
                "{{ cookiecutter.project_name }}: {{ cookiecutter.description }} ({{ cookiecutter.license }})\n",
            ),
        ],
    )
}

#[test]
fn replay_file_generates_again_from_cookiecutters_replay_file() {
    let env = Env::new();
    let template = replay_template(&env);
    let t = template.to_str().unwrap();
    let Some(tool) = cookiecutter() else {
        return;
    };
    // cookiecutter records the answers of a run in ~/.cookiecutter_replay/NAME.json.
    let first = cookiecutter_run(
        &env,
        &tool,
        &[
            "--no-input",
            "-o",
            "first",
            t,
            "description=replayed",
            "license=BSD",
        ],
    );
    assert!(first.status.success(), "{}", said(&first));
    let replay = env.path(".cookiecutter_replay/cc-replay.json");
    assert!(replay.is_file());
    let r = replay.to_str().unwrap();
    env.run(&["generate", t, "-o", "ours", "--replay-file", r])
        .ok();
    let theirs = cookiecutter_run(&env, &tool, &["--replay-file", r, "-o", "theirs", t]);
    assert!(theirs.status.success(), "{}", said(&theirs));
    assert_eq!(
        std::fs::read_to_string(env.path("ours/replay-project/README.md")).unwrap(),
        "Replay Project: replayed (BSD)\n"
    );
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("theirs")),
        "--replay-file",
    );

    // A project's own record replays too; values are taken as recorded, so nothing is asked.
    let record = env.path("ours/replay-project/.factory/scaffold.yaml");
    let record = record.to_str().unwrap();
    env.run(&["generate", t, "-o", "again", "--replay-file", record])
        .ok();
    assert_same(
        &tree(&env.path("again")),
        &tree(&env.path("ours")),
        "a record",
    );

    // Replay takes every answer from the file: with --defaults or answers it is refused, as
    // cookiecutter refuses replay with --no-input or extra context; nothing is written.
    for extra in [["--defaults", ""], ["--set", "description=x"]] {
        let mut args = vec!["generate", t, "-o", "refused", "--replay-file", r];
        args.extend(extra.iter().filter(|a| !a.is_empty()));
        let refused = env.run(&args);
        refused.expect_code(2);
        assert!(
            refused
                .stderr
                .contains("the argument '--replay-file <FILE>' cannot be used with"),
            "{}",
            refused.stderr
        );
    }
    let theirs = cookiecutter_run(&env, &tool, &["--replay", "--no-input", "-o", "refused", t]);
    assert!(!theirs.status.success());
    assert!(!env.path("refused").exists());

    // A replay file that is not there is named.
    let missing = env.run(&["generate", t, "-o", "refused", "--replay-file", "nope.json"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("cannot read nope.json"),
        "{}",
        missing.stderr
    );
    assert!(!env.path("refused").exists());
}

#[test]
fn an_existing_project_folder_is_refused_as_cookiecutter_refuses_it() {
    let env = Env::new();
    let template = replay_template(&env);
    let t = template.to_str().unwrap();
    // Empty, which factory's own templates accept: cookiecutter refuses the folder anyway.
    std::fs::create_dir_all(env.path("out/replay-project")).unwrap();
    let refused = env.run(&["generate", t, "-o", "out", "--defaults"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("error: \"out/replay-project\" directory already exists"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(
        std::fs::read_dir(env.path("out/replay-project"))
            .unwrap()
            .count(),
        0
    );
    if let Some(tool) = cookiecutter() {
        let theirs = cookiecutter_run(&env, &tool, &["--no-input", "-o", "out", t]);
        assert!(!theirs.status.success());
        assert!(
            said(&theirs).contains("Error: \"out/replay-project\" directory already exists"),
            "{}",
            said(&theirs)
        );
    }
    env.run(&["generate", t, "-o", "out", "--defaults", "--force"])
        .ok();
    assert!(env.path("out/replay-project/README.md").is_file());
}

#[test]
fn directory_names_the_template_inside_a_folder_as_in_cookiecutter() {
    let env = Env::new();
    let folder = env.template(
        "cc-many",
        &[
            ("my-dir/cookiecutter.json", "{\"slug\": \"fake-project\"}\n"),
            (
                "my-dir/{{cookiecutter.slug}}/README.rst",
                "Project: **{{ cookiecutter.slug }}**\n",
            ),
            ("other/cookiecutter.json", "{\"slug\": \"other\"}\n"),
        ],
    );
    let f = folder.to_str().unwrap();
    env.run(&[
        "generate",
        f,
        "--directory",
        "my-dir",
        "-o",
        "ours",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("ours/fake-project/README.rst")).unwrap(),
        "Project: **fake-project**\n"
    );
    if let Some(tool) = cookiecutter() {
        let theirs = cookiecutter_run(
            &env,
            &tool,
            &["--no-input", "--directory", "my-dir", "-o", "theirs", f],
        );
        assert!(theirs.status.success(), "{}", said(&theirs));
        assert_same(
            &tree(&env.path("ours")),
            &tree(&env.path("theirs")),
            "--directory",
        );
    }
    // The folder stays inside; --ref still needs a repository.
    let out = env.run(&[
        "generate",
        f,
        "--directory",
        "../cc-many",
        "-o",
        "x",
        "--defaults",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--directory ../cc-many"),
        "{}",
        out.stderr
    );
    let out = env.run(&["generate", f, "--ref", "main", "-o", "x", "--defaults"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--ref applies to repositories"),
        "{}",
        out.stderr
    );
    assert!(!env.path("x").exists());
}

#[test]
fn a_cookiecutter_json_that_is_not_json_is_worded_as_cookiecutter_words_it() {
    let env = Env::new();
    let template = env.template(
        "cc-bad-json",
        &[
            (
                "cookiecutter.json",
                "{\"1\": 2, \"some_key\"- \"some_val\"}",
            ),
            ("{{cookiecutter.some_key}}/a.txt", "a\n"),
        ],
    );
    let t = template.to_str().unwrap();
    let ours = env.run(&["generate", t, "-o", "out", "--defaults"]);
    ours.expect_code(1);
    let expected = "Expecting ':' delimiter: line 1 column 20 (char 19)";
    assert!(ours.stderr.contains(expected), "{}", ours.stderr);
    let file = format!("{t}/cookiecutter.json:1:20:");
    assert!(ours.stderr.contains(&file), "{}", ours.stderr);
    assert!(!env.path("out").exists());
    if let Some(tool) = cookiecutter() {
        let theirs = cookiecutter_run(&env, &tool, &["--no-input", "-o", "out", t]);
        assert!(said(&theirs).contains(expected), "{}", said(&theirs));
    }
}

#[test]
fn an_extension_that_does_not_load_and_a_hook_that_uses_an_extension_tag() {
    let mut env = Env::new();
    let Some(tool) = cookiecutter() else {
        return;
    };
    env.set_env(
        "FACTORY_PYTHON",
        tool.with_file_name("python3").to_str().unwrap(),
    );
    let unknown = env.template(
        "cc-unknown-ext",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"x\", \"_extensions\": [\"FoobarExtension\"]}\n",
            ),
            ("{{cookiecutter.name}}/a.txt", "a\n"),
        ],
    );
    let u = unknown.to_str().unwrap();
    let ours = env.run(&["generate", u, "-o", "out", "--defaults", "--trust"]);
    ours.expect_code(1);
    let expected = "Unable to load extension: No module named 'FoobarExtension'";
    assert!(ours.stderr.contains(expected), "{}", ours.stderr);
    let theirs = cookiecutter_run(&env, &tool, &["--no-input", "-o", "out", u]);
    assert!(said(&theirs).contains(expected), "{}", said(&theirs));
    assert!(!env.path("out").exists());

    // cookiecutter renders hooks in the same environment as files: a hook may use a tag a
    // local extension adds.
    let extension = "from jinja2 import nodes\nfrom jinja2.ext import Extension\n\n\nclass HelloExtension(Extension):\n    tags = {'hello'}\n\n    def parse(self, parser):\n        lineno = next(parser.stream).lineno\n        node = parser.parse_expression()\n        call = self.call_method('_hello', [node], lineno=lineno)\n        return nodes.Output([call], lineno=lineno)\n\n    def _hello(self, name):\n        return f'Hello {name}!'\n";
    let hooked = env.template(
        "cc-hook-tag",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"Cookiemonster\", \"_extensions\": [\"hello_extension.HelloExtension\"]}\n",
            ),
            ("hello_extension.py", extension),
            (
                "hooks/pre_gen_project.py",
                "import sys\nprint('{% hello cookiecutter.name %}')\nsys.exit(0 if '{% hello cookiecutter.name %}' == 'Hello Cookiemonster!' else 1)\n",
            ),
            ("{{cookiecutter.name}}/README.rst", "{% hello cookiecutter.name %}\n"),
        ],
    );
    let h = hooked.to_str().unwrap();
    let ours = env.run(&["generate", h, "-o", "ours", "--defaults", "--trust"]);
    ours.ok();
    assert!(
        ours.stdout.contains("Hello Cookiemonster!"),
        "{}",
        ours.stdout
    );
    let theirs = cookiecutter_run(&env, &tool, &["--no-input", "-o", "theirs", h]);
    assert!(theirs.status.success(), "{}", said(&theirs));
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("theirs")),
        "hook with a tag",
    );
}

#[test]
fn debug_file_and_verbose_log_what_cookiecutter_logs() {
    let env = Env::new();
    let template = replay_template(&env);
    let t = template.to_str().unwrap();
    let line = format!("DEBUG cookiecutter.main: context_file is {t}/cookiecutter.json");
    let ours = env.run(&[
        "generate",
        t,
        "-o",
        "ours",
        "--defaults",
        "--debug-file",
        "ours.log",
    ]);
    ours.ok();
    let log = std::fs::read_to_string(env.path("ours.log")).unwrap();
    assert!(log.contains(&line), "{log}");
    assert!(
        log.contains("DEBUG cookiecutter.generate: output folder is ours/replay-project"),
        "{log}"
    );
    assert!(!ours.stderr.contains(&line), "{}", ours.stderr);
    let verbose = env.run(&["generate", t, "-o", "verbose", "--defaults", "-v"]);
    verbose.ok();
    assert!(verbose.stderr.contains(&line), "{}", verbose.stderr);
    if let Some(tool) = cookiecutter() {
        let theirs = cookiecutter_run(
            &env,
            &tool,
            &[
                "--no-input",
                "--debug-file",
                "theirs.log",
                "-o",
                "theirs",
                t,
            ],
        );
        assert!(theirs.status.success(), "{}", said(&theirs));
        let log = std::fs::read_to_string(env.path("theirs.log")).unwrap();
        assert!(log.contains(&line), "{log}");
    }
    // A debug file that cannot be opened is an error before anything is written.
    let bad = env.run(&[
        "generate",
        t,
        "-o",
        "bad",
        "--defaults",
        "--debug-file",
        "no/such/dir/x.log",
    ]);
    bad.expect_code(1);
    assert!(bad.stderr.contains("no/such/dir/x.log"), "{}", bad.stderr);
    assert!(!env.path("bad").exists());
}
