//! copier templates, unchanged: factory's output is byte for byte what copier itself writes.
//! copier is installed from PyPI into a virtual environment under target/ at test time;
//! without python3 or PyPI the test says it was skipped (under CI it fails instead).

mod common;

use std::path::PathBuf;

use common::Env;
use common::python::{assert_same, generate_with, reference_command, run_reference, tree};

fn copier() -> Option<PathBuf> {
    // Tests run in parallel: the environment is made once.
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("copier", "9.4.1", "copier"))
        .clone()
}

const CONFIG: &str = r#"_subdirectory: template
_envops:
  trim_blocks: true
  lstrip_blocks: true
tags:
  type: yaml
  default: [api, web]
_exclude:
  - "*.bak"
project_name:
  type: str
  help: The project's name
  default: Acme Widget
module:
  type: str
  default: "{{ project_name | lower | replace(' ', '_') }}"
  validator: "{% if ' ' in module or '-' in module %}not a Python identifier{% endif %}"
use_db:
  type: bool
  default: true
db:
  type: str
  choices:
    PostgreSQL: postgres
    SQLite: sqlite
  default: postgres
  when: "{{ use_db }}"
edition:
  type: str
  choices:
    - "{{ module }}-community"
    - "{{ module }}-enterprise"
  default: "{{ module }}-community"
port: 8000
ratio: 0.5
token:
  type: str
  secret: true
  default: dev-token
"#;

fn fixture(env: &Env) -> PathBuf {
    env.template(
        "cp-widget",
        &[
            ("copier.yml", CONFIG),
            ("template/README.md.jinja", "# {{ project_name }}\n{{ project_name | to_json }} {{ 'yes' | bool }} {{ 'off' | bool }} {{ project_name | regex_search('W\\w+') }} {{ 'a-b-c' | regex_replace('-', '_') }}\n\n{% if use_db %}Database: {{ db }}{% else %}No database{% endif %}\nPort {{ port }}, ratio {{ ratio }}\n"),
            ("template/{{ module }}/__init__.py.jinja", "TOKEN = \"{{ token }}\"\nTAGS = [\n    {% for tag in tags %}\n    \"{{ tag }}\",\n    {% endfor %}\n]\n"),
            ("template/raw.txt", "{{ not rendered: no suffix }}\n"),
            ("template/notes.bak", "excluded\n"),
            ("template/{% if use_db %}schema.sql{% endif %}.jinja", "-- {{ db }}\n"),
            // Names in includes are from the template's root, whatever `_subdirectory`.
            ("template/LICENSE.jinja", "{% include 'partials/license.txt' %}"),
            ("partials/license.txt", "(c) {{ project_name }}, {{ edition }}\n"),
        ],
    )
}

#[test]
fn a_copier_template_renders_byte_for_byte_like_copier() {
    let env = Env::new();
    let template = fixture(&env);
    let out = env.run(&["validate", "--path", template.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    // A validator refuses a bad answer.
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "bad",
        "--defaults",
        "--set",
        "module=not valid",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("not a Python identifier"),
        "{}",
        out.stderr
    );

    let Some(copier) = copier() else { return };
    for (name, data) in [
        ("defaults", vec![]),
        (
            "answers",
            vec!["project_name=Big Thing", "use_db=false", "port=9000"],
        ),
    ] {
        let reference = env.path(&format!("reference-{name}"));
        let mut command = reference_command(&env, &copier);
        command.args(["copy", "--defaults", "--trust", "--quiet"]);
        for pair in &data {
            command.args(["--data", pair]);
        }
        command.arg(&template).arg(&reference);
        run_reference(command, env.dir.path());
        let ours = env.path(&format!("ours-{name}"));
        generate_with(&env, &template, &ours, &data);
        assert_same(&tree(&ours), &tree(&reference), name);
    }
    // copier's answers file only when asked, without the secret.
    assert!(!env.path("ours-defaults/.copier-answers.yml").exists());
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "with-answers",
        "--defaults",
        "--compat-answers",
    ])
    .ok();
    let answers = std::fs::read_to_string(env.path("with-answers/.copier-answers.yml")).unwrap();
    assert!(
        answers.starts_with("# Changes here will be overwritten by Copier"),
        "{answers}"
    );
    assert!(
        answers.contains("_src_path:")
            && answers.contains("project_name: Acme Widget")
            && !answers.contains("dev-token"),
        "{answers}"
    );
    // The secret is used for rendering and recorded nowhere.
    assert!(
        !String::from_utf8(env.log_bytes())
            .unwrap()
            .contains("dev-token")
    );
    let scaffold =
        std::fs::read_to_string(env.path("ours-defaults/.factory/scaffold.yaml")).unwrap();
    assert!(
        !scaffold.contains("dev-token") && scaffold.contains("- token"),
        "{scaffold}"
    );
}

#[test]
fn tasks_run_only_with_trust() {
    let env = Env::new();
    let template = env.template(
        "cp-tasks",
        &[
            (
                "copier.yml",
                "name: demo\n_tasks:\n  - \"echo made {{ name }} > task.txt\"\n",
            ),
            ("README.md.jinja", "{{ name }}\n"),
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
            .contains("wants to run code: task `echo made {{ name }} > task.txt`"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out").exists());
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
        std::fs::read_to_string(env.path("out/task.txt")).unwrap(),
        "made demo\n"
    );
    let Some(copier) = copier() else { return };
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "--trust", "--quiet"])
        .arg(&template)
        .arg(env.path("ref"));
    run_reference(command, env.dir.path());
    assert_eq!(tree(&env.path("ref")), tree(&env.path("out")));
}

#[test]
fn skip_if_exists_keeps_files_when_writing_over_a_project() {
    let env = Env::new();
    let template = env.template(
        "cp-skip",
        &[
            (
                "copier.yml",
                "name: demo\n_skip_if_exists:\n  - config.txt\n",
            ),
            ("config.txt.jinja", "name={{ name }}\n"),
            ("README.md.jinja", "# {{ name }}\n"),
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
    std::fs::write(env.path("out/config.txt"), "name=mine\n").unwrap();
    std::fs::write(env.path("out/README.md"), "old\n").unwrap();
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
        "--force",
        "--set",
        "name=again",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/config.txt")).unwrap(),
        "name=mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("out/README.md")).unwrap(),
        "# again\n"
    );
}
