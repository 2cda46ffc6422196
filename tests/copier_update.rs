//! `factory upgrade` on copier projects judged by copier 9.19.1's own update tests
//! (tests/test_updatediff.py of its sdist): each case builds a template repository and a
//! project `copier copy` made from its first commit, edits the project, then runs
//! `copier update` on one copy and `factory upgrade --trust --defaults --apply` on another;
//! the two results are compared byte for byte (`.rej` files and conflict markers included).
//! copier is installed from PyPI into a virtual environment under target/ (said loudly and
//! skipped without python3 or PyPI; CI fails).

mod common;

use std::path::{Path, PathBuf};

use common::python::{copier, copier_copy, reference_command, reference_ok, tree, twin_projects};
use common::{Env, write_files as write};

/// The project's files (its `.git/` left out) and its folders.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".git/"))
        .collect();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(dir).unwrap().to_string_lossy();
        if entry.file_type().is_dir() && !rel.starts_with(".git") {
            out.push((format!("{rel}/"), Vec::new()));
        }
    }
    out.sort();
    out
}

/// Files to write (`None`: to delete).
type Files<'a> = &'a [(&'a str, Option<&'a str>)];

/// One of copier's update cases.
struct Case<'a> {
    /// The template's commits, each with its tag (if any).
    versions: &'a [(Option<&'a str>, Files<'a>)],
    /// What the project's maintainers change, committed before the update.
    edits: &'a [(&'a str, Option<&'a str>)],
    /// `copier update` arguments.
    copier: &'a [&'a str],
    /// `factory upgrade` arguments.
    factory: &'a [&'a str],
}

/// The results of a case: copier's project and factory's, and what factory said.
struct Outcome {
    by_copier: PathBuf,
    by_factory: PathBuf,
    factory: common::Run,
}

impl Outcome {
    #[track_caller]
    fn assert_same(&self) {
        common::python::assert_same(
            &files(&self.by_factory),
            &files(&self.by_copier),
            "copier update",
        );
    }
}

fn run(env: &Env, copier: &Path, case: &Case) -> Outcome {
    let src = env.path("src");
    env.git_init(&src);
    let mut first = String::new();
    for (tag, files) in case.versions {
        match tag {
            Some(tag) => env.tag_version(&src, tag, files),
            None => {
                write(&src, files);
                env.commit_all(&src, "version");
            }
        }
        if first.is_empty() {
            first = env.git(&src, &["rev-parse", "HEAD"]).trim().to_string();
        }
    }
    update_both(env, copier, &src, &first, case)
}

/// `copier copy` of `src` at `first`, the case's edits committed, then `copier update` of one
/// copy and `factory upgrade` of the other.
fn update_both(env: &Env, copier: &Path, src: &Path, first: &str, case: &Case) -> Outcome {
    // copier's tests name the template by its local path.
    let made = env.path("made");
    let copy = ["--trust", "--defaults", "--quiet", "--vcs-ref", first];
    copier_copy(env, copier, &copy, src, &made);
    env.git_init_committed(&made, "generated");
    write(&made, case.edits);
    env.commit_all(&made, "edits");
    let (by_copier, by_factory) = twin_projects(env, &made);
    let update = ["update", "--trust", "--defaults", "--quiet"];
    reference_ok(env, copier, &[&update, case.copier].concat(), &by_copier);
    let mut args = vec!["upgrade", "by-factory", "--trust", "--defaults", "--apply"];
    args.extend(case.factory);
    let factory = env.run(&args);
    Outcome {
        by_copier,
        by_factory,
        factory,
    }
}

const ANSWERS: (&str, Option<&str>) = (
    ".copier-answers.yml.jinja",
    Some("# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml }}\n"),
);

const README_V1: &str = "\nLet me introduce myself.\n\nMy name is {{author_name}}, and my project is {{project_name}}.\n\nThanks for your attention.\n";

fn pirate(copier_yml: &str) -> [(&'static str, Option<&str>); 3] {
    [
        ANSWERS,
        ("copier.yml", Some(copier_yml)),
        ("README.txt.jinja", Some(README_V1)),
    ]
}

const PIRATE: &str = "_envops:\n  keep_trailing_newline: true\nproject_name: to become a pirate\nauthor_name: Guybrush\n";

/// test_updatediff: your edit kept beside the template's, the answers file updated (the new
/// `_commit`, `_src_path` as written) and never a conflict; `--to HEAD` as copier's
/// `--vcs-ref=HEAD`; changed answers with `--set` as copier's `-d`.
#[test]
fn an_edited_project_updates_as_copier_updates_it() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let readme_v2 = "\nLet me introduce myself.\n\nMy name is {{author_name}}.\n\nMy project is {{project_name}}.\n\nThanks for your attention.\n";
    let grog = "\nLet me introduce myself.\n\nMy name is Guybrush, and my project is to become a pirate.\n\nThanks for your grog.\n";
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[
                (Some("v0.0.1"), &pirate(PIRATE)),
                (None, &[("README.txt.jinja", Some(readme_v2))]),
            ],
            edits: &[("README.txt", Some(grog))],
            copier: &[
                "--vcs-ref=HEAD",
                "-d",
                "author_name=Largo LaGrande",
                "-d",
                "project_name=to steal a lot",
            ],
            factory: &[
                "--to",
                "HEAD",
                "--set",
                "author_name=Largo LaGrande",
                "--set",
                "project_name=to steal a lot",
            ],
        },
    );
    out.factory.ok();
    out.assert_same();
    let readme = std::fs::read_to_string(out.by_factory.join("README.txt")).unwrap();
    assert_eq!(
        readme,
        "\nLet me introduce myself.\n\nMy name is Largo LaGrande.\n\nMy project is to steal a lot.\n\nThanks for your grog.\n"
    );
    let answers = std::fs::read_to_string(out.by_factory.join(".copier-answers.yml")).unwrap();
    let src = env.path("src");
    let described = env.git(&src, &["describe", "--tags"]);
    assert_eq!(
        answers,
        format!(
            "# Changes here will be overwritten by Copier\n_commit: {}\n_src_path: {}\nauthor_name: Largo LaGrande\nproject_name: to steal a lot\n\n",
            described.trim(),
            src.display()
        )
    );
    assert!(
        out.factory
            .stdout
            .contains("update      .copier-answers.yml  (the answers file, written anew"),
        "{}",
        out.factory.stdout
    );
}

const THANKS_TIME: &str = "\nLet me introduce myself.\n\nMy name is {{author_name}}, and my project is {{project_name}}.\n\nThanks for your time.";
const THANKS_GROG: &str = "\nLet me introduce myself.\n\nMy name is Guybrush, and my project is to become a pirate.\n\nThanks for your grog.";

/// A conflict on a last line without a line break: inline, git merge-file's markers with
/// copier's labels, each on a line of its own; rej, the new version in the file and your
/// rejected hunk (with git's function context) in the `.rej`, byte for byte.
#[test]
fn conflicts_are_written_as_copier_writes_them() {
    let Some(copier) = copier() else { return };
    for (copier_args, factory_args, file) in [
        (&[][..], &[][..], "README.txt"),
        (
            &["--conflict", "inline"][..],
            &["--conflict", "inline"][..],
            "README.txt",
        ),
        (
            &["--conflict", "rej"][..],
            &["--conflict", "rej"][..],
            "README.txt.rej",
        ),
    ] {
        let env = Env::with_git_author();
        let out = run(
            &env,
            &copier,
            &Case {
                versions: &[
                    (Some("v1"), &pirate(PIRATE)),
                    (Some("v2"), &[("README.txt.jinja", Some(THANKS_TIME))]),
                ],
                edits: &[("README.txt", Some(THANKS_GROG))],
                copier: copier_args,
                factory: factory_args,
            },
        );
        // Conflicts remain: factory's verdict (exit 3), naming the file.
        out.factory.expect_code(3);
        assert!(
            out.factory
                .stderr
                .contains("1 conflict(s) need you: README.txt"),
            "{}",
            out.factory.stderr
        );
        out.assert_same();
        let written = std::fs::read_to_string(out.by_factory.join(file)).unwrap();
        let expected = match file {
            "README.txt" => {
                "\nLet me introduce myself.\n\nMy name is Guybrush, and my project is to become a pirate.\n\n<<<<<<< before updating\nThanks for your grog.\n=======\nThanks for your time.\n>>>>>>> after updating\n"
            }
            _ => {
                "diff a/README.txt b/README.txt\t(rejected hunks)\n@@ -3,4 +3,4 @@ Let me introduce myself.\n \n My name is Guybrush, and my project is to become a pirate.\n \n-Thanks for your attention.\n+Thanks for your grog.\n\\ No newline at end of file\n"
            }
        };
        assert_eq!(written, expected);
    }
}

/// An edit close to the template's (within git's three lines of context): copier's `git
/// apply` rejects it, so inline it is merged by `git merge-file` and with rej the new version
/// is written with the edit in the `.rej`; a file added by both; both as copier does.
#[test]
fn edits_next_to_the_templates_and_files_added_by_both_as_copier_does() {
    let Some(copier) = copier() else { return };
    let v1: &[(&str, Option<&str>)] = &[
        ANSWERS,
        ("copier.yml", Some("name: x\n")),
        ("list.txt.jinja", Some("a\nb\nc\nd\ne\nf\ng\n{{ name }}\n")),
    ];
    let v2: &[(&str, Option<&str>)] = &[
        ("list.txt.jinja", Some("a\nB\nc\nd\ne\nf\ng\n{{ name }}\n")),
        ("both.txt", Some("the template's\n")),
    ];
    let edits: &[(&str, Option<&str>)] = &[
        ("list.txt", Some("a\nb\nc\nD\ne\nf\ng\nx\n")),
        ("both.txt", Some("mine\n")),
    ];
    for style in ["inline", "rej"] {
        let env = Env::with_git_author();
        let out = run(
            &env,
            &copier,
            &Case {
                versions: &[(Some("v1"), v1), (Some("v2"), v2)],
                edits,
                copier: &["--conflict", style],
                factory: &["--conflict", style],
            },
        );
        out.factory.expect_code(3);
        out.assert_same();
        let list = std::fs::read_to_string(out.by_factory.join("list.txt")).unwrap();
        match style {
            "inline" => {
                assert_eq!(list, "a\nB\nc\nD\ne\nf\ng\nx\n");
                assert!(
                    out.factory.stderr.contains("need you: both.txt\n"),
                    "{}",
                    out.factory.stderr
                );
            }
            _ => {
                assert_eq!(list, "a\nB\nc\nd\ne\nf\ng\nx\n");
                assert_eq!(
                    std::fs::read_to_string(out.by_factory.join("both.txt.rej")).unwrap(),
                    "diff a/both.txt b/both.txt\t(rejected hunks)\n@@ -0,0 +1 @@\n+mine\n"
                );
            }
        }
    }
}

/// test_file_removed and the deletions of test_updatediff: files and folders the template
/// removes go (emptied folders too), a file you deleted stays deleted even though the
/// template changed it (no conflict), a `_skip_if_exists` file you deleted comes back, your
/// own files stay; a removed file you edited is kept as a conflict unless
/// `--delete-removed` asks for copier's outcome (deleted, your change in the `.rej`).
#[test]
fn deletions_on_either_side_as_copier_does() {
    let Some(copier) = copier() else { return };
    let v1: &[(&str, Option<&str>)] = &[
        (
            "{{ _copier_conf.answers_file }}.jinja",
            Some("{{ _copier_answers|to_yaml }}"),
        ),
        ("copier.yml", Some("_skip_if_exists: [skip.txt]\n")),
        ("1.txt", Some("content 1")),
        ("dir 2/2.txt", Some("content 2")),
        ("dir 3/subdir 3/3.txt", Some("content 3")),
        ("changed.txt", Some("c1\n")),
        ("skip.txt", Some("s1\n")),
        ("edited-then-removed.txt", Some("g\n")),
    ];
    let v2: &[(&str, Option<&str>)] = &[
        ("1.txt", None),
        ("dir 2/2.txt", None),
        ("dir 3/subdir 3/3.txt", None),
        ("changed.txt", Some("c2\n")),
        ("skip.txt", Some("s2\n")),
        ("edited-then-removed.txt", None),
        ("6.txt", Some("content 6")),
    ];
    let edits: &[(&str, Option<&str>)] = &[
        ("I.txt", Some("content I")),
        ("dir 3/subdir III/III.txt", Some("content III")),
        ("changed.txt", None),
        ("skip.txt", None),
        ("edited-then-removed.txt", Some("g edited\n")),
    ];
    for (style, delete) in [("inline", true), ("rej", true), ("inline", false)] {
        let env = Env::with_git_author();
        let mut factory = vec!["--conflict", style];
        if delete {
            factory.push("--delete-removed");
        }
        let out = run(
            &env,
            &copier,
            &Case {
                versions: &[(Some("1"), v1), (Some("2"), v2)],
                edits,
                copier: &["--conflict", style],
                factory: &factory,
            },
        );
        let project = &out.by_factory;
        assert!(!project.join("changed.txt").exists());
        assert_eq!(
            std::fs::read_to_string(project.join("skip.txt")).unwrap(),
            "s2\n"
        );
        assert!(!project.join("dir 2").exists() && !project.join("dir 3/subdir 3").exists());
        assert!(project.join("dir 3/subdir III/III.txt").is_file());
        if delete {
            out.factory.ok();
            out.assert_same();
            assert!(!project.join("edited-then-removed.txt").exists());
            assert_eq!(
                project.join("edited-then-removed.txt.rej").exists(),
                style == "rej"
            );
        } else {
            // factory's default keeps your edit, as a conflict that names it.
            out.factory.expect_code(3);
            assert!(
                out.factory.stdout.contains(
                    "conflict    edited-then-removed.txt  (removed from the template but changed by you; kept)"
                ) && out.factory.stdout.contains(
                    "keep-local  changed.txt  (deleted by you; the template changed it; left deleted)"
                ),
                "{}",
                out.factory.stdout
            );
            assert_eq!(
                std::fs::read_to_string(project.join("edited-then-removed.txt")).unwrap(),
                "g edited\n"
            );
        }
    }
}

/// copier refuses to update a dirty repository ("Destination repository is dirty; cannot
/// continue"); factory refuses it too, before anything runs or is written, naming what is
/// uncommitted (exit 1). The plan alone (without --apply) still works.
#[test]
fn a_dirty_repository_is_refused_as_copier_refuses_it() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[
                (Some("v1"), &pirate(PIRATE)),
                (Some("v2"), &[("README.txt.jinja", Some(THANKS_TIME))]),
            ],
            edits: &[],
            copier: &[],
            factory: &["--to", "v1"],
        },
    );
    out.factory.ok();
    let project = &out.by_factory;
    std::fs::write(project.join("README.txt"), "mine\n").unwrap();
    std::fs::write(project.join("new.txt"), "untracked\n").unwrap();
    let before = files(project);
    let copier_says = reference_command(&env, &copier)
        .args(["update", "--trust", "--defaults", "--quiet"])
        .current_dir(project)
        .output()
        .unwrap();
    assert!(!copier_says.status.success());
    assert!(
        String::from_utf8_lossy(&copier_says.stderr).contains("Destination repository is dirty")
    );
    let out = env.run(&["upgrade", "by-factory", "--trust", "--defaults", "--apply"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("has uncommitted changes: README.txt, new.txt; nothing was written")
            && out.stderr.contains("commit or stash them"),
        "{}",
        out.stderr
    );
    assert_eq!(files(project), before);
    env.run(&["upgrade", "by-factory", "--trust", "--defaults"])
        .expect_code(3);
    assert_eq!(files(project), before);
}

/// test_update_with_new_file_in_template_and_project and test_update_needs_more_context:
/// with `--line-merge` a YAML file added by both is merged by lines as copier merges it
/// (without it, key by key: both list entries kept); `--context-lines` is copier's `-c`
/// (with one line of context the edit lands in the wrong function, as copier's own test
/// expects of copier).
#[test]
fn line_merges_and_context_lines_as_copier_has_them() {
    let Some(copier) = copier() else { return };
    let answers: &[(&str, Option<&str>)] = &[
        ("copier.yml", Some("{}\n")),
        (
            "{{ _copier_conf.answers_file }}.jinja",
            Some("{{ _copier_answers|to_yaml }}"),
        ),
    ];
    let ci_ours = "tests:\n    stage: test\n    script:\n        - ./test.sh\n\npages:\n    stage: deploy\n    script:\n        - ./deploy.sh\n";
    let ci_theirs = "tests:\n    stage: test\n    script:\n        - ./test.sh --slow\n";
    let v2: &[(&str, Option<&str>)] = &[(".gitlab-ci.yml.jinja", Some(ci_theirs))];
    let edits: &[(&str, Option<&str>)] = &[(".gitlab-ci.yml", Some(ci_ours))];
    let env = Env::with_git_author();
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[(Some("v1"), answers), (Some("v2"), v2)],
            edits,
            copier: &["--conflict", "inline"],
            factory: &["--conflict", "inline", "--line-merge"],
        },
    );
    out.factory.expect_code(3);
    out.assert_same();
    let env = self::Env::with_git_author();
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[(Some("v1"), answers), (Some("v2"), v2)],
            edits,
            copier: &[],
            factory: &[],
        },
    );
    out.factory.ok();
    assert_eq!(
        std::fs::read_to_string(out.by_factory.join(".gitlab-ci.yml")).unwrap(),
        "tests:\n    stage: test\n    script:\n        - ./test.sh\n        - ./test.sh --slow\n\npages:\n    stage: deploy\n    script:\n        - ./deploy.sh\n"
    );

    let eq = "    print(\"This line is equal to the next one.\")\n";
    let function = |name: &str, new: bool| {
        format!(
            "def {name}():\n{eq}{eq}{}{eq}{eq}    print(\"Previous line lied.\")\n",
            if new {
                "    print(\"This line is new.\")\n"
            } else {
                ""
            }
        )
    };
    let v1 = format!(
        "{}\n{}",
        function("function_one", false),
        function("function_two", false)
    );
    let ours = format!(
        "{}\n{}",
        function("function_one", false),
        function("function_two", true)
    );
    let theirs = format!(
        "{}\n{}\n{}",
        function("function_zero", false),
        function("function_one", false),
        function("function_two", false)
    );
    for lines in ["1", "3"] {
        let env = self::Env::with_git_author();
        let files: Vec<(&str, Option<&str>)> = answers
            .iter()
            .copied()
            .chain([("sample.py", Some(v1.as_str()))])
            .collect();
        let out = run(
            &env,
            &copier,
            &Case {
                versions: &[
                    (Some("v1"), &files),
                    (Some("v2"), &[("sample.py", Some(&theirs))]),
                ],
                edits: &[("sample.py", Some(&ours))],
                copier: &["--context-lines", lines],
                factory: &["-c", lines],
            },
        );
        out.factory.ok();
        out.assert_same();
        let sample = std::fs::read_to_string(out.by_factory.join("sample.py")).unwrap();
        let expected = format!(
            "{}\n{}\n{}",
            function("function_zero", false),
            function("function_one", lines == "1"),
            function("function_two", lines == "3")
        );
        assert_eq!(sample, expected);
    }
}

/// test_update_vcs_ref_current and test_update_with_skip_answered_and_new_answer: `--to
/// :current:` (copier's `--vcs-ref=:current:`) keeps the version and changes the answers;
/// `--skip-answered` with `--set` changes the answer given.
#[test]
fn the_current_version_with_new_answers_as_copier_has_it() {
    let Some(copier) = copier() else { return };
    let v1: &[(&str, Option<&str>)] = &[
        ("copier.yml", Some("boolean: false")),
        (
            "{{ _copier_conf.answers_file }}.jinja",
            Some("{{ _copier_answers|to_nice_yaml }}"),
        ),
    ];
    let v2: &[(&str, Option<&str>)] = &[("README.md", Some("# Template Update"))];
    for (copier_args, factory_args, commit) in [
        (
            &["--data", "boolean=true", "--vcs-ref=:current:"][..],
            &["--set", "boolean=true", "--to", ":current:"][..],
            "v1",
        ),
        (
            &["--data", "boolean=true", "--skip-answered"][..],
            &["--set", "boolean=true", "--skip-answered"][..],
            "v2",
        ),
    ] {
        let env = Env::with_git_author();
        let out = run(
            &env,
            &copier,
            &Case {
                versions: &[(Some("v1"), v1), (Some("v2"), v2)],
                edits: &[],
                copier: copier_args,
                factory: factory_args,
            },
        );
        out.factory.ok();
        out.assert_same();
        assert_eq!(
            std::fs::read_to_string(out.by_factory.join(".copier-answers.yml")).unwrap(),
            format!(
                "_commit: {commit}\n_src_path: {}\nboolean: true\n",
                env.path("src").display()
            )
        );
        assert_eq!(out.by_factory.join("README.md").exists(), commit == "v2");
    }
}

/// A template whose context hook (copier-templates-extensions) changes between versions:
/// the base's Python helper starts while the new version is fetched, and the result is
/// copier's. A python3 where the hook's package is missing is named before anything is
/// written, and the project is left as it was.
#[test]
fn a_context_hook_in_both_versions_updates_as_copier_updates_it() {
    let Some(copier) = common::python::copier_with_extensions() else {
        return;
    };
    let mut env = Env::with_git_author();
    let python = copier.with_file_name("python3");
    env.set_env("FACTORY_PYTHON", python.to_str().unwrap());
    let config = "_jinja_extensions:\n  - copier_templates_extensions.TemplateExtensionLoader\n  - extensions/context.py:ContextUpdater\nname:\n  type: str\n  default: Demo\n";
    let hook = |mark: &str| {
        format!(
            "from copier_templates_extensions import ContextHook\n\n\nclass ContextUpdater(ContextHook):\n    def hook(self, context):\n        context[\"shout\"] = str(context.get(\"name\", \"\")).upper() + \"{mark}\"\n"
        )
    };
    let (hook_v1, hook_v2) = (hook("!"), hook("!!"));
    let out = run(
        &env,
        &copier,
        &Case {
            versions: &[
                (
                    Some("v1.0.0"),
                    &[
                        ANSWERS,
                        ("copier.yml", Some(config)),
                        ("extensions/context.py", Some(&hook_v1)),
                        ("README.md.jinja", Some("# {{ shout }}\n\nIntro.\n")),
                    ],
                ),
                (
                    Some("v1.1.0"),
                    &[
                        ("extensions/context.py", Some(&hook_v2)),
                        (
                            "README.md.jinja",
                            Some("# {{ shout }}\n\nIntro.\n\nUsage: {{ name }}.\n"),
                        ),
                    ],
                ),
            ],
            edits: &[("NOTES.md", Some("ours\n"))],
            copier: &[],
            factory: &[],
        },
    );
    out.factory.ok();
    out.assert_same();
    assert_eq!(
        std::fs::read_to_string(out.by_factory.join("README.md")).unwrap(),
        "# DEMO!!\n\nIntro.\n\nUsage: Demo.\n"
    );
    // The hook's package is not in this python3: refused by name, nothing written.
    let broken = env.path("broken");
    assert!(
        env.program("cp")
            .arg("-a")
            .arg(env.path("made"))
            .arg(&broken)
            .status()
            .unwrap()
            .success()
    );
    env.set_env("FACTORY_PYTHON", "python3");
    let refused = env.run(&["upgrade", "broken", "--trust", "--defaults", "--apply"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("its Jinja extensions") && refused.stderr.contains("did not load"),
        "{}",
        refused.stderr
    );
    assert_eq!(files(&broken), files(&env.path("made")));
    // No python3 there at all: said so, nothing written.
    env.set_env("FACTORY_PYTHON", "/nonexistent/python3");
    let missing = env.run(&["upgrade", "broken", "--trust", "--defaults", "--apply"]);
    missing.expect_code(1);
    assert!(
        missing
            .stderr
            .contains("cannot start /nonexistent/python3 for its Jinja extensions"),
        "{}",
        missing.stderr
    );
    assert_eq!(files(&broken), files(&env.path("made")));
}

/// copier writes its answers with PyYAML (YAML 1.1), where an abbreviated commit such as
/// `75e7086` is text and goes unquoted; YAML 1.2 reads it as 75×10^7086, infinity. The
/// version is the commit as written, so the upgrade goes as copier's update goes.
#[test]
fn an_abbreviated_commit_that_yaml_12_reads_as_infinity_is_the_version_as_written() {
    let Some(copier) = copier() else { return };
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    write(&src, &pirate(PIRATE));
    env.commit_all(&src, "version");
    // Empty commits until the abbreviated hash is digits, `e`, then an exponent past 308
    // (about one commit in a hundred).
    let looks_infinite = |hash: &str| {
        let (mantissa, exponent) = hash.split_once('e').unwrap_or(("", ""));
        mantissa.starts_with(|c: char| ('1'..='9').contains(&c))
            && mantissa.chars().all(|c| c.is_ascii_digit())
            && exponent.parse::<u32>().is_ok_and(|e| e > 308)
    };
    let first = (0..5000)
        .find_map(|n| {
            let short = env.git(&src, &["rev-parse", "--short=7", "HEAD"]);
            if looks_infinite(short.trim()) {
                return Some(env.git(&src, &["rev-parse", "HEAD"]).trim().to_string());
            }
            env.git(
                &src,
                &["commit", "-q", "--allow-empty", "-m", &format!("try {n}")],
            );
            None
        })
        .expect("one of 5000 commits has such a hash");
    write(
        &src,
        &[(
            "README.txt.jinja",
            Some("{{ project_name }}, by {{ author_name }}\n"),
        )],
    );
    env.commit_all(&src, "version 2");
    let out = update_both(
        &env,
        &copier,
        &src,
        &first,
        &Case {
            versions: &[],
            edits: &[("NOTES.md", Some("ours\n"))],
            copier: &[],
            factory: &[],
        },
    );
    let answers = std::fs::read_to_string(env.path("made/.copier-answers.yml")).unwrap();
    assert!(
        answers.contains(&format!("_commit: {}\n", &first[..7])),
        "{answers}"
    );
    out.factory.ok();
    out.assert_same();
}
