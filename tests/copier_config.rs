//! copier's configuration and answers as copier reads them, byte for byte against copier
//! 9.19.1 itself: any folder is a template, answers cast by their question's type, several
//! documents and `!include` in copier.yml, `_secret_questions`, `_external_data`, a templated
//! `_answers_file`, a local git repository read at its newest tag with copier's `_commit`;
//! and the configuration copier refuses, refused with where and what.

mod common;

use std::path::Path;

use common::Env;
use common::python::{assert_same, copier, reference_command, tree};

/// `copier copy --defaults --quiet ARGS TEMPLATE OUT`: its exit status and error output.
fn copier_copy(env: &Env, template: &Path, out: &Path, args: &[&str]) -> Option<(bool, String)> {
    let copier = copier()?;
    let mut command = reference_command(env, &copier);
    command
        .args(["copy", "--defaults", "--quiet"])
        .args(args)
        .arg(template)
        .arg(out)
        .env("HOME", env.dir.path());
    let output = command.output().expect("copier runs");
    Some((
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// copier's `-d NAME=VALUE` pairs as factory's `--set`.
fn factory_generate(
    env: &Env,
    template: &Path,
    out: &str,
    data: &[&str],
    extra: &[&str],
) -> common::Run {
    let mut args = vec![
        "generate".to_string(),
        template.display().to_string(),
        "-o".into(),
        out.into(),
        "--defaults".into(),
    ];
    for pair in data {
        args.extend(["--set".to_string(), pair.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args)
}

/// Renders with both tools and asserts the trees are the same; `false` when copier is not
/// installed (said loudly by `tool`).
#[track_caller]
fn same(env: &Env, template: &Path, name: &str, data: &[&str], copier_args: &[&str]) -> bool {
    let ours = format!("ours-{name}");
    factory_generate(env, template, &ours, data, &[]).ok();
    let mut args: Vec<&str> = Vec::new();
    for pair in data {
        args.extend(["-d", pair]);
    }
    args.extend(copier_args);
    let theirs = env.path(&format!("theirs-{name}"));
    let Some((ok, stderr)) = copier_copy(env, template, &theirs, &args) else {
        return false;
    };
    assert!(ok, "copier failed: {stderr}");
    assert_same(&tree(&env.path(&ours)), &tree(&theirs), name);
    true
}

#[test]
fn a_folder_without_copier_yml_renders_as_copier_renders_it() {
    let env = Env::new();
    let template = env.template(
        "plain",
        &[
            (
                "hello.txt.jinja",
                "hello {{ who | default('nobody') }} {{ 1 + 1 }}\n",
            ),
            ("raw.txt", "{{ not rendered }}\n"),
            ("sub/{{ who }}.txt", "named\n"),
        ],
    );
    let out = factory_generate(&env, &template, "ours-note", &["who=you"], &[]);
    out.ok();
    assert!(
        out.stderr
            .contains("has no template.yaml, cookiecutter.json, copier.yml, copier.yaml: rendered as a copier template without questions"),
        "{}",
        out.stderr
    );
    // Data for a name that is no question reaches the templates, as copier passes it.
    same(&env, &template, "data", &["who=you"], &[]);
    same(&env, &template, "defaults", &[], &[]);
    // The store keeps templates only: `validate` still says what is missing.
    let checked = env.run(&["validate", "--path", template.to_str().unwrap()]);
    assert_ne!(checked.code, 0);
    assert!(
        checked.stdout.contains("no template.yaml") || checked.stderr.contains("no template.yaml"),
        "{}{}",
        checked.stdout,
        checked.stderr
    );
}

const TYPED: &str = r#"q:
  type: yaml
j:
  type: json
  default: "{}"
untyped:
nums:
  type: int
  multiselect: true
  choices: [1, 2, 3]
  default: [2]
pys:
  type: str
  multiselect: true
  choices: ["3.11", "3.12", "3.13"]
  default: ["3.11"]
flag:
  type: bool
  choices: [true, false]
  default: true
pair:
  type: str
  choices:
    - [First, one]
    - [Second, {value: two}]
    - [Third, {value: three, validator: "{% if flag %}not with flag{% endif %}"}]
  default: one
labels:
  type: int
  choices:
    Small: 1
    Large: {value: 9}
  default: 1
where:
  type: path
  default: src/x
tmpl:
  type: str
  choices: |
    {%- for c in ['a', 'b'] %}
    - [{{ c|upper }}, {{ c }}]
    {%- endfor %}
  default: a
"#;

const TYPED_OUT: &str = "q={{ q | tojson }} j={{ j | tojson }} untyped={{ untyped | tojson }} nums={{ nums | tojson }} pys={{ pys | tojson }}\nflag={{ flag | tojson }} {% if flag %}on{% else %}off{% endif %} pair={{ pair }} labels={{ labels }} where={{ where }} tmpl={{ tmpl }}\n";

#[test]
fn answers_are_read_by_their_question_type_as_copier_reads_them() {
    let env = Env::new();
    let template = env.template(
        "typed",
        &[
            ("copier.yml", TYPED),
            ("out.txt.jinja", TYPED_OUT),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "{{ _copier_answers | to_nice_yaml }}",
            ),
        ],
    );
    let given = [
        "q=1",
        "j={\"a\": [1, true]}",
        "untyped=7",
        "nums=[3, 1]",
        "pys=[\"3.13\", 3.12]",
        "flag=false",
        "pair=three",
        "labels=9",
        "tmpl=b",
    ];
    if !same(&env, &template, "given", &given, &[]) {
        return;
    }
    let text = std::fs::read_to_string(env.path("ours-given/out.txt")).unwrap();
    assert_eq!(
        text,
        "q=1 j={\"a\": [1, true]} untyped=7 nums=[1, 3] pys=[\"3.12\", \"3.13\"]\nflag=false off pair=three labels=9 where=src/x tmpl=b\n"
    );
    same(&env, &template, "defaults", &["q=x", "untyped=x"], &[]);
    same(&env, &template, "null", &["q=null", "untyped=[a, b]"], &[]);

    // What copier refuses, refused before anything is written, in copier's words.
    for (pair, message, theirs_message) in [
        ("nums=1,2", "Not a YAML list: '1,2'", None),
        (
            "nums=[5]",
            "Invalid choice for 'nums': 5 is not in [1, 2, 3]",
            None,
        ),
        (
            "pair=four",
            "Invalid choice for 'pair': 'four' is not in ['one', 'two']",
            None,
        ),
        ("j={a", "'{a' is not JSON", Some("JSONDecodeError")),
        (
            "labels=x",
            "Invalid answer 'x' for a question of type int",
            Some("invalid literal for int() with base 10: 'x'"),
        ),
    ] {
        let out = factory_generate(&env, &template, "refused", &["q=1", "untyped=1", pair], &[]);
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{pair}: {}", out.stderr);
        assert!(!env.path("refused").exists(), "{pair}: nothing written");
        let theirs = env.path("theirs-refused");
        let (ok, stderr) = copier_copy(
            &env,
            &template,
            &theirs,
            &["-d", "q=1", "-d", "untyped=1", "-d", pair],
        )
        .unwrap();
        assert!(!ok, "copier refuses {pair} too");
        let expected = theirs_message.unwrap_or(message);
        assert!(stderr.contains(expected), "copier on {pair}: {stderr}");
    }
    // A question without a default and without an answer, in copier's words.
    let out = factory_generate(&env, &template, "refused", &["untyped=1"], &[]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("Question \"q\" is required"),
        "{}",
        out.stderr
    );
    let (ok, stderr) = copier_copy(
        &env,
        &template,
        &env.path("theirs-refused"),
        &["-d", "untyped=1"],
    )
    .unwrap();
    assert!(
        !ok && stderr.contains("Question \"q\" is required"),
        "{stderr}"
    );
    // A choice whose validator renders a message is refused with it, as copier refuses it.
    let out = factory_generate(
        &env,
        &template,
        "refused",
        &["q=1", "untyped=1", "pair=three", "flag=true"],
        &[],
    );
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("Invalid choice for 'pair': not with flag"),
        "{}",
        out.stderr
    );
}

#[test]
fn copier_yml_is_read_as_copier_reads_it() {
    let env = Env::new();
    let template = env.template(
        "merged",
        &[
            (
                "copier.yml",
                "---\n!include 'inc/common_*.yml'\n---\n\n---\n_secret_questions: [token]\nyour_name:\n  type: str\n  default: Bob\n  validator: \"{% if your_name == 'bad' %}bad name{% endif %}\"\nhidden:\n  type: str\n  default: x\n  when: false\n  validator: always wrong\ntoken:\n  type: str\n  default: s3cret\nskipped:\n  type: str\n  when: false\n_answers_file: \".answers-{{ your_name }}.yml\"\n_exclude: [copier.yml]\n",
            ),
            (
                "inc/common_q.yml",
                "your_age:\n  type: int\n  default: 3\nyour_name:\n  type: yaml\n_exclude: [inc]\n",
            ),
            (
                "out.txt.jinja",
                "{{ your_age }} {{ your_name }} {{ hidden }} {{ token }} {{ _copier_conf.answers_file }} {{ skipped | default('undefined') }}\n",
            ),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "{{ _copier_answers | to_nice_yaml }}",
            ),
        ],
    );
    if !same(&env, &template, "defaults", &[], &[]) {
        return;
    }
    same(&env, &template, "named", &["your_name=Ann"], &[]);
    // The secret question is left out of the answers file; the unasked one too.
    let answers = std::fs::read_to_string(env.path("ours-named/.answers-Ann.yml")).unwrap();
    assert!(
        !answers.contains("s3cret") && !answers.contains("hidden"),
        "{answers}"
    );
    // factory's own answers file follows the templated name as well.
    factory_generate(
        &env,
        &template,
        "compat",
        &["your_name=Cy"],
        &["--compat-answers"],
    )
    .ok();
    assert!(env.path("compat/.answers-Cy.yml").is_file());
    // The validator of a given answer runs, in copier's words.
    let out = factory_generate(&env, &template, "bad", &["your_name=bad"], &[]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("Validation error for question 'your_name': bad name"),
        "{}",
        out.stderr
    );
}

#[test]
fn configuration_copier_refuses_is_refused_with_what_and_where() {
    let env = Env::new();
    for (name, config, message) in [
        (
            "python-tag",
            "q:\n  type: str\n  default: !!python/name:os.system\n",
            "copier.yml:3:12: INVALID CONFIG FILE: the tag `!!python/name:os.system` would construct a Python object",
        ),
        (
            "python-envops",
            "_envops:\n  finalize: !!python/object/apply:os.system ['echo pwned']\n",
            "copier.yml:2:13: INVALID CONFIG FILE: the tag `!!python/object/apply:os.system`",
        ),
        ("bad-yaml", "a: 1\nb: [1,\n", "copier.yml:2:"),
        (
            "validator-list",
            "q:\n  type: str\n  validator: [1]\n",
            "question `q`: validator `[1]` is not a string",
        ),
        (
            "absolute-include",
            "!include /etc/hostname\n",
            "YAML include file path must be a relative path",
        ),
        (
            "include-value",
            "x: !include other.yml\n",
            "copier.yml:1:4: `!include` inside a value",
        ),
        (
            "secret-without-default",
            "token:\n  type: str\n  secret: true\n",
            "Secret question requires a default value",
        ),
    ] {
        let template = env.template(name, &[("copier.yml", config), ("f.txt.jinja", "x\n")]);
        let out = factory_generate(&env, &template, &format!("out-{name}"), &[], &["--trust"]);
        out.expect_code(1);
        assert!(out.stderr.contains(message), "{name}: {}", out.stderr);
        assert!(
            !env.path(&format!("out-{name}")).exists(),
            "{name}: nothing written"
        );
        if name != "include-value"
            && let Some((ok, _)) = copier_copy(
                &env,
                &template,
                &env.path(&format!("theirs-{name}")),
                &["--trust"],
            )
        {
            assert!(!ok, "{name}: copier refuses it too");
        }
    }
    let both = env.template(
        "both",
        &[("copier.yml", "a: 1\n"), ("copier.yaml", "b: 2\n")],
    );
    let out = factory_generate(&env, &both, "out-both", &[], &[]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("MULTIPLE CONFIG FILES"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_local_git_template_is_read_at_its_newest_tag_with_copiers_commit() {
    let env = Env::with_git_author();
    let template = env.template(
        "repo",
        &[
            ("version.txt.jinja", "v1 {{ _copier_conf.vcs_ref }}\n"),
            ("hash.jinja", "{{ _copier_conf.vcs_ref_hash }}"),
            (".gitignore", "*.log\n"),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "{{ _copier_answers | to_nice_yaml }}",
            ),
        ],
    );
    env.git_init(&template);
    env.tag_version(&template, "v1", &[]);
    env.tag_version(&template, "v2", &[("version.txt.jinja", Some("v2\n"))]);
    std::fs::write(template.join("version.txt.jinja"), "v3 unreleased\n").unwrap();
    env.commit_all(&template, "three");
    std::fs::write(template.join("ignored.log"), "not in the template\n").unwrap();

    if !same(&env, &template, "newest", &[], &[]) {
        return;
    }
    let answers = std::fs::read_to_string(env.path("ours-newest/.copier-answers.yml")).unwrap();
    assert!(answers.starts_with("_commit: v2\n"), "{answers}");
    let ours = env.path("ours-v1");
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        ours.to_str().unwrap(),
        "--defaults",
        "--ref",
        "v1",
    ])
    .ok();
    let theirs = env.path("theirs-v1");
    let (ok, stderr) = copier_copy(&env, &template, &theirs, &["--vcs-ref=v1"]).unwrap();
    assert!(ok, "{stderr}");
    assert_same(&tree(&ours), &tree(&theirs), "v1");
    // At HEAD (no changes): the folder as it is, git's ignored files left out, as copier's clone.
    let ours = env.path("ours-head");
    env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        ours.to_str().unwrap(),
        "--defaults",
        "--ref",
        "HEAD",
    ])
    .ok();
    let theirs = env.path("theirs-head");
    let (ok, stderr) = copier_copy(&env, &template, &theirs, &["--vcs-ref=HEAD"]).unwrap();
    assert!(ok, "{stderr}");
    assert_same(&tree(&ours), &tree(&theirs), "HEAD");
    let answers = std::fs::read_to_string(ours.join(".copier-answers.yml")).unwrap();
    assert!(answers.starts_with("_commit: v2-1-g"), "{answers}");
    // A ref the repository does not have is refused, nothing written.
    let out = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "nope",
        "--defaults",
        "--ref",
        "v9",
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("v9"), "{}", out.stderr);
    assert!(!env.path("nope").exists());
}

#[test]
fn external_data_is_read_from_the_project_as_copier_reads_it() {
    let env = Env::new();
    let template = env.template(
        "external",
        &[
            (
                "copier.yml",
                "_external_data:\n  parent: \"{{ parent_file }}\"\n  missing: nothing.yml\nparent_file: .parent.yml\nname: \"{{ _external_data.parent.name | default('none') }}\"\n",
            ),
            (
                "out.txt.jinja",
                "{{ name }} {{ _external_data.parent.n }} {{ _external_data.missing | tojson }}\n",
            ),
        ],
    );
    for dir in ["ours-with", "theirs-with"] {
        std::fs::create_dir_all(env.path(dir)).unwrap();
        std::fs::write(env.path(dir).join(".parent.yml"), "name: Parent\nn: 3\n").unwrap();
    }
    factory_generate(&env, &template, "ours-with", &[], &["--force"]).ok();
    let Some((ok, stderr)) = copier_copy(&env, &template, &env.path("theirs-with"), &[]) else {
        return;
    };
    assert!(ok, "{stderr}");
    assert_same(
        &tree(&env.path("ours-with")),
        &tree(&env.path("theirs-with")),
        "external",
    );
    assert_eq!(
        std::fs::read_to_string(env.path("ours-with/out.txt")).unwrap(),
        "Parent 3 {}\n"
    );
    // A file outside the project is refused without --trust, as copier refuses it.
    let out = factory_generate(
        &env,
        &template,
        "outside",
        &["parent_file=../secret.yml"],
        &[],
    );
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("\"../secret.yml\" is forbidden"),
        "{}",
        out.stderr
    );
    assert!(!env.path("outside").exists());
}

/// copier's choice forms where a value is missing or shared: `[label, {value: null}]` is its
/// label, and of two choices with one value a disabled one does not refuse the other. A value
/// of a type Python's cast refuses says so (copier's TypeError); a multiselect default given
/// as text keeps its nested items as written. Paths that do not render or leave the project
/// are named in copier's words.
#[test]
fn choice_forms_type_errors_and_path_errors_as_copier_reads_them() {
    let env = Env::new();
    let template = env.template(
        "choice-forms",
        &[
            (
                "copier.yml",
                "n:\n  type: int\n  choices: [1, ['2', {value: null}], 3]\n\
                 colour:\n  type: str\n  choices:\n    banana: {value: yellow, validator: invalid}\n    tshirt: {value: yellow, validator: ''}\n\
                 many:\n  type: str\n  multiselect: true\n  choices: {one: '[1]', two: '[2]', three: '[3]'}\n  default: \"{{ '[[1], [3]]' }}\"\n",
            ),
            ("out.txt.jinja", "n={{ n }} colour={{ colour }} many={{ many }}\n"),
        ],
    );
    if same(&env, &template, "forms", &["n=2", "colour=yellow"], &[]) {
        let text = std::fs::read_to_string(env.path("ours-forms/out.txt")).unwrap();
        assert_eq!(text, "n=2 colour=yellow many=['[1]', '[3]']\n");
    }
    let typed = env.template(
        "typed-none",
        &[
            ("copier.yml", "q:\n  type: int\n  default: []\n"),
            ("a.txt", "a\n"),
        ],
    );
    let out = factory_generate(&env, &typed, "typed-out", &[], &[]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("Invalid answer type: [] (list) for a question of type int"),
        "{}",
        out.stderr
    );
    assert!(!env.path("typed-out").exists());
    let broken = env.template(
        "broken-path",
        &[
            ("parent/some-{{{{ x }}}}/child.txt", "c\n"),
            ("copier.yml", "x: 1\n"),
        ],
    );
    let out = factory_generate(&env, &broken, "broken-out", &[], &[]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("parent/some-{{{{ x }}}} (template path): syntax error"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("child.txt"), "{}", out.stderr);
    let leaving = env.template(
        "leaving",
        &[
            ("{{ pathjoin('..', 'forbidden.txt') }}", "bar\n"),
            ("copier.yml", "x: 1\n"),
        ],
    );
    let out = factory_generate(&env, &leaving, "leaving-out", &[], &[]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("\"../forbidden.txt\" is forbidden"),
        "{}",
        out.stderr
    );
    assert!(!env.path("forbidden.txt").exists() && !env.path("leaving-out").exists());
}

/// copier's `yield` tag in a path: one folder or file per value, the value bound in the
/// names below it and in the file, nested loops multiplying; byte for byte as copier writes
/// them. Two yield tags in one name, and one in a file's content, are refused.
#[test]
fn yield_tags_in_paths_write_one_path_per_value_as_copier_does() {
    let env = Env::new();
    let template = env.template(
        "yield-loops",
        &[
            (
                "copier.yml",
                "strings:\n  type: yaml\n  default: [a, b]\nnums:\n  type: yaml\n  default: [1, 2]\n",
            ),
            (
                "loop/{% yield s from strings %}{{ s }}{% endyield %}/{% yield n from nums %}n{{ n }}{% endyield %}/{{ s }}_{{ n }}.txt.jinja",
                "Hello {{ s }} {{ n }}\n",
            ),
            ("files/{% yield s from strings %}{{ s }}{% endyield %}.md.jinja", "# {{ s }}\n"),
        ],
    );
    if same(&env, &template, "yield", &[], &[]) {
        let text = std::fs::read_to_string(env.path("ours-yield/loop/b/n2/b_2.txt")).unwrap();
        assert_eq!(text, "Hello b 2\n");
    }
    let twice = env.template(
        "yield-twice",
        &[(
            "{% yield a from [1] %}{{ a }}{% endyield %}{% yield b from [2] %}{{ b }}{% endyield %}",
            "x\n",
        ), ("copier.yml", "x: 1\n")],
    );
    let out = factory_generate(&env, &twice, "twice-out", &[], &[]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("only one yield tag is allowed per path name"),
        "{}",
        out.stderr
    );
    assert!(!env.path("twice-out").exists());
    let in_file = env.template(
        "yield-in-file",
        &[
            (
                "file.txt.jinja",
                "{% yield a from [1] %}{{ a }}{% endyield %}",
            ),
            ("copier.yml", "x: 1\n"),
        ],
    );
    let out = factory_generate(&env, &in_file, "in-file-out", &[], &[]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("file.txt.jinja") && out.stderr.contains("yield"),
        "{}",
        out.stderr
    );
    assert!(!env.path("in-file-out").exists());
}

/// `--prereleases` (copier's `-g`): a local repository's newest tag may be a development
/// or pre-release; without it copier's newest release stands. Both as copier picks them.
#[test]
fn prereleases_are_picked_only_when_asked_as_copier_picks_them() {
    let env = Env::with_git_author();
    let template = env.template(
        "pre-repo",
        &[
            ("version.txt", "1\n"),
            (
                "{{ _copier_conf.answers_file }}.jinja",
                "{{ _copier_answers | to_nice_yaml }}",
            ),
        ],
    );
    env.git_init(&template);
    env.tag_version(&template, "1.2.3", &[]);
    env.tag_version(&template, "1.2.4.dev1", &[("version.txt", Some("2\n"))]);
    if !same(&env, &template, "stable", &[], &[]) {
        return;
    }
    assert_eq!(
        std::fs::read_to_string(env.path("ours-stable/version.txt")).unwrap(),
        "1\n"
    );
    let ours = env.path("ours-pre");
    factory_generate(
        &env,
        &template,
        ours.to_str().unwrap(),
        &[],
        &["--prereleases"],
    )
    .ok();
    let theirs = env.path("theirs-pre");
    let (ok, stderr) = copier_copy(&env, &template, &theirs, &["--prereleases"]).unwrap();
    assert!(ok, "{stderr}");
    assert_same(&tree(&ours), &tree(&theirs), "prereleases");
    assert_eq!(
        std::fs::read_to_string(ours.join("version.txt")).unwrap(),
        "2\n"
    );
}
