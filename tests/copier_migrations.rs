//! `factory upgrade --trust` on copier projects whose template has `_migrations`, `_tasks`,
//! pre-releases and kept symlinks, judged by the real copier 9.19.1 (from PyPI, under
//! target/; said loudly and skipped without python3 or PyPI, CI fails): each case makes a
//! template repository, a project from its first tag, then runs `copier update` on one copy
//! and `factory upgrade` on another and compares the files byte for byte (links as where
//! they point). Modelled on copier's tests/test_migrations.py, test_legacy_migration.py and
//! test_symlinks.py.

mod common;

use std::path::{Path, PathBuf};

use common::python::{
    assert_same, copier, project_files as files, reference_ok, reference_run, twin_projects,
};
use common::{Env, write_files as write};

const ANSWERS: (&str, Option<&str>) = (
    "{{ _copier_conf.answers_file }}.jinja",
    Some("# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml }}\n"),
);

/// Files to write (`None`: to delete).
type Files<'a> = &'a [(&'a str, Option<&'a str>)];

/// A template repository in `src` with one commit per version, each tagged.
fn template(env: &Env, versions: &[(&str, Files)]) -> PathBuf {
    let src = env.path("src");
    env.git_init(&src);
    for (tag, files) in versions {
        env.tag_version(&src, tag, files);
    }
    src
}

/// A project made by copier from `src` at `tag` and committed, copied for factory:
/// (copier's, factory's).
fn projects(env: &Env, copier: &Path, src: &Path, tag: &str) -> (PathBuf, PathBuf) {
    let made = env.path("made");
    reference_ok(
        env,
        copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            "--trust",
            "--vcs-ref",
            tag,
            src.to_str().unwrap(),
            "made",
        ],
        env.dir.path(),
    );
    env.git_init_committed(&made, "generated");
    twin_projects(env, &made)
}

/// test_migration_run_before, test_pre_migration_modifies_answers, test_copier_phase_variable,
/// test_migration_working_directory and test_update_with_new_file_in_template_and_project_via_migration:
/// a `before` migration rewrites the answers file and the new version is answered from it;
/// migrations render in copier's `migrate` phase, run where their `working_directory`
/// says even above the project, and run a script the template ships through
/// `_copier_conf.src_path / 'scripts' / 'm.sh'`; a legacy-form migration runs as copier
/// runs it, with factory's deprecation note.
#[test]
fn migrations_run_before_and_after_as_copier_runs_them() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let v1: &[(&str, Option<&str>)] = &[
        ANSWERS,
        ("copier.yml", Some("hello:\n  default: World\n")),
        ("foo.jinja", Some("Hello {{ hello }}\n")),
    ];
    let v2_config = "hello:\n  default: World\n_migrations:\n  - command: sed -i 's/World/Copier/' .copier-answers.yml\n    when: \"{{ _stage == 'before' }}\"\n  - touch {{ _copier_phase }}-{{ _stage }}\n  - command: touch above-{{ _folder_name }}\n    working_directory: ..\n  - [sh, \"{{ _copier_conf.src_path / 'scripts' / 'm.sh' }}\", \"{{ _version_from }}\"]\n  - version: v2\n    after:\n      - touch legacy-$VERSION_CURRENT\n";
    let v2: &[(&str, Option<&str>)] = &[
        ("copier.yml", Some(v2_config)),
        (
            "scripts/m.sh",
            Some("echo \"script from $1\" > scripted.txt\n"),
        ),
        ("foo.jinja", Some("Hello {{ hello }}!\n")),
    ];
    let src = template(&env, &[("v1", v1), ("v2", v2)]);
    let (by_copier, by_factory) = projects(&env, &copier, &src, "v1");
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet", "--trust"],
        &by_copier,
    );
    let out = env.run(&["upgrade", "by-factory", "--apply", "--defaults", "--trust"]);
    out.ok();
    assert!(
        out.stderr
            .contains("a migration is in copier's legacy form"),
        "{}",
        out.stderr
    );
    assert_same(&files(&by_factory), &files(&by_copier), "copier update");
    let foo = std::fs::read_to_string(by_factory.join("foo")).unwrap();
    assert_eq!(foo, "Hello Copier!\n");
    assert!(by_factory.join("migrate-after").is_file());
    assert_eq!(
        std::fs::read_to_string(by_factory.join("scripted.txt")).unwrap(),
        "script from v1\n"
    );
    assert!(by_factory.join("legacy-v2").is_file());
    assert!(env.path("above-by-factory").is_file() && env.path("above-by-copier").is_file());
}

/// The same update without `--trust` is refused before anything runs or is written, and
/// a migration that fails stops the upgrade with its output (exit 1).
#[test]
fn migrations_need_trust_and_a_failing_one_stops_the_upgrade() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let v1: &[(&str, Option<&str>)] = &[ANSWERS, ("copier.yml", Some("hello: World\n"))];
    let v2: &[(&str, Option<&str>)] = &[(
        "copier.yml",
        Some("hello: World\n_migrations:\n  - command: echo broken on purpose >&2; exit 4\n"),
    )];
    let src = template(&env, &[("v1", v1), ("v2", v2)]);
    let (_, by_factory) = projects(&env, &copier, &src, "v1");
    let before = files(&by_factory);
    let out = env.run(&["upgrade", "by-factory", "--apply", "--defaults"]);
    out.expect_code(1);
    assert!(out.stderr.contains("migrations"), "{}", out.stderr);
    assert_eq!(files(&by_factory), before);
    let out = env.run(&["upgrade", "by-factory", "--apply", "--defaults", "--trust"]);
    out.expect_code(1);
    assert!(out.stderr.contains("broken on purpose"), "{}", out.stderr);
}

/// test_skip_migration and test_migrations_and_tasks: copier runs the new version's tasks
/// in the project on update too (with `_stage`/`STAGE` `task`), so a task that appends
/// appends again; `--skip-tasks` (copier's) runs none of them, but the migrations still.
#[test]
fn tasks_run_in_the_project_and_skip_tasks_leaves_migrations_running() {
    let Some(copier) = copier() else { return };
    let config = "_tasks:\n  - echo \"task $STAGE {{ _stage }}\" >> tasks.log\n_migrations:\n  - touch migrated\n";
    for skip in [false, true] {
        let env = Env::with_git_author();
        let v1: &[(&str, Option<&str>)] = &[ANSWERS, ("copier.yml", Some(config))];
        let v2: &[(&str, Option<&str>)] = &[("new.txt", Some("new\n"))];
        let src = template(&env, &[("v1", v1), ("v2", v2)]);
        let (by_copier, by_factory) = projects(&env, &copier, &src, "v1");
        let mut theirs = vec!["update", "--defaults", "--quiet", "--trust"];
        let mut ours = vec!["upgrade", "by-factory", "--apply", "--defaults", "--trust"];
        if skip {
            theirs.push("--skip-tasks");
            ours.push("--skip-tasks");
        }
        reference_ok(&env, &copier, &theirs, &by_copier);
        env.run(&ours).ok();
        assert_same(&files(&by_factory), &files(&by_copier), "copier update");
        assert!(by_factory.join("migrated").is_file());
        let log = std::fs::read_to_string(by_factory.join("tasks.log")).unwrap();
        let expected = match skip {
            true => "task task task\n",
            false => "task task task\ntask task task\n",
        };
        assert_eq!(log, expected);
    }
}

/// test_prerelease_version_migration and test_prereleases: the newest release is the
/// default version unless `--prereleases` (copier's) counts pre-releases too, migrations of
/// pre-release versions run then, and going back to the release is a downgrade copier and
/// factory refuse (exit 1, nothing written).
#[test]
fn prereleases_are_moved_to_only_when_asked_and_downgrades_are_refused() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let config = "_migrations:\n  - version: v1.9\n    command: touch v1.9\n  - version: v2.0.0a1\n    command: touch v2.0.0a1\n";
    let src = template(
        &env,
        &[
            ("v1", &[ANSWERS, ("copier.yml", Some(config))]),
            ("v1.9", &[("version.txt", Some("1.9\n"))]),
            ("v2.0.0a1", &[("version.txt", Some("2a1\n"))]),
        ],
    );
    let (by_copier, by_factory) = projects(&env, &copier, &src, "v1");
    let commit = |dir: &Path| env.commit_all(dir, "updated");
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet", "--trust"],
        &by_copier,
    );
    env.run(&["upgrade", "by-factory", "--apply", "--defaults", "--trust"])
        .ok();
    assert_same(&files(&by_factory), &files(&by_copier), "to the release");
    assert!(by_factory.join("v1.9").is_file() && !by_factory.join("v2.0.0a1").exists());
    commit(&by_copier);
    commit(&by_factory);
    reference_ok(
        &env,
        &copier,
        &[
            "update",
            "--defaults",
            "--quiet",
            "--trust",
            "--prereleases",
        ],
        &by_copier,
    );
    env.run(&[
        "upgrade",
        "by-factory",
        "--apply",
        "--defaults",
        "--trust",
        "--prereleases",
    ])
    .ok();
    assert_same(
        &files(&by_factory),
        &files(&by_copier),
        "to the pre-release",
    );
    assert!(by_factory.join("v2.0.0a1").is_file());
    commit(&by_copier);
    commit(&by_factory);
    let theirs = reference_run(
        &env,
        &copier,
        &["update", "--defaults", "--quiet", "--trust"],
        &by_copier,
    );
    assert!(!theirs.status.success());
    let before = files(&by_factory);
    let out = env.run(&["upgrade", "by-factory", "--apply", "--defaults", "--trust"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("You are downgrading from 2.0.0a1 to 1.9. Downgrades are not supported."),
        "{}",
        out.stderr
    );
    assert_eq!(files(&by_factory), before);
    // --prereleases is no switch of --check alone any more, --skip-tasks is not one of it.
    env.run(&["upgrade", "by-factory", "--check", "--skip-tasks"])
        .expect_code(2);
}

/// test_update_symlink, test_update_file_to_symlink and
/// test_update_renamed_dir_does_not_delete_symlink_target: with `_preserve_symlinks` a link
/// the template moves is moved (never written through), a file that becomes a link becomes
/// one and the other way round, and a linked folder whose name changes moves with its
/// target left alone.
#[test]
fn kept_symlinks_upgrade_as_copier_updates_them() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    let config = "_preserve_symlinks: true\nname:\n  type: str\n  default: foo\n";
    write(
        &src,
        &[
            ANSWERS,
            ("copier.yml", Some(config)),
            ("aaaa.txt", Some("Lorem ipsum\n")),
            ("bbbb.txt", Some("dolor sit amet\n")),
            ("shared/templates/file.txt", Some("test\n")),
        ],
    );
    let link = |to: &str, at: &str| {
        let at = src.join(at);
        let _ = std::fs::remove_file(&at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(to, at).unwrap();
    };
    link("aaaa.txt", "moved.txt");
    link("aaaa.txt", "cccc.txt");
    link("../shared/templates", "{{ name }}/templates");
    env.git_init(&src);
    env.tag_version(&src, "v1", &[]);
    link("bbbb.txt", "moved.txt");
    std::fs::remove_file(src.join("bbbb.txt")).unwrap();
    link("aaaa.txt", "bbbb.txt");
    std::fs::remove_file(src.join("cccc.txt")).unwrap();
    env.tag_version(&src, "v2", &[("cccc.txt", Some("now a file\n"))]);
    let (by_copier, by_factory) = projects(&env, &copier, &src, "v1");
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet", "-d", "name=bar"],
        &by_copier,
    );
    env.run(&[
        "upgrade",
        "by-factory",
        "--apply",
        "--defaults",
        "--set",
        "name=bar",
    ])
    .ok();
    assert_same(&files(&by_factory), &files(&by_copier), "copier update");
    let read_link = |at: &str| std::fs::read_link(by_factory.join(at)).unwrap();
    assert_eq!(read_link("moved.txt"), Path::new("bbbb.txt"));
    assert_eq!(read_link("bbbb.txt"), Path::new("aaaa.txt"));
    assert_eq!(read_link("bar/templates"), Path::new("../shared/templates"));
    // copier leaves the old link in place (its update removes no link).
    assert_eq!(read_link("foo/templates"), Path::new("../shared/templates"));
    assert_eq!(
        std::fs::read_to_string(by_factory.join("shared/templates/file.txt")).unwrap(),
        "test\n"
    );
    assert!(
        !std::fs::symlink_metadata(by_factory.join("cccc.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}
