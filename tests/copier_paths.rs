//! copier's rules for paths, against copier 9.19.1 itself: an answers-file template below
//! the template's root (written at the answers file's path, with copier's deprecation), an
//! `!include` that leads out of the template (copier's `"/abs/path" is forbidden`), a
//! link in the output folder where the template writes a file (replaced, never followed),
//! file names with control characters (written as copier writes them, shown escaped), a
//! copy into a folder that holds other files (allowed unless a file would change), and
//! `--no-cleanup` (what a failed run wrote stays, as copier's `-C` leaves it).

mod common;

use std::path::Path;

use common::Env;
use common::python::{ANSWERS, assert_same, copier, copier_copy, reference_command, tree};

fn generate(env: &Env, src: &Path, dst: &Path, more: &[&str]) -> common::Run {
    let (src, dst) = (src.display().to_string(), dst.display().to_string());
    let mut args = vec!["generate", src.as_str(), "-o", dst.as_str(), "--defaults"];
    args.extend_from_slice(more);
    env.run(&args)
}

const ANSWERS_TEMPLATE: &str =
    "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml }}\n";

#[test]
fn an_answers_file_template_below_the_root_is_written_at_the_answers_path_with_a_deprecation() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[
            ("copier.yml", "name:\n  type: str\n  default: ada\n"),
            (
                ".config/{{ _copier_conf.answers_file }}.jinja",
                ANSWERS_TEMPLATE,
            ),
            ("a.txt.jinja", "{{ name }}\n"),
        ],
    );
    for answers in [None, Some(".config/altered-answers.yml")] {
        let extra: Vec<&str> = answers.map(|a| vec!["-a", a]).unwrap_or_default();
        let theirs = env.path(&format!("theirs-{}", answers.is_some()));
        let copy = [&["--defaults"][..], &extra].concat();
        copier_copy(&env, &copier, &copy, &src, &theirs);
        let ours = env.path(&format!("ours-{}", answers.is_some()));
        let mut more = extra.clone();
        // copier warns whatever --quiet says; so does factory.
        more.push("--quiet");
        let run = generate(&env, &src, &ours, &more);
        run.ok();
        let expected = answers.unwrap_or(".copier-answers.yml");
        assert!(ours.join(expected).is_file(), "{expected}");
        assert!(
            run.stderr.contains("warning: `.config/{{ _copier_conf.answers_file }}.jinja` is an answers file template below the template's root, which copier deprecates")
                && run.stderr.contains(&format!("it is written at `{expected}`")),
            "{}",
            run.stderr
        );
        assert_same(&tree(&ours), &tree(&theirs), expected);
    }
    // At the root: no warning.
    let root = env.template(
        "root",
        &[
            ("{{ _copier_conf.answers_file }}.jinja", ANSWERS_TEMPLATE),
            ("a.txt", "a\n"),
        ],
    );
    let run = generate(&env, &root, &env.path("root-out"), &[]);
    run.ok();
    assert!(!run.stderr.contains("deprecat"), "{}", run.stderr);
}

#[test]
fn a_legacy_migration_is_a_deprecation_even_without_commands() {
    let env = Env::with_git_author();
    let src = env.path("src");
    env.git_init(&src);
    env.tag_version(&src, "v1", &[ANSWERS, ("copier.yml", Some("{}\n"))]);
    let dst = env.path("dst");
    generate(&env, &src, &dst, &[]).ok();
    env.git_init_committed(&dst, "1");
    let migrations = "_migrations:\n  - version: v2\n    before: []\n    after: []\n";
    env.tag_version(&src, "v2", &[("copier.yml", Some(migrations))]);
    let dst_s = dst.display().to_string();
    let run = env.run(&["upgrade", &dst_s, "--apply", "--quiet"]);
    run.ok();
    assert!(
        run.stderr
            .contains("warning: a migration is in copier's legacy form")
            && run
                .stderr
                .contains("This migration configuration is deprecated"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_include_leading_out_of_the_template_is_named_by_its_absolute_path() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src/template",
        &[("copier.yml", "!include ../outside/include.yml\n")],
    );
    env.template("src/outside", &[("include.yml", "foo: bar\n")]);
    let outside = std::fs::canonicalize(env.path("src/outside/include.yml")).unwrap();
    let sentence = format!("\"{}\" is forbidden", outside.display());
    let theirs = reference_command(&env, &copier)
        .args(["copy", "--defaults"])
        .arg(&src)
        .arg(env.path("theirs"))
        .output()
        .unwrap();
    assert!(!theirs.status.success());
    assert!(
        String::from_utf8_lossy(&theirs.stderr).contains(&sentence),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let ours = env.path("ours");
    let run = generate(&env, &src, &ours, &[]);
    run.expect_code(1);
    assert!(run.stderr.contains(&sentence), "{}", run.stderr);
    assert!(!ours.exists());
    // `a/../x` that stays inside is read.
    let inside = env.template(
        "inside",
        &[
            ("copier.yml", "!include sub/../more.yml\n"),
            ("more.yml", "q:\n  type: str\n  default: v\n"),
            ("q.txt.jinja", "{{ q }}"),
        ],
    );
    generate(&env, &inside, &env.path("inside-out"), &[]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("inside-out/q.txt")).unwrap(),
        "v"
    );
}

#[test]
fn a_link_where_the_template_writes_a_file_is_replaced_never_followed() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template("src", &[("file.txt", "from template"), ("copier.yml", "")]);
    for who in ["theirs", "ours"] {
        let dst = env.path(who);
        std::fs::create_dir_all(dst.join("project")).unwrap();
        std::fs::create_dir_all(dst.join("other")).unwrap();
        std::fs::write(dst.join("other/target.txt"), "external").unwrap();
        std::os::unix::fs::symlink("../other/target.txt", dst.join("project/file.txt")).unwrap();
    }
    copier_copy(
        &env,
        &copier,
        &["--defaults", "--overwrite"],
        &src,
        &env.path("theirs/project"),
    );
    generate(&env, &src, &env.path("ours/project"), &["--force"]).ok();
    for who in ["theirs", "ours"] {
        let file = env.path(&format!("{who}/project/file.txt"));
        assert!(
            !file.symlink_metadata().unwrap().file_type().is_symlink(),
            "{who}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "from template");
        assert_eq!(
            std::fs::read_to_string(env.path(&format!("{who}/other/target.txt"))).unwrap(),
            "external",
            "{who}"
        );
    }
    // A link on the way to a file (a folder the template writes into) is still refused.
    let deep = env.template("deep", &[("copier.yml", ""), ("d/x.txt", "x")]);
    let out = env.path("deep-out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(env.path("ours/other"), out.join("d")).unwrap();
    let run = generate(&env, &deep, &out, &["--force"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("does not write through links"),
        "{}",
        run.stderr
    );
    assert!(!env.path("ours/other/x.txt").exists());
}

#[test]
fn file_names_with_control_characters_are_written_and_shown_escaped() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let name = "\u{7}\u{c}\n\t\u{b}bell\u{1b}[2J";
    let src = env.template(
        "src",
        &[("copier.yml", ""), (name, "1"), ("plain.txt", "p")],
    );
    copier_copy(&env, &copier, &["--defaults"], &src, &env.path("theirs"));
    let ours = env.path("ours");
    generate(&env, &src, &ours, &[]).ok();
    assert_eq!(std::fs::read_to_string(ours.join(name)).unwrap(), "1");
    assert_same(
        &tree(&ours),
        &tree(&env.path("theirs")),
        "control characters",
    );
    // The content hash names it as sha256sum does.
    let manifest = std::fs::read_to_string(ours.join(".factory/manifest.sha256")).unwrap();
    assert!(manifest.contains("\\n"), "{manifest:?}");
    // Listings show it escaped: one line per file, no escape sequence reaches the terminal.
    let dry = generate(&env, &src, &env.path("dry"), &["--dry-run"]);
    dry.ok();
    assert!(!dry.stdout.contains('\u{1b}') && !dry.stdout.contains('\u{7}'));
    assert!(
        dry.stdout
            .lines()
            .any(|l| l.ends_with("\\u{7}\\u{c}\\n\\t\\u{b}bell\\u{1b}[2J")),
        "{}",
        dry.stdout
    );
    // NUL and `..` are still refused.
    let bad = env.template(
        "bad",
        &[
            ("copier.yml", "x:\n  default: \"a\\n/../../y\"\n"),
            ("{{ x }}.txt.jinja", ""),
        ],
    );
    let run = generate(&env, &bad, &env.path("bad-out"), &[]);
    run.expect_code(1);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    assert!(!env.path("y.txt").exists());
}

#[test]
fn a_copier_template_copies_into_a_folder_holding_other_files() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[("copier.yml", ""), ("a.txt", "a\n"), ("same.txt", "s\n")],
    );
    for who in ["theirs", "ours"] {
        std::fs::create_dir_all(env.path(who)).unwrap();
        std::fs::write(env.path(&format!("{who}/mine.txt")), "mine\n").unwrap();
        std::fs::write(env.path(&format!("{who}/same.txt")), "s\n").unwrap();
    }
    copier_copy(&env, &copier, &["--defaults"], &src, &env.path("theirs"));
    generate(&env, &src, &env.path("ours"), &[]).ok();
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("theirs")),
        "into a folder",
    );

    // A file the template writes otherwise: refused (copier asks, or stops without a
    // terminal), nothing written.
    let busy = env.path("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("a.txt"), "changed by hand\n").unwrap();
    let run = generate(&env, &src, &busy, &[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("already holds 1 file the template writes otherwise: a.txt")
            && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(busy.join("a.txt")).unwrap(),
        "changed by hand\n"
    );
    assert!(!busy.join("same.txt").exists() && !busy.join(".factory").exists());
    // factory's own templates keep the rule: a non-empty folder needs --force.
    let own = env.template("own", &[("template.yaml", "name: own\n"), ("a.txt", "a\n")]);
    let run = generate(&env, &own, &env.path("ours"), &[]);
    run.expect_code(1);
    assert!(run.stderr.contains("is not empty"), "{}", run.stderr);
}

#[test]
fn a_link_the_template_writes_into_a_folder_is_judged_as_copier_judges_it() {
    let Some(copier) = copier() else { return };
    let env = Env::new();
    let src = env.template(
        "src",
        &[
            ("copier.yml", "_preserve_symlinks: true\n"),
            ("b.txt", "b\n"),
        ],
    );
    std::os::unix::fs::symlink("b.txt", src.join("a.txt")).unwrap();
    // The lines that name `path`, copier's colours left out.
    let said = |stderr: &str, path: &str| -> Vec<String> {
        let mut plain = String::new();
        let mut in_escape = false;
        for c in stderr.chars() {
            match c {
                '\u{1b}' => in_escape = true,
                'm' if in_escape => in_escape = false,
                _ if in_escape => {}
                _ => plain.push(c),
            }
        }
        plain
            .lines()
            .filter(|l| l.ends_with(&format!("  {path}")))
            .map(str::to_string)
            .collect()
    };
    // Into a folder holding other files: the link is created, and said, as copier does;
    // again over the same folder it is identical.
    for who in ["theirs", "ours"] {
        std::fs::create_dir_all(env.path(who)).unwrap();
        std::fs::write(env.path(&format!("{who}/mine.txt")), "mine\n").unwrap();
    }
    for pass in ["first", "again"] {
        let theirs = copier_copy(&env, &copier, &["--defaults"], &src, &env.path("theirs"));
        let ours = generate(&env, &src, &env.path("ours"), &[]);
        ours.ok();
        assert_eq!(
            said(&ours.stderr, "a.txt"),
            said(&theirs, "a.txt"),
            "{pass}"
        );
        assert_eq!(
            said(&ours.stderr, "a.txt").len(),
            1,
            "{pass}: {}",
            ours.stderr
        );
        assert_same(&tree(&env.path("ours")), &tree(&env.path("theirs")), pass);
    }

    // Where the folder holds a file of its own: a conflict, and the file stays (copier asks,
    // or stops without a terminal).
    for who in ["theirs-busy", "ours-busy"] {
        std::fs::create_dir_all(env.path(who)).unwrap();
        std::fs::write(env.path(&format!("{who}/a.txt")), "mine\n").unwrap();
    }
    let theirs = reference_command(&env, &copier)
        .args(["copy", "--defaults"])
        .arg(&src)
        .arg(env.path("theirs-busy"))
        .output()
        .unwrap();
    assert!(!theirs.status.success());
    let ours = generate(&env, &src, &env.path("ours-busy"), &[]);
    ours.expect_code(1);
    assert_eq!(
        said(&ours.stderr, "a.txt"),
        said(&String::from_utf8_lossy(&theirs.stderr), "a.txt")
    );
    assert!(
        ours.stderr
            .contains("already holds 1 file the template writes otherwise: a.txt"),
        "{}",
        ours.stderr
    );
    for who in ["theirs-busy", "ours-busy"] {
        let mine = env.path(&format!("{who}/a.txt"));
        assert!(!mine.symlink_metadata().unwrap().is_symlink(), "{who}");
        assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine\n", "{who}");
    }
}

#[test]
fn no_cleanup_into_a_folder_never_writes_over_a_file_that_differs() {
    let env = Env::new();
    let src = env.template(
        "src",
        &[
            ("copier.yml", "_tasks:\n  - exit 1\n"),
            ("a.txt", "a\n"),
            ("new.txt", "new\n"),
        ],
    );
    // A file the template writes otherwise: what the failed run wrote is not placed.
    let busy = env.path("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("a.txt"), "changed by hand\n").unwrap();
    generate(&env, &src, &busy, &["--trust", "-C"]).expect_code(1);
    assert_eq!(
        std::fs::read_to_string(busy.join("a.txt")).unwrap(),
        "changed by hand\n"
    );
    assert!(!busy.join("new.txt").exists());
    // Beside other files only: it is.
    let beside = env.path("beside");
    std::fs::create_dir_all(&beside).unwrap();
    std::fs::write(beside.join("mine.txt"), "mine\n").unwrap();
    generate(&env, &src, &beside, &["--trust", "-C"]).expect_code(1);
    assert_eq!(
        std::fs::read_to_string(beside.join("a.txt")).unwrap(),
        "a\n"
    );
    assert_eq!(
        std::fs::read_to_string(beside.join("new.txt")).unwrap(),
        "new\n"
    );
    assert_eq!(
        std::fs::read_to_string(beside.join("mine.txt")).unwrap(),
        "mine\n"
    );
    assert!(!beside.join(".factory").exists());
}

#[test]
fn no_cleanup_leaves_what_a_failed_run_wrote() {
    let env = Env::new();
    let src = env.template(
        "src",
        &[
            ("copier.yml", "_tasks:\n  - exit 1\n"),
            ("test.txt", "Lorem ipsum\n"),
        ],
    );
    let gone = env.path("gone");
    let run = generate(&env, &src, &gone, &["--trust"]);
    run.expect_code(1);
    assert!(!gone.exists());

    let kept = env.path("kept");
    let run = generate(&env, &src, &kept, &["--trust", "-C"]);
    run.expect_code(1);
    assert_eq!(
        std::fs::read_to_string(kept.join("test.txt")).unwrap(),
        "Lorem ipsum\n"
    );
    // Not a generation: no provenance, nothing recorded as generated.
    assert!(!kept.join(".factory").exists());
    assert!(
        !env.events()
            .iter()
            .any(|e| e["eventType"] == "ScaffoldGenerated"),
        "{:?}",
        env.events()
    );
}
