//! `factory generate` end to end: sources, answers, output, provenance and events.

mod common;

use std::path::Path;

use common::{EXAMPLE_NAME, Env};
use serde_json::Value;

fn sha256sum_check(dir: &Path) -> std::process::Output {
    std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", ".factory/manifest.sha256"])
        .current_dir(dir)
        .output()
        .expect("sha256sum runs")
}

/// No staging folder (`.NAME.factory-tmp-…`) is left beside the outputs.
fn assert_no_staging_left(env: &Env) {
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("factory-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn generates_the_latest_published_version_with_provenance_and_events() {
    let env = Env::new();
    let template = env.published_example();
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "orders",
        "--set",
        "service_name=orders",
        "--set",
        "api_key=hunter2-secret",
        "--set",
        "connection_pool=42",
    ]);
    out.ok();
    assert!(
        out.stdout
            .contains("Generated orders from ConnectSoft.Template.ReservationsApi@1.0.0"),
        "{}",
        out.stdout
    );
    let dir = env.path("orders");
    let project = dir.join("src/ConnectSoft.Orders");
    let csproj = std::fs::read_to_string(project.join("ConnectSoft.Orders.csproj")).unwrap();
    assert!(csproj.contains("<RootNamespace>ConnectSoft.Orders</RootNamespace>"));
    assert!(csproj.contains("PersistenceModel.PostgreSQL"));
    assert!(
        std::fs::read_to_string(project.join("Persistence/ReservationsStore.cs"))
            .unwrap()
            .contains("MaxPoolSize = 42;")
    );
    // Trailing newlines kept, no auto-escaping in JSON.
    let settings = std::fs::read_to_string(project.join("appsettings.json")).unwrap();
    assert!(settings.contains("\"Name\": \"orders\""), "{settings}");
    assert!(settings.ends_with("}\n"));
    // The secret is used for rendering only.
    assert_eq!(
        std::fs::read_to_string(dir.join(".env")).unwrap(),
        "API_KEY=hunter2-secret\n"
    );
    // Binary files byte for byte, executable bits kept.
    assert_eq!(
        std::fs::read(dir.join("assets/logo.png")).unwrap(),
        std::fs::read(template.join("content/assets/logo.png")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(dir.join("scripts/run.sh"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    assert_eq!(
        std::fs::metadata(dir.join("README.md"))
            .unwrap()
            .permissions()
            .mode()
            & 0o111,
        0
    );

    // Provenance: sha256sum -c passes inside, and the content hash agrees with `factory hash`.
    let check = sha256sum_check(&dir);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let scaffold = std::fs::read_to_string(dir.join(".factory/scaffold.yaml")).unwrap();
    assert!(scaffold.contains("version: \"1.0.0\""), "{scaffold}");
    assert!(scaffold.contains("connection_pool: 42"), "{scaffold}");
    assert!(
        scaffold.contains("- api_key"),
        "the secret's name is recorded: {scaffold}"
    );
    assert!(!scaffold.contains("hunter2"), "never its value");
    let hash = env.run(&["hash", dir.to_str().unwrap()]);
    assert!(scaffold.contains(hash.stdout.trim()), "{scaffold}");
    assert!(!out.stdout.contains("hunter2"));

    // Events: requested → generated → executed, chained, no secrets anywhere in the log.
    let log = String::from_utf8(env.log_bytes()).unwrap();
    assert!(!log.contains("hunter2"), "a secret reached the log");
    let events = env.events();
    let n = events.len();
    let (requested, generated, executed) = (&events[n - 3], &events[n - 2], &events[n - 1]);
    assert_eq!(requested["eventType"], "TemplateExecutionRequested");
    assert_eq!(generated["eventType"], "ScaffoldGenerated");
    assert_eq!(executed["eventType"], "TemplateExecuted");
    assert_eq!(generated["causationId"], requested["eventId"]);
    assert_eq!(executed["causationId"], generated["eventId"]);
    assert!(
        requested["payload"]["executionId"]
            .as_str()
            .unwrap()
            .starts_with("exe-")
    );
    assert_eq!(requested["payload"]["parameters"]["service_name"], "orders");
    assert!(requested["payload"]["parameters"].get("api_key").is_none());
    assert_eq!(
        requested["payload"]["target"],
        dir.canonicalize().unwrap().to_str().unwrap()
    );
    assert!(
        generated["payload"]["scaffoldOutputId"]
            .as_str()
            .unwrap()
            .starts_with("out-")
    );
    assert_eq!(generated["payload"]["contentHash"], hash.stdout.trim());
    assert_eq!(generated["payload"]["fileCount"], 9);
    assert_eq!(
        generated["payload"]["libraries"],
        serde_json::json!([{"packageName": "ConnectSoft.Extensions.PersistenceModel.PostgreSQL", "version": ">=4.1.0, <5.0.0"}])
    );
    assert_eq!(executed["payload"]["status"], "Succeeded");
    assert_eq!(
        executed["payload"]["scaffoldOutputId"],
        generated["payload"]["scaffoldOutputId"]
    );
    env.run(&["store", "check"]).ok();

    // verify: clean, then drift.
    let verify = env.run(&["verify", dir.to_str().unwrap()]);
    verify.ok();
    assert!(
        verify.stdout.contains("9 files as generated"),
        "{}",
        verify.stdout
    );
    std::fs::write(dir.join("README.md"), "edited\n").unwrap();
    std::fs::write(dir.join("NOTES.md"), "mine\n").unwrap();
    std::fs::remove_file(dir.join(".gitignore")).unwrap();
    let verify = env.run(&["verify", dir.to_str().unwrap(), "--json"]);
    verify.expect_code(3);
    let drift = &verify.json()["drift"];
    assert_eq!(drift["added"], serde_json::json!(["NOTES.md"]));
    assert_eq!(drift["removed"], serde_json::json!([".gitignore"]));
    assert_eq!(drift["changed"], serde_json::json!(["README.md"]));
    let out = env.run(&["verify", env.path("").to_str().unwrap()]);
    out.expect_code(1);
    assert!(out.stderr.contains("manifest.sha256"), "{}", out.stderr);
}

#[test]
fn conditions_and_empty_names_drop_files_and_answers_come_from_files() {
    let env = Env::new();
    env.published_example();
    std::fs::write(
        env.path("answers.yaml"),
        "service_name: billing\ndatabase: none\nenable_swagger: false\n",
    )
    .unwrap();
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "billing",
        "--answers",
        "answers.yaml",
        "--json",
    ]);
    out.ok();
    let result = out.json();
    assert_eq!(result["fileCount"], 8);
    assert_eq!(result["libraries"], serde_json::json!([]));
    let project = env.path("billing/src/ConnectSoft.Billing");
    assert!(
        !project.join("Persistence").exists(),
        "files.when dropped the folder"
    );
    let program = std::fs::read_to_string(project.join("Program.cs")).unwrap();
    assert!(!program.contains("Swagger"));
    let scaffold = std::fs::read_to_string(env.path("billing/.factory/scaffold.yaml")).unwrap();
    assert!(
        !scaffold.contains("connection_pool"),
        "`when` left it undefined: {scaffold}"
    );

    // JSON answers, and a file whose name renders empty is dropped.
    let t = env.template(
        "t",
        &[
            (
                "template.yaml",
                "name: t\ncategory: library\nparameters:\n  - name: with_docs\n    type: bool\n    default: false\n  - name: name\n    default: demo\n",
            ),
            ("{% if with_docs %}docs{% endif %}/index.md", "# {{ name }}\n"),
            ("{{ name | snake_case }}.txt", "{{ name.upper() }} {{ name | kebab_case }}\n"),
            ("macros.j2", "{% macro shout(x) %}{{ x | upper }}!{% endmacro %}"),
            ("base.j2", "<{% block body %}{% endblock %}>\n"),
            ("page.txt", "{% extends 'base.j2' %}{% block body %}{% import 'macros.j2' as m %}{{ m.shout(name) }}{% include 'part.inc' %}{% endblock %}"),
            ("part.inc", " and {{ name | pascal_case }}"),
        ],
    );
    std::fs::write(env.path("answers.json"), r#"{"name": "Big Thing"}"#).unwrap();
    let out = env.run(&[
        "generate",
        t.to_str().unwrap(),
        "-o",
        "lib",
        "--answers",
        "answers.json",
    ]);
    out.ok();
    assert!(!env.path("lib/docs").exists());
    assert_eq!(
        std::fs::read_to_string(env.path("lib/big_thing.txt")).unwrap(),
        "BIG THING big-thing\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("lib/page.txt")).unwrap(),
        "<BIG THING! and BigThing>\n"
    );
    let out = env.run(&[
        "generate",
        t.to_str().unwrap(),
        "-o",
        "lib2",
        "--set",
        "with_docs=true",
    ]);
    out.ok();
    assert_eq!(
        std::fs::read_to_string(env.path("lib2/docs/index.md")).unwrap(),
        "# demo\n"
    );
    // A folder source records events with no stored template.
    let events = env.events();
    let requested = &events[events.len() - 3];
    assert!(requested["payload"]["templateId"].is_null());
}

#[test]
fn missing_and_invalid_answers_are_one_error_and_nothing_is_written() {
    let env = Env::new();
    env.published_example();
    let before = env.log_bytes();
    let out = env.run(&["generate", EXAMPLE_NAME, "-o", "x"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("missing answers for: service_name"),
        "{}",
        out.stderr
    );
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "x",
        "--set",
        "service_name=Bad Name",
        "--set",
        "connection_pool=0",
        "--set",
        "enable_swagger=perhaps",
        "--set",
        "colour=red",
    ]);
    out.expect_code(2);
    for text in [
        "`colour` is not a parameter",
        "does not match pattern",
        "`perhaps` is not a bool",
        "below the minimum",
    ] {
        assert!(out.stderr.contains(text), "{text}: {}", out.stderr);
    }
    assert!(
        !out.stderr.contains("namespace"),
        "no echo of the bad service_name: {}",
        out.stderr
    );
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "x",
        "--set",
        "service_name=ok",
        "--set",
        "database=mysql",
    ]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("mysql is not one of the choices: postgresql, sqlserver, none"),
        "{}",
        out.stderr
    );
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "x",
        "--set",
        "service_name=ok",
        "--set",
        "api_key=a b",
    ]);
    out.ok();
    let out = env.run(&["generate", EXAMPLE_NAME, "-o", "y", "--set", "nonsense"]);
    out.expect_code(2);
    assert!(out.stderr.contains("is not NAME=VALUE"), "{}", out.stderr);
    assert!(!env.path("y").exists());
    assert_eq!(
        env.events().len(),
        before.iter().filter(|&&b| b == b'\n').count() + 3,
        "only the good run recorded events"
    );
}

#[test]
fn versions_drafts_and_targets() {
    let env = Env::new();
    env.published_example();
    env.run(&["version", EXAMPLE_NAME, "--version", "2.0.0"])
        .ok();
    // Latest published, not the newer draft.
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "a",
        "--set",
        "service_name=a",
        "--json",
    ]);
    out.ok();
    assert_eq!(out.json()["template"], format!("{EXAMPLE_NAME}@1.0.0"));
    let out = env.run(&[
        "generate",
        &format!("{EXAMPLE_NAME}@2.0.0"),
        "-o",
        "b",
        "--set",
        "service_name=b",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("is Draft, not published") && out.stderr.contains("--allow-draft"),
        "{}",
        out.stderr
    );
    let out = env.run(&[
        "generate",
        &format!("{EXAMPLE_NAME}@2.0.0"),
        "-o",
        "b",
        "--set",
        "service_name=b",
        "--allow-draft",
        "--json",
    ]);
    out.ok();
    assert_eq!(out.json()["template"], format!("{EXAMPLE_NAME}@2.0.0"));

    // A non-empty target is refused unless --force, and then written over.
    std::fs::create_dir_all(env.path("c")).unwrap();
    std::fs::write(env.path("c/keep.txt"), "mine\n").unwrap();
    std::fs::write(env.path("c/README.md"), "old\n").unwrap();
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "c",
        "--set",
        "service_name=c",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("is not empty") && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("c/README.md")).unwrap(),
        "old\n"
    );
    env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "c",
        "--set",
        "service_name=c",
        "--force",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(env.path("c/keep.txt")).unwrap(),
        "mine\n"
    );
    assert!(
        std::fs::read_to_string(env.path("c/README.md"))
            .unwrap()
            .contains("ConnectSoft.C")
    );
    // An empty existing folder is fine; nested new folders are created.
    std::fs::create_dir_all(env.path("d")).unwrap();
    env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "d",
        "--set",
        "service_name=d",
    ])
    .ok();
    env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "e/f/g",
        "--set",
        "service_name=g",
    ])
    .ok();
    assert!(env.path("e/f/g/.factory/scaffold.yaml").is_file());
    // No staging folders are left behind.
    assert_no_staging_left(&env);
}

#[test]
fn dry_run_writes_and_records_nothing() {
    let env = Env::new();
    env.published_example();
    let before = env.store_snapshot();
    let out = env.run(&[
        "generate",
        EXAMPLE_NAME,
        "-o",
        "dry",
        "--set",
        "service_name=dry",
        "--dry-run",
    ]);
    out.ok();
    assert!(
        out.stdout.contains("README.md") && out.stdout.contains("(dry run)"),
        "{}",
        out.stdout
    );
    assert!(!env.path("dry").exists());
    assert_eq!(before, env.store_snapshot());
    let json = env
        .run(&[
            "generate",
            EXAMPLE_NAME,
            "-o",
            "dry",
            "--set",
            "service_name=dry",
            "--dry-run",
            "--json",
        ])
        .json();
    // The hash a dry run predicts is the hash the real run produces.
    let real = env
        .run(&[
            "generate",
            EXAMPLE_NAME,
            "-o",
            "dry",
            "--set",
            "service_name=dry",
            "--json",
        ])
        .json();
    assert_eq!(json["contentHash"], real["contentHash"]);
    assert_eq!(json["fileCount"], real["fileCount"]);
}

#[test]
fn a_failed_render_records_a_failed_execution_and_leaves_nothing() {
    let env = Env::new();
    let t = env.template(
        "t",
        &[
            (
                "template.yaml",
                "name: t\ncategory: service\nparameters:\n  - name: n\n    default: x\n",
            ),
            ("a.txt", "{{ n }}\n"),
            ("b.txt", "line\n{{ n.nope() }}\n"),
        ],
    );
    let out = env.run(&["generate", t.to_str().unwrap(), "-o", "out"]);
    out.expect_code(1);
    assert!(out.stderr.contains("b.txt:2:"), "{}", out.stderr);
    assert!(!env.path("out").exists());
    assert_no_staging_left(&env);
    let events = env.events();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["TemplateExecutionRequested", "TemplateExecuted"]);
    let executed = &events[1]["payload"];
    assert_eq!(executed["status"], "Failed");
    assert!(executed["error"].as_str().unwrap().contains("b.txt:2:"));
    assert!(executed["scaffoldOutputId"].is_null());
    assert_eq!(events[1]["causationId"], events[0]["eventId"]);
}

#[test]
fn git_sources_and_git_output() {
    let env = Env::new();
    // A template repository with two commits and a tag on the first.
    let repo_dir = env.template(
        "repo",
        &[
            (
                "template.yaml",
                "name: gitsvc\ncategory: service\nparameters:\n  - name: n\n    default: one\n",
            ),
            ("a.txt", "v1 {{ n }}\n"),
        ],
    );
    let first = factory::git::commit_all(&repo_dir, "first").unwrap();
    let repo = git2::Repository::open(&repo_dir).unwrap();
    repo.tag_lightweight(
        "v1",
        &repo
            .find_object(git2::Oid::from_str(&first).unwrap(), None)
            .unwrap(),
        false,
    )
    .unwrap();
    std::fs::write(repo_dir.join("a.txt"), "v2 {{ n }}\n").unwrap();
    let second = factory::git::commit_all(&repo_dir, "second").unwrap();
    let url = format!("file://{}", repo_dir.display());

    let out = env.run(&["generate", &format!("{url}#v1"), "-o", "g1"]);
    out.ok();
    assert_eq!(
        std::fs::read_to_string(env.path("g1/a.txt")).unwrap(),
        "v1 one\n"
    );
    let scaffold = std::fs::read_to_string(env.path("g1/.factory/scaffold.yaml")).unwrap();
    assert!(scaffold.contains(&first), "{scaffold}");
    env.run(&["generate", &url, "-o", "g2"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("g2/a.txt")).unwrap(),
        "v2 one\n"
    );
    let out = env.run(&["generate", &format!("{url}#nope"), "-o", "g3"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("has no branch, tag or commit `nope`"),
        "{}",
        out.stderr
    );

    // register and version from git record the resolved commit.
    env.run(&["register", &format!("{url}#v1")]).ok();
    env.run(&["version", "gitsvc", "--version", "1.0.0"]).ok();
    env.run(&["version", "gitsvc", "--from", &url, "--version", "2.0.0"])
        .ok();
    let events = env.events();
    let created: Vec<&Value> = events
        .iter()
        .filter(|e| e["eventType"] == "TemplateVersionCreated")
        .collect();
    assert_eq!(created[0]["payload"]["sourceRef"]["kind"], "git");
    assert_eq!(created[0]["payload"]["sourceRef"]["commit"], first.as_str());
    assert_eq!(created[0]["payload"]["sourceRef"]["uri"], url.as_str());
    assert_eq!(
        created[1]["payload"]["sourceRef"]["commit"],
        second.as_str()
    );

    // --git commits the scaffold and names the repository.
    let out = env.run(&["generate", &url, "-o", "withgit", "--git", "--json"]);
    out.ok();
    let result = out.json();
    let generated = env
        .events()
        .into_iter()
        .rev()
        .find(|e| e["eventType"] == "ScaffoldGenerated")
        .unwrap();
    assert_eq!(generated["payload"]["repository"], result["repository"]);
    let made = git2::Repository::open(env.path("withgit")).unwrap();
    let head = made.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.id().to_string(), result["commit"].as_str().unwrap());
    assert!(
        head.tree()
            .unwrap()
            .get_path(Path::new(".factory/scaffold.yaml"))
            .is_ok()
    );
    assert!(
        made.statuses(None).unwrap().is_empty(),
        "everything committed"
    );
}

#[test]
fn prompts_on_a_terminal_validate_and_ask_again() {
    let env = Env::new();
    let t = env.template(
        "asked",
        &[
            (
                "template.yaml",
                "name: asked\ncategory: service\nparameters:\n  - name: svc\n    required: true\n    pattern: '^[a-z]+$'\n    help: lower-case name\n  - name: db\n    type: choice\n    choices: [pg, sql, none]\n    default: pg\n  - name: swagger\n    type: bool\n    default: true\n  - name: token\n    secret: true\n    default: ''\n",
            ),
            ("a.txt", "{{ svc }} {{ db }} {{ swagger }} {{ token }}\n"),
        ],
    );
    // `script` gives factory a terminal; the keys: a bad name, erase it, a good one, one down
    // in the select, `n` for the bool, then (once the password prompt has switched the
    // terminal, which drops keys typed ahead) a secret typed blind.
    let keys = r"BAD\r\025orders\r\033[B\rn";
    let command = format!("\"$F\" generate {} -o out", t.display());
    let shell = format!(
        "(printf '{keys}'; sleep 1; printf 'sesame\\r'; sleep 2) | script -qec '{command}' /dev/null"
    );
    let out = env
        .program("sh")
        .arg("-c")
        .arg(&shell)
        .output()
        .expect("script runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        env.path("out/a.txt").is_file(),
        "no output; the terminal showed:\n{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("out/a.txt")).unwrap(),
        "orders sql False sesame\n",
        "{screen}"
    );
    assert!(
        screen.contains("svc (lower-case name)"),
        "help is shown: {screen}"
    );
    assert!(
        screen.contains("`BAD` does not match pattern"),
        "a bad answer is explained: {screen}"
    );
    assert!(
        !screen.contains("sesame"),
        "a secret is never echoed: {screen}"
    );
    assert!(
        !String::from_utf8(env.log_bytes())
            .unwrap()
            .contains("sesame")
    );

    // Not a terminal: no prompts; a required answer without default is named.
    let out = env.run(&["generate", t.to_str().unwrap(), "-o", "out2"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("missing answers for: svc"),
        "{}",
        out.stderr
    );
    // --defaults on a terminal asks nothing.
    let command = format!(
        "\"$F\" generate {} -o out3 --defaults --set svc=quiet",
        t.display()
    );
    let shell = format!("script -qec '{command}' /dev/null < /dev/null");
    let out = env.program("sh").arg("-c").arg(&shell).output().unwrap();
    assert_eq!(
        std::fs::read_to_string(env.path("out3/a.txt")).unwrap(),
        "quiet pg True \n",
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The writers take runs of neighbouring files; a failure is still said for the earliest
/// file in plan order that fails, whichever writer met it, and nothing is left behind.
#[test]
fn the_earliest_failing_file_is_named_whichever_writer_meets_it() {
    let env = Env::new();
    let mut files: Vec<(String, String)> = vec![(
        "template.yaml".to_string(),
        "name: Many\ntitle: many\ncategory: service\nparameters: []\n".to_string(),
    )];
    for i in 0..200 {
        let text = match i {
            // Far apart, so two writers meet one each.
            50 | 150 => "{{ 1 // 0 }}\n".to_string(),
            _ => format!("plain {i} {{{{ 1 + 1 }}}}\n"),
        };
        files.push((format!("src/d{}/f{i:03}.txt", i / 40), text));
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let template = env.template("many", &borrowed);
    for run in 0..5 {
        let out = format!("out-{run}");
        let failed = env.run(&[
            "generate",
            template.to_str().unwrap(),
            "-o",
            &out,
            "--defaults",
        ]);
        failed.expect_code(1);
        assert!(
            failed
                .stderr
                .contains("src/d1/f050.txt:1:4: invalid operation")
                && !failed.stderr.contains("f150"),
            "{}",
            failed.stderr
        );
        assert!(!env.path(&out).exists());
    }
}

/// A file's permission bits are the template file's own whatever the umask: kept as created
/// where the umask takes none of them, set again where it took some (`umask 077` narrows
/// every mode below; `umask 022` only the group-writable one).
#[test]
fn modes_are_the_template_files_own_under_any_umask() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let template = env.template(
        "t",
        &[
            (
                "template.yaml",
                "name: t\ncategory: service\nparameters:\n  - name: n\n    default: x\n",
            ),
            ("plain.txt", "{{ n }}\n"),
            ("run.sh", "echo {{ n }}\n"),
            ("shared.txt", "{{ n }}\n"),
            ("private.txt", "{{ n }}\n"),
        ],
    );
    let modes = [
        ("plain.txt", 0o644),
        ("run.sh", 0o755),
        ("shared.txt", 0o664),
        ("private.txt", 0o600),
    ];
    for (file, mode) in modes {
        std::fs::set_permissions(template.join(file), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }
    for umask in ["077", "022", "000"] {
        let out = format!("out-{umask}");
        let script = format!("umask {umask} && exec \"$F\" generate t -o {out} --defaults --quiet");
        let status = env.program("sh").args(["-c", &script]).status().unwrap();
        assert!(status.success(), "umask {umask}");
        for (file, mode) in modes {
            let written = std::fs::metadata(env.path(&format!("{out}/{file}")))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777;
            assert_eq!(written, mode, "{file} under umask {umask}");
        }
    }
}
