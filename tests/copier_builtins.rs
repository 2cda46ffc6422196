//! What copier gives every template beyond its answers, each beside the real copier 9.19.1
//! from PyPI (installed into a virtual environment under target/; without python3 or PyPI the
//! comparison is skipped loudly, and under CI it fails): its deprecated builtins `now()` and
//! `make_secret()`, the template files' permission bits, the folders it walks, its wording for
//! a `None` answer, and its `git+URL` form.

mod common;

use std::path::Path;

use common::Env;
use common::python::{copier, reference_command, tree};

/// `copier copy --defaults TEMPLATE DEST` (with `args` before the template), which must
/// succeed; its stderr.
fn copier_copy(env: &Env, template: &Path, dest: &str, args: &[&str]) -> Option<String> {
    let copier = copier()?;
    let args = [&["--defaults"][..], args].concat();
    Some(common::python::copier_copy(
        env,
        &copier,
        &args,
        template,
        &env.path(dest),
    ))
}

/// Python's `str(datetime)` of an aware instant in UTC.
fn is_aware_utc_datetime(text: &str) -> bool {
    let re = regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$").unwrap();
    re.is_match(text)
}

fn is_secret(text: &str) -> bool {
    text.len() == 128
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[test]
fn now_and_make_secret_are_copiers_deprecated_builtins() {
    let mut env = Env::new();
    let template = env.template(
        "builtins",
        &[
            (
                "copier.yml",
                "stamp:\n  default: \"{{ now() }}\"\nsecret:\n  default: \"{{ make_secret() }}\"\n",
            ),
            ("now.jinja", "{{ stamp }}"),
            (
                "year.jinja",
                "{{ now().year }} {{ now().strftime('%Y-%m-%d') }}",
            ),
            ("secret.jinja", "{{ secret }}"),
            ("two.jinja", "{{ make_secret() }} {{ make_secret() }}"),
        ],
    );
    let theirs = copier_copy(&env, &template, "theirs", &[]);
    env.set_env("FACTORY_NOW", "2026-06-11T23:05:09.5+02:00");
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "ours",
        "--defaults",
    ]);
    out.ok();
    let read = |dir: &str, file: &str| {
        std::fs::read_to_string(env.path(&format!("{dir}/{file}"))).unwrap()
    };
    // FACTORY_NOW pins the instant, given in UTC as copier's `datetime.now(tz=utc)` is.
    assert_eq!(read("ours", "now"), "2026-06-11 21:05:09.500000+00:00");
    assert_eq!(read("ours", "year"), "2026 2026-06-11");
    assert!(
        is_secret(&read("ours", "secret")),
        "{}",
        read("ours", "secret")
    );
    let two: Vec<String> = read("ours", "two").split(' ').map(str::to_string).collect();
    assert!(
        is_secret(&two[0]) && is_secret(&two[1]) && two[0] != two[1],
        "{two:?}"
    );
    // One warning per builtin, however often it was called, naming what to write instead.
    for name in ["now", "make_secret"] {
        let said = format!("warning: `{name}()` is deprecated");
        assert_eq!(out.stderr.matches(&said).count(), 1, "{}", out.stderr);
    }
    assert!(
        out.stderr.contains("{{ '%Y-%m-%d %H:%M:%S' | strftime }}"),
        "{}",
        out.stderr
    );
    // A secret never reaches stdout or the log of events.
    assert!(!out.stdout.contains(&read("ours", "secret")));
    // --quiet keeps warnings to itself, as it does every warning.
    let quiet = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "quiet",
        "--defaults",
        "--quiet",
    ]);
    quiet.ok();
    assert_eq!(quiet.stderr, "");

    let Some(theirs) = theirs else { return };
    // The same kinds of value copier gives, and copier's own FutureWarnings.
    assert!(
        is_aware_utc_datetime(&read("theirs", "now")),
        "{}",
        read("theirs", "now")
    );
    assert!(is_aware_utc_datetime(&read("ours", "now")));
    assert!(is_secret(&read("theirs", "secret")));
    let year = read("theirs", "year");
    assert!(
        regex::Regex::new(r"^\d{4} \d{4}-\d\d-\d\d$")
            .unwrap()
            .is_match(&year),
        "{year}"
    );
    for name in ["now", "make_secret"] {
        assert!(
            theirs.contains(&format!("FutureWarning: '{name}' will be removed")),
            "{theirs}"
        );
    }
}

#[test]
fn factory_templates_keep_their_own_now() {
    // factory's `now(timezone, format)` is not copier's: its own templates keep it.
    let mut env = Env::new();
    env.set_env("FACTORY_NOW", "2026-06-11T21:05:09Z");
    let template = env.template(
        "own-now",
        &[
            ("template.yaml", "name: own-now\ncategory: library\n"),
            ("when.txt", "{{ now() }} {{ now('utc', '%H:%M') }}"),
        ],
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ])
    .ok();
    let text = std::fs::read_to_string(env.path("out/when.txt")).unwrap();
    assert_eq!(text, "2026-06-11 21:05");
    // And a cookiecutter template has no make_secret (cookiecutter has none).
    let cc = env.template(
        "cc-secret",
        &[
            ("cookiecutter.json", r#"{"name": "x"}"#),
            ("{{cookiecutter.name}}/s.txt", "{{ make_secret() }}"),
        ],
    );
    let out = env.run(&["generate", cc.to_str().unwrap(), "-o", "cc", "--defaults"]);
    out.expect_code(1);
    assert!(out.stderr.contains("make_secret"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn output_files_get_the_template_files_permission_bits_as_in_copier() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let template = env.template(
        "modes",
        &[
            ("copier.yml", "name: demo\n"),
            ("group.txt", "g\n"),
            ("all.sh", "#!/bin/sh\n"),
            ("mine.txt.jinja", "{{ name }}\n"),
            ("readonly.txt", "r\n"),
            ("setuid", "s\n"),
        ],
    );
    let modes = [
        ("group.txt", 0o770),
        ("all.sh", 0o777),
        ("mine.txt.jinja", 0o600),
        ("readonly.txt", 0o400),
        ("setuid", 0o4755),
    ];
    for (file, mode) in modes {
        std::fs::set_permissions(template.join(file), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "ours",
        "--defaults",
    ])
    .ok();
    let mode = |dir: &str, file: &str| {
        std::fs::metadata(env.path(&format!("{dir}/{file}")))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    // Exactly the template's bits, whatever the umask; never set-user-id.
    assert_eq!(mode("ours", "group.txt"), 0o770);
    assert_eq!(mode("ours", "all.sh"), 0o777);
    assert_eq!(mode("ours", "mine.txt"), 0o600);
    assert_eq!(mode("ours", "readonly.txt"), 0o400);
    assert_eq!(mode("ours", "setuid"), 0o755);
    // The content hash is the bytes' alone: the modes do not change it.
    let hashed = env.run(&["hash", env.path("ours").to_str().unwrap()]);
    for (file, _) in modes {
        let p = template.join(file);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "plain",
        "--defaults",
    ])
    .ok();
    let plain = env.run(&["hash", env.path("plain").to_str().unwrap()]);
    assert_eq!(hashed.stdout, plain.stdout);

    for (file, mode) in modes {
        std::fs::set_permissions(template.join(file), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }
    if copier_copy(&env, &template, "theirs", &["--quiet"]).is_none() {
        return;
    }
    for file in ["group.txt", "all.sh", "mine.txt", "readonly.txt"] {
        assert_eq!(mode("ours", file), mode("theirs", file), "{file}");
    }
}

#[test]
fn copier_makes_every_folder_it_walks_even_when_no_file_lands_in_it() {
    let env = Env::new();
    let template = env.template(
        "folders",
        &[
            (
                "copier.yml",
                "_subdirectory: tpl\n_exclude: ['*.md', 'skipped']\ndo_it:\n  type: bool\n  default: false\n",
            ),
            ("tpl/{% if do_it %}one_dir{% endif %}/one.txt.jinja", "{{ do_it }}"),
            ("tpl/five/{% if do_it %}six.txt{% endif %}.jinja", "{{ do_it }}"),
            ("tpl/docs/readme.md", "excluded\n"),
            ("tpl/skipped/a.txt", "excluded with its folder\n"),
            ("tpl/two.txt", "2\n"),
        ],
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "ours",
        "--defaults",
    ])
    .ok();
    let folders = |dir: &str| {
        let root = env.path(dir);
        let mut out: Vec<String> = walkdir::WalkDir::new(&root)
            .min_depth(1)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_dir())
            .map(|e| e.path().strip_prefix(&root).unwrap().display().to_string())
            .filter(|p| !p.starts_with(".factory"))
            .collect();
        out.sort();
        out
    };
    assert_eq!(folders("ours"), ["docs", "five"]);
    let Some(_) = copier_copy(&env, &template, "theirs", &["--quiet"]) else {
        return;
    };
    assert_eq!(folders("ours"), folders("theirs"));
    common::python::assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("theirs")),
        "files",
    );
}

#[test]
fn a_none_answer_to_a_typed_question_is_refused_in_copiers_words() {
    let env = Env::new();
    let template = env.template(
        "none",
        &[
            ("copier.yml", "bad:\n  type: int\n  default: null\n"),
            ("a.txt", "a\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ]);
    out.expect_code(2);
    let words =
        r#"Invalid answer "None" of type "<class 'NoneType'>" to question "bad" of type "int""#;
    assert!(out.stderr.contains(words), "{}", out.stderr);
    assert!(!env.path("out").exists());
    // A YAML question takes nothing for an answer.
    let yaml = env.template(
        "none-yaml",
        &[
            ("copier.yml", "q:\n  type: yaml\n  default: null\n"),
            ("a.txt.jinja", "{{ q }}"),
        ],
    );
    env.run(&[
        "generate",
        yaml.to_str().unwrap(),
        "-o",
        "yaml",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("yaml/a.txt")).unwrap(),
        "None"
    );

    let Some(copier) = copier() else { return };
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults"])
        .arg(&template)
        .arg(env.path("theirs"));
    let theirs = command.env("HOME", env.dir.path()).output().unwrap();
    assert!(!theirs.status.success());
    assert!(String::from_utf8_lossy(&theirs.stderr).contains(words));
}

#[test]
fn git_plus_url_is_a_repository_and_what_follows_is_checked() {
    let env = Env::new();
    let marker = env.path("malicious.txt");
    let out = env.run(&[
        "generate",
        &format!("git+--upload-pack=touch {}", marker.display()),
        "-o",
        "out",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("git would read it as an option"),
        "{}",
        out.stderr
    );
    assert!(!marker.exists());
    assert!(!env.path("out").exists());

    // A real repository behind git+file://.
    let env = Env::with_git_author();
    let repo = env.template(
        "repo",
        &[
            ("copier.yml", "name: demo\n"),
            ("a.txt.jinja", "{{ name }}\n"),
        ],
    );
    env.git_init_committed(&repo, "one");
    let url = format!("git+file://{}", repo.display());
    env.run(&["generate", &url, "-o", "out", "--defaults"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/a.txt")).unwrap(),
        "demo\n"
    );
}

/// copier's per-file lines in `stderr`, colours removed, for the files named (copier also
/// announces folders and its answers file).
fn file_lines(stderr: &str, files: &[&str]) -> Vec<String> {
    let colour = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    let mut lines: Vec<String> = colour
        .replace_all(stderr, "")
        .lines()
        .filter(|l| files.iter().any(|f| l.ends_with(&format!("  {f}"))))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_copy_over_a_folder_that_holds_files_judges_each_file_as_copier_does() {
    let env = Env::new();
    let template = env.template(
        "over",
        &[
            ("copier.yml", "name: demo\n_skip_if_exists: [kept.txt]\n"),
            ("same.txt", "same\n"),
            ("changed.txt.jinja", "{{ name }}\n"),
            ("kept.txt", "kept\n"),
        ],
    );
    let files = ["same.txt", "changed.txt", "kept.txt"];
    let t = template.to_str().unwrap();
    let first = env.run(&["generate", t, "-o", "ours", "--defaults"]);
    first.ok();
    assert_eq!(
        file_lines(&first.stderr, &files),
        [
            "    create  changed.txt",
            "    create  kept.txt",
            "    create  same.txt"
        ]
    );
    let edit = |dir: &str| {
        std::fs::write(env.path(&format!("{dir}/changed.txt")), "mine\n").unwrap();
        std::fs::write(env.path(&format!("{dir}/kept.txt")), "mine\n").unwrap();
        std::fs::write(env.path(&format!("{dir}/own.txt")), "own\n").unwrap();
    };
    edit("ours");
    let stamp = |dir: &str| {
        std::fs::metadata(env.path(&format!("{dir}/same.txt")))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = stamp("ours");
    std::thread::sleep(std::time::Duration::from_millis(20));

    // A file that differs, neither forced nor skipped: nothing is placed.
    let refused = env.run(&["generate", t, "-o", "ours", "--defaults"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("already holds 1 file the template writes otherwise: changed.txt"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    let read = |p: &str| std::fs::read_to_string(env.path(p)).unwrap();
    assert_eq!(read("ours/changed.txt"), "mine\n");

    let forced = env.run(&["generate", t, "-o", "ours", "--defaults", "--force"]);
    forced.ok();
    let ours = file_lines(&forced.stderr, &files);
    assert_eq!(
        ours,
        [
            "      skip  kept.txt",
            "  conflict  changed.txt",
            "  conflict  kept.txt",
            " identical  same.txt",
            " overwrite  changed.txt",
        ]
    );
    assert_eq!(read("ours/changed.txt"), "demo\n");
    assert_eq!(read("ours/kept.txt"), "mine\n");
    assert_eq!(read("ours/own.txt"), "own\n");
    // The identical file was left as it was, its time too.
    assert_eq!(stamp("ours"), before);
    // --quiet says nothing of it.
    let quiet = env.run(&[
        "generate",
        t,
        "-o",
        "ours",
        "--defaults",
        "--force",
        "--quiet",
    ]);
    quiet.ok();
    assert_eq!(quiet.stderr, "");

    let Some(copier) = copier() else { return };
    let copy = |extra: &[&str]| {
        let mut command = reference_command(&env, &copier);
        command
            .args(["copy", "--defaults"])
            .args(extra)
            .arg(&template)
            .arg(env.path("theirs"))
            .env("HOME", env.dir.path());
        command.output().unwrap()
    };
    let made = copy(&[]);
    assert!(made.status.success());
    let said = String::from_utf8_lossy(&made.stderr).into_owned();
    assert_eq!(file_lines(&said, &files), file_lines(&first.stderr, &files));
    edit("theirs");
    let before = stamp("theirs");
    // copier, without a terminal to ask on, stops too.
    assert!(!copy(&[]).status.success());
    assert_eq!(read("theirs/changed.txt"), "mine\n");
    let over = copy(&["--overwrite"]);
    assert!(over.status.success());
    assert_eq!(
        file_lines(&String::from_utf8_lossy(&over.stderr), &files),
        ours
    );
    assert_eq!(stamp("theirs"), before);
    common::python::assert_same(&tree(&env.path("ours")), &tree(&env.path("theirs")), "over");
}
