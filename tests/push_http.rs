//! Pushing to HTTP targets: Azure Service Bus's REST shape (against a local listener, since
//! the service cannot run here) and CloudEvents receivers.

mod common;

use common::http::Listener;
use common::{EXAMPLE_NAME, Env};
use serde_json::Value;

const KEY: &str = "c2VjcmV0LWtleS1mb3ItdGVzdHM=";

fn lines(env: &Env) -> Vec<String> {
    String::from_utf8(env.log_bytes())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn service_bus_requests_have_the_documented_shape() {
    let listener = Listener::start(&[]);
    let mut env = Env::new();
    env.set_env(
        "FACTORY_TEST_SB",
        &format!(
            "Endpoint=sb://127.0.0.1:{}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={KEY};UseDevelopmentEmulator=true",
            listener.port
        ),
    );
    env.published_example();
    let log = lines(&env);
    let events = env.events();

    // Dry run: what would go where, nothing sent, no secret shown.
    let dry = env.run(&[
        "events",
        "push",
        "--to",
        "servicebus:FACTORY_TEST_SB",
        "--dry-run",
    ]);
    dry.ok();
    assert!(
        dry.stdout
            .contains("6 event(s) would be pushed to servicebus:FACTORY_TEST_SB"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("TemplatePublished") && dry.stdout.contains("factory.integration"));
    assert!(listener.requests().is_empty());

    let out = env.run(&["events", "push", "--to", "servicebus:FACTORY_TEST_SB"]);
    out.ok();
    assert!(out.stdout.contains("Pushed 6 event(s)"), "{}", out.stdout);
    let requests = listener.requests();
    // One batch to the template topic (all 6), one to the integration topic (4 promoted).
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let template = requests
        .iter()
        .find(|r| r.path == "/factory.templates.template/messages")
        .unwrap();
    let integration = requests
        .iter()
        .find(|r| r.path == "/factory.integration/messages")
        .unwrap();
    for (request, topic) in [
        (template, "factory.templates.template"),
        (integration, "factory.integration"),
    ] {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.header("content-type"),
            Some("application/vnd.microsoft.servicebus.json")
        );
        let auth = request.header("authorization").unwrap();
        let resource = format!("http://127.0.0.1:{}/{topic}", listener.port);
        let expiry: u64 = auth
            .split("&se=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            auth,
            factory::broker::servicebus::sas_token(
                &resource,
                "RootManageSharedAccessKey",
                KEY,
                expiry
            )
        );
        assert!(!auth.contains(KEY));
    }
    let batch: Vec<Value> = serde_json::from_slice(&template.body).unwrap();
    assert_eq!(batch.len(), 6);
    for (i, message) in batch.iter().enumerate() {
        assert_eq!(
            message["Body"],
            log[i].as_str(),
            "the body is the envelope as logged"
        );
        let id = events[i]["eventId"].as_str().unwrap();
        assert_eq!(
            message["BrokerProperties"]["MessageId"],
            &id[4..],
            "the GUID form of the event id"
        );
        assert_eq!(
            message["BrokerProperties"]["CorrelationId"],
            events[i]["correlationId"]
        );
        assert_eq!(message["BrokerProperties"]["Label"], events[i]["eventType"]);
        assert_eq!(
            message["UserProperties"]["cs-event-type"],
            events[i]["eventType"]
        );
        assert_eq!(message["UserProperties"]["cs-tenant-id"], "default");
        assert_eq!(
            message["UserProperties"]["cs-trace-id"],
            events[i]["traceId"]
        );
        assert_eq!(
            message["UserProperties"]["cs-correlation-id"],
            events[i]["correlationId"]
        );
    }
    let promoted: Vec<Value> = serde_json::from_slice(&integration.body).unwrap();
    let labels: Vec<&str> = promoted
        .iter()
        .map(|m| m["BrokerProperties"]["Label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "TemplateVersionCreated",
            "TemplateValidated",
            "TemplatePublished",
            "CompatibilityEvaluated"
        ]
    );

    // Idempotent: nothing new, nothing sent.
    listener.clear();
    let again = env.run(&["events", "push", "--to", "servicebus:FACTORY_TEST_SB"]);
    again.ok();
    assert!(again.stdout.contains("Nothing to push"), "{}", again.stdout);
    assert!(listener.requests().is_empty());

    // A single message per topic: BrokerProperties and quoted cs-* headers, the envelope as body.
    env.run(&["validate", EXAMPLE_NAME]).ok();
    env.run(&["events", "push", "--to", "servicebus:FACTORY_TEST_SB"])
        .ok();
    let requests = listener.requests();
    assert_eq!(requests.len(), 2);
    let single = &requests[0];
    let last = env.events().pop().unwrap();
    assert_eq!(single.header("content-type"), Some("application/json"));
    let props: Value = serde_json::from_str(single.header("brokerproperties").unwrap()).unwrap();
    assert_eq!(props["MessageId"], &last["eventId"].as_str().unwrap()[4..]);
    assert_eq!(props["Label"], "TemplateValidated");
    assert_eq!(
        single.header("cs-event-type"),
        Some("\"TemplateValidated\"")
    );
    assert_eq!(single.header("cs-tenant-id"), Some("\"default\""));
    assert_eq!(single.body, lines(&env).last().unwrap().as_bytes());

    // Status.
    let status = env.run(&["events", "push", "--status", "--json"]);
    status.ok();
    let target = &status.json()["targets"][0];
    assert_eq!(target["target"], "servicebus:FACTORY_TEST_SB");
    assert_eq!(target["pushed"], 7);
    assert_eq!(target["pending"], 0);

    // The key never reaches stdout, stderr, the log or the cursors.
    for text in [
        dry.stdout,
        dry.stderr,
        out.stdout,
        out.stderr,
        status.stdout,
    ] {
        assert!(!text.contains(KEY));
    }
    for (path, bytes) in env.store_snapshot() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "{} holds the key",
            path.display()
        );
    }
}

#[test]
fn throttling_is_retried_and_permanent_errors_stop_in_order() {
    let listener = Listener::start(&[429, 503]);
    let mut env = Env::new();
    env.set_env(
        "FACTORY_TEST_SB",
        &format!("Endpoint=sb://127.0.0.1:{}/;SharedAccessKeyName=k;SharedAccessKey=secret-value;UseDevelopmentEmulator=true", listener.port),
    );
    env.published_example();
    let started = std::time::Instant::now();
    let out = env.run(&[
        "events",
        "push",
        "--to",
        "servicebus:FACTORY_TEST_SB",
        "--json",
    ]);
    out.ok();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "throttling waits at least 2 s each time"
    );
    let report = out.json();
    assert_eq!(report["sent"], 6);
    assert_eq!(report["retries"], 2);

    // 401 twice (one token refresh), then stop: the event is named, the cursor stays.
    env.run(&["validate", EXAMPLE_NAME]).ok();
    listener.script(&[401, 401]);
    let out = env.run(&["events", "push", "--to", "servicebus:FACTORY_TEST_SB"]);
    out.expect_code(1);
    let last = env.events().pop().unwrap();
    assert!(
        out.stderr.contains(&format!(
            "stopped at event {} (TemplateValidated)",
            last["eventId"].as_str().unwrap()
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("HTTP 401"), "{}", out.stderr);
    assert!(!out.stderr.contains("secret-value"));
    let status = env.run(&["events", "push", "--status", "--json"]).json();
    assert_eq!(status["targets"][0]["pending"], 1);
    // 404 is final too; then the receiver is fixed and the push resumes at that event.
    listener.script(&[404]);
    env.run(&["events", "push", "--to", "servicebus:FACTORY_TEST_SB"])
        .expect_code(1);
    listener.clear();
    env.run(&["events", "push", "--to", "servicebus:FACTORY_TEST_SB"])
        .ok();
    assert_eq!(
        listener.requests().len(),
        2,
        "the one pending event, to its two topics"
    );

    // A missing or broken connection string is a clear error that quotes nothing secret.
    let out = env.run(&["events", "push", "--to", "servicebus:FACTORY_NOT_SET"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("FACTORY_NOT_SET is not set"),
        "{}",
        out.stderr
    );
    env.set_env("FACTORY_BAD_SB", "Endpoint=sb://x/;SharedAccessKey=hidden");
    let out = env.run(&["events", "push", "--to", "servicebus:FACTORY_BAD_SB"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("has no SharedAccessKeyName") && !out.stderr.contains("hidden"),
        "{}",
        out.stderr
    );
}

#[test]
fn cloudevents_binary_for_one_batch_for_many() {
    let listener = Listener::start(&[]);
    let env = Env::new();
    env.published_example();
    let events = env.events();
    let url = format!("{}/events?code=do-not-print", listener.url);
    let out = env.run(&["events", "push", "--to", &url, "--batch", "1"]);
    out.ok();
    assert!(
        out.stdout.contains(&format!("{}/events?***", listener.url)),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("do-not-print"));
    let requests = listener.requests();
    assert_eq!(
        requests.len(),
        6,
        "one event per request, once each (no per-topic copies)"
    );
    for (request, event) in requests.iter().zip(&events) {
        assert_eq!(request.path, "/events?code=do-not-print");
        assert_eq!(request.header("ce-specversion"), Some("1.0"));
        assert_eq!(request.header("ce-id"), event["eventId"].as_str());
        assert_eq!(request.header("ce-type"), event["eventType"].as_str());
        assert_eq!(request.header("ce-source"), Some("/factory/default"));
        assert_eq!(request.header("ce-time"), event["occurredAt"].as_str());
        assert_eq!(request.header("ce-tenantid"), Some("default"));
        assert_eq!(
            request.header("ce-correlationid"),
            event["correlationId"].as_str()
        );
        assert!(
            request
                .header("ce-traceparent")
                .unwrap()
                .contains(event["traceId"].as_str().unwrap())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            serde_json::from_slice::<Value>(&request.body).unwrap(),
            event["payload"]
        );
    }
    assert_eq!(
        requests[1].header("ce-subject"),
        events[1]["payload"]["templateVersionId"].as_str()
    );

    // Several at once: a batch of structured events, parsed here with the CloudEvents SDK.
    env.run(&["version", EXAMPLE_NAME, "--bump", "patch"]).ok();
    env.run(&["validate", EXAMPLE_NAME]).ok();
    listener.clear();
    env.run(&["events", "push", "--to", &url]).ok();
    let requests = listener.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/cloudevents-batch+json")
    );
    let parsed: Vec<cloudevents::Event> =
        serde_json::from_slice(&requests[0].body).expect("valid CloudEvents");
    let all = env.events();
    assert_eq!(parsed.len(), 3);
    use cloudevents::AttributesReader;
    for (event, logged) in parsed.iter().zip(&all[6..]) {
        assert_eq!(event.id(), logged["eventId"].as_str().unwrap());
        assert_eq!(event.ty(), logged["eventType"].as_str().unwrap());
        assert_eq!(event.source().to_string(), "/factory/default");
        let data: Value = match event.data() {
            Some(cloudevents::Data::Json(v)) => v.clone(),
            other => panic!("data: {other:?}"),
        };
        assert_eq!(data, logged["payload"]);
        assert_eq!(
            event.extension("correlationid").map(|e| e.to_string()),
            logged["correlationId"].as_str().map(str::to_string)
        );
    }
    // --format cloudevents prints the same structured form (--limit 1: the newest event).
    let out = env.run(&["events", "--format", "cloudevents", "--limit", "1"]);
    let printed: cloudevents::Event = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        printed.id(),
        all.last().unwrap()["eventId"].as_str().unwrap()
    );
}

#[test]
fn two_pushes_to_one_target_take_turns() {
    let listener = Listener::start_with_delay(&[], std::time::Duration::from_millis(150));
    let env = Env::new();
    env.published_example();
    let url = format!("{}/ce", listener.url);
    let spawn = || {
        env.command(&["events", "push", "--to", &url, "--batch", "1"])
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success() && b.status.success());
    let ids: Vec<String> = listener
        .requests()
        .iter()
        .map(|r| r.header("ce-id").unwrap().to_string())
        .collect();
    let expected: Vec<String> = env
        .events()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, expected, "each event once, in order");
}

#[test]
fn automatic_push_after_writes_and_connection_strings_from_store_config() {
    let listener = Listener::start(&[]);
    let env = Env::new();
    env.run(&["init"]).ok();
    let config = format!(
        "formatVersion: 1\ntenant: default\npush:\n  auto: true\n  targets: [\"servicebus:FROM_STORE\"]\n  connectionStrings:\n    FROM_STORE: \"Endpoint=sb://127.0.0.1:{}/;SharedAccessKeyName=k;SharedAccessKey=store-secret;UseDevelopmentEmulator=true\"\n",
        listener.port
    );
    std::fs::write(env.store.join("store.yaml"), config).unwrap();
    let path = env.example();
    let out = env.run(&["register", path.to_str().unwrap()]);
    out.ok();
    assert_eq!(
        listener.requests().len(),
        1,
        "the register event went out with the command"
    );
    assert_eq!(
        listener.requests()[0].path,
        "/factory.templates.template/messages"
    );
    // A failing automatic push warns and never fails the command; the events stay pending.
    listener.script(&[400]);
    let out = env.run(&["version", EXAMPLE_NAME, "--version", "1.0.0"]);
    out.ok();
    assert!(
        out.stderr.contains("warning: automatic push failed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("store-secret"));
    let status = env.run(&["events", "push", "--status", "--json"]).json();
    assert_eq!(status["targets"][0]["pending"], 2);
    // The next write pushes what was pending too.
    env.run(&["validate", EXAMPLE_NAME]).ok();
    let status = env.run(&["events", "push", "--status", "--json"]).json();
    assert_eq!(status["targets"][0]["pending"], 0);
    assert_eq!(status["targets"][0]["pushed"], 4);
}

#[test]
fn amqp_dry_run_shows_routes_without_the_password() {
    let env = Env::new();
    env.published_example();
    let out = env.run(&[
        "events",
        "push",
        "--to",
        "amqp://factory:pa55word@127.0.0.1:1/%2f",
        "--dry-run",
    ]);
    out.ok();
    assert!(
        out.stdout.contains("amqp://factory:***@127.0.0.1:1/%2f"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("factory.integration (TemplatePublished)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("pa55word") && !out.stderr.contains("pa55word"));
    let out = env.run(&[
        "events",
        "push",
        "--to",
        "amqp://factory:pa55word@127.0.0.1:1/%2f",
        "--max-retries",
        "0",
    ]);
    out.expect_code(1);
    assert!(!out.stderr.contains("pa55word"), "{}", out.stderr);
    let out = env.run(&["events", "push", "--to", "ftp://x:pa55word@host"]);
    out.expect_code(2);
    assert!(!out.stderr.contains("pa55word"), "{}", out.stderr);
}

#[test]
fn a_damaged_line_stops_the_push_after_the_events_before_it_and_rebuild_lets_it_go_on() {
    let listener = Listener::start(&[]);
    let env = Env::new();
    env.published_example();
    let events = env.events();
    let ids = |requests: &[common::http::Request]| -> Vec<String> {
        requests
            .iter()
            .map(|r| r.header("ce-id").unwrap().to_string())
            .collect()
    };
    let logged: Vec<String> = events
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    // Line 5 of 8 is garbage; blank lines around it are not damage.
    let log = env.store.join("events.jsonl");
    let mut text: Vec<String> = lines(&env);
    text.insert(4, String::new());
    text.insert(5, "not an event {".into());
    text.insert(6, "   ".into());
    std::fs::write(&log, text.join("\n") + "\n\n").unwrap();
    let url = format!("{}/events", listener.url);

    // The push sends the four events before it, one by one, then stops there: a consumer
    // must not miss an event it expects.
    let out = env.run(&["events", "push", "--to", &url, "--batch", "1"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("stopped: events.jsonl:6 is damaged: not an event envelope")
            && out.stderr.contains("4 event(s) before it were delivered")
            && out.stderr.contains("`factory store rebuild`"),
        "{}",
        out.stderr
    );
    assert_eq!(ids(&listener.requests()), logged[..4]);
    // Pushing again resends nothing and stops at the same line.
    env.run(&["events", "push", "--to", &url]).expect_code(1);
    assert_eq!(listener.requests().len(), 4);
    // A dry run says the same; the status (a reader) counts what is readable, with a warning.
    let dry = env.run(&["events", "push", "--to", &url, "--dry-run"]);
    dry.expect_code(1);
    assert!(
        dry.stderr.contains("events.jsonl:6 is damaged"),
        "{}",
        dry.stderr
    );
    let status = env.run(&["--json", "events", "push", "--status"]);
    status.ok();
    assert!(
        status.stderr.contains("warning: events.jsonl:6 is damaged"),
        "{}",
        status.stderr
    );
    assert_eq!(status.json()["targets"][0]["pending"], 2);

    // Set aside, the rest goes, each event once.
    env.run(&["store", "rebuild"]).ok();
    let out = env.run(&["events", "push", "--to", &url, "--batch", "1"]);
    out.ok();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(ids(&listener.requests()), logged);
}
