//! cookiecutter templates, unchanged: factory's output is byte for byte what cookiecutter
//! itself writes. The reference tool is installed from PyPI into a virtual environment under
//! target/ at test time; without python3 or PyPI the test says it was skipped (under CI it
//! fails instead).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Env;
use common::python::{assert_same, generate_with, reference_command, run_reference, tree};

/// `cookiecutter` from a virtual environment made (once) under target/.
/// The cookiecutter release the suite compares with: the newest on PyPI.
const VERSION: &str = "2.7.1";

fn cookiecutter() -> Option<PathBuf> {
    // Tests run in parallel: the environment is made once.
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("cookiecutter", VERSION, "cookiecutter"))
        .clone()
}

/// `cookiecutter --no-input -o OUTPUT TEMPLATE`; false (said loudly) without cookiecutter.
fn cookiecutter_into(env: &Env, template: &std::path::Path, output: &std::path::Path) -> bool {
    let Some(cookiecutter) = cookiecutter() else {
        return false;
    };
    let mut command = reference_command(env, &cookiecutter);
    command
        .arg("--no-input")
        .arg("-o")
        .arg(output)
        .arg(template);
    run_reference(command, env.dir.path());
    true
}

const CONTEXT: &str = r#"{
    "project_name": "Acme Widget",
    "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '-') }}",
    "license": ["MIT", "Apache-2.0", "Proprietary"],
    "use_docker": true,
    "version": 1,
    "meta": {"owner": "platform", "tier": 2, "contact": "{{ cookiecutter.project_slug }}@acme.test", "{{ cookiecutter.license }}_url": "https://acme.test/{{ cookiecutter.project_slug }}"},
    "size": ["{{ cookiecutter.project_slug }}-small", "large", 3],
    "created": "{% now 'utc', '%Y-%m-%d %H:%M' %}",
    "notice_owner": "Acme Legal",
    "__module": "{{ cookiecutter.project_slug.replace('-', '_') }}",
    "_copy_without_render": ["*.raw.html"],
    "_extensions": ["cookiecutter.extensions.JsonifyExtension", "cookiecutter.extensions.TimeExtension", "cookiecutter.extensions.UUIDExtension"]
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
            (
                "{{cookiecutter.project_slug}}/meta.json",
                "{{ cookiecutter.meta | jsonify }}\nsize {{ cookiecutter.size }}, created {{ cookiecutter.created }}, id {{ uuid4() }}\n{% include 'notice.txt' %}",
            ),
            // Beside the project folder: found by includes, never written out.
            ("templates/notice.txt", "Notice for {{ cookiecutter.project_name }} by {{ cookiecutter.notice_owner }}\n"),
            ("README.md", "The template's own README, not part of the output.\n"),
        ],
    )
}

#[test]
fn a_cookiecutter_template_renders_byte_for_byte_like_cookiecutter() {
    let mut env = Env::new();
    env.set_env("FACTORY_NOW", "2026-06-11T09:05:00Z");
    env.set_env("FACTORY_UUID_SEED", "fixture");
    let template = fixture(&env);
    // factory's view of it.
    let out = env.run(&["validate", "--path", template.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    // A variable used only in an included file of templates/ counts as used.
    let report = out.json();
    let warnings: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
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
    // Dictionaries and choices are rendered over the other answers; only the project folder
    // is written, and includes find `templates/` beside it.
    let own = env.path("own");
    generate_with(&env, &template, &own, &[]);
    let meta = std::fs::read_to_string(own.join("acme-widget/meta.json")).unwrap();
    for expected in [
        "\"contact\": \"acme-widget@acme.test\"",
        "\"MIT_url\": \"https://acme.test/acme-widget\"",
        "\"tier\": \"2\"",
        "size acme-widget-small, created 2026-06-11 09:05",
        "Notice for Acme Widget by Acme Legal",
    ] {
        assert!(meta.contains(expected), "{expected} in {meta}");
    }
    let written: Vec<String> = tree(&own).into_iter().map(|(path, _)| path).collect();
    assert!(
        written.iter().all(|p| p.starts_with("acme-widget/")),
        "{written:?}"
    );

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
        let mut command = reference_command(&env, &cookiecutter);
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
    let mut command = reference_command(&env, &cookiecutter);
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
            let tests = dir.join(format!("cookiecutter-{VERSION}/tests"));
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
                    &format!("cookiecutter=={VERSION}"),
                    "-d",
                ])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new("tar")
                    .arg("xzf")
                    .arg(dir.join(format!("cookiecutter-{VERSION}.tar.gz")))
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

/// Every template among cookiecutter's own tests (any folder with a `cookiecutter.json`),
/// rendered by both with the clock and uuid4 pinned: where cookiecutter renders one, factory
/// writes the same bytes or refuses it with a clear error (code in a local extension); where
/// cookiecutter refuses one, so does factory. Prints the table for the note.
#[test]
fn cookiecutters_own_test_templates_render_the_same() {
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let Some(fixtures) = upstream_fixtures() else {
        return;
    };
    let mut env = Env::new();
    env.set_env("FACTORY_NOW", "2026-06-11T09:05:00Z");
    env.set_env("FACTORY_UUID_SEED", "upstream");
    // Local extensions import cookiecutter's helpers: its Python runs them (with --trust).
    env.set_env(
        "FACTORY_PYTHON",
        cookiecutter.with_file_name("python3").to_str().unwrap(),
    );
    let mut templates: Vec<PathBuf> = walkdir::WalkDir::new(&fixtures)
        .max_depth(3)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.file_name().is_some_and(|n| n == "cookiecutter.json"))
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect();
    templates.sort();
    // cookiecutter's own last word (its traceback's last line, or what it printed).
    let last_line = |out: &std::process::Output| {
        let text = [&out.stderr, &out.stdout]
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .join("\n");
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(no message)")
            .trim()
            .chars()
            .take(150)
            .collect::<String>()
    };
    let mut table = vec![
        format!("| fixture | cookiecutter {VERSION} | factory |"),
        "|---|---|---|".to_string(),
    ];
    let mut identical = 0;
    for template in templates {
        let name = template
            .strip_prefix(&fixtures)
            .unwrap()
            .display()
            .to_string();
        let slug = name.replace('/', "_");
        let reference_dir = env.path(&format!("ref-{slug}"));
        let theirs = reference_command(&env, &cookiecutter)
            .arg("--no-input")
            .arg("-o")
            .arg(&reference_dir)
            .arg(&template)
            .output()
            .unwrap();
        let ours_dir = env.path(&format!("ours-{slug}"));
        let ours = env.run(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            ours_dir.to_str().unwrap(),
            "--defaults",
            "--trust",
        ]);
        let our_error: String = ours
            .stderr
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
            .replace(template.to_str().unwrap(), &name)
            .chars()
            .take(150)
            .collect();
        let row = match (theirs.status.success(), ours.code == 0) {
            (true, true) => {
                assert_same(&tree(&ours_dir), &tree(&reference_dir), &name);
                identical += 1;
                "renders | identical".to_string()
            }
            (true, false) => {
                assert!(
                    ours.stderr.contains("not supported"),
                    "{name}: cookiecutter renders it, factory fails: {}",
                    ours.stderr
                );
                format!("renders | refused: {our_error}")
            }
            (false, true) => panic!(
                "{name}: cookiecutter refuses it ({}), factory generated it",
                last_line(&theirs)
            ),
            (false, false) => format!("refuses: {} | refuses: {our_error}", last_line(&theirs)),
        };
        table.push(format!("| {name} | {row} |"));
    }
    eprintln!("{}", table.join("\n"));
    assert!(identical >= 15, "{}", table.join("\n"));
    // Every fixture cookiecutter renders, factory renders byte for byte (local extensions
    // included, with --trust).
    assert!(
        !table.iter().any(|row| row.contains("| renders | refused")),
        "{}",
        table.join("\n")
    );
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

#[test]
fn cookiecutters_run_values_are_in_its_context() {
    let env = Env::new();
    let template = env.template(
        "cc-run",
        &[
            ("cookiecutter.json", "{\"name\": \"demo\"}\n"),
            (
                "{{cookiecutter.name}}/run.txt",
                "{{ cookiecutter._template }}\n{{ cookiecutter._output_dir }}\n{{ cookiecutter._repo_dir }}\n{{ cookiecutter._checkout }}\n{{ cookiecutter | jsonify }}\n",
            ),
        ],
    );
    let ours = env.path("ours");
    generate_with(&env, &template, &ours, &[]);
    let text = std::fs::read_to_string(ours.join("demo/run.txt")).unwrap();
    assert!(
        text.starts_with(&format!("{}\n{}\n", template.display(), ours.display())),
        "{text}"
    );
    // The same output folder name on both sides: `_output_dir` is part of the output.
    let reference = env.path("ref/ours");
    std::fs::create_dir_all(&reference).unwrap();
    std::fs::remove_dir_all(&ours).unwrap();
    if !cookiecutter_into(&env, &template, &ours) {
        return;
    }
    let theirs = tree(&ours);
    std::fs::rename(&ours, &reference).unwrap();
    generate_with(&env, &template, &ours, &[]);
    assert_same(&tree(&ours), &theirs, "run values");
}

#[test]
fn now_local_is_the_machines_time_zone_as_in_cookiecutter() {
    let mut env = Env::new();
    env.set_env("FACTORY_NOW", "2026-06-11T21:05:00Z");
    env.set_env("TZ", "Asia/Kolkata");
    let template = env.template(
        "cc-now",
        &[
            ("cookiecutter.json", "{\"name\": \"demo\", \"_extensions\": [\"cookiecutter.extensions.TimeExtension\"]}\n"),
            (
                "{{cookiecutter.name}}/when.txt",
                "{% now 'local', '%Y-%m-%d %H:%M %z' %} / {% now 'utc', '%Y-%m-%d %H:%M %z' %}\n",
            ),
        ],
    );
    let ours = env.path("ours");
    generate_with(&env, &template, &ours, &[]);
    assert_eq!(
        std::fs::read_to_string(ours.join("demo/when.txt")).unwrap(),
        "2026-06-12 02:35 +0530 / 2026-06-11 21:05 +0000\n"
    );
    let out = env.run(&["validate", "--path", template.to_str().unwrap()]);
    out.ok();
    let reference = env.path("ref");
    if cookiecutter_into(&env, &template, &reference) {
        assert_same(&tree(&ours), &tree(&reference), "now local");
    }
}

#[test]
fn a_hook_that_updates_the_context_changes_what_follows_as_in_cookiecutter() {
    let env = Env::new();
    let template = env.template(
        "cc-update",
        &[
            ("cookiecutter.json", "{\"slug\": \"demo\", \"name\": \"  Mixed Case  \"}\n"),
            (
                "hooks/pre_gen_project.py",
                "{{ cookiecutter.update({'name': cookiecutter.name|trim|upper}) }}\nprint('normalised')\n",
            ),
            ("{{cookiecutter.slug}}/{{cookiecutter.name}}.txt", "[{{ cookiecutter.name }}]\n"),
        ],
    );
    let ours = env.path("ours");
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "ours",
        "--defaults",
        "--trust",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(ours.join("demo/MIXED CASE.txt")).unwrap(),
        "[MIXED CASE]\n"
    );
    let reference = env.path("ref");
    if cookiecutter_into(&env, &template, &reference) {
        assert_same(&tree(&ours), &tree(&reference), "update in a hook");
    }
}

#[test]
fn o_is_the_folder_the_project_folder_is_made_in_as_in_cookiecutter() {
    let env = Env::new();
    let template = env.template(
        "cc-parent",
        &[
            ("cookiecutter.json", "{\"slug\": \"demo\"}\n"),
            (
                "{{cookiecutter.slug}}/README.md",
                "# {{ cookiecutter.slug }}\n",
            ),
        ],
    );
    let t = template.to_str().unwrap();
    // The parent may hold other things; the project folder is made inside it.
    std::fs::create_dir_all(env.path("src")).unwrap();
    std::fs::write(env.path("src/other.txt"), "someone else's\n").unwrap();
    let out = env.run(&["generate", t, "-o", "src", "--defaults"]);
    out.ok();
    assert!(
        out.stdout.contains("Generated src/demo from"),
        "{}",
        out.stdout
    );
    assert!(env.path("src/demo/.factory/scaffold.yaml").is_file());
    assert!(!env.path("src/.factory").exists());
    assert_eq!(
        std::fs::read_to_string(env.path("src/other.txt")).unwrap(),
        "someone else's\n"
    );
    env.run(&["verify", "src/demo"]).ok();
    let events = env.events();
    let target = &events
        .iter()
        .rev()
        .find(|e| e["eventType"] == "TemplateExecutionRequested")
        .unwrap()["payload"]["target"];
    assert!(target.as_str().unwrap().ends_with("/src/demo"), "{target}");
    // The project folder existing is what stops a second run, as in cookiecutter.
    let again = env.run(&["generate", t, "-o", "src", "--defaults"]);
    again.expect_code(1);
    assert!(
        again
            .stderr
            .contains("\"src/demo\" directory already exists"),
        "{}",
        again.stderr
    );
    std::fs::create_dir_all(env.path("ref")).unwrap();
    std::fs::write(env.path("ref/other.txt"), "someone else's\n").unwrap();
    if cookiecutter_into(&env, &template, &env.path("ref")) {
        let (ours, theirs) = (tree(&env.path("src")), tree(&env.path("ref")));
        assert_same(&ours, &theirs, "-o is the parent");
    }
}

#[test]
fn the_whole_context_jsonifies_as_in_cookiecutter() {
    let env = Env::new();
    let template = env.template(
        "cc-json",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"demo\", \"n\": 3, \"flag\": true, \"pick\": [\"a\", \"b\"], \"__slug\": \"{{ cookiecutter.name }}-x\", \"_private\": \"{{ raw }}\", \"_copy_without_render\": [\"*.bin\"], \"_extensions\": [\"cookiecutter.extensions.JsonifyExtension\"]}\n",
            ),
            ("{{cookiecutter.name}}/context.json", "{{ cookiecutter | jsonify }}\n"),
        ],
    );
    // One output path for both (`_output_dir` is in the context): cookiecutter's run first.
    let out = env.path("out");
    if !cookiecutter_into(&env, &template, &out) {
        return;
    }
    let theirs = tree(&out);
    std::fs::remove_dir_all(&out).unwrap();
    generate_with(&env, &template, &out, &[]);
    assert_same(&tree(&out), &theirs, "jsonify of the context");
}

#[test]
fn flavor_cookiecutter_reads_a_dual_template_as_cookiecutter_does() {
    let env = Env::new();
    let template = env.template(
        "cc-dual",
        &[
            ("copier.yml", "name:\n  type: str\n  default: from-copier\n"),
            ("cookiecutter.json", "{\"name\": \"from-cookiecutter\"}\n"),
            ("{{cookiecutter.name}}/who.txt", "{{ cookiecutter.name }}\n"),
        ],
    );
    let t = template.to_str().unwrap();
    let out = env.path("out");
    env.run(&[
        "generate",
        t,
        "-o",
        "out",
        "--flavor",
        "cookiecutter",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("from-cookiecutter/who.txt")).unwrap(),
        "from-cookiecutter\n"
    );
    let reference = env.path("ref");
    if cookiecutter_into(&env, &template, &reference) {
        assert_same(&tree(&out), &tree(&reference), "--flavor cookiecutter");
    }
    // The flag names what the folder must have, and applies to folders only.
    let copier_only = env.template("cp-only", &[("copier.yml", "x: 1\n")]);
    let refused = env.run(&[
        "generate",
        copier_only.to_str().unwrap(),
        "-o",
        "none",
        "--flavor",
        "cookiecutter",
    ]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("has no cookiecutter.json"),
        "{}",
        refused.stderr
    );
    env.run(&["register", t, "--name", "dual"]).ok();
    let stored = env.run(&["generate", "dual", "-o", "none", "--flavor", "cookiecutter"]);
    stored.expect_code(2);
    assert!(
        stored
            .stderr
            .contains("--flavor applies to a template folder"),
        "{}",
        stored.stderr
    );
    assert!(!env.path("none").exists());
}

#[test]
fn a_local_extension_runs_with_trust_as_cookiecutter_runs_it() {
    let mut env = Env::new();
    let template = env.template(
        "cc-local-ext",
        &[
            (
                "cookiecutter.json",
                "{\"name\": \"Demo Project\", \"_extensions\": [\"cookiecutter.extensions.JsonifyExtension\", \"local_extensions.ShoutExtension\"]}\n",
            ),
            (
                "local_extensions.py",
                "from jinja2.ext import Extension\n\n\nclass ShoutExtension(Extension):\n    def __init__(self, environment):\n        super().__init__(environment)\n        environment.filters[\"shout\"] = lambda value, mark=\"!\": value.upper() + mark\n",
            ),
            (
                "{{cookiecutter.name}}/a.txt",
                "{{ cookiecutter.name | shout }} {{ cookiecutter.name | shout(mark='?') }}\n",
            ),
        ],
    );
    let refused = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("its Jinja extensions local_extensions.ShoutExtension are Python"),
        "{}",
        refused.stderr
    );
    assert!(!env.path("out").exists());
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    env.set_env(
        "FACTORY_PYTHON",
        cookiecutter.with_file_name("python3").to_str().unwrap(),
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
        std::fs::read_to_string(env.path("out/Demo Project/a.txt")).unwrap(),
        "DEMO PROJECT! DEMO PROJECT?\n"
    );
    assert!(cookiecutter_into(&env, &template, &env.path("ref")));
    let ours: Vec<_> = tree(&env.path("out/Demo Project"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".factory/"))
        .collect();
    assert_eq!(tree(&env.path("ref/Demo Project")), ours);
}
