//! Output never leaves its target, and rendering never runs anything.

mod common;

use common::Env;

/// A template whose file name is the `dir` parameter.
fn named_by_parameter(env: &Env) -> std::path::PathBuf {
    env.template(
        "named",
        &[
            (
                "template.yaml",
                "name: named\ncategory: service\nparameters:\n  - name: dir\n    default: ok\n",
            ),
            ("{{ dir }}/file.txt", "inside\n"),
        ],
    )
}

/// Runs a generation that must be refused: exit 1 with `text`, nothing written anywhere.
fn refused(env: &Env, args: &[&str], text: &str) {
    let before = common::snapshot(env.dir.path());
    let out = env.run(args);
    assert_eq!(out.code, 1, "{args:?}\n{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(text),
        "{args:?}: expected {text:?} in {}",
        out.stderr
    );
    let after: Vec<_> = common::snapshot(env.dir.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&env.store))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&env.store))
        .collect();
    assert_eq!(before, after, "{args:?} wrote files");
    assert!(!env.path("out").exists());
    assert!(!env.path("x").exists() && !env.dir.path().parent().unwrap().join("x").exists());
}

#[test]
fn parameter_values_cannot_lead_outside_the_target() {
    let env = Env::new();
    let t = named_by_parameter(&env);
    let t = t.to_str().unwrap();
    refused(
        &env,
        &["generate", t, "-o", "out", "--set", "dir=../../x"],
        "would leave or alias the target folder",
    );
    refused(
        &env,
        &["generate", t, "-o", "out", "--set", "dir=.."],
        "would leave or alias the target folder",
    );
    refused(
        &env,
        &["generate", t, "-o", "out", "--set", "dir=/tmp/x"],
        "is an absolute path",
    );
    refused(
        &env,
        &["generate", t, "-o", "out", "--set", "dir=a\\..\\..\\x"],
        "not allowed in a path",
    );
    std::fs::write(env.path("nul.json"), r#"{"dir": "a\u0000b"}"#).unwrap();
    refused(
        &env,
        &["generate", t, "-o", "out", "--answers", "nul.json"],
        "not allowed in a path",
    );
    std::fs::write(env.path("newline.json"), r#"{"dir": "a\nb"}"#).unwrap();
    refused(
        &env,
        &["generate", t, "-o", "out", "--answers", "newline.json"],
        "not allowed in a path",
    );
    // Each refusal is recorded as a failed execution.
    let failed = env
        .events()
        .iter()
        .filter(|e| e["payload"]["status"] == "Failed")
        .count();
    assert_eq!(failed, 6);
    // And a plain value works.
    env.run(&["generate", t, "-o", "out", "--set", "dir=fine"])
        .ok();
    assert!(env.path("out/fine/file.txt").is_file());
}

#[test]
fn a_name_that_renders_to_dot_dot_is_refused() {
    let env = Env::new();
    let t = env.template(
        "dots",
        &[
            ("template.yaml", "name: dots\ncategory: service\n"),
            ("{{ '..' }}/escape.txt", "x\n"),
        ],
    );
    refused(
        &env,
        &["generate", t.to_str().unwrap(), "-o", "out"],
        "`../escape.txt` contains `..`",
    );
}

#[test]
fn a_symlink_pointing_outside_the_template_is_refused_at_generate_time() {
    let env = Env::new();
    let t = env.template(
        "linked",
        &[
            ("template.yaml", "name: linked\ncategory: service\n"),
            ("a.txt", "x\n"),
        ],
    );
    std::os::unix::fs::symlink("/etc/passwd", t.join("passwd")).unwrap();
    refused(
        &env,
        &["generate", t.to_str().unwrap(), "-o", "out"],
        "symlink passwd -> /etc/passwd points outside the template",
    );
    // A link inside the template is read through.
    std::fs::remove_file(t.join("passwd")).unwrap();
    std::os::unix::fs::symlink("a.txt", t.join("b.txt")).unwrap();
    env.run(&["generate", t.to_str().unwrap(), "-o", "out"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/b.txt")).unwrap(),
        "x\n"
    );
    assert!(
        !std::fs::symlink_metadata(env.path("out/b.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn force_never_writes_through_a_symlink_in_the_target() {
    let env = Env::new();
    let t = named_by_parameter(&env);
    let outside = env.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(env.path("out")).unwrap();
    std::os::unix::fs::symlink(&outside, env.path("out/ok")).unwrap();
    let out = env.run(&["generate", t.to_str().unwrap(), "-o", "out", "--force"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("is a symlink; factory does not write through links"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn rendering_never_runs_anything() {
    let env = Env::new();
    let marker = env.path("ran");
    let hook = format!("#!/bin/sh\ntouch {}\n", marker.display());
    let t = env.template(
        "hooks",
        &[
            ("template.yaml", "name: hooks\ncategory: service\n"),
            ("hooks/post_gen_project.sh", hook.as_str()),
            ("run.txt", "{{ range(3) | list }} {{ 'x' | upper }}\n"),
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        t.join("hooks/post_gen_project.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    env.run(&["generate", t.to_str().unwrap(), "-o", "out"])
        .ok();
    assert!(!marker.exists(), "a template file was executed");
    assert!(
        env.path("out/hooks/post_gen_project.sh").is_file(),
        "it is only copied"
    );
    // A template that tries to reach the process or the disk finds nothing to call.
    let evil = env.template(
        "evil",
        &[
            ("template.yaml", "name: evil\ncategory: service\n"),
            ("a.txt", "{{ self.__init__ }}{{ os.system('touch x') }}\n"),
        ],
    );
    let out = env.run(&["generate", evil.to_str().unwrap(), "-o", "out2"]);
    out.expect_code(1);
    assert!(!env.path("out2").exists() && !env.path("x").exists());
}

#[test]
fn a_template_cannot_plant_a_git_folder_in_any_spelling() {
    let env = Env::new();
    for (name, file) in [
        ("plant-lower", "{{ '.g' ~ 'it' }}/config"),
        ("plant-upper", "{{ '.G' ~ 'IT' }}/HEAD"),
        ("plant-file", "sub/{{ '.g' ~ 'it' }}"),
        ("plant-dots", "{{ '.git' ~ '. .' }}/config"),
    ] {
        let template = env.template(
            name,
            &[
                ("template.yaml", &format!("name: {name}\n")),
                (file, "[core]\n\tfsmonitor = \"touch /tmp/pwned\"\n"),
            ],
        );
        let t = template.to_str().unwrap();
        let validated = env.run(&["validate", "--path", t]);
        validated.expect_code(3);
        assert!(
            validated.stdout.contains("FAIL  path/escape"),
            "{name}: {}",
            validated.stdout
        );
        assert!(
            validated.stdout.contains("a git repository's own folder"),
            "{name}: {}",
            validated.stdout
        );
        refused(
            &env,
            &["generate", t, "-o", "out", "--defaults"],
            "a git repository's own folder",
        );
    }
}

#[test]
fn an_output_folder_that_is_a_symlink_is_refused_even_with_force() {
    let env = Env::new();
    let template = named_by_parameter(&env);
    std::fs::create_dir_all(env.path("victim")).unwrap();
    std::fs::write(env.path("victim/keep.txt"), "keep\n").unwrap();
    std::os::unix::fs::symlink(env.path("victim"), env.path("out")).unwrap();
    let before = common::snapshot(&env.path("victim"));
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--force",
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("out is a symlink"), "{}", out.stderr);
    assert_eq!(before, common::snapshot(&env.path("victim")));
}

#[test]
fn a_symlink_into_the_templates_own_repository_is_not_followed() {
    let env = Env::new();
    let template = env.template(
        "leaky",
        &[("template.yaml", "name: leaky\n"), ("README.md", "hi\n")],
    );
    std::fs::create_dir_all(template.join(".git")).unwrap();
    std::fs::write(
        template.join(".git/config"),
        "[remote \"origin\"]\n\turl = https://user:SECRET-TOKEN@host/repo.git\n",
    )
    .unwrap();
    // Two hops: a link to a link into .git.
    std::os::unix::fs::symlink(".git/config", template.join("hop.txt")).unwrap();
    std::os::unix::fs::symlink("hop.txt", template.join("cfg.txt")).unwrap();
    let t = template.to_str().unwrap();
    let validated = env.run(&["validate", "--path", t]);
    validated.expect_code(3);
    assert!(validated.stdout.contains("cfg.txt"), "{}", validated.stdout);
    refused(
        &env,
        &["generate", t, "-o", "out", "--defaults"],
        "points into the template's own repository (.git)",
    );
    let all = String::from_utf8_lossy(&env.log_bytes()).into_owned();
    assert!(!all.contains("SECRET-TOKEN"));
}

#[test]
fn names_with_control_characters_are_refused_by_validate_and_printed_escaped() {
    let env = Env::new();
    let template = env.template(
        "control",
        &[
            ("template.yaml", "name: control\n"),
            ("tab\there.txt", "x\n"),
        ],
    );
    let validated = env.run(&["validate", "--path", template.to_str().unwrap()]);
    validated.expect_code(3);
    assert!(
        validated.stdout.contains("tab\\there.txt"),
        "{}",
        validated.stdout
    );
    // An error never prints a raw escape sequence.
    let out = env.run(&["show", "evil\u{1b}[2Jname"]);
    out.expect_code(1);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    assert!(out.stderr.contains("\\u{1b}"), "{}", out.stderr);
}

#[test]
fn huge_format_widths_and_huge_files_are_errors_not_aborts() {
    let env = Env::new();
    for (name, text) in [
        ("width", "{{ '{:>1000000000000}'.format('x') }}\n"),
        ("precision", "{{ '{:.99999999f}'.format(1.5) }}\n"),
        ("zeros", "{{ '{:0999999999d}'.format(7) }}\n"),
    ] {
        let template = env.template(
            &format!("fmt-{name}"),
            &[
                ("template.yaml", &format!("name: fmt-{name}\n")),
                ("a.txt", text),
            ],
        );
        let out = env.run(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            name,
            "--defaults",
        ]);
        out.expect_code(1);
        assert!(
            out.stderr.contains("over the limit"),
            "{name}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("a.txt:1:"), "{name}: {}", out.stderr);
        assert!(!env.path(name).exists());
    }
    // Output that grows without bound stops at the per-file limit (a loop that writes) or at
    // the fuel (a value doubled in a loop), with the file named, long before memory runs out.
    for (name, text, expected) in [
        (
            "writes",
            "{% for i in range(100000) %}{{ 'y' * 10000 }}{% endfor %}\n",
            "the rendered output passed 64 MB",
        ),
        (
            "doubles",
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}\n",
            "out of fuel",
        ),
        (
            "joins",
            "{{ range(90000)|map('string')|join('x' * 20000) }}\n",
            "out of fuel",
        ),
    ] {
        let template = env.template(
            &format!("grow-{name}"),
            &[
                ("template.yaml", &format!("name: grow-{name}\n")),
                ("a.txt", text),
            ],
        );
        let out = env.run(&["generate", template.to_str().unwrap(), "-o", name]);
        out.expect_code(1);
        assert!(out.stderr.contains(expected), "{name}: {}", out.stderr);
        assert!(out.stderr.contains("a.txt"), "{name}: {}", out.stderr);
        assert!(!env.path(name).exists());
    }
    // A text file over the render limit is refused with what to do, at validate and generate.
    let big = env.template("big", &[("template.yaml", "name: big\n")]);
    let file = std::fs::File::create(big.join("huge.txt")).unwrap();
    file.set_len(65 * 1024 * 1024).unwrap();
    std::fs::write(big.join("huge.txt"), vec![b'a'; 65 * 1024 * 1024]).unwrap();
    let out = env.run(&[
        "generate",
        big.to_str().unwrap(),
        "-o",
        "bigout",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("file too large to render"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("copy_only"), "{}", out.stderr);
    let validated = env.run(&["validate", "--path", big.to_str().unwrap()]);
    validated.expect_code(3);
    assert!(
        validated.stdout.contains("file too large to render"),
        "{}",
        validated.stdout
    );
}

#[test]
fn a_killed_runs_staging_folder_is_removed_by_the_next_run() {
    let env = Env::new();
    let template = named_by_parameter(&env);
    // PID 4194304 is above Linux's pid_max: no such process.
    let dead = env.path(".out.factory-tmp-4194304-1");
    std::fs::create_dir_all(dead.join("half")).unwrap();
    std::fs::write(dead.join("half/file.txt"), "half-written\n").unwrap();
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ])
    .ok();
    assert!(!dead.exists(), "the dead run's staging folder is gone");
    assert!(env.path("out/ok/file.txt").is_file());
}

#[test]
fn force_is_all_or_nothing_and_a_killed_run_is_undone_by_the_next() {
    let env = Env::new();
    let template = env.template(
        "forced",
        &[
            ("template.yaml", "name: forced\n"),
            ("a.txt", "new a\n"),
            ("b.txt", "new b\n"),
            ("sub/c.txt", "new c\n"),
        ],
    );
    let t = template.to_str().unwrap();
    std::fs::create_dir_all(env.path("proj/sub")).unwrap();
    std::fs::write(env.path("proj/a.txt"), "old a\n").unwrap();
    std::fs::write(env.path("proj/b.txt"), "old b\n").unwrap();
    std::fs::write(env.path("proj/mine.txt"), "mine\n").unwrap();
    let untouched = common::snapshot(&env.path("proj"));
    // A run killed after it had placed a.txt and sub/c.txt, before it reached b.txt (the
    // user's, still in place): what such a run leaves behind, with the id of a process that
    // no longer exists. The journal says which files existed (`~`) and which it adds (`+`).
    let backup = env.path(".proj.factory-backup-4194304-1");
    std::fs::create_dir_all(backup.join("files")).unwrap();
    std::fs::write(backup.join("journal"), "~a.txt\n~b.txt\n+sub/c.txt\n").unwrap();
    std::fs::rename(env.path("proj/a.txt"), backup.join("files/a.txt")).unwrap();
    std::fs::write(env.path("proj/a.txt"), "new a\n").unwrap();
    std::fs::write(env.path("proj/sub/c.txt"), "new c\n").unwrap();
    // The next run on the target undoes it first, says so, then does its own work.
    let out = env.run(&[
        "generate",
        t,
        "-o",
        "proj",
        "--defaults",
        "--force",
        "--dry-run",
    ]);
    out.ok();
    let out = env.run(&["generate", t, "-o", "proj", "--defaults"]);
    out.expect_code(1);
    assert!(out.stderr.contains("was undone"), "{}", out.stderr);
    assert!(!backup.exists());
    assert_eq!(untouched, common::snapshot(&env.path("proj")));
    // A --force run that fails part-way leaves the target as it was.
    std::fs::remove_file(env.path("proj/b.txt")).unwrap();
    std::fs::create_dir_all(env.path("proj/b.txt")).unwrap(); // a folder where a file goes
    let before = common::snapshot(&env.path("proj"));
    let out = env.run(&["generate", t, "-o", "proj", "--defaults", "--force"]);
    out.expect_code(1);
    assert_eq!(before, common::snapshot(&env.path("proj")));
    std::fs::remove_dir(env.path("proj/b.txt")).unwrap();
    env.run(&["generate", t, "-o", "proj", "--defaults", "--force"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("proj/a.txt")).unwrap(),
        "new a\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("proj/mine.txt")).unwrap(),
        "mine\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".proj."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn secrets_and_values_derived_from_them_reach_no_artefact() {
    let env = Env::new();
    let secret = "tok-S3CRET-value";
    let template = env.template(
        "secretive",
        &[
            (
                "template.yaml",
                "name: secretive\nparameters:\n  - name: token\n    secret: true\n    required: true\n  - name: derived\n    default: \"{{ token }}-derived\"\n",
            ),
            ("a.txt", "{{ derived }}\n"),
            ("{{ token }}/x.cfg", "x\n"),
        ],
    );
    let t = template.to_str().unwrap();
    // A derived value is secret too: not in the events, not in scaffold.yaml.
    let ok = env.run(&[
        "generate",
        t,
        "-o",
        "out",
        "--set",
        &format!("token={secret}"),
    ]);
    ok.ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/a.txt")).unwrap(),
        format!("{secret}-derived\n")
    );
    // A failure that quotes the secret (a path built from it) is redacted everywhere.
    let failed = env.run(&["generate", t, "-o", "bad", "--set", "token=/abs/S3CRETpath"]);
    failed.expect_code(1);
    let mut leftovers = String::from_utf8_lossy(&env.log_bytes()).into_owned();
    leftovers.push_str(&std::fs::read_to_string(env.path("out/.factory/scaffold.yaml")).unwrap());
    for run in [&ok, &failed] {
        leftovers.push_str(&run.stdout);
        leftovers.push_str(&run.stderr);
    }
    assert!(
        !leftovers.contains(secret),
        "the secret leaked:\n{leftovers}"
    );
    assert!(
        !leftovers.contains("S3CRETpath"),
        "the secret leaked:\n{leftovers}"
    );
    assert!(failed.stderr.contains("***"), "{}", failed.stderr);
}

#[test]
fn content_folders_outside_the_template_are_refused_at_generate_time() {
    let env = Env::new();
    for (name, manifest) in [
        (
            "abs",
            (
                "template.yaml",
                "name: abs\ncategory: service\ncontent: /etc\n",
            ),
        ),
        (
            "up",
            (
                "template.yaml",
                "name: up\ncategory: service\ncontent: ../../..\n",
            ),
        ),
        ("sub", ("copier.yml", "_subdirectory: ../..\n")),
    ] {
        let t = env.template(name, &[manifest, ("keep.txt", "x\n")]);
        refused(
            &env,
            &["generate", t.to_str().unwrap(), "-o", "out"],
            "(content: / copier's _subdirectory) is not in the template",
        );
    }
    let out = env.run(&[
        "register",
        "--name",
        "../x",
        env.path("abs").to_str().unwrap(),
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("`../x` is not a usable template name"),
        "{}",
        out.stderr
    );
}

/// Every artefact a run leaves behind factory's own output folder: the log, state/, the
/// records in the output (`.factory/`, answers files), and what was printed.
fn artefacts(env: &Env, outputs: &[&str], runs: &[&common::Run]) -> String {
    let mut all = String::new();
    for (path, bytes) in common::snapshot(&env.store) {
        all.push_str(&format!("{}:\n", path.display()));
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    for output in outputs {
        let dir = env.path(output);
        for (path, bytes) in common::snapshot(&dir) {
            let name = path.to_string_lossy();
            if name.contains(".factory") || name.contains("answers") || name.contains("debug") {
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    for run in runs {
        all.push_str(&run.stdout);
        all.push_str(&run.stderr);
    }
    all
}

#[test]
fn the_secret_leak_table_finds_no_secret_in_any_artefact() {
    let env = Env::new();
    let secret = "tok-L3AK-probe-value";
    let copier = env.template(
        "leaky",
        &[
            (
                "copier.yml",
                "token:\n  type: str\n  secret: true\n  default: x\nlabel:\n  type: str\n  default: \"{{ token }}-label\"\nother:\n  type: str\n  default: ok\n  validator: \"{% if other != 'ok' %}other is wrong, token is {{ token }}{% endif %}\"\n_tasks:\n  - command: \"echo task sees {{ token }}; echo {{ token }} >&2; exit 3\"\n    when: \"{{ fail_task }}\"\nfail_task:\n  type: bool\n  default: false\n",
            ),
            ("debug.txt.jinja", "{{ debug() }}\n"),
            ("uses.txt.jinja", "{{ token }} {{ label }}\n"),
        ],
    );
    let t = copier.to_str().unwrap();
    let token = format!("token={secret}");
    let mut runs = Vec::new();
    // Rendered: the file that uses the secret has it (the user's output), debug() does not.
    let ok = env.run(&[
        "generate",
        t,
        "-o",
        "ok",
        "--set",
        &token,
        "--compat-answers",
        "--defaults",
        "--trust",
    ]);
    ok.ok();
    assert!(
        std::fs::read_to_string(env.path("ok/uses.txt"))
            .unwrap()
            .contains(secret)
    );
    let debug = std::fs::read_to_string(env.path("ok/debug.txt")).unwrap();
    assert!(debug.contains("***") && debug.contains("token"), "{debug}");
    runs.push(ok);
    // A validator message that quotes the secret.
    let validator = env.run(&[
        "generate",
        t,
        "-o",
        "v",
        "--set",
        &token,
        "--set",
        "other=no",
        "--defaults",
        "--trust",
    ]);
    validator.expect_code(2);
    assert!(
        validator.stderr.contains("other is wrong, token is ***"),
        "{}",
        validator.stderr
    );
    runs.push(validator);
    // A failing task whose command line and output carry the secret.
    let task = env.run(&[
        "generate",
        t,
        "-o",
        "task",
        "--set",
        &token,
        "--set",
        "fail_task=true",
        "--trust",
        "--defaults",
    ]);
    task.expect_code(1);
    assert!(task.stderr.contains("***"), "{}", task.stderr);
    runs.push(task);
    // A Service Bus connection string given inline, and an AMQP password.
    let inline = env.run(&[
        "events", "push", "--to",
        "servicebus:Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=Zm9vYmFyLXNhcy1rZXk=",
    ]);
    inline.expect_code(2);
    assert!(
        inline.stderr.contains("not a connection string"),
        "{}",
        inline.stderr
    );
    runs.push(inline);
    let amqp = env.run(&[
        "events",
        "push",
        "--max-retries",
        "0",
        "--to",
        "amqp://user:amqp-pa55word@127.0.0.1:9/%2f",
    ]);
    assert_ne!(amqp.code, 0);
    runs.push(amqp);
    let refs: Vec<&common::Run> = runs.iter().collect();
    let all = artefacts(&env, &["ok", "v", "task"], &refs);
    for leaked in [secret, "Zm9vYmFyLXNhcy1rZXk", "amqp-pa55word"] {
        assert!(!all.contains(leaked), "`{leaked}` leaked:\n{all}");
    }
    // What was recorded still says what happened.
    assert!(
        env.events()
            .iter()
            .any(|e| e["payload"]["status"] == "Failed")
    );
}

#[test]
fn json_and_yaml_filters_bound_their_indent_and_their_output() {
    let env = Env::new();
    // cookiecutter's jsonify, copier's to_nice_json and to_nice_yaml, Jinja2's tojson: an
    // indent of a billion used to ask for gigabytes of spaces per nesting level (an abort
    // under a 4 GB limit); now a render error naming the file, and nothing written.
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "jsonify",
            "cookiecutter.json",
            "{\"slug\": \"x\"}",
            "{{ {'a': [1]} | jsonify(999999999) }}",
        ),
        (
            "nicejson",
            "copier.yml",
            "slug:\n  type: str\n  default: x\n",
            "{{ {'a': [1]} | to_nice_json(indent=999999999) }}",
        ),
        (
            "niceyaml",
            "copier.yml",
            "slug:\n  type: str\n  default: x\n",
            "{{ {'a': {'b': 1}} | to_nice_yaml(indent=999999999) }}",
        ),
        (
            "niceyamlpos",
            "copier.yml",
            "slug:\n  type: str\n  default: x\n",
            "{{ {'a': {'b': 1}} | to_nice_yaml(999999999) }}",
        ),
        (
            "tojson",
            "template.yaml",
            "name: tojson\n",
            "{{ {'a': [1]} | tojson(indent=999999999) }}",
        ),
    ];
    for (name, manifest, text, expr) in cases {
        let file = match manifest {
            "cookiecutter.json" => "{{cookiecutter.slug}}/a.txt",
            "copier.yml" => "a.txt.jinja",
            _ => "a.txt",
        };
        let template = env.template(name, &[(manifest, text), (file, &format!("ok\n{expr}\n"))]);
        let out = env.run(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            &format!("out-{name}"),
            "--defaults",
        ]);
        out.expect_code(1);
        assert!(
            out.stderr
                .contains("indent 999999999 is over the limit of 10000"),
            "{name}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("a.txt"), "{name}: {}", out.stderr);
        assert!(!env.path(&format!("out-{name}")).exists(), "{name}");
    }
    // Within the indent bound, indent x depth x items is bounded by the per-file limit.
    let template = env.template(
        "wide",
        &[
            ("template.yaml", "name: wide\n"),
            (
                "a.txt",
                "{{ [[[[range(20000)|list]]]] | tojson(indent=10000) }}\n",
            ),
        ],
    );
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out-wide",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("the serialised value passed 64 MB"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out-wide").exists());
    // The bound leaves real use alone.
    let template = env.template(
        "nice",
        &[
            ("template.yaml", "name: nice\n"),
            ("a.txt", "{{ {'b': [1], 'a': 'x'} | tojson(indent=2) }}\n"),
        ],
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out-nice",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out-nice/a.txt")).unwrap(),
        "{\n  \"a\": \"x\",\n  \"b\": [\n    1\n  ]\n}\n"
    );
}

#[test]
fn a_remote_url_with_a_password_is_refused_without_printing_it() {
    let env = Env::new();
    env.run(&["remote", "list"]).ok();
    let before = env.store_snapshot();
    for args in [
        vec!["remote", "add", "bad", "oci://ci:PASSWORD@host/ns"],
        vec![
            "--json",
            "remote",
            "add",
            "bad",
            "oci://ci:PASSWORD@host/ns",
        ],
        vec!["remote", "add", "bad", "https://ci:PASSWORD@host/ns"],
        vec!["remote", "add", "bad", "oci://ci:PASSWORD@host"],
    ] {
        let out = env.run(&args);
        out.expect_code(2);
        assert!(
            out.stderr.contains("ci:***@host"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            !out.stdout.contains("PASSWORD") && !out.stderr.contains("PASSWORD"),
            "{args:?}: {}{}",
            out.stdout,
            out.stderr
        );
    }
    let out: common::Run = env
        .program("sh")
        .args([
            "-c",
            "echo pw-from-stdin | \"$F\" login ci:PASSWORD@host --username u --password-stdin",
        ])
        .output()
        .unwrap()
        .into();
    out.expect_code(2);
    assert!(
        out.stderr.contains("`***@host` is not a registry host"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("PASSWORD"), "{}", out.stderr);
    assert_eq!(before, env.store_snapshot(), "the store did not change");
    assert!(!String::from_utf8_lossy(&env.log_bytes()).contains("PASSWORD"));
}
