//! `factory upgrade` (and copier's recopy through `generate --last-answers`) on projects
//! made from the template sources copier's own update tests use: a local repository read
//! at HEAD with changes not committed, a git bundle, a repository without `copier.yml`;
//! conflicts left unmerged in git, `_skip_if_exists` as copier matches it, a question whose
//! `when` no longer holds. Each case runs the real copier 9.19.1 (from PyPI, under
//! target/) on one copy and factory on another and compares the files byte for byte.

mod common;

use std::io::Write;
use std::path::Path;

use common::python::{ANSWERS, assert_same, copier, project_files as files, reference_ok};
use common::{Env, write_files as write};

/// copier's test_dirty_local.py::test_update: a template that is a local repository without
/// tags is read at HEAD with what is not committed yet, on copy and on update (factory says
/// so as copier warns); the base is the commit the project was made from.
#[test]
fn a_local_template_at_head_upgrades_with_its_changes_not_committed_as_copier_does() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    write(
        &src,
        &[
            ANSWERS,
            (
                "copier.yml",
                Some("_envops:\n  keep_trailing_newline: true\n"),
            ),
            ("aaaa.txt", Some("\nLorem ipsum\n")),
            ("to_delete.txt", Some("\ndelete me.\n")),
        ],
    );
    env.git_init_committed(&src, "first");
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    reference_ok(
        &env,
        &copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            src.to_str().unwrap(),
            "by-copier",
        ],
        env.dir.path(),
    );
    env.run(&["generate", "src", "-o", "by-factory", "--defaults"])
        .ok();
    env.git_init_committed(&by_copier, "generated");
    env.git_init_committed(&by_factory, "generated");
    write(
        &src,
        &[
            ("test_file.txt", Some("Test content")),
            ("aaaa.txt", Some("\nLorem ipsum\ndolor sit amet")),
            ("to_delete.txt", None),
        ],
    );
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet"],
        &by_copier,
    );
    // copier's DirtyLocalWarning is a Python warning: shown whatever --quiet says.
    let out = env.run(&["upgrade", "by-factory", "--apply", "--defaults", "--quiet"]);
    out.ok();
    assert!(
        out.stderr
            .contains("warning: dirty template changes included automatically"),
        "{}",
        out.stderr
    );
    // copier's `_commit` names the commit it makes of the changes (a new hash each run).
    let without_answers = |dir: &Path| {
        let mut f = files(dir);
        f.retain(|(p, _)| p != ".copier-answers.yml");
        f
    };
    assert_same(
        &without_answers(&by_factory),
        &without_answers(&by_copier),
        "copier update",
    );
    assert!(by_factory.join("test_file.txt").is_file());
    assert!(!by_factory.join("to_delete.txt").exists());
}

/// copier's test_updatediff.py::test_updatediff takes its template from a git bundle: the
/// bundle is a repository (copy at `v1`, update to its newest tag), `_src_path` as given.
#[test]
fn a_template_in_a_git_bundle_upgrades_as_copier_updates_it() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(
        &src,
        "v1",
        &[
            ANSWERS,
            (
                "copier.yml",
                Some("name:\n  type: str\n  default: Guybrush\n"),
            ),
            ("README.md.jinja", Some("Hello {{ name }}\n\nbye\n")),
        ],
    );
    env.tag_version(
        &src,
        "v2",
        &[("README.md.jinja", Some("Hello {{ name }}!\n\nbye\n"))],
    );
    let bundle = env.path("template.bundle");
    env.git(
        &src,
        &["bundle", "create", bundle.to_str().unwrap(), "--all"],
    );
    let bundle = bundle.to_str().unwrap();
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    reference_ok(
        &env,
        &copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "v1",
            bundle,
            "by-copier",
        ],
        env.dir.path(),
    );
    env.run(&[
        "generate",
        bundle,
        "-o",
        "by-factory",
        "--defaults",
        "--ref",
        "v1",
    ])
    .ok();
    assert_same(&files(&by_factory), &files(&by_copier), "copier copy");
    for dir in [&by_copier, &by_factory] {
        env.git_init_committed(dir, "generated");
        write(dir, &[("README.md", Some("Hello Guybrush\n\nbye, grog\n"))]);
        env.commit_all(dir, "edit");
    }
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet"],
        &by_copier,
    );
    env.run(&["upgrade", "by-factory", "--apply", "--defaults"])
        .ok();
    assert_same(&files(&by_factory), &files(&by_copier), "copier update");
    let readme = std::fs::read_to_string(by_factory.join("README.md")).unwrap();
    assert_eq!(readme, "Hello Guybrush!\n\nbye, grog\n");
}

/// copier's test_conflicted_files_are_marked_unmerged, on a template repository without
/// `copier.yml`: the conflicting file holds the markers and git lists it as unmerged (`UU`),
/// its stages the project's, the old and the new version; with `--conflict rej` nothing is
/// marked.
#[test]
fn conflicts_are_left_unmerged_in_git_as_copier_leaves_them() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(
        &src,
        "v1",
        &[ANSWERS, ("spa ces", Some("upstream version 1"))],
    );
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    reference_ok(
        &env,
        &copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            src.to_str().unwrap(),
            "by-copier",
        ],
        env.dir.path(),
    );
    env.run(&["generate", "./src", "-o", "by-factory", "--defaults"])
        .ok();
    for dir in [&by_copier, &by_factory] {
        env.git_init_committed(dir, "generated");
        write(dir, &[("spa ces", Some("upstream version 1 + downstream"))]);
        env.commit_all(dir, "edit");
    }
    env.tag_version(&src, "v2", &[("spa ces", Some("upstream version 2"))]);
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet"],
        &by_copier,
    );
    env.run(&["upgrade", "by-factory", "--apply", "--defaults"])
        .expect_code(3);
    assert_same(&files(&by_factory), &files(&by_copier), "copier update");
    let status = |dir: &Path| -> Vec<String> {
        env.git(dir, &["status", "--porcelain=v1"])
            .lines()
            .filter(|l| !l.contains(".factory/"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(status(&by_factory), status(&by_copier));
    assert!(status(&by_factory).contains(&"UU \"spa ces\"".to_string()));
    let stages = |dir: &Path| env.git(dir, &["ls-files", "--stage", "--", "spa ces"]);
    assert_eq!(stages(&by_factory), stages(&by_copier));

    // With the hunks in `.rej` files the project's file has no markers: nothing unmerged.
    let rej = env.path("by-factory-rej");
    env.run(&[
        "generate",
        "./src",
        "-o",
        "by-factory-rej",
        "--defaults",
        "--ref",
        "v1",
    ])
    .ok();
    env.git_init_committed(&rej, "generated");
    write(
        &rej,
        &[("spa ces", Some("upstream version 1 + downstream"))],
    );
    env.commit_all(&rej, "edit");
    env.run(&[
        "upgrade",
        "by-factory-rej",
        "--apply",
        "--defaults",
        "--conflict",
        "rej",
    ])
    .expect_code(3);
    assert!(!status(&rej).iter().any(|l| l.starts_with("UU")));
}

/// copier's test_skip_update (a `/`-anchored pattern) and test_skip_if_exists_templated
/// (a rendered one): the project's own file is kept, not merged.
#[test]
fn skip_if_exists_patterns_are_matched_and_rendered_as_copier_does() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(
        &src,
        "1.0.0",
        &[
            ANSWERS,
            (
                "copier.yml",
                Some("_skip_if_exists:\n  - /skip_me\n  - \"{{ 'templated' }}.txt\"\n"),
            ),
            ("skip_me", Some("1")),
            ("templated.txt", Some("foo")),
        ],
    );
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    reference_ok(
        &env,
        &copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            src.to_str().unwrap(),
            "by-copier",
        ],
        env.dir.path(),
    );
    env.run(&["generate", "src", "-o", "by-factory", "--defaults"])
        .ok();
    for dir in [&by_copier, &by_factory] {
        env.git_init_committed(dir, "generated");
        write(
            dir,
            &[("skip_me", Some("2")), ("templated.txt", Some("baz"))],
        );
        env.commit_all(dir, "edit");
    }
    env.tag_version(
        &src,
        "2.0.0",
        &[("skip_me", Some("3")), ("templated.txt", Some("bar"))],
    );
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet"],
        &by_copier,
    );
    env.run(&["upgrade", "by-factory", "--apply", "--defaults"])
        .ok();
    assert_same(&files(&by_factory), &files(&by_copier), "copier update");
    assert_eq!(
        std::fs::read_to_string(by_factory.join("skip_me")).unwrap(),
        "2"
    );
    assert_eq!(
        std::fs::read_to_string(by_factory.join("templated.txt")).unwrap(),
        "baz"
    );
}

const CONDITIONAL: &str = "first:\n  type: bool\n\nsecond:\n  type: bool\n  default: \"{{ first }}\"\n  when: \"{{ first }}\"\n";

/// copier's test_conditional_computed_value, for update and for recopy (`generate
/// --last-answers`): a recorded answer to a question whose `when` no longer holds is not
/// kept, and one whose `when` holds again takes its default, not the stale value.
#[test]
fn a_question_whose_when_changes_takes_its_default_on_update_and_recopy() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(
        &src,
        "v1",
        &[
            ANSWERS,
            ("copier.yml", Some(CONDITIONAL)),
            ("log.txt.jinja", Some("{{ first }} {{ second }}")),
        ],
    );
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    reference_ok(
        &env,
        &copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            "-d",
            "first=true",
            src.to_str().unwrap(),
            "by-copier",
        ],
        env.dir.path(),
    );
    env.run(&[
        "generate",
        "src",
        "-o",
        "by-factory",
        "--defaults",
        "--set",
        "first=true",
    ])
    .ok();
    env.git_init_committed(&by_copier, "generated");
    env.git_init_committed(&by_factory, "generated");
    let log = |dir: &Path| std::fs::read_to_string(dir.join("log.txt")).unwrap();
    for (first, expected) in [("false", "False False"), ("true", "True True")] {
        let set = format!("first={first}");
        reference_ok(
            &env,
            &copier,
            &["update", "--defaults", "--quiet", "-d", &set],
            &by_copier,
        );
        env.run(&[
            "upgrade",
            "by-factory",
            "--apply",
            "--defaults",
            "--set",
            &set,
        ])
        .ok();
        assert_same(&files(&by_factory), &files(&by_copier), "copier update");
        assert_eq!(log(&by_factory), expected);
        env.commit_all(&by_copier, "update");
        env.commit_all(&by_factory, "update");
    }
    for (first, expected) in [("false", "False False"), ("true", "True True")] {
        let set = format!("first={first}");
        reference_ok(
            &env,
            &copier,
            &["recopy", "--defaults", "--quiet", "--overwrite", "-d", &set],
            &by_copier,
        );
        // Recopied from the template the answers file names, as copier does.
        env.run(&[
            "generate",
            src.to_str().unwrap(),
            "-o",
            "by-factory",
            "--force",
            "--defaults",
            "--last-answers",
            "by-factory/.copier-answers.yml",
            "--set",
            &set,
        ])
        .ok();
        assert_same(&files(&by_factory), &files(&by_copier), "copier recopy");
        assert_eq!(log(&by_factory), expected);
    }
}

/// `generate --last-answers FILE --skip-answered` over a pipe asks only what the file does
/// not answer; `upgrade --ask NAME` asks an answered question again (copier's `--ask`), the
/// recorded answer offered as copier offers it (typed text goes after it).
#[test]
fn recorded_answers_are_asked_again_only_as_asked() {
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(&src, "v1", &[
            ANSWERS,
            (
                "copier.yml",
                Some(
                    "foo:\n  type: str\n  default: bar\n  ask: false\nname:\n  type: str\n  default: Mario\n",
                ),
            ),
            ("out.txt.jinja", Some("{{ foo }} {{ name }}\n")),
        ]);
    let piped = |args: &[&str], input: &str| {
        let mut child = env
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        common::Run::from(child.wait_with_output().unwrap())
    };
    env.run(&[
        "generate",
        "src",
        "-o",
        "p",
        "--defaults",
        "--set",
        "foo=prev",
    ])
    .ok();
    // `75e7086` as PyYAML writes an abbreviated commit: text to it, infinity to YAML 1.2.
    std::fs::write(env.path("last.yml"), "_commit: 75e7086\nname: Luigi\n").unwrap();
    let out = piped(
        &[
            "generate",
            "src",
            "-o",
            "p",
            "--force",
            "--last-answers",
            "last.yml",
            "--skip-answered",
            "--ask",
            "foo",
        ],
        "x\n",
    );
    out.ok();
    let text = std::fs::read_to_string(env.path("p/out.txt")).unwrap();
    assert_eq!(text, "barx Luigi\n", "{}", out.stderr);
    assert!(!out.stderr.contains("name"), "{}", out.stderr);

    env.git_init_committed(&env.path("p"), "generated");
    let out = piped(&["upgrade", "p", "--apply", "--ask", "foo"], "y\n");
    out.ok();
    let text = std::fs::read_to_string(env.path("p/out.txt")).unwrap();
    assert_eq!(text, "barxy Luigi\n", "{}", out.stderr);
}

/// A project generated from a plain folder (no repository, no store) cannot be upgraded:
/// said with what to do, nothing written.
#[test]
fn a_project_from_a_plain_folder_is_refused_by_name() {
    let env = Env::new();
    let src = env.path("src");
    write(
        &src,
        &[("copier.yml", Some("name: x\n")), ("a.txt", Some("a\n"))],
    );
    env.run(&["generate", "src", "-o", "p", "--defaults"]).ok();
    let before = common::snapshot(&env.path("p"));
    let out = env.run(&["upgrade", "p", "--apply"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("which was not a git repository"),
        "{}",
        out.stderr
    );
    assert_eq!(common::snapshot(&env.path("p")), before);
}

/// copier's test_basic_migration (a second tag on the same commit: no file changes, the
/// migrations run all the same) with a migration in copier's legacy form beside one in the
/// current form, run as copier runs them; factory says the legacy form is deprecated as
/// copier warns.
#[test]
fn migrations_between_tags_of_one_commit_run_as_copier_runs_them() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(&src, "v1", &[
            ANSWERS,
            (
                "copier.yml",
                Some(
                    "_migrations:\n  - touch foo\n  - version: v2\n    after:\n      - touch legacy\n",
                ),
            ),
        ]);
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    reference_ok(
        &env,
        &copier,
        &[
            "copy",
            "--defaults",
            "--quiet",
            src.to_str().unwrap(),
            "by-copier",
        ],
        env.dir.path(),
    );
    env.run(&["generate", "./src", "-o", "by-factory", "--defaults"])
        .ok();
    env.git_init_committed(&by_copier, "generated");
    env.git_init_committed(&by_factory, "generated");
    env.git(&src, &["tag", "v2"]);
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
    // The commit describes as `v1` (git keeps the first of two lightweight tags), so the
    // legacy migration of `v2` is not between the versions, for copier as for factory.
    assert!(by_factory.join("foo").is_file() && !by_factory.join("legacy").exists());
}

/// A project copier made from a repository URL at a tag: the upgrade reads two versions of
/// the repository (the recorded tag and the newest) and goes to the remote once, and its
/// result is copier's.
#[test]
fn an_upgrade_from_a_repository_url_fetches_it_once() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(
        &src,
        "v1.0.0",
        &[
            ANSWERS,
            ("copier.yml", Some("who:\n  default: one\n")),
            ("hello.txt.jinja", Some("hello {{ who }} v1\n")),
        ],
    );
    let url = format!("git+file://{}", src.display());
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    for dir in [&by_copier, &by_factory] {
        let name = dir.file_name().unwrap().to_str().unwrap();
        reference_ok(
            &env,
            &copier,
            &["copy", "--defaults", "--quiet", &url, name],
            env.dir.path(),
        );
        env.git_init_committed(dir, "generated");
    }
    env.tag_version(
        &src,
        "v2.0.0",
        &[("hello.txt.jinja", Some("hello {{ who }} v2\n"))],
    );
    reference_ok(
        &env,
        &copier,
        &["update", "--defaults", "--quiet"],
        &by_copier,
    );
    let trace = env.path("git-trace.txt");
    let upgraded: common::Run = env
        .command(&["upgrade", "by-factory", "--apply", "--defaults"])
        .env("GIT_TRACE", &trace)
        .output()
        .unwrap()
        .into();
    upgraded.ok();
    assert_same(&files(&by_factory), &files(&by_copier), "copier update");
    let traced = std::fs::read_to_string(&trace).unwrap();
    let remote =
        |line: &&str| line.contains("built-in: git fetch") || line.contains("built-in: git clone");
    assert_eq!(traced.lines().filter(remote).count(), 1, "{traced}");
}
