//! cookiecutter templates, unchanged: factory's output is byte for byte what cookiecutter
//! itself writes. The reference tool is installed from PyPI into a virtual environment under
//! target/ at test time; without python3 or PyPI the test says it was skipped (under CI it
//! fails instead).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Env;
use common::python::{assert_same, generate_with, run_reference, tree};

/// `cookiecutter` from a virtual environment made (once) under target/.
fn cookiecutter() -> Option<PathBuf> {
    // Tests run in parallel: the environment is made once.
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("cookiecutter", "2.6.0", "cookiecutter"))
        .clone()
}

const CONTEXT: &str = r#"{
    "project_name": "Acme Widget",
    "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '-') }}",
    "license": ["MIT", "Apache-2.0", "Proprietary"],
    "use_docker": true,
    "version": 1,
    "meta": {"owner": "platform", "tier": 2},
    "__module": "{{ cookiecutter.project_slug.replace('-', '_') }}",
    "_copy_without_render": ["*.raw.html"],
    "_extensions": ["cookiecutter.extensions.JsonifyExtension", "cookiecutter.extensions.TimeExtension"]
}
"#;

fn fixture(env: &Env) -> PathBuf {
    env.template(
        "cc-widget",
        &[
            ("cookiecutter.json", CONTEXT),
            (
                "{{cookiecutter.project_slug}}/README.md",
                "# {{ cookiecutter.project_name }}\n\n(c) {% now 'utc', '%Y' %} {{ cookiecutter.project_name.title() }}\nLicense: {{ cookiecutter.license }}\nVersion {{ cookiecutter.version }} by {{ cookiecutter.meta.owner }} (tier {{ cookiecutter.meta.tier }})\n{% if cookiecutter.use_docker %}Docker: yes\n{% endif %}\n",
            ),
            ("{{cookiecutter.project_slug}}/{{cookiecutter.__module}}/__init__.py", "NAME = \"{{ cookiecutter.project_name }}\"\n"),
            ("{{cookiecutter.project_slug}}/page.raw.html", "<p>{{ not rendered }}</p>\n"),
            (
                "{{cookiecutter.project_slug}}/settings.json",
                "{{ {'name': cookiecutter.project_name, 'docker': cookiecutter.use_docker, 'tags': ['a', 'b']} | jsonify }}\n",
            ),
            ("{{cookiecutter.project_slug}}/{% if cookiecutter.use_docker %}Dockerfile{% endif %}", "FROM scratch\n"),
        ],
    )
}

#[test]
fn a_cookiecutter_template_renders_byte_for_byte_like_cookiecutter() {
    let env = Env::new();
    let template = fixture(&env);
    // factory's view of it.
    let out = env.run(&["validate", "--path", template.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    env.run(&["register", template.to_str().unwrap()]).ok();
    env.run(&["version", "cc-widget", "--version", "1.0.0"])
        .ok();
    let show = env.run(&["show", "cc-widget@1.0.0", "--json"]).json();
    let parameters = &show["parameters"]["properties"];
    assert_eq!(
        parameters["license"]["enum"],
        serde_json::json!(["MIT", "Apache-2.0", "Proprietary"])
    );
    assert_eq!(parameters["use_docker"]["type"], "boolean");
    assert_eq!(parameters["version"]["default"], "1");

    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    for (name, extra) in [
        ("defaults", vec![]),
        (
            "answers",
            vec!["license=Apache-2.0", "project_name=Big Thing"],
        ),
    ] {
        let reference = env.path(&format!("reference-{name}"));
        let mut command = Command::new(&cookiecutter);
        command
            .arg("--no-input")
            .arg("-o")
            .arg(&reference)
            .arg(&template)
            .args(&extra);
        run_reference(command, env.dir.path());
        let ours = env.path(&format!("ours-{name}"));
        // (cookiecutter's command line passes extra context as strings, so only strings here.)
        generate_with(&env, &template, &ours, &extra);
        assert_same(&tree(&ours), &tree(&reference), name);
    }
}

#[test]
fn hooks_run_only_with_trust() {
    let env = Env::new();
    let template = env.template(
        "cc-hooks",
        &[
            ("cookiecutter.json", "{\"name\": \"demo\"}\n"),
            ("{{cookiecutter.name}}/README.md", "{{ cookiecutter.name }}\n"),
            ("hooks/post_gen_project.py", "with open('hook.txt', 'w') as f:\n    f.write('made {{ cookiecutter.name }}\\n')\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("wants to run code: hooks/post_gen_project.py"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--trust"), "{}", out.stderr);
    assert!(!env.path("out").exists());
    assert!(
        env.events().is_empty(),
        "a refusal before the run records nothing"
    );
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--trust",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/demo/hook.txt")).unwrap(),
        "made demo\n"
    );
    // The same as cookiecutter, which runs hooks by default.
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let mut command = Command::new(&cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(env.path("ref"))
        .arg(&template);
    run_reference(command, env.dir.path());
    assert_eq!(tree(&env.path("ref")), tree(&env.path("out")));
}

/// cookiecutter's own test templates, from its source distribution on PyPI (never committed).
fn upstream_fixtures() -> Option<PathBuf> {
    static SDIST: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    SDIST
        .get_or_init(|| {
            let dir = common::repo().join("target/test-venvs/cookiecutter-sdist");
            let tests = dir.join("cookiecutter-2.6.0/tests");
            if tests.is_dir() {
                return Some(tests);
            }
            let pip = cookiecutter()?.with_file_name("pip");
            let got = Command::new(pip)
                .args([
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "cookiecutter==2.6.0",
                    "-d",
                ])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new("tar")
                    .arg("xzf")
                    .arg(dir.join("cookiecutter-2.6.0.tar.gz"))
                    .current_dir(&dir)
                    .status()
                    .is_ok_and(|s| s.success());
            if got && tests.is_dir() {
                return Some(tests);
            }
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to download cookiecutter's sources from PyPI"
            );
            eprintln!(
                "\n*** SKIPPED: cookiecutter's source distribution could not be downloaded ***\n"
            );
            None
        })
        .clone()
}

#[test]
fn cookiecutters_own_test_templates_render_the_same() {
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let Some(fixtures) = upstream_fixtures() else {
        return;
    };
    let env = Env::new();
    let mut same = Vec::new();
    let mut refused = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("cookiecutter.json").is_file())
        .collect();
    names.sort();
    for template in names {
        let name = template.file_name().unwrap().to_string_lossy().into_owned();
        let reference = env.path(&format!("ref-{name}"));
        let theirs = Command::new(&cookiecutter)
            .arg("--no-input")
            .arg("-o")
            .arg(&reference)
            .arg(&template)
            .env("HOME", env.dir.path())
            .output()
            .unwrap();
        if !theirs.status.success() {
            continue; // Not a template cookiecutter itself renders alone (bad JSON, nested, replay).
        }
        let ours = env.path(&format!("ours-{name}"));
        let out = env.run(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
            "--defaults",
            "--trust",
        ]);
        if out.code != 0 {
            assert!(
                out.stderr.contains("does not map") || out.stderr.contains("not supported"),
                "{name}: {}",
                out.stderr
            );
            refused.push(name);
            continue;
        }
        assert_eq!(tree(&ours), tree(&reference), "{name}");
        same.push(name);
    }
    eprintln!("identical: {same:?}\nrefused with a clear error: {refused:?}");
    assert!(same.len() >= 5, "identical: {same:?}; refused: {refused:?}");
}

#[test]
fn uuids_repeat_under_a_seed() {
    let mut env = Env::new();
    let template = env.template(
        "cc-uuid",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"u\", \"_extensions\": [\"cookiecutter.extensions.UUIDExtension\"]}",
            ),
            (
                "{{cookiecutter.name}}/id.txt",
                "{{ uuid4() }} {{ uuid4() }}\n",
            ),
        ],
    );
    env.set_env("FACTORY_UUID_SEED", "tests");
    for out in ["a", "b"] {
        env.run(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            out,
            "--defaults",
        ])
        .ok();
    }
    let a = std::fs::read_to_string(env.path("a/u/id.txt")).unwrap();
    assert_eq!(a, std::fs::read_to_string(env.path("b/u/id.txt")).unwrap());
    let ids: Vec<&str> = a.split_whitespace().collect();
    assert_ne!(ids[0], ids[1], "a sequence, not one value");
    assert!(uuid::Uuid::parse_str(ids[0]).is_ok_and(|u| u.get_version_num() == 4));
    env.set_env("FACTORY_UUID_SEED", "other");
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "c",
        "--defaults",
    ])
    .ok();
    assert_ne!(a, std::fs::read_to_string(env.path("c/u/id.txt")).unwrap());
}
