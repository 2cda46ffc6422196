//! Where generate puts its output: `--force` exchanges whole trees and carries the target's
//! own files, interrupted runs are undone (and named) by the next command on the folder, no
//! output goes into a `.git`, `--git` commits only to a repository of the output's own, and
//! the output's folder is resolved once even while it is swapped for a link.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::Env;

/// A copier template of two files that keeps `keep.txt` when the target has one.
fn copier_template(env: &Env) -> PathBuf {
    env.template(
        "carry",
        &[
            (
                "copier.yml",
                "v:\n  type: str\n  default: x\n_skip_if_exists: [\"keep.txt\"]\n",
            ),
            ("src/a.txt.jinja", "{{ v }} a\n"),
            ("keep.txt", "the template's keep\n"),
        ],
    )
}

/// Runs git in `dir` with an identity, asserting success; returns stdout.
fn git(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = env
        .program("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What `.factory-` leftovers a folder holds.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".factory-"))
        .collect()
}

#[test]
fn force_carries_the_targets_own_files_and_exchanges_the_tree_in_one_step() {
    let env = Env::new();
    let template = copier_template(&env);
    let t = template.to_str().unwrap();
    for inside in [false, true] {
        let proj = env.path("proj");
        let _ = std::fs::remove_dir_all(&proj);
        env.run(&["generate", t, "-o", "proj", "--defaults"]).ok();
        // The user's own: a file, a folder, a link, a repository, a kept file, a mode.
        std::fs::write(proj.join("mine.txt"), "mine\n").unwrap();
        std::fs::create_dir_all(proj.join("notes/deep")).unwrap();
        std::fs::write(proj.join("notes/deep/n.txt"), "note\n").unwrap();
        std::os::unix::fs::symlink("notes/deep/n.txt", proj.join("link")).unwrap();
        std::fs::write(proj.join("keep.txt"), "the user's keep\n").unwrap();
        git(&env, &proj, &["init", "-q"]);
        git(&env, &proj, &["add", "mine.txt"]);
        git(&env, &proj, &["commit", "-qm", "mine"]);
        std::fs::set_permissions(&proj, std::fs::Permissions::from_mode(0o750)).unwrap();
        let inode = std::fs::metadata(&proj).unwrap().ino();
        let git_before = common::snapshot(&proj.join(".git"));

        let out = if inside {
            // Inside the target the tree cannot be exchanged: the journal does it.
            let mut command = env.command(&["generate", t, "-o", ".", "--set", "v=y", "--force"]);
            command.current_dir(&proj);
            common::Run::from(command.output().unwrap())
        } else {
            env.run(&["generate", t, "-o", "proj", "--set", "v=y", "--force"])
        };
        out.ok();
        let read = |rel: &str| std::fs::read_to_string(proj.join(rel)).unwrap();
        assert_eq!(read("src/a.txt"), "y a\n", "the template's file is new");
        assert_eq!(read("mine.txt"), "mine\n");
        assert_eq!(read("notes/deep/n.txt"), "note\n");
        assert_eq!(
            read("keep.txt"),
            "the user's keep\n",
            "_skip_if_exists keeps it"
        );
        assert_eq!(
            std::fs::read_link(proj.join("link")).unwrap(),
            Path::new("notes/deep/n.txt")
        );
        assert_eq!(git_before, common::snapshot(&proj.join(".git")));
        assert!(git(&env, &proj, &["log", "--oneline"]).contains("mine"));
        let meta = std::fs::metadata(&proj).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o750,
            "the folder's mode"
        );
        assert_eq!(
            meta.ino() == inode,
            inside,
            "exchanged (a new folder) unless the run works inside it"
        );
        assert!(leftovers(env.dir.path()).is_empty());
        // The provenance names the kept file as it is, so only the user's own are added.
        let verified = env.run(&["--json", "verify", "proj"]);
        let drift = verified.json()["drift"].clone();
        assert_eq!(drift["changed"], serde_json::json!([]), "{drift}");
        assert_eq!(drift["removed"], serde_json::json!([]), "{drift}");
        assert!(
            drift["added"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p != "src/a.txt" && p != "keep.txt"),
            "{drift}"
        );
    }
}

#[test]
fn a_force_that_cannot_be_placed_leaves_the_target_and_its_folder_as_they_were() {
    let env = Env::new();
    let template = copier_template(&env);
    let t = template.to_str().unwrap();
    // A file where the template has a folder, then a folder where it has a file.
    for (rel, message) in [
        (
            "src",
            "is a file in the target; the template writes a folder there",
        ),
        (
            "src/a.txt",
            "is a folder in the target; the template writes a file there",
        ),
    ] {
        let _ = std::fs::remove_dir_all(env.path("proj"));
        env.run(&["generate", t, "-o", "proj", "--defaults"]).ok();
        let path = env.path("proj").join(rel);
        if rel == "src" {
            std::fs::remove_dir_all(&path).unwrap();
            std::fs::write(&path, "in the way\n").unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
            std::fs::create_dir_all(path.join("mine")).unwrap();
        }
        let outside_store = || {
            let mut files = common::snapshot(env.dir.path());
            files.retain(|(p, _)| !p.starts_with(&env.store));
            files
        };
        let before = outside_store();
        let out = env.run(&["generate", t, "-o", "proj", "--set", "v=y", "--force"]);
        out.expect_code(1);
        assert!(out.stderr.contains(message), "{}", out.stderr);
        assert_eq!(before, outside_store());
        assert!(leftovers(env.dir.path()).is_empty());
    }
}

/// What a run killed part-way through a journaled `--force` leaves: `a.txt` placed (the old
/// one in the backup), `b.txt` not reached yet, `c.txt` added; its process is gone.
fn interrupted(env: &Env) -> Vec<(PathBuf, Vec<u8>)> {
    let template = copier_template(env);
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "proj",
        "--defaults",
    ])
    .ok();
    std::fs::write(env.path("proj/b.txt"), "old b\n").unwrap();
    let untouched = common::snapshot(&env.path("proj"));
    let backup = env.path(".proj.factory-backup-4194304-1");
    std::fs::create_dir_all(backup.join("files/src")).unwrap();
    std::fs::write(backup.join("journal"), "~src/a.txt\n~b.txt\n+c.txt\n").unwrap();
    std::fs::rename(env.path("proj/src/a.txt"), backup.join("files/src/a.txt")).unwrap();
    std::fs::write(env.path("proj/src/a.txt"), "new a\n").unwrap();
    std::fs::write(env.path("proj/c.txt"), "new c\n").unwrap();
    // Its staging folder too (pid 4194304 is above Linux's pid_max: no such process).
    std::fs::create_dir_all(env.path(".proj.factory-tmp-4194304-1/src")).unwrap();
    untouched
}

#[test]
fn verify_undoes_an_interrupted_run_names_it_and_then_finds_the_project_as_generated() {
    let env = Env::new();
    let untouched = interrupted(&env);
    // Before: verify compared the half-written tree and said it drifted (exit 3).
    let out = env.run(&["verify", "proj"]);
    out.expect_code(3); // b.txt is the user's own: added
    assert!(
        out.stderr.contains("an interrupted run (process 4194304)")
            && out.stderr.contains("was undone"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("added    b.txt"), "{}", out.stdout);
    assert!(!out.stdout.contains("changed"), "{}", out.stdout);
    assert_eq!(untouched, common::snapshot(&env.path("proj")));
    assert!(
        leftovers(env.dir.path()).is_empty(),
        "{:?}",
        leftovers(env.dir.path())
    );
    std::fs::remove_file(env.path("proj/b.txt")).unwrap();
    env.run(&["verify", "proj"]).ok();
}

#[test]
fn hash_undoes_an_interrupted_run_before_it_hashes() {
    let env = Env::new();
    let untouched = interrupted(&env);
    std::fs::remove_file(env.path("proj/b.txt")).unwrap();
    let backup = env.path(".proj.factory-backup-4194304-1");
    std::fs::write(backup.join("journal"), "~src/a.txt\n+c.txt\n").unwrap();
    let out = env.run(&["hash", "proj"]);
    out.ok();
    assert!(out.stderr.contains("was undone"), "{}", out.stderr);
    let recorded = std::fs::read_to_string(env.path("proj/.factory/scaffold.yaml")).unwrap();
    assert!(
        recorded.contains(out.stdout.trim()),
        "the hash of the tree as generated: {}\n{recorded}",
        out.stdout
    );
    let mut expected = untouched;
    expected.retain(|(p, _)| !p.ends_with("b.txt"));
    assert_eq!(expected, common::snapshot(&env.path("proj")));
    assert!(leftovers(env.dir.path()).is_empty());
}

#[test]
fn the_next_command_on_a_folder_removes_every_dead_runs_staging_there_and_nothing_else() {
    let env = Env::new();
    let template = copier_template(&env);
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "proj",
        "--defaults",
    ])
    .ok();
    let dead = [
        ".proj.factory-tmp-4194304-1",
        ".other.factory-tmp-4194305-2",
        ".name.with.dots.factory-tmp-4194306-3",
    ];
    for name in dead {
        std::fs::create_dir_all(env.path(name).join("half")).unwrap();
        std::fs::write(env.path(name).join("half/f.txt"), "half\n").unwrap();
    }
    // A live run's (this test's pid), and names that only look alike: all stay.
    let live = format!(".proj.factory-tmp-{}-4", std::process::id());
    let kept = [
        live.as_str(),
        ".x.factory-tmp-notapid-1",
        ".factory-tmp-4194304-1",
    ];
    for name in kept {
        std::fs::create_dir_all(env.path(name)).unwrap();
    }
    let out = env.run(&["verify", "proj"]);
    out.ok();
    assert!(
        out.stderr
            .contains("removed the staging folder an interrupted run (process 4194305)"),
        "{}",
        out.stderr
    );
    for name in dead {
        assert!(!env.path(name).exists(), "{name} stays");
    }
    for name in kept {
        assert!(env.path(name).exists(), "{name} was removed");
    }
}

#[test]
fn an_output_folder_named_git_or_inside_one_is_refused_and_nothing_is_written() {
    let env = Env::new();
    let template = copier_template(&env);
    let t = template.to_str().unwrap();
    std::fs::create_dir_all(env.path("cliproj")).unwrap();
    git(&env, &env.path("cliproj"), &["init", "-q"]);
    let outside_store = || {
        let mut files = common::snapshot(env.dir.path());
        files.retain(|(p, _)| !p.starts_with(&env.store));
        files
    };
    let before = outside_store();
    for target in [
        "cliproj/.git",
        "cliproj/.git/hooks",
        "fresh/.GIT",
        "fresh/.git. ",
        "a/.git/b/c",
    ] {
        for force in [false, true] {
            let mut args = vec!["generate", t, "-o", target, "--defaults"];
            if force {
                args.push("--force");
            }
            let out = env.run(&args);
            out.expect_code(2);
            assert!(
                out.stderr.contains("a git repository's own folder"),
                "{target}: {}",
                out.stderr
            );
        }
    }
    // From inside a repository's .git, `-o .` names it too.
    let mut command = env.command(&["generate", t, "-o", ".", "--defaults", "--force"]);
    command.current_dir(env.path("cliproj/.git"));
    let out = common::Run::from(command.output().unwrap());
    out.expect_code(2);
    // Nothing was written anywhere (the store aside: it records nothing either).
    assert_eq!(before, outside_store());
    assert!(!env.path("fresh").exists() && !env.path("a").exists());
}

#[test]
fn git_refuses_a_dot_git_that_leads_to_another_repository_and_leaves_it_as_it_was() {
    let env = Env::new();
    let template = copier_template(&env);
    let t = template.to_str().unwrap();
    let other = env.path("other");
    std::fs::create_dir_all(&other).unwrap();
    git(&env, &other, &["init", "-q"]);
    std::fs::write(other.join("theirs.txt"), "theirs\n").unwrap();
    git(&env, &other, &["add", "theirs.txt"]);
    git(&env, &other, &["commit", "-qm", "theirs"]);
    let other_git = other.join(".git");
    type Plant<'a> = Box<dyn Fn(&Path) + 'a>;
    let plant: Vec<(&str, Plant)> = vec![
        (
            "is a file",
            Box::new(|o1: &Path| {
                std::fs::write(
                    o1.join(".git"),
                    format!("gitdir: {}\n", other_git.display()),
                )
                .unwrap()
            }),
        ),
        (
            "is a link",
            Box::new(|o1: &Path| std::os::unix::fs::symlink(&other_git, o1.join(".git")).unwrap()),
        ),
        (
            "sets core.worktree",
            Box::new(|o1: &Path| {
                git(&env, o1, &["init", "-q"]);
                git(
                    &env,
                    o1,
                    &["config", "core.worktree", other.to_str().unwrap()],
                );
            }),
        ),
        (
            "commondir",
            Box::new(|o1: &Path| {
                git(&env, o1, &["init", "-q"]);
                std::fs::write(
                    o1.join(".git/commondir"),
                    format!("{}\n", other_git.display()),
                )
                .unwrap();
            }),
        ),
        (
            "holds a link",
            Box::new(|o1: &Path| {
                git(&env, o1, &["init", "-q"]);
                std::fs::remove_dir_all(o1.join(".git/objects")).unwrap();
                std::os::unix::fs::symlink(other_git.join("objects"), o1.join(".git/objects"))
                    .unwrap();
            }),
        ),
    ];
    for (why, plant) in &plant {
        let o1 = env.path("o1");
        let _ = std::fs::remove_dir_all(&o1);
        std::fs::create_dir_all(&o1).unwrap();
        plant(&o1);
        let theirs = common::snapshot(&other);
        let head = git(&env, &other, &["rev-parse", "HEAD"]);
        let mine = common::snapshot(&o1);
        let out = env.run(&["generate", t, "-o", "o1", "--defaults", "--git"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(why)
                && out
                    .stderr
                    .contains("--git commits only to a repository of the output's own"),
            "{why}: {}",
            out.stderr
        );
        assert_eq!(head, git(&env, &other, &["rev-parse", "HEAD"]), "{why}");
        assert_eq!(
            theirs,
            common::snapshot(&other),
            "{why}: the other repository changed"
        );
        assert_eq!(mine, common::snapshot(&o1), "{why}: the output was written");
    }
    // A repository of the folder's own (`git init o2`) gets the commit.
    std::fs::create_dir_all(env.path("o2")).unwrap();
    git(&env, &env.path("o2"), &["init", "-q"]);
    env.run(&["generate", t, "-o", "o2", "--defaults", "--git"])
        .ok();
    assert!(git(&env, &env.path("o2"), &["log", "--oneline"]).contains("Scaffold from"));
    assert!(git(&env, &env.path("o2"), &["ls-files"]).contains("src/a.txt"));
}

/// A copier template whose task swaps the output's folder for a link to `elsewhere` while
/// the run goes on (the task runs in the staging folder, inside the output's folder).
#[test]
fn a_folder_swapped_for_a_link_mid_run_gets_nothing_written_through_the_link() {
    let env = Env::new();
    let template = env.template(
        "swap",
        &[
            (
                "copier.yml",
                "_tasks:\n  - \"cd ../.. && mv race race.moved && ln -s \\\"$ELSEWHERE\\\" race\"\n",
            ),
            ("src/a.txt", "a\n"),
        ],
    );
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(env.path("outroot/race")).unwrap();
    let out = env
        .command(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            "outroot/race/d1",
            "--defaults",
            "--trust",
            "--git",
        ])
        .env("ELSEWHERE", &elsewhere)
        .output()
        .unwrap();
    let out = common::Run::from(out);
    out.ok();
    assert!(
        std::fs::symlink_metadata(env.path("outroot/race"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the task swapped the folder"
    );
    // Before: the provenance and the move went through the link: elsewhere held
    // `.d1.factory-tmp-…/.factory` (or the output).
    let through: Vec<_> = walkdir::WalkDir::new(&elsewhere)
        .min_depth(1)
        .into_iter()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(through.is_empty(), "written through the link: {through:?}");
    let placed = env.path("outroot/race.moved/d1");
    assert_eq!(
        std::fs::read_to_string(placed.join("src/a.txt")).unwrap(),
        "a\n"
    );
    assert!(placed.join(".factory/manifest.sha256").is_file());
    assert!(
        placed.join(".git").is_dir(),
        "the commit went to the output"
    );
    assert!(leftovers(&env.path("outroot/race.moved")).is_empty());
}

/// Swaps `outroot/race` (a folder) and `outroot/race.link` (a link to `elsewhere`) in one
/// step, again and again, while generates into `outroot/race/dN` run.
#[test]
fn swapping_the_output_folder_for_a_link_again_and_again_never_splits_a_run() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::new();
    let mut files: Vec<(String, String)> = (0..60)
        .map(|i| (format!("src/f{i}.txt"), format!("file {i}\n")))
        .collect();
    files.push(("template.yaml".into(), "name: many\n".into()));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let template = env.template("many", &files);
    let root = env.path("outroot");
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(root.join("race")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("race.link")).unwrap();
    let stop = AtomicBool::new(false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let swaps = std::thread::scope(|scope| {
        let swapper = scope.spawn(|| {
            let dir = rustix::fs::open(
                &root,
                rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::RDONLY,
                rustix::fs::Mode::empty(),
            )
            .unwrap();
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                rustix::fs::renameat_with(
                    &dir,
                    "race",
                    &dir,
                    "race.link",
                    rustix::fs::RenameFlags::EXCHANGE,
                )
                .unwrap();
                swaps += 1;
                std::thread::sleep(std::time::Duration::from_micros(300));
            }
            swaps
        });
        for n in 0..20 {
            if std::time::Instant::now() >= deadline {
                break;
            }
            let target = format!("outroot/race/d{n}");
            // A run may fail (a link appeared while it resolved the folder); it never
            // writes half a tree anywhere.
            env.run(&["generate", template.to_str().unwrap(), "-o", &target]);
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap()
    });
    assert!(swaps > 10, "the folder was swapped {swaps} times");
    // The real folder is `race` or `race.link` now; the other is the link.
    let real = if root.join("race").is_symlink() {
        root.join("race.link")
    } else {
        root.join("race")
    };
    let mut placed = 0;
    for folder in [&real, &elsewhere] {
        assert!(
            leftovers(folder).is_empty(),
            "{:?} in {}",
            leftovers(folder),
            folder.display()
        );
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            // Every output is whole wherever its run resolved the folder to.
            let out = env.run(&["verify", entry.path().to_str().unwrap()]);
            out.ok();
            assert_eq!(
                common::snapshot(&entry.path().join("src")).len(),
                60,
                "{}",
                entry.path().display()
            );
            placed += 1;
        }
    }
    assert!(placed > 0, "no run placed its output");
}
