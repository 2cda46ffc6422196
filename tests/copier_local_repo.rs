//! Local copier templates as copier 9.19.1 reads them: `--ref HEAD` of a folder inside a
//! repository (not its root) is the folder as it is; a link out of the template is refused
//! with copier's `"NAME" is forbidden`.

mod common;

use std::path::PathBuf;

use common::Env;
use common::python::{copier, copier_copy, tree};

#[test]
fn ref_head_of_a_folder_inside_a_repository_is_the_folder() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    let repo = env.template(
        "src/repo",
        &[
            ("copier.yaml", "_preserve_symlinks: true\n"),
            ("target.txt", "Symlink target"),
        ],
    );
    std::os::unix::fs::symlink("target.txt", repo.join("symlink.txt")).unwrap();
    env.git_init_committed(&src, "1");

    let theirs = env.path("by-copier");
    copier_copy(
        &env,
        &copier,
        &["--defaults", "--vcs-ref", "HEAD"],
        &repo,
        &theirs,
    );
    let ours = env.path("by-factory");
    let (repo_s, ours_s) = (repo.display().to_string(), ours.display().to_string());
    env.run(&[
        "generate",
        &repo_s,
        "-o",
        &ours_s,
        "--ref",
        "HEAD",
        "--defaults",
    ])
    .ok();
    common::python::assert_same(&tree(&ours), &tree(&theirs), "copier copy --vcs-ref HEAD");
    assert_eq!(
        std::fs::read_link(ours.join("symlink.txt")).unwrap(),
        PathBuf::from("target.txt")
    );
    // Another ref of such a folder names nothing: still refused.
    env.run(&[
        "generate",
        &repo_s,
        "-o",
        &env.path("x").display().to_string(),
        "--ref",
        "v1",
    ])
    .expect_code(2);
}

#[test]
fn a_link_out_of_the_template_is_forbidden_in_copiers_words() {
    let env = Env::new();
    let other = env.template("other", &[("outside.txt", "outside")]);
    let src = env.template("src", &[("copier.yaml", "_preserve_symlinks: false\n")]);
    std::os::unix::fs::symlink(other.join("outside.txt"), src.join("abs.txt")).unwrap();
    let dst = env.path("dst");
    let run = env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &dst.display().to_string(),
        "--defaults",
    ]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("\"abs.txt\" is forbidden"),
        "{}",
        run.stderr
    );
    assert!(!dst.exists());

    // A link to nothing whose path leads out of the template is the same refusal.
    std::fs::remove_file(src.join("abs.txt")).unwrap();
    std::os::unix::fs::symlink("../../nowhere/outside.txt", src.join("rel.txt")).unwrap();
    let run = env.run(&[
        "generate",
        &src.display().to_string(),
        "-o",
        &dst.display().to_string(),
        "--defaults",
    ]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("\"rel.txt\" is forbidden"),
        "{}",
        run.stderr
    );
}
