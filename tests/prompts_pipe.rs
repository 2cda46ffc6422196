//! Answers over a pipe, as copier's and cookiecutter's own test suites give them: the same
//! bytes sent to `factory generate` and to the real tool (installed from PyPI under target/)
//! give the same files; invalid answers are asked again, the end of stdin leaves the
//! defaults and names what has none, ^C stops before anything is written.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::python::{assert_same, copier, reference_command, tree};
use common::{Env, Run};

fn cookiecutter() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| common::python::tool("cookiecutter", "2.7.1", "cookiecutter"))
        .clone()
}

/// Runs `command` with `input` on its stdin (a pipe, closed after it), as pexpect's
/// PopenSpawn drives copier in copier's tests.
fn piped(mut command: Command, input: &[u8]) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().unwrap();
    // A process that stopped early closes its end: what it did not read is not an error.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("ends").into()
}

/// `factory generate TEMPLATE -o OUT` with `input` on stdin.
fn generate(env: &Env, template: &Path, out: &str, input: &[u8]) -> Run {
    let command = env.command(&["generate", template.to_str().unwrap(), "-o", out]);
    piped(command, input)
}

/// `copier copy TEMPLATE OUT` with `input` on stdin; `None` without copier.
fn copier_copy(env: &Env, template: &Path, out: &str, input: &[u8]) -> Option<Run> {
    let copier = copier()?;
    let mut command = reference_command(env, &copier);
    command
        .env("HOME", env.dir.path())
        .args(["copy", "--quiet"])
        .arg(template)
        .arg(env.path(out));
    Some(piped(command, input))
}

/// Asserts that copier, given the same bytes, writes what factory wrote into `ours`.
#[track_caller]
fn same_as_copier(env: &Env, template: &Path, ours: &str, input: &[u8]) {
    let Some(run) = copier_copy(env, template, "ref", input) else {
        return;
    };
    run.ok();
    assert_same(&tree(&env.path(ours)), &tree(&env.path("ref")), ours);
}

const MIXED: &str = r#"love_me:
    help: Do you love me?
    type: bool
your_name:
    type: str
    default: Guy
your_age:
    type: int
    default: 10
    validator: "{% if your_age <= 0 %}Must be +{% endif %}"
flavour:
    type: str
    choices: [vanilla, chocolate, lemon]
    default: chocolate
toppings:
    type: str
    choices:
        Nuts: nuts
        Cream: cream
        Fudge: fudge
    multiselect: true
notes:
    type: yaml
    multiline: true
extra:
    type: json
    default: {"a": 1}
"#;

const MIXED_RESULTS: &str = "love_me: {{ love_me }}
your_name: {{ your_name }}
your_age: {{ your_age }}
flavour: {{ flavour }}
toppings: {{ toppings|join(',') }}
notes: {{ notes|join(';') }}
extra: {{ extra.a }}
";

/// `factory generate` given `input` says `said` and writes `content` into `file`, and copier,
/// given the same bytes, writes the same files.
#[track_caller]
fn says_and_writes_as_copier(
    env: &Env,
    template: &Path,
    input: &[u8],
    said: &str,
    file: &str,
    content: &str,
) {
    let run = generate(env, template, "ours", input);
    run.ok();
    assert!(run.stderr.contains(said), "{}", run.stderr);
    let written = std::fs::read_to_string(env.path("ours").join(file)).unwrap();
    assert_eq!(written, content);
    same_as_copier(env, template, "ours", input);
}

fn mixed(env: &Env) -> PathBuf {
    env.template(
        "mixed",
        &[("copier.yml", MIXED), ("results.txt.jinja", MIXED_RESULTS)],
    )
}

#[test]
fn copiers_keystrokes_over_a_pipe_give_what_copier_gives() {
    let env = Env::new();
    let template = mixed(&env);
    // y answers at once; Alt+Backspace clears the default typed in; -1 is refused by the
    // validator and cleared with two backspaces; Down moves the choice; space ticks; a
    // multi-line answer ends with Esc then Enter; Enter takes the JSON default.
    let input = b"y\x1b\x08Bob\n\x08\x08-1\n\x08\x0822\n\x1b[B\n \x1b[B\x1b[B \n- a\n- b\n\x1b\r\n";
    let run = generate(&env, &template, "ours", input);
    run.ok();
    assert_eq!(
        std::fs::read_to_string(env.path("ours/results.txt")).unwrap(),
        "love_me: True\nyour_name: Bob\nyour_age: 22\nflavour: lemon\ntoppings: nuts,fudge\nnotes: a;b\nextra: 1\n"
    );
    // Each question as copier shows it: the help, or the name with its type; the default.
    for shown in [
        "🎤 Do you love me?\n   (y/N)\n   → Yes\n",
        "🎤 your_name\n   Guy\n   → Bob\n",
        "🎤 your_age (int)\n   10\n",
        "   -1\n   Must be +\n",
        "   → 22\n",
        "🎤 flavour\n   (Use arrow keys)\n   vanilla\n » chocolate\n   lemon\n   → lemon\n",
        " » ○ Nuts\n   ○ Cream\n   ○ Fudge\n   → [Nuts, Fudge]\n",
        "🎤 notes (yaml)\n   (Finish with 'Alt+Enter' or 'Esc then Enter')\n",
        "🎤 extra (json)\n   {\"a\": 1}\n",
    ] {
        assert!(run.stderr.contains(shown), "{shown:?} in:\n{}", run.stderr);
    }
    same_as_copier(&env, &template, "ours", input);
}

#[test]
fn an_unparsable_answer_says_invalid_input_and_is_asked_again() {
    let env = Env::new();
    let template = env.template(
        "invalid",
        &[
            (
                "copier.yml",
                "your_age:\n    type: int\nmore:\n    type: json\n    multiline: true\n",
            ),
            ("r.txt.jinja", "{{ your_age }} {{ more.objective }}\n"),
        ],
    );
    // copier's test_cli_interactive: a word for an int, half a JSON object.
    let input = b"wrong your_age\n\x1b\x08\x1b\x0822\n{\"objective\":\n\"be a pirate\"}\n\x1b\r";
    let run = generate(&env, &template, "ours", input);
    run.ok();
    assert!(
        run.stderr.contains("   wrong your_age\n   Invalid input\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Invalid input"));
    assert_eq!(
        std::fs::read_to_string(env.path("ours/r.txt")).unwrap(),
        "22 be a pirate\n"
    );
    same_as_copier(&env, &template, "ours", input);
}

#[test]
fn a_multiselect_validator_refuses_at_the_prompt_and_asks_again() {
    let env = Env::new();
    let template = env.template(
        "multi",
        &[
            (
                "copier.yml",
                "question:\n    type: str\n    choices: [one, two, three]\n    multiselect: true\n    validator: \"{% if not question %}At least one choice required{% endif %}\"\n",
            ),
            ("r.txt.jinja", "{{ question|join(',') }}\n"),
        ],
    );
    // copier's test_multiselect_choices_validator: Enter with nothing ticked, then space.
    let input = b"\n \n";
    says_and_writes_as_copier(
        &env,
        &template,
        input,
        "   At least one choice required\n",
        "r.txt",
        "one\n",
    );
}

#[test]
fn a_secret_is_never_shown_and_its_validator_asks_again() {
    let env = Env::new();
    let template = env.template(
        "secret",
        &[
            (
                "copier.yml",
                "question:\n    type: str\n    default: s3cret\n    secret: true\n    validator: \"{% if question|length < 3 %}too short{% endif %}\"\n",
            ),
            ("r.txt.jinja", "{{ question }}\n"),
        ],
    );
    // copier's test_secret_validator: the default deleted, refused, then a new one.
    let input = b"\x08\x08\x08\x08\x08\x08\nhunter2\n";
    let run = generate(&env, &template, "ours", input);
    run.ok();
    assert!(
        run.stderr.contains("🕵️ question\n   ******\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("too short"), "{}", run.stderr);
    assert!(run.stderr.contains("   → ******\n"), "{}", run.stderr);
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(env.path("ours/r.txt")).unwrap(),
        "hunter2\n"
    );
    same_as_copier(&env, &template, "ours", input);
}

#[test]
fn the_end_of_stdin_names_the_questions_without_a_default_and_writes_nothing() {
    let env = Env::new();
    let template = env.template(
        "required",
        &[
            (
                "copier.yml",
                "first:\n    type: str\n    default: one\nname:\n    type: str\nage:\n    type: int\n",
            ),
            ("r.txt.jinja", "{{ first }} {{ name }} {{ age }}\n"),
        ],
    );
    // Nothing at all (`</dev/null` in CI): no question shown, the error names both.
    let none = env
        .command(&["generate", template.to_str().unwrap(), "-o", "none"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let none = Run::from(none);
    none.expect_code(2);
    // copier's words for a copier template's questions without an answer.
    assert!(
        none.stderr.contains("Question \"name\" is required")
            && none.stderr.contains("Question \"age\" is required"),
        "{}",
        none.stderr
    );
    assert!(
        !none.stderr.contains('🎤'),
        "nothing asked: {}",
        none.stderr
    );
    assert!(!env.path("none").exists());
    // One answer, then the end: the question with a default takes it, the rest are named.
    let part = generate(&env, &template, "part", b"\nBob\n");
    part.expect_code(2);
    assert!(
        part.stderr.contains("Question \"age\" is required"),
        "{}",
        part.stderr
    );
    assert!(!env.path("part").exists());
    // copier stops there too (exit 1, "Interactive session required"), writing nothing.
    if let Some(run) = copier_copy(&env, &template, "ref", b"\nBob\n") {
        run.expect_code(1);
        assert!(run.stderr.contains("Interactive session required"));
        assert!(!env.path("ref").exists());
    }
    // With every answer given, it is generated.
    generate(&env, &template, "all", b"\nBob\n42\n").ok();
    assert_eq!(
        std::fs::read_to_string(env.path("all/r.txt")).unwrap(),
        "one Bob 42\n"
    );
}

#[test]
fn when_stdin_ends_the_questions_left_take_their_defaults() {
    let env = Env::new();
    let template = env.template(
        "defaults",
        &[
            (
                "copier.yml",
                "a:\n    type: str\n    default: x\nb:\n    type: bool\n    default: true\nc:\n    type: int\n    default: 3\n",
            ),
            ("r.txt.jinja", "{{ a }} {{ b }} {{ c }}\n"),
        ],
    );
    // factory's own rule for a run without a terminal (DESIGN §8), where copier stops.
    generate(&env, &template, "ours", b"\x1b\x08y\n").ok();
    assert_eq!(
        std::fs::read_to_string(env.path("ours/r.txt")).unwrap(),
        "y True 3\n"
    );
    let silent = Run::from(
        env.command(&["generate", template.to_str().unwrap(), "-o", "silent"])
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    );
    silent.ok();
    assert!(!silent.stderr.contains('🎤'), "{}", silent.stderr);
    // --defaults never reads stdin.
    let mut command = env.command(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "flag",
        "--defaults",
    ]);
    command.arg("--quiet");
    piped(command, b"\x1b\x08zzz\n").ok();
    assert_eq!(
        std::fs::read_to_string(env.path("flag/r.txt")).unwrap(),
        "x True 3\n"
    );
}

#[test]
fn ctrl_c_at_a_prompt_stops_before_anything_is_written() {
    let env = Env::new();
    let template = env.template(
        "interrupt",
        &[
            (
                "copier.yml",
                "question_1: answer 1\nquestion_2: answer 2\nq3:\n    type: bool\n",
            ),
            ("r.txt.jinja", "{{ question_1 }}\n"),
        ],
    );
    // copier's test_partial_interrupt.
    let run = generate(&env, &template, "ours", b"\n\x03\n");
    run.expect_code(130);
    assert!(
        run.stderr.contains("Execution stopped by user\n"),
        "{}",
        run.stderr
    );
    assert!(!env.path("ours").exists());
    if let Some(theirs) = copier_copy(&env, &template, "ref", b"\n\x03\n") {
        assert!(theirs.stderr.contains("Execution stopped by user"));
        assert!(!env.path("ref").exists());
    }
}

/// copier's `test_when`, `test_required_choice_question`, `test_multiselect_choices_*`,
/// `test_update_choice` (its copy) and `test_multiline`, each compared with copier's output;
/// a picked choice is the answer its question's type reads from it.
#[test]
fn copiers_own_prompt_cases_give_copiers_files() {
    let cases: &[(&str, &str, &[u8])] = &[
        // test_when: question_2 asked (when true) and not (when false).
        (
            "question_1: 1\nquestion_2:\n    default: something\n    type: yaml\n    when: \"{{ question_1 }}\"\n",
            "{{ question_2 }}\n",
            b"\n\n",
        ),
        (
            "question_1: true\nquestion_2:\n    default: something\n    type: yaml\n    when: \"{{ not question_1 }}\"\n",
            "{{ question_2 }}\n",
            b"\n",
        ),
        // test_required_choice_question (int): Enter picks the first.
        (
            "question:\n    type: int\n    choices: [1, 2, 3]\n",
            "{{ question }}\n",
            b"\n",
        ),
        // test_multiselect_choices_question_multiple_answers.
        (
            "question:\n    type: int\n    choices: {\"1. one\": 1, \"2. two\": 2, \"3. three\": 3}\n    multiselect: true\n",
            "{{ question|join(',') }}\n",
            b" \x1b[B \n",
        ),
        // test_multiselect_choices_question_with_default: space unticks the first.
        (
            "question:\n    type: str\n    choices: [one, two, three]\n    multiselect: true\n    default: [one, two, three]\n",
            "{{ question|join(',') }}\n",
            b" \n",
        ),
        // test_update_choice's copy: Up from the default.
        (
            "pick_one:\n    type: int\n    default: 3\n    choices: [1, 2, 3]\n",
            "{{ pick_one }}\n",
            b"\x1b[A\n",
        ),
        // test_multiline (str): Enter adds a line where the answer spans lines.
        (
            "question_1: answer 1\nquestion_2:\n    type: str\nquestion_3:\n    type: str\n    multiline: true\n",
            "[{{ question_2 }}][{{ question_3 }}]\n",
            b"\n\"answer 2\"\n\"answer 3\"\n\x1b\r",
        ),
        // test_multiline (json, yaml): a typed JSON or YAML string is that string, read once.
        (
            "question_1: answer 1\nquestion_2:\n    type: json\nquestion_3:\n    type: json\n    multiline: true\n",
            "[{{ question_2 }}][{{ question_3 }}]\n",
            b"\n\"answer 2\"\n\"answer 3\"\n\x1b\r",
        ),
        (
            "question_1: answer 1\nquestion_2:\n    type: yaml\nquestion_3:\n    type: yaml\n",
            "[{{ question_2 }}][{{ question_3|tojson }}]\n",
            b"\n'[1]'\n- 1\n",
        ),
        // test_multiline: `multiline` as a template over earlier answers.
        (
            "question_1: answer 1\nquestion_4:\n    type: str\n    multiline: \"{{ question_1 == 'answer 1' }}\"\nquestion_5:\n    type: str\n    multiline: \"{{ question_1 != 'answer 1' }}\"\n",
            "[{{ question_4 }}][{{ question_5 }}]\n",
            b"\n\"answer 4\"\n\x1b\r\"answer 5\"\n",
        ),
        // test_multiselect_choices_* (int-label-list): `[label, value]` pairs.
        (
            "question:\n    type: int\n    choices: [[one, 1], [two, 2], [three, 3]]\n    multiselect: true\n",
            "{{ question|join(',') }}\n",
            b" \x1b[B \n",
        ),
        // test_required_choice_question (json): the choice picked is read by the type.
        (
            "question:\n    type: json\n    choices: ['[1]', '[2]', '[3]']\n",
            "{{ question|tojson }}\n",
            b"\n",
        ),
        // test_multiselect_choices_question_with_default (yaml): the default, a list of
        // read choices, ticks them; space unticks the first.
        (
            "question:\n    type: yaml\n    choices: ['- 1', '- 2', '- 3']\n    multiselect: true\n    default: [[1], [2], [3]]\n",
            "{{ question|tojson }}\n",
            b" \n",
        ),
        // test_update_choice (float): whole-number choices of a float question.
        (
            "pick_one:\n    type: float\n    default: 3\n    choices: [1, 2, 3]\n",
            "{{ pick_one }}\n",
            b"\x1b[A\n",
        ),
        // test_templated_prompt (templated type): the type a template over earlier answers
        // names, shown and cast as that type.
        (
            "main: copier\ntemplated_type:\n    type: \"{% if main == 'copier' %}int{% endif %}\"\n    default: \"0\"\n",
            "{{ templated_type + 1 }}\n",
            b"\n\n",
        ),
        // test_copy_with_ask_setting: `ask: false` is not asked and takes its default.
        (
            "foo:\n    type: str\n    default: bar\n    ask: false\nbaz: x\n",
            "{{ foo }} {{ baz }}\n",
            b"y\n",
        ),
        // test_copy_defaults_with_ask (without --ask): typing adds to the default.
        (
            "what_does_it_eat:\n    type: str\n    default: cheese\ncan_it_fly:\n    type: bool\n    default: false\n",
            "{{ what_does_it_eat }} {{ can_it_fly }}\n",
            b" and milk\n\n",
        ),
    ];
    for (i, (config, result, input)) in cases.iter().enumerate() {
        let env = Env::new();
        let template = env.template(
            &format!("case{i}"),
            &[("copier.yml", config), ("r.txt.jinja", result)],
        );
        let run = generate(&env, &template, "ours", input);
        assert_eq!(run.code, 0, "case {i}: {}", run.stderr);
        same_as_copier(&env, &template, "ours", input);
    }
}

#[test]
fn cookiecutters_lines_over_a_pipe_give_what_cookiecutter_gives() {
    let env = Env::new();
    let template = env.template(
        "cc",
        &[
            (
                "cookiecutter.json",
                r#"{"name": "demo", "use_x": true, "kind": ["a", "b", "c"], "extra": {"k": 1}}"#,
            ),
            (
                "{{cookiecutter.name}}/f.txt",
                "{{cookiecutter.kind}} {{cookiecutter.use_x}} {{cookiecutter.extra.k}}\n",
            ),
        ],
    );
    // A bad yes/no, a number out of range and bad JSON, each asked again.
    let input = b"zed\nmaybe\nno\n5\n2\n{bad\n{\"k\": 2}\n";
    let run = generate(&env, &template, "ours", input);
    run.ok();
    for shown in [
        "  [1] name (demo): ",
        "  [2] use_x [y/n] (y): ",
        "  Please enter Y or N\n",
        "  [3] Select kind\n    1 - a\n    2 - b\n    3 - c\n    Choose from [1/2/3] (1): ",
        "  Please select one of the available options\n",
        "  Unable to decode to JSON.\n",
    ] {
        assert!(run.stderr.contains(shown), "{shown:?} in:\n{}", run.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(env.path("ours/zed/f.txt")).unwrap(),
        "b False 2\n"
    );
    let Some(cookiecutter) = cookiecutter() else {
        return;
    };
    let mut command = reference_command(&env, &cookiecutter);
    command
        .env("HOME", env.dir.path())
        .arg(&template)
        .arg("-o")
        .arg(env.path("ref"));
    piped(command, input).ok();
    assert_same(
        &tree(&env.path("ours")),
        &tree(&env.path("ref")),
        "cookiecutter",
    );
}

/// Versions, validates and publishes the template folder `dir` of `up` as `version`.
fn publish(env: &Env, dir: &Path, version: &str) {
    let dir = dir.to_str().unwrap();
    env.run(&["version", "up", "--from", dir, "--version", version])
        .ok();
    env.run(&["validate", &format!("up@{version}")]).ok();
    env.run(&["publish", &format!("up@{version}")]).ok();
}

#[test]
fn upgrade_reads_a_new_questions_answer_from_stdin_checking_its_pattern() {
    let env = Env::new();
    let v1 = env.template(
        "v1",
        &[
            (
                "template.yaml",
                "name: up\ncategory: service\nparameters:\n  - name: name\n    default: demo\n",
            ),
            ("README.md", "# {{ name }}\n"),
        ],
    );
    env.run(&["register", v1.to_str().unwrap()]).ok();
    publish(&env, &v1, "1.0.0");
    // factory's own template, one answer a line: an empty line takes the default.
    generate(&env, Path::new("up"), "proj", b"\n").ok();
    assert_eq!(
        std::fs::read_to_string(env.path("proj/README.md")).unwrap(),
        "# demo\n"
    );
    let v2 = env.template(
        "v2",
        &[
            (
                "template.yaml",
                "name: up\ncategory: service\nparameters:\n  - name: name\n    default: demo\n  - name: region\n    required: true\n    help: where it runs\n    pattern: \"^[a-z-]+$\"\n",
            ),
            ("README.md", "# {{ name }}\n"),
            ("region.txt", "{{ region }}\n"),
        ],
    );
    publish(&env, &v2, "2.0.0");
    let upgrade = |input: &[u8]| {
        piped(
            env.command(&[
                "upgrade",
                "proj",
                "--to",
                "2.0.0",
                "--apply",
                "--skip-answered",
            ]),
            input,
        )
    };
    // Nothing on stdin: the new question has no default, and is named.
    let run = upgrade(b"");
    run.expect_code(2);
    assert!(
        run.stderr.contains("missing answers for: region"),
        "{}",
        run.stderr
    );
    assert!(!env.path("proj/region.txt").exists());
    // A refused answer is asked again with the pattern's message.
    let run = upgrade(b"EU West\neu-west\n");
    run.ok();
    assert!(
        run.stderr.contains("  [1] region - where it runs: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("does not match pattern `^[a-z-]+$`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("proj/region.txt")).unwrap(),
        "eu-west\n"
    );
}

#[test]
fn ask_names_questions_asked_even_with_defaults_or_an_answer_given() {
    let env = Env::new();
    let template = env.template(
        "animal",
        &[
            (
                "copier.yml",
                "animal_name:\n    type: str\n    default: mouse\nwhat_does_it_eat:\n    type: str\n    default: cheese\ncan_it_fly:\n    type: bool\n    default: false\n",
            ),
            ("r.txt.jinja", "{{ animal_name }} {{ what_does_it_eat }} {{ can_it_fly }}\n"),
        ],
    );
    // copier's test_copy_defaults_with_ask_and_data: the answer given is offered.
    let input = b" and cookies\n\n";
    let args = ["--defaults", "--ask", "*it*"];
    let mut command = env.command(&["generate", template.to_str().unwrap(), "-o", "ours"]);
    command.args(args).args(["--set", "what_does_it_eat=milk"]);
    let run = piped(command, input);
    run.ok();
    assert!(
        !run.stderr.contains("animal_name"),
        "not asked: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("🎤 what_does_it_eat\n   milk\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("🎤 can_it_fly (bool)\n   (y/N)\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("ours/r.txt")).unwrap(),
        "mouse milk and cookies False\n"
    );
    let bad = env.run(&[
        "generate",
        template.to_str().unwrap(),
        "-o",
        "bad",
        "--ask",
        "a[",
        "--defaults",
    ]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("--ask a["), "{}", bad.stderr);
    let Some(copier) = copier() else { return };
    let mut command = reference_command(&env, &copier);
    command
        .env("HOME", env.dir.path())
        .args(["copy", "--quiet"])
        .args(args)
        .arg("--data=what_does_it_eat=milk")
        .arg(&template)
        .arg(env.path("ref"));
    piped(command, input).ok();
    assert_same(&tree(&env.path("ours")), &tree(&env.path("ref")), "--ask");
}

/// copier's `choices` written as one template that renders to labels and values: the
/// labels are what is shown, the value what is answered (copier's
/// test_templated_prompt_with_templated_choices).
#[test]
fn templated_choices_show_their_labels() {
    let env = Env::new();
    let template = env.template(
        "templated-choices",
        &[
            (
                "copier.yml",
                "cloud:\n    type: str\n    choices: [Any, AWS]\n    default: AWS\niac:\n    type: str\n    choices: |\n        Terraform: tf\n        {%- if cloud == 'AWS' %}\n        Cloud Formation: cf\n        {%- endif %}\n",
            ),
            ("iac.txt.jinja", "{{ iac }}\n"),
        ],
    );
    // Enter takes AWS; Down then Enter chooses the second label.
    let input = b"\n\x1b[B\n";
    says_and_writes_as_copier(
        &env,
        &template,
        input,
        " » Terraform\n   Cloud Formation\n   → Cloud Formation\n",
        "iac.txt",
        "cf\n",
    );
}

/// copier's choices disabled by their validator are shown as questionary shows them
/// (`- LABEL (MESSAGE)`) and skipped by the arrow keys; labels that are templates are
/// rendered over the answers so far (copier's test_templated_prompt_with_conditional_choices
/// and its templated labels).
#[test]
fn disabled_choices_and_templated_labels_show_as_copier_shows_them() {
    let env = Env::new();
    let template = env.template(
        "conditional-choices",
        &[
            (
                "copier.yml",
                "cloud:\n    type: str\n    choices: [Any, AWS]\n    default: AWS\niac:\n    type: str\n    choices:\n        Terraform: tf\n        \"{{ cloud }} Cloud Formation\":\n            value: cf\n            validator: \"{% if cloud != 'AWS' %}Requires AWS{% endif %}\"\n        Deployment Manager:\n            value: dm\n            validator: \"{% if cloud != 'GCP' %}Requires GCP{% endif %}\"\n",
            ),
            ("iac.txt.jinja", "{{ iac }}\n"),
        ],
    );
    // Enter takes AWS; Down three times: Cloud Formation, past the disabled choice round to
    // Terraform, then Cloud Formation again.
    let input = b"\n\x1b[B\x1b[B\x1b[B\n";
    says_and_writes_as_copier(
        &env,
        &template,
        input,
        " » Terraform\n   AWS Cloud Formation\n   - Deployment Manager (Requires GCP)\n   → AWS Cloud Formation\n",
        "iac.txt",
        "cf\n",
    );
}

/// A choice validator that does not render stops the question with what went wrong, before
/// anything is written.
#[test]
fn a_choice_validator_that_does_not_render_is_refused_before_anything_is_written() {
    let env = Env::new();
    let template = env.template(
        "broken-validator",
        &[
            (
                "copier.yml",
                "iac:\n    type: str\n    choices:\n        Terraform:\n            value: tf\n            validator: \"{{ cloud.region }}\"\n",
            ),
            ("iac.txt.jinja", "{{ iac }}\n"),
        ],
    );
    let run = generate(&env, &template, "ours", b"\n");
    run.expect_code(2);
    assert!(
        run.stderr.contains("parameter `iac`: validator failed:"),
        "{}",
        run.stderr
    );
    assert!(!env.path("ours").exists());
}

/// A copier `type` that names no type is refused in copier's words: when it is no template,
/// as the template is read; when it renders to no type, as the question comes.
#[test]
fn a_type_that_names_no_type_is_refused_in_copiers_words() {
    let env = Env::new();
    let plain = env.template(
        "plain-type",
        &[
            ("copier.yml", "q:\n    type: integer\n"),
            ("r.txt.jinja", "{{ q }}\n"),
        ],
    );
    let run = generate(&env, &plain, "ours", b"1\n");
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("question `q`: Unsupported type \"integer\" in question \"q\""),
        "{}",
        run.stderr
    );
    let templated = env.template(
        "templated-type",
        &[
            (
                "copier.yml",
                "main: other\nq:\n    type: \"{% if main == 'copier' %}int{% endif %}\"\n    default: \"0\"\n",
            ),
            ("r.txt.jinja", "{{ q }}\n"),
        ],
    );
    let run = generate(&env, &templated, "ours", b"\n\n");
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("parameter `q`: Unsupported type \"\" in question \"q\""),
        "{}",
        run.stderr
    );
    assert!(!env.path("ours").exists());
}
