//! Many writers at once: 8 processes registering and versioning (400 commands in all)
//! leave a log with every event exactly once, no torn line, and a clean `store check`.

mod common;

use std::collections::HashSet;
use std::process::Stdio;

use common::Env;

const WRITERS: usize = 8;
const TEMPLATES_PER_WRITER: usize = 10;
const VERSIONS_PER_TEMPLATE: usize = 4;

#[test]
fn eight_writers_lose_and_tear_nothing() {
    let env = Env::new();
    env.run(&["init"]).ok();
    // One template folder per writer; each writer registers it under several names.
    for w in 0..WRITERS {
        env.template(
            &format!("t{w}"),
            &[
                ("template.yaml", &format!("name: base-{w}\ncategory: service\nparameters:\n  - name: n\n    default: x{w}\n")),
                ("a.txt", &format!("{{{{ n }}}} from writer {w}\n")),
            ],
        );
    }
    // Each writer runs a shell loop of 10 registrations and 40 versions: 50 commands.
    let mut children = Vec::new();
    for w in 0..WRITERS {
        let mut script = String::from("set -e\n");
        for t in 0..TEMPLATES_PER_WRITER {
            let name = format!("w{w}-t{t}");
            script.push_str(&format!("\"$F\" -q register t{w} --name {name}\n"));
            for v in 0..VERSIONS_PER_TEMPLATE {
                script.push_str(&format!(
                    "\"$F\" -q version {name} --from t{w} --version 1.{v}.0\n"
                ));
            }
        }
        let mut command = env.program("sh");
        command.arg("-c").arg(script);
        children.push(
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let bytes = env.log_bytes();
    assert_eq!(bytes.last(), Some(&b'\n'), "the log ends with a whole line");
    let events = env.events();
    let commands = WRITERS * TEMPLATES_PER_WRITER * (1 + VERSIONS_PER_TEMPLATE);
    assert_eq!(commands, 400);
    // register: 1 event; version: 2 events.
    let expected = WRITERS * TEMPLATES_PER_WRITER * (1 + 2 * VERSIONS_PER_TEMPLATE);
    assert_eq!(events.len(), expected, "every event exactly once");
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), expected, "no duplicate event ids");
    // Each version's two events are adjacent: one command's lines are appended in one write.
    for pair in events.windows(2) {
        if pair[1]["eventType"] == "TemplateParameterSchemaDefined" {
            assert_eq!(pair[0]["eventType"], "TemplateVersionCreated");
            assert_eq!(pair[1]["causationId"], pair[0]["eventId"]);
        }
    }
    let list = env.run(&["list", "--json"]);
    list.ok();
    let templates = list.json()["templates"].as_array().unwrap().len();
    assert_eq!(templates, WRITERS * TEMPLATES_PER_WRITER);
    let check = env.run(&["store", "check"]);
    check.ok();
    assert!(
        check.stdout.contains(&format!("{expected} events")),
        "{}",
        check.stdout
    );
}
