//! `factory upgrade`: 1.0.0 → 2.0.0 of a template with a renamed file, a new parameter, a
//! removed file and a changed library range, over a project with local edits.

mod common;

use common::Env;
use serde_json::Value;

const V1: &[(&str, &str)] = &[
    (
        "template.yaml",
        "name: up\ncategory: service\nparameters:\n  - name: name\n    default: demo\nlibraries:\n  - package: Acme.Lib\n    version: \">=1.0.0, <2.0.0\"\n",
    ),
    ("README.md", "# {{ name }}\n\nline2\nline3\nline4\nline5\n"),
    (
        "src/main.txt",
        "fn main\n  step one\n  step two\n  step three\nend\n",
    ),
    ("old.txt", "to be renamed\n"),
    ("removed.txt", "will be removed\n"),
    ("config.txt", "a=1\nb=2\nc=3\n"),
];

fn v2() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "template.yaml",
            "name: up\ncategory: service\nparameters:\n  - name: name\n    default: demo\n  - name: port\n    type: int\n    default: 8080\nlibraries:\n  - package: Acme.Lib\n    version: \">=2.0.0, <3.0.0\"\n",
        ),
        (
            "README.md",
            "# {{ name }}\n\nline2 from template\nline3\nline4\nline5\n",
        ),
        (
            "src/main.txt",
            "fn main\n  step one\n  step 2 (template)\n  step three\nend\n",
        ),
        ("renamed.txt", "to be renamed\n"),
        ("config.txt", "a=1\nb=2\nc=3\nport={{ port }}\n"),
        ("notes.txt", "notes for {{ name }}\n"),
        ("docs/guide.md", "guide\n"),
    ]
}

/// Versions, validates and publishes the template folder `dir` as `version`.
fn publish_version(env: &Env, dir: &str, version: &str) {
    env.run(&[
        "version",
        "up",
        "--from",
        env.path(dir).to_str().unwrap(),
        "--version",
        version,
    ])
    .ok();
    env.run(&["validate", &format!("up@{version}")]).ok();
    env.run(&["publish", &format!("up@{version}")]).ok();
}

/// The template registered with 1.0.0 published from `V1`, and `proj` generated from it.
fn generated_from_v1() -> Env {
    let env = Env::new();
    let v1 = env.template("v1", V1);
    env.run(&["register", v1.to_str().unwrap()]).ok();
    publish_version(&env, "v1", "1.0.0");
    env.run(&["generate", "up", "-o", "proj"]).ok();
    env
}

/// A project generated at 1.0.0 with local edits, and versions 1.1.0 and 2.0.0 published.
fn setup() -> Env {
    let env = generated_from_v1();
    let mut v11: Vec<(&str, &str)> = V1.to_vec();
    v11.push(("notes.txt", "notes for {{ name }}\n"));
    env.template("v11", &v11);
    env.template("v2", &v2());
    publish_version(&env, "v11", "1.1.0");
    publish_version(&env, "v2", "2.0.0");
    // Local edits: one the template does not touch, one on other lines than the template's,
    // one on the same line, a file of your own.
    let p = env.path("proj");
    std::fs::write(
        p.join("README.md"),
        "# demo\n\nline2\nline3\nline4\nline5 local\n",
    )
    .unwrap();
    std::fs::write(
        p.join("src/main.txt"),
        "fn main\n  step one\n  step two (mine)\n  step three\nend\n",
    )
    .unwrap();
    std::fs::write(p.join("mine.txt"), "my own file\n").unwrap();
    env
}

fn read(env: &Env, path: &str) -> String {
    std::fs::read_to_string(env.path("proj").join(path)).unwrap()
}

#[test]
fn upgrade_keeps_local_edits_applies_template_changes_and_marks_conflicts() {
    let env = setup();
    let project = env.path("proj");
    let before = common::snapshot(&project);

    // The plan alone changes nothing.
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--json",
    ]);
    out.expect_code(3);
    assert_eq!(before, common::snapshot(&project));
    let plan = out.json();
    let actions: Vec<(String, String)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("README.md", "merge"),
        ("config.txt", "update"),
        ("docs/guide.md", "add"),
        ("notes.txt", "add"),
        ("old.txt", "delete"),
        ("removed.txt", "delete"),
        ("renamed.txt", "add"),
        ("src/main.txt", "conflict"),
    ];
    assert_eq!(
        actions,
        expected
            .iter()
            .map(|(p, a)| (p.to_string(), a.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(plan["parameters"][0]["name"], "port");
    assert_eq!(plan["parameters"][0]["value"], 8080);
    assert_eq!(plan["libraries"][0]["from"], ">=1.0.0, <2.0.0");
    assert_eq!(plan["libraries"][0]["to"], ">=2.0.0, <3.0.0");
    let recorded = env
        .events()
        .into_iter()
        .rev()
        .find(|e| e["eventType"] == "TemplateUpgradePlanCreated")
        .unwrap();
    assert_eq!(recorded["payload"]["conflictCount"], 1);
    assert_eq!(recorded["payload"]["fromVersion"], "1.0.0");
    assert_eq!(recorded["payload"]["toVersion"], "2.0.0");
    assert!(
        recorded["payload"]["planId"]
            .as_str()
            .unwrap()
            .starts_with("plan-")
    );

    // Apply.
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
    ]);
    out.expect_code(3);
    assert!(
        out.stderr.contains("1 conflict(s) need you: src/main.txt"),
        "{}",
        out.stderr
    );
    assert_eq!(
        read(&env, "README.md"),
        "# demo\n\nline2 from template\nline3\nline4\nline5 local\n"
    );
    assert_eq!(read(&env, "config.txt"), "a=1\nb=2\nc=3\nport=8080\n");
    assert_eq!(read(&env, "renamed.txt"), "to be renamed\n");
    assert_eq!(read(&env, "notes.txt"), "notes for demo\n");
    assert_eq!(
        read(&env, "mine.txt"),
        "my own file\n",
        "your own file is kept byte for byte"
    );
    assert!(!project.join("old.txt").exists() && !project.join("removed.txt").exists());
    let main = read(&env, "src/main.txt");
    assert!(main.starts_with("fn main\n  step one\n<<<<<<<"), "{main}");
    assert!(
        main.contains("  step two (mine)\n=======\n  step 2 (template)\n>>>>>>>"),
        "{main}"
    );
    assert!(main.ends_with("  step three\nend\n"), "{main}");
    let scaffold = read(&env, ".factory/scaffold.yaml");
    assert!(
        scaffold.contains("version: \"2.0.0\"") && scaffold.contains("port: 8080"),
        "{scaffold}"
    );
    let events = env.events();
    let n = events.len();
    let types: Vec<&str> = events[n - 3..]
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "TemplateUpgradePlanCreated",
            "ScaffoldGenerated",
            "TemplateExecuted"
        ]
    );
    assert_eq!(events[n - 2]["causationId"], events[n - 3]["eventId"]);
    // verify sees exactly the local edits against 2.0.0.
    let verify = env
        .run(&["verify", project.to_str().unwrap(), "--json"])
        .json();
    assert_eq!(
        verify["drift"]["changed"],
        serde_json::json!(["README.md", "src/main.txt"])
    );
    assert_eq!(verify["drift"]["added"], serde_json::json!(["mine.txt"]));

    // Resolve the conflict; upgrading again to the same version changes nothing.
    std::fs::write(
        project.join("src/main.txt"),
        "fn main\n  step one\n  step 2 (mine)\n  step three\nend\n",
    )
    .unwrap();
    let settled = common::snapshot(&project);
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
    ]);
    out.ok();
    assert!(out.stdout.contains("0 change(s)"), "{}", out.stdout);
    assert_eq!(settled, common::snapshot(&project));
}

#[test]
fn diff3_markers_show_the_base_and_a_failure_restores_every_file() {
    let env = setup();
    let project = env.path("proj");
    // `docs` is a file of yours where 2.0.0 adds docs/guide.md: the apply fails part-way.
    std::fs::write(project.join("docs"), "a file, not a folder\n").unwrap();
    let before = common::snapshot(&project);
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
    ]);
    out.expect_code(1);
    assert_eq!(before, common::snapshot(&project), "every file restored");
    assert!(!project.join(".factory").read_dir().unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("upgrade-")
    }));
    std::fs::remove_file(project.join("docs")).unwrap();
    let out = env.run(&[
        "upgrade",
        project.to_str().unwrap(),
        "--to",
        "2.0.0",
        "--apply",
        "--conflict-style",
        "diff3",
    ]);
    out.expect_code(3);
    let main = read(&env, "src/main.txt");
    assert!(
        main.contains("|||||||") && main.contains("  step two\n======="),
        "{main}"
    );
    // Without --to: the latest published version.
    let out = env.run(&["upgrade", project.to_str().unwrap(), "--json"]);
    let plan: Value = out.json();
    assert_eq!(plan["toVersion"], "2.0.0");
    let out = env.run(&["upgrade", env.path("v1").to_str().unwrap()]);
    out.expect_code(1);
    assert!(out.stderr.contains("scaffold.yaml"), "{}", out.stderr);
}

#[test]
fn a_new_required_parameter_is_asked_for_on_a_terminal_and_named_elsewhere() {
    let env = generated_from_v1();
    let mut v2: Vec<(&str, &str)> = V1.to_vec();
    v2[0].1 = "name: up\ncategory: service\nparameters:\n  - name: name\n    default: demo\n  - name: region\n    required: true\n    help: where it runs\n  - name: tier\n    default: basic\n";
    v2.push((
        "region.txt",
        "{{ name }} runs in {{ region }} ({{ tier }})\n",
    ));
    env.template("r2", &v2);
    publish_version(&env, "r2", "2.0.0");

    // Not a terminal: the error names what is missing and how to give it.
    let out = env.run(&["upgrade", "proj", "--to", "2.0.0", "--apply"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("missing answers for: region"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--set"), "{}", out.stderr);
    assert!(!env.path("proj/region.txt").exists(), "nothing written");

    // On a terminal with --defaults: nothing is asked, the error names what is missing.
    let command = "\"$F\" upgrade proj --to 2.0.0 --apply --defaults";
    let shell = format!("(sleep 2) | script -qec '{command}' /dev/null");
    let out = env.program("sh").arg("-c").arg(&shell).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("missing answers for: region") && !screen.contains("where it runs"),
        "{screen}"
    );
    assert!(!env.path("proj/region.txt").exists(), "nothing written");

    // On a terminal with --skip-answered: the new questions are asked (`region`, and `tier`
    // with its default offered), not the recorded `name`; the answers are used and recorded.
    let command = "\"$F\" upgrade proj --to 2.0.0 --apply --skip-answered";
    let shell = format!(
        "(sleep 1; printf 'eu-west\\r'; sleep 1; printf '\\r'; sleep 2) | script -qec '{command}' /dev/null"
    );
    let out = env.program("sh").arg("-c").arg(&shell).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("region (where it runs)"),
        "the question: {screen}"
    );
    let questions = screen.split("Upgrade proj").next().unwrap_or_default();
    assert!(questions.contains("tier"), "asked for tier: {screen}");
    assert!(!questions.contains("name"), "not asked for name: {screen}");
    assert_eq!(
        std::fs::read_to_string(env.path("proj/region.txt")).unwrap_or_default(),
        "demo runs in eu-west (basic)\n",
        "{screen}"
    );
    let scaffold = std::fs::read_to_string(env.path("proj/.factory/scaffold.yaml")).unwrap();
    assert!(scaffold.contains("region: eu-west"), "{scaffold}");

    // Without --skip-answered every question is asked again with the recorded answer
    // offered, as copier's update asks; taking them changes nothing.
    let command = "\"$F\" upgrade proj --to 2.0.0 --apply";
    let shell = format!(
        "(sleep 1; printf '\\r'; sleep 1; printf '\\r'; sleep 1; printf '\\r'; sleep 2) | script -qec '{command}' /dev/null"
    );
    let out = env.program("sh").arg("-c").arg(&shell).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    let questions = screen.split("Upgrade proj").next().unwrap_or_default();
    assert!(
        questions.contains("name") && questions.contains("demo") && questions.contains("eu-west"),
        "asked again, the recorded answers offered: {screen}"
    );
    assert!(screen.contains("0 change(s)"), "{screen}");
}
