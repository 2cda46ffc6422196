//! `factory upgrade DIR --check` against copier 9.19.1's `check-update` on the same projects:
//! the same words on stdout, the same versions (PEP 440, pre-releases only when asked), exit 3
//! where copier's `--quiet` exits 2; and its refusals.

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use common::python::{ANSWERS, copier, copier_copy, reference_command};

/// A copier template repository tagged v1.0.0, v2.0.0 and v3.0.0-alpha.
fn template(env: &Env) -> PathBuf {
    let src = env.path("src");
    env.git_init(&src);
    for tag in ["v1.0.0", "v2.0.0", "v3.0.0-alpha"] {
        let readme = format!("# {tag}\n");
        env.tag_version(&src, tag, &[ANSWERS, ("README.md.jinja", Some(&readme))]);
    }
    src
}

/// A project `copier copy` made from `tag`.
fn project(env: &Env, copier: &Path, src: &Path, tag: &str) -> PathBuf {
    let dst = env.path(&format!("made-{tag}"));
    copier_copy(env, copier, &["--quiet", "--vcs-ref", tag], src, &dst);
    dst
}

fn copier_says(env: &Env, copier: &Path, dst: &Path, flags: &[&str]) -> (i32, String) {
    let out = reference_command(env, copier)
        .arg("check-update")
        .arg(dst)
        .args(flags)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_says_what_copier_check_update_says() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = template(&env);
    let old = project(&env, &copier, &src, "v1.0.0");
    let new = project(&env, &copier, &src, "v2.0.0");
    let dir = |p: &Path| p.display().to_string();

    for (project, flags) in [
        (&old, &[][..]),
        (&new, &[][..]),
        (&new, &["--prereleases"][..]),
    ] {
        let ours = env.run(&[&["upgrade", &dir(project), "--check"][..], flags].concat());
        let (code, theirs) = copier_says(&env, &copier, project, flags);
        assert_eq!(code, 0);
        assert_eq!(ours.stdout, theirs, "{project:?} {flags:?}");
        let available = theirs.starts_with("New template version available.");
        ours.expect_code(if available { 3 } else { 0 });
    }
    assert_eq!(
        env.run(&["upgrade", &dir(&new), "--check"]).stdout,
        "Project is up-to-date!\n"
    );

    // --quiet: nothing on stdout; copier exits 2 when a newer version exists, factory 3
    // (its negative verdict).
    let (code, theirs) = copier_says(&env, &copier, &old, &["--quiet"]);
    let ours = env.run(&["upgrade", &dir(&old), "--check", "--quiet"]);
    assert_eq!((code, theirs.as_str()), (2, ""));
    ours.expect_code(3);
    assert_eq!(ours.stdout, "");
    env.run(&["upgrade", &dir(&new), "--check", "--quiet"])
        .expect_code(0);

    // --json: copier's three values under factory's camelCase names.
    let (_, theirs) = copier_says(&env, &copier, &new, &["--output-format", "json", "-g"]);
    let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
    let ours = env.run(&["upgrade", &dir(&new), "--check", "-g", "--json"]);
    ours.expect_code(3);
    let ours = ours.json();
    assert_eq!(ours["updateAvailable"], theirs["update_available"]);
    assert_eq!(ours["currentVersion"], theirs["current_version"]);
    assert_eq!(ours["latestVersion"], theirs["latest_version"]);
    assert_eq!(ours["latestVersion"], "3.0.0a0");
}

#[test]
fn check_of_a_project_generated_by_factory_from_the_repository() {
    let env = Env::with_git_author();
    let src = template(&env);
    let dst = env.path("ours");
    let (src, dst) = (src.display().to_string(), dst.display().to_string());
    env.run(&[
        "generate",
        &src,
        "-o",
        &dst,
        "--ref",
        "v1.0.0",
        "--defaults",
    ])
    .ok();
    let run = env.run(&["upgrade", &dst, "--check"]);
    run.expect_code(3);
    assert_eq!(
        run.stdout,
        "New template version available.\nCurrent version is 1.0.0, latest version is 2.0.0.\n"
    );
    assert!(run.stderr.contains("add --apply"), "{}", run.stderr);
}

#[test]
fn check_refusals_name_what_is_missing() {
    let env = Env::with_git_author();
    let src = template(&env);
    let dst = env.path("ours");
    let (src_s, dst_s) = (src.display().to_string(), dst.display().to_string());

    // No record of a template.
    let empty = env.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = env.run(&["upgrade", &empty.display().to_string(), "--check"]);
    run.expect_code(1);
    assert!(run.stderr.contains("holds no record"), "{}", run.stderr);

    // --check only reads: combined with --apply (or with --skip-tasks, which only an
    // applied upgrade has) it is a usage error.
    env.run(&["upgrade", &dst_s, "--check", "--apply"])
        .expect_code(2);
    env.run(&["upgrade", &dst_s, "--check", "--skip-tasks"])
        .expect_code(2);

    // Made from a branch that is no release: nothing to compare with.
    env.run(&[
        "generate",
        &src_s,
        "-o",
        &dst_s,
        "--ref",
        "HEAD",
        "--defaults",
    ])
    .ok();
    std::fs::remove_dir_all(dst.join(".factory")).unwrap();
    let answers = dst.join(".copier-answers.yml");
    let text = std::fs::read_to_string(&answers).unwrap();
    let text = regex::Regex::new(r"_commit: .*")
        .unwrap()
        .replace(&text, "_commit: main")
        .into_owned();
    std::fs::write(&answers, text).unwrap();
    let run = env.run(&["upgrade", &dst_s, "--check"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("is not a release version"),
        "{}",
        run.stderr
    );
}
