//! `factory upgrade` on copier projects where copier's update replays the old version in a
//! particular way, judged against copier 9.19.1 itself (its test_updatediff.py cases): a
//! template's change of a file's executable bit (on disk and, with `core.fileMode` false,
//! in git's index), `_exclude` added by the new version (copy-only files), a file added by
//! both the project and the new version, and a secret given again on update. Each case
//! builds a template repository, lets `copier copy` make the project, commits it, then runs
//! `copier update` on one copy and `factory upgrade --apply` on another; the results (files,
//! their modes, git's index and status) must be the same.

mod common;

use std::path::{Path, PathBuf};

use common::python::{ANSWERS, copier, copier_copy, reference_ok, tree, twin_projects};
use common::{Env, write_files as write};

/// A template version: files to write (`None`: delete), executable bits to set, its tag.
struct Version<'a> {
    tag: &'a str,
    files: &'a [(&'a str, Option<&'a str>)],
    executable: &'a [(&'a str, bool)],
}

/// One case: the versions, what happens to the project before the update (after copier's
/// copy is committed), and each tool's update arguments.
struct Case<'a> {
    versions: &'a [Version<'a>],
    project: &'a dyn Fn(&Env, &Path),
    copier: &'a [&'a str],
    factory: &'a [&'a str],
}

struct Outcome {
    by_copier: PathBuf,
    by_factory: PathBuf,
    factory: common::Run,
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    let mode = if executable {
        mode | 0o111
    } else {
        mode & !0o111
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
}

fn run(env: &Env, copier: &Path, case: &Case) -> Outcome {
    let src = env.path("src");
    env.git_init(&src);
    for version in case.versions {
        write(&src, version.files);
        for (file, executable) in version.executable {
            set_executable(&src.join(file), *executable);
        }
        env.tag_version(&src, version.tag, &[]);
    }
    let made = env.path("made");
    let first = case.versions[0].tag;
    let copy = ["--defaults", "--quiet", "--vcs-ref", first];
    copier_copy(env, copier, &copy, &src, &made);
    env.git_init(&made);
    (case.project)(env, &made);
    let (by_copier, by_factory) = twin_projects(env, &made);
    let update = ["update", "--defaults", "--quiet"];
    reference_ok(env, copier, &[&update, case.copier].concat(), &by_copier);
    let mut args = vec!["upgrade", "by-factory", "--defaults", "--apply"];
    args.extend(case.factory);
    let factory = env.run(&args);
    Outcome {
        by_copier,
        by_factory,
        factory,
    }
}

impl Outcome {
    /// The same files with the same bytes and executable bits, the same index and status.
    #[track_caller]
    fn assert_same(&self, env: &Env) {
        let state = |dir: &Path| {
            let files: Vec<(String, Vec<u8>, bool)> = tree(dir)
                .into_iter()
                .filter(|(path, _)| !path.starts_with(".git/"))
                .map(|(path, bytes)| {
                    let executable = is_executable(&dir.join(&path));
                    (path, bytes, executable)
                })
                .collect();
            let index = env.git(dir, &["ls-files", "--stage"]);
            let status = env.git(dir, &["status", "--porcelain"]);
            (files, index, status)
        };
        let (mine, theirs) = (state(&self.by_factory), state(&self.by_copier));
        for ((path, a, x), (_, b, y)) in mine.0.iter().zip(&theirs.0) {
            assert_eq!(
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b),
                "copier update: {path}"
            );
            assert_eq!(x, y, "copier update: {path}'s executable bit");
        }
        assert_eq!(mine, theirs, "copier update: files, index and status");
    }
}

/// test_update_propagates_executable_bit_addition and _removal: a file whose content stays
/// and whose executable bit the new version adds (or drops) gets it on disk; with
/// `core.fileMode` false git's index records the new mode too (unstaged content stays as
/// it was), with it true the change is left unstaged, as copier leaves it.
#[test]
#[cfg(unix)]
fn an_executable_bit_the_template_changes_reaches_disk_and_index_as_in_copier() {
    let Some(copier) = copier() else { return };
    for file_mode in ["false", "true"] {
        for gains in [true, false] {
            let env = Env::with_git_author();
            let project = move |env: &Env, dir: &Path| {
                env.git(dir, &["config", "core.fileMode", file_mode]);
                env.git(dir, &["add", "-A"]);
                if !gains && file_mode == "false" {
                    env.git(dir, &["update-index", "--chmod=+x", "--", "launcher.sh"]);
                }
                env.git(dir, &["commit", "-qm", "init"]);
            };
            let out = run(
                &env,
                &copier,
                &Case {
                    versions: &[
                        Version {
                            tag: "v1",
                            files: &[ANSWERS, ("launcher.sh", Some("#!/bin/sh\necho hi\n"))],
                            executable: &[("launcher.sh", !gains)],
                        },
                        Version {
                            tag: "v2",
                            files: &[],
                            executable: &[("launcher.sh", gains)],
                        },
                    ],
                    project: &project,
                    copier: &[],
                    factory: &[],
                },
            );
            out.factory.ok();
            out.assert_same(&env);
            let launcher = out.by_factory.join("launcher.sh");
            assert_eq!(is_executable(&launcher), gains, "fileMode {file_mode}");
            let staged = env.git(
                &out.by_factory,
                &["ls-files", "--stage", "--", "launcher.sh"],
            );
            // With fileMode false the index follows the template; with true git sees the
            // change on disk, unstaged, and the index keeps the committed mode.
            let expected = match (file_mode, gains) {
                ("false", true) | ("true", false) => "100755",
                _ => "100644",
            };
            assert!(
                staged.starts_with(expected),
                "fileMode {file_mode}: {staged}"
            );
        }
    }
}

/// A file the project added itself (untracked by the template) is never staged by the
/// mode sync, and a project in no git repository is updated without one.
#[test]
#[cfg(unix)]
fn the_mode_sync_touches_only_files_the_index_holds() {
    let env = Env::with_git_author();
    let src = env.path("tpl");
    env.git_init(&src);
    env.tag_version(
        &src,
        "v1",
        &[
            ANSWERS,
            ("run.sh", Some("#!/bin/sh\n")),
            ("copier.yml", Some("x: 1\n")),
        ],
    );
    let dst = env.path("dst");
    env.run(&["generate", src.to_str().unwrap(), "-o", "dst", "--defaults"])
        .ok();
    std::fs::remove_dir_all(dst.join(".factory")).unwrap();
    env.git_init(&dst);
    env.git(&dst, &["config", "core.fileMode", "false"]);
    env.commit_all(&dst, "project");
    // v2: run.sh becomes executable and a new executable file appears.
    write(&src, &[("new.sh", Some("#!/bin/sh\n"))]);
    set_executable(&src.join("run.sh"), true);
    set_executable(&src.join("new.sh"), true);
    env.tag_version(&src, "v2", &[]);
    env.run(&["upgrade", "dst", "--defaults", "--apply"]).ok();
    assert_eq!(
        env.git(&dst, &["ls-files", "--stage", "--", "run.sh"])
            .split(' ')
            .next(),
        Some("100755")
    );
    // The new file is on disk, executable, and not added to the index.
    assert!(is_executable(&dst.join("new.sh")));
    assert_eq!(env.git(&dst, &["ls-files", "--", "new.sh"]), "");
    // No git repository at all: the upgrade still applies.
    let plain = env.path("plain");
    env.run(&[
        "generate",
        src.to_str().unwrap(),
        "-o",
        "plain",
        "--defaults",
        "--ref",
        "v1",
    ])
    .ok();
    std::fs::remove_dir_all(plain.join(".factory")).unwrap();
    env.run(&["upgrade", "plain", "--defaults", "--apply"]).ok();
    assert!(is_executable(&plain.join("run.sh")));
}

/// test_exclude_added_in_new_version (and test_context's templated form): a file the new
/// version excludes is left as the project has it, not deleted as removed, as copier does
/// (it renders the old version with the new version's `_exclude` too).
#[test]
fn a_file_the_new_version_excludes_stays_as_in_copier() {
    let Some(copier) = copier() else { return };
    for pattern in [
        "copy-only",
        "\"{% if _copier_operation == 'update' %}copy-only{% endif %}\"",
    ] {
        let env = Env::with_git_author();
        // Its own `_exclude` replaces copier's default one, which leaves out copier.yml and
        // the template's .git (copier would copy the template's repository in).
        let config = format!("_exclude:\n - copier.yml\n - .git\n - {pattern}\n");
        let out = run(
            &env,
            &copier,
            &Case {
                versions: &[
                    Version {
                        tag: "1.0.0",
                        files: &[
                            ANSWERS,
                            ("copy-only", Some("foo")),
                            ("copy-and-update", Some("foo")),
                        ],
                        executable: &[],
                    },
                    Version {
                        tag: "2.0.0",
                        files: &[
                            ("copier.yml", Some(&config)),
                            ("copy-only", Some("bar")),
                            ("copy-and-update", Some("bar")),
                        ],
                        executable: &[],
                    },
                ],
                project: &|env, dir| env.commit_all(dir, "project"),
                copier: &[],
                factory: &[],
            },
        );
        out.factory.ok();
        out.assert_same(&env);
        let read = |f: &str| std::fs::read_to_string(out.by_factory.join(f)).unwrap();
        assert_eq!(
            (read("copy-only"), read("copy-and-update")),
            ("foo".into(), "bar".into())
        );
    }
}

/// test_update_with_new_file_in_template_and_project: a file you added that the new version
/// adds too is merged by lines against an empty base (`--line-merge`, as copier merges
/// every file), with copier's labels; key by key (factory's default for YAML) it merges.
#[test]
fn a_file_added_by_both_merges_by_lines_as_in_copier() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let project = |env: &Env, dir: &Path| {
        env.commit_all(dir, "project");
        write(
            dir,
            &[(
                ".gitlab-ci.yml",
                Some(
                    "tests:\n    stage: test\n    script:\n        - ./test.sh\n\npages:\n    stage: deploy\n    script:\n        - ./deploy.sh\n",
                ),
            )],
        );
        env.commit_all(dir, "project");
    };
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[
                Version {
                    tag: "v1",
                    files: &[ANSWERS],
                    executable: &[],
                },
                Version {
                    tag: "v2",
                    files: &[(
                        ".gitlab-ci.yml.jinja",
                        Some("tests:\n    stage: test\n    script:\n        - ./test.sh --slow\n"),
                    )],
                    executable: &[],
                },
            ],
            project: &project,
            copier: &["--conflict", "inline"],
            factory: &["--conflict", "inline", "--line-merge"],
        },
    );
    out.factory.expect_code(3);
    out.assert_same(&env);
    assert_eq!(
        std::fs::read_to_string(out.by_factory.join(".gitlab-ci.yml")).unwrap(),
        "tests:\n    stage: test\n    script:\n<<<<<<< before updating\n        - ./test.sh\n\npages:\n    stage: deploy\n    script:\n        - ./deploy.sh\n=======\n        - ./test.sh --slow\n>>>>>>> after updating\n"
    );
}

/// test_disable_secret_validator_on_replay: a secret (never in the answers file) given on
/// update is a change the new version carries: the old version is replayed with the
/// secret's default, which its validator does not judge, as copier replays it; the answers
/// file still holds no secret.
#[test]
fn a_secret_given_on_update_is_carried_as_in_copier() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let config = "token:\n    type: str\n    secret: true\n    default: \"\"\n    validator: \"{% if token == '' %}Must not be empty{% endif %}\"\n";
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[Version {
                tag: "v1",
                files: &[
                    ANSWERS,
                    ("copier.yml", Some(config)),
                    (".gitignore", Some(".env")),
                    (".env.jinja", Some("TOKEN={{ token }}")),
                    ("tracked.txt.jinja", Some("token set: {{ token != '' }}\n")),
                ],
                executable: &[],
            }],
            project: &|env, dir| env.commit_all(dir, "project"),
            copier: &["-d", "token=$up3r-$3cr3t"],
            factory: &["--set", "token=$up3r-$3cr3t"],
        },
    );
    out.factory.ok();
    out.assert_same(&env);
    let read = |f: &str| std::fs::read_to_string(out.by_factory.join(f)).unwrap();
    assert_eq!(read(".env"), "TOKEN=$up3r-$3cr3t");
    assert_eq!(read("tracked.txt"), "token set: True\n");
    assert!(!read(".copier-answers.yml").contains("3cr3t"));
    assert!(!out.factory.stdout.contains("3cr3t") && !out.factory.stderr.contains("3cr3t"));
}
