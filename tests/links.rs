//! Links a template keeps as links (copier's `_preserve_symlinks: true`) never lead out of
//! the output, however they chain: each is resolved through the others, from every source
//! (a folder, a stored version, a git repository), by generate and by validate alike; and a
//! property test over random trees of links and folders.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Env;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

#[track_caller]
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@localhost")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@localhost")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copier template keeping links as links, with `links` (path, target) made in it.
fn linked_template(env: &Env, name: &str, links: &[(&str, &str)]) -> PathBuf {
    let root = env.template(
        name,
        &[
            ("copier.yml", "_preserve_symlinks: true\nname: demo\n"),
            ("a.txt", "a\n"),
            ("sub/keep.txt", "keep\n"),
        ],
    );
    for (path, target) in links {
        std::os::unix::fs::symlink(target, root.join(path)).unwrap();
    }
    root
}

/// Every file and link below the test's folder outside the store, with its bytes or target.
fn outside_the_store(env: &Env) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(env.dir.path()).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().starts_with(&env.store) || entry.path().starts_with(env.path(".cache")) {
            continue;
        }
        if entry.file_type().is_symlink() {
            let to = std::fs::read_link(entry.path()).unwrap();
            out.push((entry.path().to_path_buf(), to.display().to_string()));
        } else if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            out.push((
                entry.path().to_path_buf(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

/// `generate SOURCE -o out` must be refused with `text`, leaving every file as it was.
#[track_caller]
fn refused(env: &Env, source: &str, extra: &[&str], text: &str) {
    let before = outside_the_store(env);
    let mut args = vec!["generate", source, "-o", "out", "--defaults"];
    args.extend(extra);
    let out = env.run(&args);
    out.expect_code(1);
    assert!(
        out.stderr.contains(text),
        "expected {text:?} in {}",
        out.stderr
    );
    assert!(!env.path("out").exists(), "nothing is placed");
    assert_eq!(before, outside_the_store(env), "nothing else changed");
}

#[test]
fn chained_links_are_refused_from_a_folder_a_stored_version_and_a_repository() {
    let env = Env::new();
    // The issue's reproductions: `r -> .` then a target climbing through twelve `r/`, and
    // `sub/y -> .` with `sub/x -> y/../..` reaching the output's parent.
    let deep = format!("{}{}etc", "r/".repeat(12), "../".repeat(12));
    let cases = [
        (
            "deep",
            vec![("r", "."), ("x", deep.as_str())],
            format!("the link `x` -> `{deep}` leads out of the output folder (through `r` -> `.`"),
        ),
        (
            "shallow",
            vec![("sub/y", "."), ("sub/x", "y/../..")],
            "the link `sub/x` -> `y/../..` leads out of the output folder (through `sub/y` -> `.`)"
                .to_string(),
        ),
    ];
    for (name, links, message) in &cases {
        let template = linked_template(&env, name, links);
        let path = template.to_str().unwrap();
        // A folder, and a dry run.
        refused(&env, path, &[], message);
        refused(&env, path, &["--dry-run"], message);
        // validate says what generate does.
        let validated = env.run(&["validate", "--path", path]);
        validated.expect_code(3);
        assert!(
            validated.stdout.contains("FAIL  path/escape") && validated.stdout.contains(message),
            "{}",
            validated.stdout
        );
        assert!(
            !validated.stdout.contains("pass  path/escape"),
            "{}",
            validated.stdout
        );
        // A stored version: validate refuses it, generate too.
        env.run(&["register", path, "--name", name]).ok();
        env.run(&["version", name, "--version", "1.0.0"]).ok();
        let stored = format!("{name}@1.0.0");
        let validated = env.run(&["validate", &stored]);
        validated.expect_code(3);
        assert!(validated.stdout.contains(message), "{}", validated.stdout);
        refused(&env, &stored, &["--allow-draft"], message);
        // A git repository (file://, through the clone cache and a checkout).
        git(&template, &["init", "-q", "-b", "main"]);
        git(&template, &["add", "-A"]);
        git(&template, &["commit", "-qm", "links"]);
        let url = format!("file://{path}");
        refused(&env, &url, &[], message);
        std::fs::remove_dir_all(template.join(".git")).unwrap();
    }
    // Links through links that stay inside are kept, and resolve where they say.
    let fine = linked_template(
        &env,
        "fine",
        &[
            ("docs", "sub"),
            ("sub/up", ".."),
            ("x", "docs/up/sub/keep.txt"),
        ],
    );
    env.run(&[
        "generate",
        fine.to_str().unwrap(),
        "-o",
        "fine-out",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("fine-out/x")).unwrap(),
        "keep\n"
    );
    env.run(&["validate", "--path", fine.to_str().unwrap()])
        .ok();
}

#[test]
fn a_link_in_the_target_counts_when_a_kept_link_passes_through_it() {
    let env = Env::new();
    // The user's own `data -> /` in an existing output folder: a template link through it
    // would name something outside the output once placed.
    std::fs::create_dir_all(env.path("out")).unwrap();
    std::fs::write(env.path("out/mine.txt"), "mine\n").unwrap();
    std::os::unix::fs::symlink("/", env.path("out/data")).unwrap();
    let template = linked_template(&env, "through", &[("x", "data/etc")]);
    let before = outside_the_store(&env);
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--force",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("passes through the link `data` -> `/`"),
        "{}",
        out.stderr
    );
    assert_eq!(before, outside_the_store(&env));
}

/// One entry of a random template tree.
#[derive(Debug, Clone)]
enum Kind {
    File,
    Link(String),
}

/// Random trees: paths of up to three names from a small alphabet (so links and folders
/// meet), each a file or a link whose target is up to six names, `.` and `..`.
fn tree() -> impl Strategy<Value = Vec<(Vec<&'static str>, Kind)>> {
    let name = prop::sample::select(vec!["a", "b", "c"]);
    let part = prop::sample::select(vec!["a", "b", "c", "..", ".", "..", "a", "b"]);
    let target = prop::collection::vec(part, 1..7).prop_map(|parts| parts.join("/"));
    let kind = prop_oneof![Just(Kind::File), target.prop_map(Kind::Link)];
    let entry = (prop::collection::vec(name, 1..4), kind);
    prop::collection::vec(entry, 1..10)
}

/// Makes the tree below `root` (skipping entries whose place is taken); whether it holds a
/// link.
fn make_tree(root: &Path, entries: &[(Vec<&'static str>, Kind)]) -> bool {
    let mut taken: Vec<Vec<&str>> = Vec::new();
    let mut links = false;
    for (path, kind) in entries {
        // A place is taken when it, or a folder above it, is a file or link already, or
        // when it is a folder of one.
        let clash = taken
            .iter()
            .any(|t| path.starts_with(t) || t.starts_with(path));
        if clash {
            continue;
        }
        let at = root.join(path.join("/"));
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        match kind {
            Kind::File => std::fs::write(&at, "x\n").unwrap(),
            Kind::Link(target) => {
                std::os::unix::fs::symlink(target, &at).unwrap();
                links = true;
            }
        }
        taken.push(path.clone());
    }
    links
}

/// Where `path` resolves, as `realpath -m` says it (every link that resolves followed by the
/// system, names that do not exist taken as written), with the kernel doing the resolving:
/// each existing prefix is canonicalized, each missing name and `..` applied as written. A
/// loop does not resolve: its name is taken as written, the strictest reading.
fn resolved(path: &Path) -> PathBuf {
    resolved_within(path, &mut 40)
}

/// [`resolved`], following at most `budget` more dangling links (40 in all, as Linux does).
fn resolved_within(path: &Path, budget: &mut usize) -> PathBuf {
    let mut at = PathBuf::from("/");
    for part in path.components() {
        match part {
            std::path::Component::RootDir | std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                at.pop();
            }
            std::path::Component::Normal(name) => {
                at.push(name);
                if let Ok(real) = std::fs::canonicalize(&at) {
                    at = real;
                } else if let Ok(target) = std::fs::read_link(&at)
                    && *budget > 0
                {
                    // A link that does not resolve (yet): its target, from its folder.
                    *budget -= 1;
                    at.pop();
                    at = resolved_within(&at.join(target), budget);
                }
            }
            std::path::Component::Prefix(_) => unreachable!("unix paths"),
        }
    }
    at
}

/// Every path below `out`, links to folders followed (a bounded number of levels and paths,
/// as links to `.` make the walk grow fast), and every link, dangling ones included: the
/// ones that resolve ([`resolved`]) outside `out`.
fn paths_resolving_outside(out: &Path) -> Vec<String> {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(out)
        .into_iter()
        .flatten()
        .map(|e| e.path().to_path_buf())
        .collect();
    paths.extend(
        walkdir::WalkDir::new(out)
            .follow_links(true)
            .max_depth(4)
            .into_iter()
            .flatten()
            .take(2000)
            .map(|e| e.path().to_path_buf()),
    );
    let real_out = std::fs::canonicalize(out).unwrap();
    paths
        .iter()
        .filter(|p| !resolved(p).starts_with(&real_out))
        .map(|p| format!("{} -> {}", p.display(), resolved(p).display()))
        .collect()
}

/// Whatever the tree, generate either refuses (exit 1, nothing placed) or places an output
/// in which no path resolves outside it; validate's `path/escape` agrees with generate.
#[test]
fn no_generated_path_resolves_outside_the_output() {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    // The judge sees a chain out, a dangling one included, and passes what stays in.
    let judged = Env::new();
    let out = judged.path("out");
    std::fs::create_dir_all(out.join("sub")).unwrap();
    std::os::unix::fs::symlink(".", out.join("r")).unwrap();
    std::os::unix::fs::symlink("r/r/..", out.join("x")).unwrap();
    std::os::unix::fs::symlink("missing/../../..", out.join("sub/y")).unwrap();
    std::os::unix::fs::symlink("../r/sub", out.join("sub/z")).unwrap();
    let outside = paths_resolving_outside(&out);
    assert!(
        outside.iter().any(|p| p.contains("out/x ->")),
        "{outside:?}"
    );
    assert!(
        outside.iter().any(|p| p.contains("out/sub/y ->")),
        "{outside:?}"
    );
    assert!(
        !outside.iter().any(|p| p.contains("out/sub/z ->")),
        "{outside:?}"
    );
    // Both outcomes must be seen, or the trees are not testing anything.
    let placed_with_links = AtomicUsize::new(0);
    let refused_links = AtomicUsize::new(0);
    let result = runner.run(&tree(), |entries| {
        let env = Env::new();
        let template = env.template("t", &[("copier.yml", "_preserve_symlinks: true\n")]);
        let has_links = make_tree(&template, &entries);
        let path = template.to_str().unwrap();
        let out = env.run(&["generate", path, "-o", "out", "--defaults"]);
        let validated = env.run(&["validate", "--path", path]);
        let escape_failed = validated.stdout.contains("FAIL  path/escape");
        match out.code {
            0 => {
                let outside = paths_resolving_outside(&env.path("out"));
                prop_assert!(outside.is_empty(), "{entries:?}: {outside:?}");
                prop_assert!(!escape_failed, "{entries:?}: {}", validated.stdout);
                if has_links {
                    placed_with_links.fetch_add(1, Ordering::Relaxed);
                }
            }
            1 => {
                prop_assert!(!env.path("out").exists());
                prop_assert!(
                    out.stderr.contains("the link `"),
                    "{entries:?}: {}",
                    out.stderr
                );
                prop_assert!(
                    escape_failed,
                    "{entries:?}: {}\n{}",
                    out.stderr,
                    validated.stdout
                );
                refused_links.fetch_add(1, Ordering::Relaxed);
            }
            code => prop_assert!(false, "exit {code}: {}", out.stderr),
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(placed_with_links.load(Ordering::Relaxed) > 0);
    assert!(refused_links.load(Ordering::Relaxed) > 0);
}

#[test]
fn the_cookiecutter_replay_file_is_never_written_through_a_link() {
    let env = Env::new();
    let template = env.template(
        "cc",
        &[
            ("cookiecutter.json", "{\"project\": \"demo\"}\n"),
            (
                "{{cookiecutter.project}}/README.md",
                "{{ cookiecutter.project }}\n",
            ),
        ],
    );
    let t = template.to_str().unwrap();
    let generate = || env.run(&["generate", t, "-o", "out", "--defaults", "--compat-answers"]);
    let replay = env.path(".cookiecutter_replay");
    let victim = env.path("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    // The file linked to another file, then the folder linked to another folder.
    std::fs::create_dir_all(&replay).unwrap();
    std::os::unix::fs::symlink(&victim, replay.join("cc.json")).unwrap();
    for (what, link) in [("file", replay.join("cc.json")), ("folder", replay.clone())] {
        if what == "folder" {
            std::fs::remove_dir_all(&replay).unwrap();
            std::os::unix::fs::symlink(&elsewhere, &replay).unwrap();
        }
        let store = env.store_snapshot();
        let refused = generate();
        refused.expect_code(1);
        assert!(
            refused.stderr.contains(&format!(
                "{} is a symlink (to {}); factory does not write through links",
                link.display(),
                if what == "file" { &victim } else { &elsewhere }.display()
            )),
            "{what}: {}",
            refused.stderr
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert!(
            !env.path("out").exists(),
            "{what}: refused before generating"
        );
        assert_eq!(
            store,
            env.store_snapshot(),
            "{what}: the store is as it was"
        );
    }
    // A real folder: the replay file is written, a regular file.
    std::fs::remove_file(&replay).unwrap();
    generate().ok();
    let written = replay.join("cc.json");
    assert!(
        std::fs::symlink_metadata(&written)
            .unwrap()
            .file_type()
            .is_file()
    );
    assert!(
        std::fs::read_to_string(&written)
            .unwrap()
            .contains("\"project\": \"demo\"")
    );
}
