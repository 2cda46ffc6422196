//! copier's task and Jinja details, against copier 9.19.1: tasks see `_copier_phase` as
//! `tasks` and may name `./folder` as their working directory; `_envops.undefined` takes
//! only Jinja2's Undefined or StrictUndefined (copier's refusal words); an undefined bare name
//! is said in Jinja2's words.

mod common;

use common::Env;
use common::python::{copier, copier_copy, reference_command, tree};

#[test]
fn tasks_run_in_the_tasks_phase_and_in_dot_slash_folders() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[
            (
                "copier.yml",
                "_tasks:\n  - touch {{ _copier_phase }}\n  - mkdir hello\n  - command: touch world\n    working_directory: ./hello\n  - command: touch here\n    working_directory: .\n",
            ),
            ("a.txt", "a\n"),
        ],
    );
    let theirs = env.path("by-copier");
    copier_copy(
        &env,
        &copier,
        &["--trust", "--defaults", "--quiet"],
        &src,
        &theirs,
    );
    let ours = env.path("by-factory");
    env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &ours.display().to_string(),
        "--trust",
        "--defaults",
    ])
    .ok();
    common::python::assert_same(&tree(&ours), &tree(&theirs), "copier tasks");
    assert!(ours.join("tasks").is_file() && ours.join("hello/world").is_file());

    // `..` still leaves the project: refused.
    let up = env.template(
        "up",
        &[(
            "copier.yml",
            "_tasks:\n  - command: touch x\n    working_directory: ./../..\n",
        )],
    );
    let run = env.run(&[
        "generate",
        &up.display().to_string(),
        "-o",
        &env.path("up-out").display().to_string(),
        "--trust",
        "--defaults",
    ]);
    run.expect_code(1);
    assert!(run.stderr.contains("working_directory"), "{}", run.stderr);
}

#[test]
fn envops_undefined_is_one_of_jinjas_two_and_undefined_names_are_said_as_jinja_says() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[(
            "copier.yaml",
            "_envops:\n  undefined: jinja2.ChainableUndefined\n",
        )],
    );
    let said = "Unsupported envops.undefined value specified: jinja2.ChainableUndefined.";
    let out = reference_command(&env, &copier)
        .args(["copy", "--defaults", "--quiet"])
        .arg(&src)
        .arg(env.path("by-copier"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(said));
    let dst = env.path("by-factory");
    let run = env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &dst.display().to_string(),
        "--defaults",
    ]);
    run.expect_code(1);
    assert!(run.stderr.contains(said), "{}", run.stderr);
    assert!(!dst.exists());

    let strict = env.template(
        "strict",
        &[
            (
                "copier.yaml",
                "_envops:\n  undefined: jinja2.StrictUndefined\n",
            ),
            ("test.jinja", "{{ undefined_variable }}"),
        ],
    );
    let run = env.run(&[
        "generate",
        &strict.display().to_string(),
        "-o",
        &env.path("strict-out").display().to_string(),
        "--defaults",
    ]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("'undefined_variable' is undefined"),
        "{}",
        run.stderr
    );
}

#[test]
fn skip_tasks_leaves_them_unrun_and_needs_no_trust() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[("copier.yml", "_tasks:\n  - touch ran\n"), ("a.txt", "a\n")],
    );
    let theirs = env.path("by-copier");
    copier_copy(
        &env,
        &copier,
        &["--skip-tasks", "--defaults", "--quiet"],
        &src,
        &theirs,
    );
    let ours = env.path("by-factory");
    let (src_s, ours_s) = (src.display().to_string(), ours.display().to_string());
    env.run(&["generate", &src_s, "-o", &ours_s, "-T", "--defaults"])
        .ok();
    common::python::assert_same(&tree(&ours), &tree(&theirs), "copier copy --skip-tasks");
    assert!(!ours.join("ran").exists());
    // Without it the task still needs --trust.
    env.run(&[
        "generate",
        &src_s,
        "-o",
        &env.path("x").display().to_string(),
        "--defaults",
    ])
    .expect_code(1);
}

/// copier's after-messages are its last words: after factory's notes and summary too.
#[test]
fn after_messages_are_said_last() {
    let env = Env::with_git_author();
    let src = env.template(
        "src",
        &[
            (
                "copier.yaml",
                "project_name:\n  type: str\n  default: p\n_message_after_copy: Project {{ project_name }} created\n_message_after_update: Project {{ project_name }} updated\n",
            ),
            ("{{ _copier_conf.answers_file }}.jinja", "{{ _copier_answers|to_nice_yaml }}"),
            ("version.txt", "v1"),
        ],
    );
    env.git_init(&src);
    env.tag_version(&src, "v1", &[]);
    env.tag_version(&src, "v2", &[("version.txt", Some("v2"))]);
    let dst = env.path("dst");
    let (src_s, dst_s) = (src.display().to_string(), dst.display().to_string());
    let last = |text: &str| {
        text.lines()
            .rfind(|l| !l.trim().is_empty())
            .map(str::to_string)
    };

    let made = env.run(&[
        "generate",
        &src_s,
        "-o",
        &dst_s,
        "--ref",
        "v1",
        "--defaults",
        "--git",
    ]);
    made.ok();
    assert_eq!(
        last(&made.stderr).as_deref(),
        Some("Project p created"),
        "{}",
        made.stderr
    );
    // The upgrade notes the tag it takes; the message still comes last.
    let up = env.run(&["upgrade", &dst_s, "--apply", "--set", "project_name=q"]);
    up.ok();
    assert!(up.stderr.contains("using tag v2"), "{}", up.stderr);
    assert_eq!(
        last(&up.stderr).as_deref(),
        Some("Project q updated"),
        "{}",
        up.stderr
    );
}

#[test]
fn an_unsupported_question_type_is_said_in_copiers_words() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[("copier.yaml", "bad:\n  type: invalid\n  default: 1\n")],
    );
    let said = "Unsupported type \"invalid\" in question \"bad\"";
    let out = reference_command(&env, &copier)
        .args(["copy", "--defaults", "--quiet"])
        .arg(&src)
        .arg(env.path("by-copier"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(said));
    let dst = env.path("by-factory");
    let run = env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &dst.display().to_string(),
        "--defaults",
    ]);
    run.expect_code(1);
    assert!(run.stderr.contains(said), "{}", run.stderr);
    assert!(!dst.exists());
}
