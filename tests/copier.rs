//! copier templates, unchanged: factory's output is byte for byte what copier itself writes.
//! copier is installed from PyPI into a virtual environment under target/ at test time;
//! without python3 or PyPI the test says it was skipped (under CI it fails instead).

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use common::python::{assert_same, copier, generate_with, reference_command, run_reference, tree};

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

/// Asserts that copier itself (`copier copy --defaults`, with `--trust` when asked) writes the
/// tree factory wrote into `ours`; nothing to compare where copier could not be installed.
fn same_as_copier(env: &Env, template: &Path, ours: &str, trust: bool) {
    let Some(copier) = copier() else { return };
    let mut command = reference_command(env, &copier);
    command.args(["copy", "--defaults", "--quiet"]);
    if trust {
        command.arg("--trust");
    }
    command.arg(template).arg(env.path("ref"));
    run_reference(command, env.dir.path());
    assert_eq!(tree(&env.path("ref")), tree(&env.path(ours)));
}

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
    same_as_copier(&env, &template, "out", true);
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

/// Values that exercise PyYAML's and Python json's layout: quoting, folding past column 80,
/// multi-line strings, flow and block collections, keys that are not simple, floats, unicode.
const FORMATS_CONFIG: &str = r##"data:
  type: yaml
  default:
    text: "The quick brown fox jumps over the lazy dog, then the dog wakes up and chases the fox all the way home again"
    quoted: "it's a 'quoted' thing: and a very long line that keeps going past the eightieth column for sure"
    special: ["yes", "No", "~", "null", "0755", "0x1F", "1_000", "12:30:45", "2024-01-01", "2024-1-1 10:00:00", ".inf", "<<", "=", "-", "- a", "? x", "a # b", "a#b", "#x", "@x", "`x", "!x", "&x", "*x", "|x", ">x", "%x", "'x", "\"x", "x:", "x: y", "[x", "x]", "{x}", "a,b", "---x", "...x", " lead", "trail ", "tab\there", "bell\u0007", "ünïcödé", "emoji 🎉", "line1\nline2\n", "\nlead break", "a \nb", "a\n b", "", " ", "back\\slash", "nbsp\u00a0x"]
    numbers: [0, -1, 2.5, 1.0e+20, 1.5e-07, 3.0]
    nested: [[1, [2, [3]]], {a: [], b: {}}, [], {}]
    services:
      - name: api-gateway-with-a-rather-long-name-that-goes-on-and-on
        ports: [8080, 8443, 9000, 9001, 9002, 9003, 9004, 9005, 9006, 9007, 9008, 9009, 9010, 9011]
        env: {LOG_LEVEL: debug, FEATURE_FLAG_WITH_LONG_NAME: "true", ANOTHER_SETTING: "some value here"}
        description: "multi\nline\n\ndescription with a blank line and trailing newline\n"
      - [nested, [deeper, [deepest, "with: colon"]]]
    "key: colon": 1
    "yes": key
    "": empty key
    Über: unicode key
    sp: "double  spaces  inside and a very long sentence that goes past the column limit of eighty chars"
"##;

const FORMATS_TEMPLATE: &str = "{{ data | to_nice_yaml }}---\n{{ data | to_nice_yaml(indent=2) }}---\n{{ data | to_yaml }}---\n{{ data | to_nice_json }}\n---\n{{ data | to_nice_json(2) }}\n---\n{{ data | to_json }}\n---\n{{ data.text | to_nice_yaml }}---\n{{ data.special | to_yaml }}---\n{{ 42 | to_yaml }}---\n{{ 'yes' | to_yaml }}";

#[test]
fn yaml_and_json_filters_write_what_copier_writes() {
    let env = Env::new();
    let template = env.template(
        "cp-formats",
        &[
            ("copier.yml", FORMATS_CONFIG),
            ("out.txt.jinja", FORMATS_TEMPLATE),
        ],
    );
    let ours = env.path("ours");
    generate_with(&env, &template, &ours, &[]);
    let written = std::fs::read_to_string(ours.join("out.txt")).unwrap();
    // Without the reference tool, a few landmarks of PyYAML's layout.
    for landmark in [
        "? ''\n: empty key\n",
        "numbers:\n- 0\n- -1\n- 2.5\n- 1.0e+20\n",
        "text: The quick brown fox jumps over the lazy dog, then the dog wakes up and chases\n    the fox all the way home again\n",
        "special: ['yes', 'No', '~', 'null', '0755',",
        "\"\\u00dcber\": \"unicode key\"",
        "42\n...\n",
    ] {
        assert!(written.contains(landmark), "{landmark:?} in:\n{written}");
    }
    let Some(copier) = copier() else { return };
    let reference = env.path("reference");
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "--trust", "--quiet"])
        .arg(&template)
        .arg(&reference);
    run_reference(command, env.dir.path());
    assert_same(&tree(&ours), &tree(&reference), "filters");
}

#[test]
fn envops_delimiters_apply_to_question_defaults_and_when() {
    let env = Env::new();
    let config = "_envops:\n  variable_start_string: \"[[\"\n  variable_end_string: \"]]\"\n\
                  project:\n  type: str\n  default: demo\n\
                  module:\n  type: str\n  default: \"[[ project | upper ]]_mod\"\n\
                  extra:\n  type: bool\n  default: false\n\
                  detail:\n  type: str\n  default: \"[[ module ]]-detail\"\n  when: \"[[ extra ]]\"\n";
    let template = env.template(
        "cp-envops",
        &[
            ("copier.yml", config),
            ("README.md.jinja", "[[ module ]] {{ kept }} [[ detail ]]\n"),
        ],
    );
    for (out, sets) in [("out", vec![]), ("out2", vec!["extra=true"])] {
        let mut args = vec![
            "generate",
            template.to_str().unwrap(),
            "-o",
            out,
            "--defaults",
        ];
        for set in &sets {
            args.extend(["--set", set]);
        }
        env.run(&args).ok();
    }
    assert_eq!(
        std::fs::read_to_string(env.path("out/README.md")).unwrap(),
        "DEMO_mod {{ kept }} DEMO_mod-detail\n"
    );
    let scaffold = std::fs::read_to_string(env.path("out2/.factory/scaffold.yaml")).unwrap();
    assert!(scaffold.contains("module: DEMO_mod"), "{scaffold}");
    assert!(scaffold.contains("detail: DEMO_mod-detail"), "{scaffold}");
    same_as_copier(&env, &template, "out", false);
}

#[test]
fn tasks_in_every_form_run_with_trust_and_honour_when() {
    let env = Env::new();
    let config = "name: demo\n_tasks:\n  - \"echo a {{ name }} > t1.txt\"\n  - [\"sh\", \"-c\", \"echo b > t2.txt\"]\n  - command: \"echo c > t3.txt\"\n    working_directory: sub\n  - command: [\"sh\", \"-c\", \"echo d > t4.txt\"]\n    when: \"{{ name == 'demo' }}\"\n  - command: \"echo never > t5.txt\"\n    when: false\n  - command: \"echo never > t6.txt\"\n    when: \"{{ name == 'other' }}\"\n";
    let template = env.template(
        "cp-task-forms",
        &[
            ("copier.yml", config),
            ("README.md.jinja", "{{ name }}\n"),
            ("sub/keep.txt", "keep\n"),
        ],
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
    let read = |p: &str| std::fs::read_to_string(env.path(&format!("out/{p}"))).ok();
    assert_eq!(read("t1.txt").as_deref(), Some("a demo\n"));
    assert_eq!(read("t2.txt").as_deref(), Some("b\n"));
    assert_eq!(read("sub/t3.txt").as_deref(), Some("c\n"));
    assert_eq!(read("t4.txt").as_deref(), Some("d\n"));
    assert_eq!(read("t5.txt"), None, "when: false does not run");
    assert_eq!(
        read("t6.txt"),
        None,
        "a when that renders false does not run"
    );
    // A failing task shows what it printed on stdout and stderr.
    let failing = env.template(
        "cp-task-fails",
        &[
            (
                "copier.yml",
                "name: demo\n_tasks:\n  - \"echo on-stdout; echo on-stderr >&2; exit 3\"\n",
            ),
            ("README.md.jinja", "{{ name }}\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        failing.to_str().unwrap(),
        "-o",
        "bad",
        "--defaults",
        "--trust",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("on-stdout") && out.stderr.contains("on-stderr"),
        "{}",
        out.stderr
    );
    assert!(!env.path("bad").exists());
    same_as_copier(&env, &template, "out", true);
}

#[test]
fn exclude_replaces_the_default_exclusions_as_in_copier() {
    let env = Env::new();
    let template = env.template(
        "cp-exclude",
        &[
            ("copier.yml", "name: demo\n_exclude:\n  - \"*.bak\"\n"),
            ("README.md.jinja", "{{ name }}\n"),
            ("notes.bak", "excluded\n"),
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
    // The template's own _exclude replaced the defaults: copier.yml is part of the output.
    assert!(env.path("out/copier.yml").is_file());
    assert!(!env.path("out/notes.bak").exists());
    same_as_copier(&env, &template, "out", false);
}

#[test]
fn a_subdirectory_that_is_not_there_is_an_error_not_an_empty_project() {
    let env = Env::new();
    let template = env.template(
        "cp-no-sub",
        &[
            ("copier.yml", "_subdirectory: template\nname: demo\n"),
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
        out.stderr.contains("the content folder `template`"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out").exists());
    let validated = env.run(&["validate", "--path", template.to_str().unwrap()]);
    validated.expect_code(3);
}

#[test]
fn undefined_names_are_lenient_as_in_copier_unless_the_template_asks_for_strict() {
    let env = Env::new();
    let lenient = env.template(
        "cp-lenient",
        &[
            ("copier.yml", "name: demo\n"),
            (
                "tasks.py.jinja",
                "@duty{% if not testing %}(post=[\"docs\"]){% endif %}\n[{{ missing }}]\n",
            ),
        ],
    );
    env.run(&[
        "generate",
        lenient.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/tasks.py")).unwrap(),
        "@duty(post=[\"docs\"])\n[]\n"
    );
    let strict = env.template(
        "cp-strict",
        &[
            (
                "copier.yml",
                "name: demo\n_envops:\n  undefined: jinja2.StrictUndefined\n",
            ),
            ("a.txt.jinja", "{{ missing }}\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        strict.to_str().unwrap(),
        "-o",
        "strict",
        "--defaults",
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("undefined"), "{}", out.stderr);
    same_as_copier(&env, &lenient, "out", false);
}

#[test]
fn copiers_own_context_renders_its_answers_file_as_copier_does() {
    let env = Env::new();
    let template = env.template(
        "cp-context",
        &[
            (
                "copier.yml",
                "project:\n  type: str\n  default: demo\ntoken:\n  type: str\n  secret: true\n  default: s3cr3t-value\nhidden:\n  type: str\n  default: x\n  when: false\n",
            ),
            (
                "{{_copier_conf.answers_file}}.jinja",
                "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n{{ _copier_answers|to_nice_yaml -}}\n",
            ),
            (
                "conf.txt.jinja",
                "{{ _copier_conf.sep }} {{ _copier_conf.os }} {{ _copier_conf.answers_file }} {{ _copier_phase }} {{ _copier_answers|to_json }}\n",
            ),
        ],
    );
    let t = template.to_str().unwrap();
    env.run(&["generate", t, "-o", "ours"]).ok();
    let answers = std::fs::read_to_string(env.path("ours/.copier-answers.yml")).unwrap();
    assert!(
        answers.contains("project: demo") && !answers.contains("s3cr3t"),
        "{answers}"
    );
    same_as_copier(&env, &template, "ours", false);
    // `_folder_name` is the project folder's name, `dst_path` its absolute path.
    let named = env.template(
        "cp-folder",
        &[
            ("copier.yml", "_answers_file: .answers.yml\n"),
            (
                "where.txt.jinja",
                "{{ _folder_name }} {{ _copier_conf.dst_path }} {{ _copier_conf.answers_file }}\n",
            ),
        ],
    );
    env.run(&["generate", named.to_str().unwrap(), "-o", "sub/my-project"])
        .ok();
    let text = std::fs::read_to_string(env.path("sub/my-project/where.txt")).unwrap();
    let dst = std::fs::canonicalize(env.path("sub/my-project")).unwrap();
    assert_eq!(text, format!("my-project {} .answers.yml\n", dst.display()));
    // An undefined value never reaches a filter as null, even where copier is lenient.
    let undefined = env.template(
        "cp-undefined",
        &[
            ("copier.yml", "x:\n  default: 1\n"),
            ("a.txt.jinja", "{{ no_such_name|to_json }}\n"),
        ],
    );
    let out = env.run(&["generate", undefined.to_str().unwrap(), "-o", "undefined"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("a.txt.jinja:1:") && out.stderr.contains("undefined"),
        "{}",
        out.stderr
    );
    assert!(!env.path("undefined").exists());
}

#[test]
fn a_templated_subdirectory_is_chosen_by_the_answers_as_in_copier() {
    let env = Env::new();
    let template = env.template(
        "cp-flavors",
        &[
            (
                "copier.yml",
                "flavor:\n  type: str\n  default: basic\n_subdirectory: \"{{ flavor }}\"\n",
            ),
            ("basic/README.md.jinja", "basic {{ flavor }}\n"),
            ("full/README.md.jinja", "full {{ flavor }}\n"),
            ("full/extra.txt", "only in full\n"),
        ],
    );
    let t = template.to_str().unwrap();
    env.run(&["validate", "--path", t]).ok();
    env.run(&["generate", t, "-o", "ours"]).ok();
    same_as_copier(&env, &template, "ours", false);
    env.run(&["generate", t, "-o", "full", "--set", "flavor=full"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("full/README.md")).unwrap(),
        "full full\n"
    );
    assert!(env.path("full/extra.txt").is_file() && !env.path("full/basic").exists());
    // An answer naming no folder, or one outside the template, writes nothing.
    for (answer, message) in [
        ("flavor=missing", "the content folder `missing`"),
        ("flavor=..", "would leave or alias the target folder"),
    ] {
        let out = env.run(&["generate", t, "-o", "bad", "--set", answer]);
        out.expect_code(1);
        assert!(out.stderr.contains(message), "{answer}: {}", out.stderr);
        assert!(!env.path("bad").exists());
    }
}

#[test]
fn a_template_with_both_copier_yml_and_cookiecutter_json_is_a_copier_template() {
    let env = Env::new();
    let template = env.template(
        "cp-both",
        &[
            ("copier.yml", "name:\n  type: str\n  default: from-copier\n"),
            ("cookiecutter.json", "{\"name\": \"from-cookiecutter\"}\n"),
            ("who.txt.jinja", "{{ name }}\n"),
        ],
    );
    env.run(&["generate", template.to_str().unwrap(), "-o", "ours"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("ours/who.txt")).unwrap(),
        "from-copier\n"
    );
    same_as_copier(&env, &template, "ours", false);
}

#[test]
fn choice_validators_and_imported_macros_run_for_the_answer_chosen_as_in_copier() {
    let env = Env::new();
    let template = env.template(
        "cp-choices",
        &[
            (
                "copier.yml",
                "db:\n  type: str\n  choices:\n    PostgreSQL:\n      value: pg\n    SQLite:\n      value: sqlite\n      validator: \"{% if true %}not on this platform{% endif %}\"\n  default: pg\nname:\n  type: str\n  default: \"{% from 'macros.jinja' import slug %}{{ slug('My App') }}\"\n  validator: \"{% from 'macros.jinja' import check %}{{ check(name) }}\"\n",
            ),
            ("macros.jinja", "{% macro slug(s) %}{{ s|lower|replace(' ', '-') }}{% endmacro %}{% macro check(s) %}{% if ' ' in s %}no spaces{% endif %}{% endmacro %}"),
            ("f.txt.jinja", "{{ db }} {{ name }}\n"),
        ],
    );
    let t = template.to_str().unwrap();
    env.run(&["generate", t, "-o", "ours"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("ours/f.txt")).unwrap(),
        "pg my-app\n"
    );
    same_as_copier(&env, &template, "ours", false);
    for (answer, message) in [
        (
            "db=sqlite",
            "parameter `db`: Invalid choice for 'db': not on this platform",
        ),
        (
            "name=has space",
            "parameter `name`: Validation error for question 'name': no spaces",
        ),
    ] {
        let out = env.run(&["generate", t, "-o", "bad", "--set", answer]);
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{answer}: {}", out.stderr);
        assert!(!env.path("bad").exists());
    }
}

#[test]
fn python_jinja_extensions_run_with_trust_as_copier_runs_them() {
    let mut env = Env::with_git_author();
    let template = env.template(
        "cp-ext",
        &[
            (
                "copier.yml",
                "_subdirectory: template\n_jinja_extensions:\n  - copier_templates_extensions.TemplateExtensionLoader\n  - extensions/context.py:ContextUpdater\n  - extensions/slugify.py:SlugifyExtension\nname:\n  type: str\n  default: Demo Project\n",
            ),
            (
                "extensions/context.py",
                "from copier_templates_extensions import ContextHook\n\n\nclass ContextUpdater(ContextHook):\n    def hook(self, context):\n        # copier runs it for question defaults too, before `name` is answered.\n        context[\"shout\"] = context.get(\"name\", \"\").upper() + \"!\"\n",
            ),
            (
                "extensions/slugify.py",
                "import re\n\nimport copier\nfrom copier._tools import cast_to_bool\nfrom jinja2.ext import Extension\n\n\ndef slugify(value, sep=\"-\"):\n    return re.sub(r\"[^a-z0-9]+\", sep, value.lower()).strip(sep)\n\n\nclass SlugifyExtension(Extension):\n    def __init__(self, environment):\n        super().__init__(environment)\n        environment.filters[\"slugify\"] = slugify\n        environment.globals[\"answer\"] = 42\n        environment.globals[\"twice\"] = lambda v: v * 2\n        environment.tests[\"long\"] = lambda v, n=5: len(v) > n\n        # copier's package whole, though copier-templates-extensions imported a part first.\n        environment.globals[\"api\"] = copier.run_copy.__name__\n        # and a module copier.errors imports, whole, though only a part was read first.\n        environment.globals[\"flag\"] = cast_to_bool(\"yes\")\n",
            ),
            (
                "template/a.txt.jinja",
                "{{ name | slugify }} {{ name | slugify(sep='_') }} {{ shout }} {{ answer }} {{ twice('ab') }} {{ 'abcdefg' is long }} {{ 'ab' is long(1) }} {{ api }} {{ flag }}\n",
            ),
        ],
    );
    // Without --trust: refused by name before anything is written.
    let refused = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "out",
        "--defaults",
    ]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("its Jinja extensions copier_templates_extensions.TemplateExtensionLoader, extensions/context.py:ContextUpdater, extensions/slugify.py:SlugifyExtension are Python"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--trust"), "{}", refused.stderr);
    assert!(!env.path("out").exists());
    // validate runs no template Python: what needs it is skipped, said why.
    let validated = env.run(&["validate", "--path", template.to_str().unwrap()]);
    validated.ok();
    assert!(
        validated.stdout.contains("skip  defaults/render"),
        "{}",
        validated.stdout
    );
    // With --trust: run in a python3 that has Jinja2 and the extensions' package, as copier runs them.
    let Some(copier) = common::python::copier_with_extensions() else {
        return;
    };
    env.set_env(
        "FACTORY_PYTHON",
        copier.with_file_name("python3").to_str().unwrap(),
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
        std::fs::read_to_string(env.path("out/a.txt")).unwrap(),
        "demo-project demo_project DEMO PROJECT! 42 abab True True run_copy True\n"
    );
    let mut command = reference_command(&env, &copier);
    command
        .args(["copy", "--defaults", "--quiet", "--trust"])
        .arg(&template)
        .arg(env.path("ref"));
    run_reference(command, env.dir.path());
    let ours: Vec<_> = tree(&env.path("out"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".factory/"))
        .collect();
    assert_eq!(tree(&env.path("ref")), ours);
    // From a repository: the helper works in factory's checkout of it, as copier works in
    // its clone.
    env.git(&template, &["init", "-q", "-b", "main"]);
    env.git(&template, &["add", "-A"]);
    env.git(&template, &["commit", "-qm", "template"]);
    let url = format!("file://{}", template.display());
    env.run(&["generate", &url, "-o", "from-git", "--defaults", "--trust"])
        .ok();
    let from_git: Vec<_> = tree(&env.path("from-git"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".factory/"))
        .collect();
    assert_eq!(tree(&env.path("ref")), from_git);
    // An extension that does not load is named, nothing written.
    env.set_env("FACTORY_PYTHON", "python3");
    let broken = env.template(
        "cp-ext-broken",
        &[
            (
                "copier.yml",
                "_jinja_extensions:\n  - no_such_module.Extension\nname: demo\n",
            ),
            ("a.txt.jinja", "{{ name }}\n"),
        ],
    );
    let failed = env.run(&[
        "generate",
        broken.to_str().unwrap(),
        "-o",
        "broken",
        "--defaults",
        "--trust",
    ]);
    failed.expect_code(1);
    assert!(
        failed
            .stderr
            .contains("its Jinja extensions (no_such_module.Extension) did not load"),
        "{}",
        failed.stderr
    );
    assert!(!env.path("broken").exists());
    // Extensions factory provides need no --trust.
    let provided = env.template(
        "cp-ext-ok",
        &[
            (
                "copier.yml",
                "_jinja_extensions:\n  - jinja2_time.TimeExtension\nname: demo\n",
            ),
            ("a.txt.jinja", "{{ name }}\n"),
        ],
    );
    env.run(&["generate", provided.to_str().unwrap(), "-o", "ok"])
        .ok();
}

#[test]
fn links_are_kept_as_links_with_preserve_symlinks_as_in_copier() {
    let env = Env::new();
    // The default copies what links point at: a link to a file the template renders is
    // named for what it is.
    let plain = env.template(
        "cp-link",
        &[
            ("copier.yml", "name: demo\n"),
            ("make.py.jinja", "print('{{ name }}')\n"),
        ],
    );
    std::os::unix::fs::symlink("make.py", plain.join("run")).unwrap();
    let out = env.run(&["generate", plain.to_str().unwrap(), "-o", "out"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("symlink run -> make.py points at nothing in the template")
            && out.stderr.contains("(it is rendered from make.py.jinja)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("_preserve_symlinks: true"),
        "{}",
        out.stderr
    );
    assert!(!env.path("out").exists());

    // With `_preserve_symlinks: true` links stay links; a link whose name has the suffix has
    // its target rendered; a link to a folder is kept, not followed.
    let kept = env.template(
        "cp-link-kept",
        &[
            ("copier.yml", "_preserve_symlinks: true\nname: demo\n"),
            ("make.py.jinja", "print('{{ name }}')\n"),
            ("docs/guide.md", "guide\n"),
            ("{{ name }}.txt.jinja", "{{ name }}\n"),
        ],
    );
    std::os::unix::fs::symlink("make.py", kept.join("run")).unwrap();
    std::os::unix::fs::symlink("../make.py", kept.join("docs/make-link")).unwrap();
    std::os::unix::fs::symlink("docs", kept.join("handbook")).unwrap();
    std::os::unix::fs::symlink("{{ name }}.txt", kept.join("current.jinja")).unwrap();
    env.run(&[
        "generate",
        kept.to_str().unwrap(),
        "-o",
        "kept",
        "--defaults",
    ])
    .ok();
    let link = |rel: &str| {
        std::fs::read_link(env.path("kept").join(rel))
            .unwrap()
            .display()
            .to_string()
    };
    assert_eq!(link("run"), "make.py");
    assert_eq!(link("docs/make-link"), "../make.py");
    assert_eq!(link("handbook"), "docs");
    assert_eq!(link("current"), "demo.txt");
    assert_eq!(
        std::fs::read_to_string(env.path("kept/run")).unwrap(),
        "print('demo')\n"
    );
    // The provenance covers the regular files; verify is clean.
    env.run(&["verify", env.path("kept").to_str().unwrap()])
        .ok();
    same_as_copier(&env, &kept, "kept", false);

    // A kept link must stay in the output folder.
    let escaping = env.template(
        "cp-link-out",
        &[
            ("copier.yml", "_preserve_symlinks: true\nname: demo\n"),
            ("a.txt", "a\n"),
        ],
    );
    std::os::unix::fs::symlink("../../etc/passwd", escaping.join("passwd")).unwrap();
    let refused = env.run(&[
        "generate",
        escaping.to_str().unwrap(),
        "-o",
        "escaping",
        "--defaults",
    ]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("the link `passwd` -> `../../etc/passwd` leads out of the output folder"),
        "{}",
        refused.stderr
    );
    assert!(!env.path("escaping").exists());
}

/// copier's `copy` options on the command line, `-a NAME`, `-x PATTERN` and `-s PATTERN`,
/// are factory's `--answers-file`, `--exclude` and `--skip`: the same project, byte for byte,
/// a first time and again over it. A name leaving the project is refused, nothing written.
#[test]
fn answers_file_exclude_and_skip_options_write_what_copiers_a_x_s_write() {
    let env = Env::new();
    let template = env.template(
        "cp-options",
        &[
            (
                "copier.yml",
                "name: demo\n_skip_if_exists:\n  - fixed.txt\n",
            ),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml }}",
            ),
            ("README.md.jinja", "# {{ name }}\n"),
            ("{{ name }}/config.txt.jinja", "name={{ name }}\n"),
            ("fixed.txt.jinja", "{{ name }}\n"),
            ("notes.log", "left out\n"),
            ("keep.log", "kept\n"),
        ],
    );
    let tpl = template.to_str().unwrap();
    let options = [
        "-a",
        ".config/answers.yml",
        "-x",
        "*.log",
        "-x",
        "!keep.log",
        "-s",
        "{{ name }}/config.txt",
    ];
    let mut first = vec!["generate", tpl, "-o", "out", "--defaults"];
    first.extend(options);
    env.run(&first).ok();
    assert!(env.path("out/.config/answers.yml").is_file());
    assert!(!env.path("out/.copier-answers.yml").exists());
    assert!(!env.path("out/notes.log").exists() && env.path("out/keep.log").is_file());
    // Over the project: what --skip (rendered over the answers) and _skip_if_exists name
    // stays as the project has it.
    for dir in ["out", "ref"] {
        std::fs::create_dir_all(env.path(&format!("{dir}/demo"))).unwrap();
        std::fs::write(env.path(&format!("{dir}/demo/config.txt")), "mine\n").unwrap();
        std::fs::write(env.path(&format!("{dir}/fixed.txt")), "mine\n").unwrap();
        std::fs::write(env.path(&format!("{dir}/README.md")), "old\n").unwrap();
    }
    let mut again = first.clone();
    again.push("--force");
    env.run(&again).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/demo/config.txt")).unwrap(),
        "mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("out/README.md")).unwrap(),
        "# demo\n"
    );
    if let Some(copier) = copier() {
        let mut command = reference_command(&env, &copier);
        command.args(["copy", "--defaults", "--quiet", "--overwrite"]);
        command.args(options).arg(&template).arg(env.path("ref"));
        run_reference(command, env.dir.path());
        assert_same(
            &tree(&env.path("out")),
            &tree(&env.path("ref")),
            "copier -a -x -s",
        );
    }
    // Failure modes: an answers file outside the project, and for a template of another tool.
    let out = env.run(&[
        "generate",
        tpl,
        "-o",
        "bad",
        "--defaults",
        "-a",
        "../answers.yml",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--answers-file ../answers.yml"),
        "{}",
        out.stderr
    );
    assert!(!env.path("bad").exists() && !env.path("answers.yml").exists());
    let cc = env.template(
        "cc-options",
        &[
            ("cookiecutter.json", "{\"name\": \"x\"}"),
            ("{{cookiecutter.name}}/a.txt", "a\n"),
        ],
    );
    let out = env.run(&[
        "generate",
        cc.to_str().unwrap(),
        "-o",
        "cc",
        "--defaults",
        "-a",
        "answers.yml",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("is not a copier template"),
        "{}",
        out.stderr
    );
    assert!(!env.path("cc").exists());
}

/// A copy over a project made from the same copier template takes the answers its answers
/// file records as defaults (copier's last answers), as a second `copier copy` does: the
/// file `-a` names, else `.copier-answers.yml`, never the template's `_answers_file`.
#[test]
fn a_copy_over_a_project_takes_its_recorded_answers_as_defaults_as_copier_does() {
    let env = Env::new();
    let template = env.template(
        "cp-last",
        &[
            ("copier.yml", "round: 1st\nother: x\n"),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "{{ _copier_answers|to_nice_yaml }}",
            ),
            ("round.txt.jinja", "{{ round }} {{ other }}\n"),
        ],
    );
    let tpl = template.to_str().unwrap();
    env.run(&[
        "generate",
        tpl,
        "-o",
        "out",
        "--defaults",
        "--set",
        "round=2nd",
    ])
    .ok();
    env.run(&["generate", tpl, "-o", "out", "--defaults", "--force"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/round.txt")).unwrap(),
        "2nd x\n"
    );
    if let Some(copier) = copier() {
        for args in [&["-d", "round=2nd"][..], &["--overwrite"][..]] {
            let mut command = reference_command(&env, &copier);
            command.args(["copy", "--defaults", "--quiet"]).args(args);
            command.arg(&template).arg(env.path("ref"));
            run_reference(command, env.dir.path());
        }
        assert_same(
            &tree(&env.path("out")),
            &tree(&env.path("ref")),
            "last answers",
        );
    }
}
