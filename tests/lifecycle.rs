//! The template lifecycle end to end on the example template, and the contract of every
//! event it leaves in the log.

mod common;

use common::{EXAMPLE_NAME, Env};
use serde_json::Value;

const FIELDS: [&str; 10] = [
    "eventId",
    "eventType",
    "tenantId",
    "projectId",
    "moduleId",
    "traceId",
    "correlationId",
    "causationId",
    "occurredAt",
    "payload",
];

fn schema_validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).expect("schema compiles")
}

#[test]
fn lifecycle_from_folder_to_published_leaves_valid_events() {
    let env = Env::new();
    let path = env.example();
    let path = path.to_str().unwrap();

    let out = env.run(&["init"]);
    out.ok();
    assert!(out.stdout.contains("Created store"), "{}", out.stdout);

    let out = env.run(&["register", path]);
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("Registered {EXAMPLE_NAME} (tpl-")),
        "{}",
        out.stdout
    );

    let out = env.run(&["version", EXAMPLE_NAME, "--version", "0.1.0", "--json"]);
    out.ok();
    let version = out.json();
    assert_eq!(version["status"], "Draft");
    assert_eq!(version["fileCount"], 10);
    let content_hash = version["contentHash"].as_str().unwrap().to_string();
    assert!(content_hash.starts_with("sha256:"));
    // The version's content hash is the tree hash of the template folder (DESIGN 6).
    let hashed = env.run(&["hash", path]);
    hashed.ok();
    assert_eq!(hashed.stdout.trim(), content_hash);

    // Publishing before validation is refused with a verdict, and changes nothing.
    let before = env.store_snapshot();
    let out = env.run(&["publish", &format!("{EXAMPLE_NAME}@0.1.0")]);
    out.expect_code(3);
    assert!(
        out.stderr.contains("has not passed validation"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: run `factory validate"),
        "{}",
        out.stderr
    );
    assert_eq!(before, env.store_snapshot());

    let out = env.run(&["validate", &format!("{EXAMPLE_NAME}@0.1.0"), "--json"]);
    out.ok();
    let report = out.json();
    assert_eq!(report["passed"], true);
    assert!(report["checks"].as_array().unwrap().len() >= 14);

    let out = env.run(&["publish", &format!("{EXAMPLE_NAME}@0.1.0")]);
    out.ok();
    assert!(out.stdout.contains("Published"), "{}", out.stdout);

    let out = env.run(&["version", EXAMPLE_NAME, "--bump", "minor", "--json"]);
    out.ok();
    assert_eq!(out.json()["version"], "0.2.0");

    let list = env.run(&["list", "--json"]);
    list.ok();
    let templates = &list.json()["templates"];
    assert_eq!(templates[0]["name"], EXAMPLE_NAME);
    assert_eq!(templates[0]["latestVersion"], "0.2.0");
    assert_eq!(templates[0]["status"], "Draft");
    assert_eq!(templates[0]["latestPublished"], "0.1.0");

    let show = env.run(&["show", &format!("{EXAMPLE_NAME}@0.1.0"), "--json"]);
    show.ok();
    let shown = show.json();
    assert_eq!(shown["status"], "Published");
    assert_eq!(shown["contentHash"], content_hash.as_str());
    assert_eq!(
        shown["parameters"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        shown["parameters"]["required"],
        serde_json::json!(["service_name"])
    );
    let human = env.run(&["show", EXAMPLE_NAME]);
    human.ok();
    assert!(
        human.stdout.contains("0.1.0") && human.stdout.contains("Published"),
        "{}",
        human.stdout
    );

    // Every step left the catalog's events, in order.
    let events = env.events();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "TemplateRegistered",
            "TemplateVersionCreated",
            "TemplateParameterSchemaDefined",
            "TemplateValidated",
            "TemplatePublished",
            "CompatibilityEvaluated",
            "TemplateVersionCreated",
            "TemplateParameterSchemaDefined",
        ]
    );
    // Publishing judged the version's declared libraries, caused by the publication.
    assert_eq!(events[5]["causationId"], events[4]["eventId"]);
    assert_eq!(events[5]["payload"]["scope"], "publish");
    assert_eq!(events[5]["payload"]["compatible"], true);
    assert!(
        events[5]["payload"]["matrixId"]
            .as_str()
            .unwrap()
            .starts_with("mtx-")
    );
    let published = &events[4]["payload"];
    assert_eq!(published["version"], "0.1.0");
    assert_eq!(published["contentHash"], content_hash.as_str());

    // Every line parses against the generated envelope schema and its payload schema.
    let schemas = env.run(&["events", "schema"]);
    schemas.ok();
    let schemas = schemas.json();
    let envelope_schema = schema_validator(&schemas["envelope"]);
    let text = String::from_utf8(env.log_bytes()).unwrap();
    for (line, event) in text.lines().zip(&events) {
        let errors: Vec<String> = envelope_schema
            .iter_errors(event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "envelope: {errors:?}\n{line}");
        let payload_schema =
            schema_validator(&schemas["payloads"][event["eventType"].as_str().unwrap()]);
        let errors: Vec<String> = payload_schema
            .iter_errors(&event["payload"])
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "payload: {errors:?}\n{line}");
        // Field order is the DESIGN order, exactly these ten fields.
        let positions: Vec<usize> = FIELDS
            .iter()
            .map(|f| line.find(&format!("\"{f}\":")).unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "field order: {line}"
        );
        assert_eq!(event.as_object().unwrap().len(), 10);
        assert!(line.starts_with("{\"eventId\":\"evt-"), "{line}");
        assert_eq!(event["tenantId"], "default");
        assert!(event["occurredAt"].as_str().unwrap().ends_with('Z'));
    }
    // Prefixed ids.
    let p = |i: usize, field: &str| events[i]["payload"][field].as_str().unwrap().to_string();
    assert!(p(0, "templateId").starts_with("tpl-"));
    assert!(p(1, "templateVersionId").starts_with("tv-"));
    assert!(p(2, "schemaId").starts_with("sch-"));
    assert!(p(3, "validationId").starts_with("val-"));
    assert!(p(4, "publicationId").starts_with("pub-"));
    assert!(
        events[0]["correlationId"]
            .as_str()
            .unwrap()
            .starts_with("corr-")
    );
    // Causation: within `version`, the schema event is caused by the version event; the
    // first event of a command has no cause unless the caller names one.
    assert_eq!(events[2]["causationId"], events[1]["eventId"]);
    assert_eq!(events[2]["correlationId"], events[1]["correlationId"]);
    assert_eq!(events[2]["traceId"], events[1]["traceId"]);
    assert!(events[1]["causationId"].is_null());
    assert_ne!(
        events[1]["correlationId"], events[0]["correlationId"],
        "one correlation id per invocation"
    );
    // The parameter schema is a JSON Schema 2020-12 document that accepts the test answers.
    let parameters = &events[2]["payload"]["schema"];
    let validator = schema_validator(parameters);
    assert!(validator.is_valid(&serde_json::json!({"service_name": "orders", "database": "none"})));
    assert!(!validator.is_valid(&serde_json::json!({"service_name": "Orders"})));
    assert!(parameters["properties"]["api_key"]["writeOnly"] == true);

    let check = env.run(&["store", "check"]);
    check.ok();
    assert!(check.stdout.contains("ok:"), "{}", check.stdout);
}

#[test]
fn envelope_context_comes_from_flags_environment_and_store() {
    let mut env = Env::new();
    env.run(&["init", "--tenant", "acme"]).ok();
    let store_yaml = std::fs::read_to_string(env.store.join("store.yaml")).unwrap();
    assert!(store_yaml.contains("tenant: \"acme\""), "{store_yaml}");
    let path = env.example();
    env.set_env("FACTORY_NOW", "2026-06-11T09:05:00Z");
    env.set_env(
        "TRACEPARENT",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    env.set_env("FACTORY_PROJECT", "proj-booking-saas");
    env.run(&[
        "register",
        path.to_str().unwrap(),
        "--module",
        "module-reservations-api",
        "--correlation-id",
        "corr-4d21",
        "--causation-id",
        "evt-cause",
    ])
    .ok();
    env.set_env("FACTORY_TENANT", "globex");
    env.set_env("FACTORY_CORRELATION_ID", "corr-agent-task");
    env.run(&["version", EXAMPLE_NAME, "--version", "1.0.0"])
        .ok();
    env.run(&[
        "validate",
        &format!("{EXAMPLE_NAME}@1.0.0"),
        "--tenant",
        "initech",
    ])
    .ok();

    let events = env.events();
    let e = &events[0];
    assert_eq!(e["tenantId"], "acme", "store default");
    assert_eq!(e["projectId"], "proj-booking-saas");
    assert_eq!(e["moduleId"], "module-reservations-api");
    assert_eq!(e["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(e["correlationId"], "corr-4d21");
    assert_eq!(e["causationId"], "evt-cause");
    assert_eq!(e["occurredAt"], "2026-06-11T09:05:00.000Z");
    assert_eq!(events[1]["tenantId"], "globex", "environment beats store");
    assert_eq!(events[1]["correlationId"], "corr-agent-task");
    // The environment says what new events carry; it does not filter `factory events`.
    assert_eq!(env.run(&["events"]).stdout.lines().count(), events.len());
    assert!(events[1]["moduleId"].is_null());
    assert_eq!(events[3]["tenantId"], "initech", "flag beats environment");
}

#[test]
fn events_filters_select_what_scripts_ask_for() {
    let mut env = Env::new();
    env.set_env("FACTORY_NOW", "2026-06-11T09:00:00Z");
    let path = env.example();
    env.run(&["register", path.to_str().unwrap()]).ok();
    let other = env.template(
        "other",
        &[
            ("template.yaml", "name: other\ncategory: library\n"),
            ("README.md", "hi\n"),
        ],
    );
    env.run(&["register", other.to_str().unwrap()]).ok();
    let mut env2 = env;
    env2.set_env("FACTORY_NOW", "2026-06-12T09:00:00Z");
    let env = env2;
    env.run(&[
        "version",
        EXAMPLE_NAME,
        "--version",
        "1.0.0",
        "--correlation-id",
        "corr-v1",
    ])
    .ok();
    env.run(&["validate", &format!("{EXAMPLE_NAME}@1.0.0")])
        .ok();
    env.run(&["version", "other", "--version", "1.0.0"]).ok();

    let lines = |args: &[&str]| -> Vec<Value> {
        let out = env.run(args);
        out.ok();
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let types = |events: &[Value]| {
        events
            .iter()
            .map(|e| e["eventType"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    assert_eq!(lines(&["events"]).len(), 7);
    assert_eq!(
        types(&lines(&["events", "--type", "TemplateRegistered"])),
        ["TemplateRegistered", "TemplateRegistered"]
    );
    assert_eq!(
        types(&lines(&["events", "--topic", "factory.integration"])),
        [
            "TemplateVersionCreated",
            "TemplateValidated",
            "TemplateVersionCreated"
        ]
    );
    assert_eq!(lines(&["events", "--correlation-id", "corr-v1"]).len(), 2);
    let of_example = lines(&["events", "--template", EXAMPLE_NAME]);
    assert_eq!(of_example.len(), 4);
    assert_eq!(
        lines(&["events", "--since", "2026-06-12T00:00:00Z"]).len(),
        5
    );
    let all = lines(&["events"]);
    let after = lines(&["events", "--since", all[4]["eventId"].as_str().unwrap()]);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["eventId"], all[5]["eventId"]);
    assert_eq!(lines(&["events", "--limit", "3"]).len(), 3);
    // The lines are the log's bytes, unchanged.
    let out = env.run(&["events"]);
    assert_eq!(out.stdout.as_bytes(), env.log_bytes().as_slice());

    let out = env.run(&["events", "--topic", "nope"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown topic `nope`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["events", "--type", "TemplateExploded"]);
    out.expect_code(2);
    assert!(out.stderr.contains("not an event type"), "{}", out.stderr);
    let out = env.run(&["events", "--since", "evt-0000"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("no event `evt-0000` in the log"),
        "{}",
        out.stderr
    );
    let out = env.run(&["events", "--since", "last tuesday"]);
    out.expect_code(2);

    let schema = env.run(&["events", "schema", "TemplatePublished"]);
    schema.ok();
    assert_eq!(
        schema.json()["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema.json()["properties"]["contentHash"].is_object());
    env.run(&["events", "schema", "Nope"]).expect_code(2);
}

#[test]
fn validate_path_needs_no_store_and_reports_in_three_formats() {
    let env = Env::new();
    let path = env.example();
    let out = env.run(&["validate", "--path", path.to_str().unwrap(), "--matrix"]);
    out.ok();
    assert!(out.stdout.contains("matrix/render"), "{}", out.stdout);
    assert!(!env.store.exists(), "validate --path writes no store");

    let bad = env.template(
        "bad",
        &[
            (
                "template.yaml",
                "name: bad\ncategory: service\nparameters:\n  - name: who\n    default: world\n",
            ),
            ("hello.txt", "Hello {{ who }}\n{% if %}\n"),
        ],
    );
    let out = env.run(&["validate", "--path", bad.to_str().unwrap()]);
    out.expect_code(3);
    assert!(
        out.stdout
            .contains("FAIL  template/syntax       hello.txt:2:"),
        "{}",
        out.stdout
    );
    let json = env.run(&["validate", "--path", bad.to_str().unwrap(), "--json"]);
    json.expect_code(3);
    let report = json.json();
    assert_eq!(report["passed"], false);
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["check"], "template/syntax");
    assert!(
        failed[0]["location"]
            .as_str()
            .unwrap()
            .starts_with("hello.txt:2:")
    );

    let sarif = env.run(&[
        "validate",
        "--path",
        bad.to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    sarif.expect_code(3);
    let sarif = sarif.json();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "template/syntax");
    assert_eq!(result["level"], "error");
    // From the current folder (no repository here), as code scanning resolves paths
    // (issue 27 item 18).
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!(
            "{}/hello.txt",
            bad.strip_prefix(env.dir.path()).unwrap().display()
        )
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
}

#[test]
fn a_failed_validation_is_recorded_and_blocks_publishing() {
    let env = Env::new();
    let t = env.template(
        "svc",
        &[
            ("template.yaml", "name: svc\ncategory: service\nparameters:\n  - name: n\n    default: x\ntests:\n  - name: t\n    answers: {}\n"),
            ("a.txt", "{{ n }} {{ nope }}\n"),
        ],
    );
    env.run(&["register", t.to_str().unwrap()]).ok();
    env.run(&["version", "svc", "--version", "1.0.0"]).ok();
    let out = env.run(&["validate", "svc"]);
    out.expect_code(3);
    assert!(out.stdout.contains("template/undeclared"), "{}", out.stdout);
    let events = env.events();
    let validated = events.last().unwrap();
    assert_eq!(validated["eventType"], "TemplateValidated");
    assert_eq!(validated["payload"]["passed"], false);
    let out = env.run(&["publish", "svc@1.0.0"]);
    out.expect_code(3);
    assert!(out.stderr.contains("its last validation"), "{}", out.stderr);
    let show = env.run(&["show", "svc@1.0.0", "--json"]);
    assert_eq!(show.json()["status"], "Invalid");
}

#[test]
fn events_print_as_a_table_filter_by_tenant_and_follow_new_lines() {
    let env = Env::new();
    let path = env.example();
    env.run(&["register", path.to_str().unwrap(), "--tenant", "acme"])
        .ok();
    env.run(&[
        "version",
        EXAMPLE_NAME,
        "--version",
        "1.0.0",
        "--tenant",
        "globex",
    ])
    .ok();

    let table = env.run(&["events", "--format", "table"]);
    table.ok();
    let rows: Vec<&str> = table.stdout.lines().collect();
    assert!(rows[0].starts_with("OCCURRED AT"), "{}", table.stdout);
    assert_eq!(rows.len(), 4);
    assert!(
        rows[1].contains("TemplateRegistered") && rows[1].contains("tpl-"),
        "{}",
        table.stdout
    );
    let acme = env.run(&["events", "--tenant", "acme"]);
    assert_eq!(acme.stdout.lines().count(), 1);
    let globex = env.run(&["events", "--tenant", "globex"]);
    assert_eq!(globex.stdout.lines().count(), 2);

    // --follow keeps printing what is appended.
    let mut child = env
        .command(&["events", "--follow", "--type", "TemplateValidated"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    env.run(&["validate", EXAMPLE_NAME]).ok();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["eventType"], "TemplateValidated");
}
