//! A copier template that would run code is refused without `--trust` with copier's own
//! sentence (`Template uses potentially unsafe features: jinja_extensions, tasks.`), which
//! scripts read, after factory's words; everything either version of an upgrade would run
//! (tasks, Python extensions, migrations) is named at once, as copier names it.

mod common;

use common::Env;
use common::python::{ANSWERS, copier, reference_command};

const BOTH: &str = "_tasks: [touch task.txt]\n_jinja_extensions: [my_ext.Extension]\n";

#[test]
fn refusal_carries_copiers_sentence() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[
            ("copier.yml", BOTH),
            ("my_ext.py", "from jinja2.ext import Extension\n"),
            ("a.txt", "a\n"),
        ],
    );
    let sentence = "Template uses potentially unsafe features: jinja_extensions, tasks.";
    let theirs = reference_command(&env, &copier)
        .arg("copy")
        .arg(&src)
        .arg(env.path("by-copier"))
        .output()
        .unwrap();
    assert_eq!(theirs.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&theirs.stderr).contains(sentence));

    let out = env.path("by-factory");
    let ours = env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--defaults",
    ]);
    ours.expect_code(1);
    assert!(ours.stderr.contains(sentence), "{}", ours.stderr);
    assert!(
        ours.stderr.contains("task `touch task.txt`") && ours.stderr.contains("my_ext.Extension"),
        "{}",
        ours.stderr
    );
    assert!(!out.join("a.txt").exists() && !out.join("task.txt").exists());

    // One feature: copier's singular.
    let tasks = env.template("tasks", &[("copier.yml", "_tasks: [touch t]\n")]);
    let ours = env.run(&[
        "generate",
        &tasks.display().to_string(),
        "-o",
        &env.path("t").display().to_string(),
        "--defaults",
    ]);
    ours.expect_code(1);
    assert!(
        ours.stderr
            .contains("(Template uses potentially unsafe feature: tasks.)"),
        "{}",
        ours.stderr
    );
}

#[test]
fn an_upgrade_names_every_feature_of_both_versions() {
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(&src, "v1", &[ANSWERS, ("copier.yml", Some("{}\n"))]);
    let v2 = "_tasks: [touch new.txt]\n_migrations:\n  - version: v2\n    command: touch m.txt\n";
    env.tag_version(&src, "v2", &[("copier.yml", Some(v2))]);

    let dst = env.path("dst");
    let dst_s = dst.display().to_string();
    env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &dst_s,
        "--ref",
        "v1",
        "--defaults",
        "--git",
    ])
    .ok();
    let before = common::snapshot(&dst);
    let run = env.run(&["upgrade", &dst_s, "--apply"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("(Template uses potentially unsafe features: migrations, tasks.)")
            && run.stderr.contains("migration `touch m.txt`")
            && run.stderr.contains("--trust"),
        "{}",
        run.stderr
    );
    assert_eq!(common::snapshot(&dst), before);
}
