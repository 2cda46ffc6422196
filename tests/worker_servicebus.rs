//! The worker over Azure Service Bus's REST API, against a local listener that plays the
//! namespace and checks each request against the documented shapes (a SAS token for the
//! entity, BrokerProperties, peek-lock receive, complete, abandon, renew lock), as the
//! event push tests do: commands sent with `factory send`, served by `factory worker
//! --from servicebus:NAME`, the outcome pushed to the topics, failures to `QUEUE.dlq`.

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use common::http::Listener;
use serde_json::{Value, json};

const QUEUE: &str = "factory.templates.scaffold-engine.commands";

#[derive(Debug, Clone)]
struct Message {
    id: String,
    body: String,
    properties: Vec<(String, String)>,
    deliveries: u32,
    lock: Option<String>,
}

#[derive(Debug, Default)]
struct Namespace {
    entities: HashMap<String, Vec<Message>>,
    completed: usize,
    abandoned: usize,
    renewed: usize,
    problems: Vec<String>,
    next_lock: u64,
}

/// The namespace: answers as Service Bus does, records what does not fit the docs.
fn namespace() -> (Listener, Arc<Mutex<Namespace>>) {
    let state = Arc::new(Mutex::new(Namespace::default()));
    let shared = Arc::clone(&state);
    let port = Arc::new(Mutex::new(0u16));
    let port_in = Arc::clone(&port);
    let listener = Listener::start_with_headers(Arc::new(
        move |request: &common::http::Request| {
            let mut ns = shared.lock().unwrap();
            let base = format!("http://127.0.0.1:{}", *port_in.lock().unwrap());
            let path = request
                .path
                .split('?')
                .next()
                .unwrap()
                .trim_start_matches('/')
                .to_string();
            let parts: Vec<&str> = path.split('/').collect();
            let entity = parts[0].to_string();
            // Every request carries a SAS token for its entity.
            let auth = request.header("authorization").unwrap_or_default();
            let fields: HashMap<&str, &str> = auth
                .strip_prefix("SharedAccessSignature ")
                .unwrap_or_default()
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let resource =
                common::http::percent_decode(fields.get("sr").copied().unwrap_or_default());
            if resource != format!("{base}/{entity}")
                || !fields.contains_key("sig")
                || fields.get("skn") != Some(&"RootManageSharedAccessKey")
                || fields.get("se").is_none_or(|se| se.parse::<u64>().is_err())
            {
                ns.problems.push(format!(
                    "{} {}: bad SAS token {auth}",
                    request.method, request.path
                ));
                return (401, Vec::new(), String::new());
            }
            match (request.method.as_str(), &parts[1..]) {
                ("POST", ["messages"]) => {
                    let broker: Value =
                        serde_json::from_str(request.header("brokerproperties").unwrap_or("{}"))
                            .unwrap_or_default();
                    let mut batch = Vec::new();
                    if request.header("content-type")
                        == Some("application/vnd.microsoft.servicebus.json")
                    {
                        for item in serde_json::from_slice::<Vec<Value>>(&request.body).unwrap() {
                            batch.push((
                                item["BrokerProperties"]["MessageId"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_string(),
                                item["Body"].as_str().unwrap_or_default().to_string(),
                                Vec::new(),
                            ));
                        }
                    } else {
                        let Some(id) = broker["MessageId"].as_str() else {
                            ns.problems.push(format!(
                                "a message to {entity} without BrokerProperties.MessageId"
                            ));
                            return (400, Vec::new(), String::new());
                        };
                        let properties = request
                            .headers
                            .iter()
                            .filter(|(k, _)| k.starts_with("cs-") || k.starts_with("x-factory-"))
                            .map(|(k, v)| {
                                if !(v.starts_with('"') && v.ends_with('"')) {
                                    ns.problems.push(format!(
                                        "custom property {k} is not a quoted string: {v}"
                                    ));
                                }
                                (k.clone(), v.trim_matches('"').to_string())
                            })
                            .collect();
                        batch.push((
                            id.to_string(),
                            String::from_utf8_lossy(&request.body).into_owned(),
                            properties,
                        ));
                    }
                    for (id, body, properties) in batch {
                        ns.entities
                            .entry(entity.clone())
                            .or_default()
                            .push(Message {
                                id,
                                body,
                                properties,
                                deliveries: 0,
                                lock: None,
                            });
                    }
                    (201, Vec::new(), String::new())
                }
                ("POST", ["messages", "head"]) => {
                    if !request.path.contains("timeout=") {
                        ns.problems.push("a receive without ?timeout=".into());
                    }
                    ns.next_lock += 1;
                    let token = format!("00000000-0000-0000-0000-{:012}", ns.next_lock);
                    let Some(message) = ns
                        .entities
                        .entry(entity.clone())
                        .or_default()
                        .iter_mut()
                        .find(|m| m.lock.is_none())
                    else {
                        return (204, Vec::new(), String::new());
                    };
                    message.deliveries += 1;
                    message.lock = Some(token.clone());
                    let until = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(300);
                    let until = until
                        .format(&time::format_description::well_known::Rfc2822)
                        .unwrap()
                        .replace("+0000", "GMT");
                    let broker = json!({"MessageId": message.id, "LockToken": token, "DeliveryCount": message.deliveries, "SequenceNumber": 1, "LockedUntilUtc": until});
                    let mut headers = vec![
                        ("BrokerProperties".to_string(), broker.to_string()),
                        (
                            "Location".to_string(),
                            format!("{base}/{entity}/messages/{}/{token}", message.id),
                        ),
                    ];
                    headers.extend(
                        message
                            .properties
                            .iter()
                            .map(|(k, v)| (k.clone(), format!("\"{v}\""))),
                    );
                    (201, headers, message.body.clone())
                }
                (method, ["messages", id, token]) => {
                    let messages = ns.entities.entry(entity.clone()).or_default();
                    let Some(at) = messages
                        .iter()
                        .position(|m| m.id == *id && m.lock.as_deref() == Some(*token))
                    else {
                        ns.problems.push(format!(
                            "{method} of a message that is not locked with {token}"
                        ));
                        return (404, Vec::new(), String::new());
                    };
                    match method {
                        "DELETE" => {
                            messages.remove(at);
                            ns.completed += 1;
                        }
                        "PUT" => {
                            messages[at].lock = None;
                            ns.abandoned += 1;
                        }
                        "POST" => ns.renewed += 1,
                        _ => ns.problems.push(format!("{method} on a lock URL")),
                    }
                    (200, Vec::new(), String::new())
                }
                _ => {
                    ns.problems
                        .push(format!("unexpected {} {}", request.method, request.path));
                    (400, Vec::new(), String::new())
                }
            }
        },
    ));
    *port.lock().unwrap() = listener.port;
    (listener, state)
}

#[test]
fn a_worker_serves_commands_from_service_bus_queues_through_the_rest_api() {
    let (listener, bus) = namespace();
    let mut env = Env::new();
    let connection = format!(
        "Endpoint=sb://127.0.0.1:{}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=sb-key-5e1f;UseDevelopmentEmulator=true",
        listener.port
    );
    env.set_env("FACTORY_SB", &connection);
    let example = common::repo().join("templates-examples/rust-cli");
    env.run(&["register", example.to_str().unwrap()]).ok();
    env.run(&["version", "Factory.Template.RustCli", "--version", "1.0.0"])
        .ok();
    env.run(&["validate", "Factory.Template.RustCli@1.0.0"])
        .ok();
    env.run(&["publish", "Factory.Template.RustCli@1.0.0"]).ok();
    let send = |payload: Value, extra: &[&str]| {
        let file = env.path(&format!(
            "p{}.json",
            bus.lock().unwrap().next_lock + rand_suffix()
        ));
        std::fs::write(&file, payload.to_string()).unwrap();
        let mut args = vec![
            "send",
            "GenerateScaffold",
            "--to",
            "servicebus:FACTORY_SB",
            "--payload",
            file.to_str().unwrap(),
            "--json",
        ];
        args.extend_from_slice(extra);
        let run = env.run(&args);
        run.ok();
        run.json()["commandId"].as_str().unwrap().to_string()
    };
    let good = send(
        json!({"template": "Factory.Template.RustCli", "target": {"folder": "svc"}}),
        &[],
    );
    send(json!({"template": 12}), &["--no-validate"]);
    send(
        json!({"template": "No.Such", "target": {"folder": "none"}}),
        &[],
    );
    // A repository nobody answers for: worth retrying, then given up on.
    send(
        json!({"template": "git://127.0.0.1:1/gone.git", "target": {"folder": "gone"}}),
        &[],
    );
    let waited = env.run(&[
        "send",
        "GenerateScaffold",
        "--to",
        "servicebus:FACTORY_SB",
        "--wait",
        "--no-validate",
    ]);
    waited.expect_code(2);
    assert!(
        waited.stderr.contains("--wait needs RabbitMQ"),
        "{}",
        waited.stderr
    );
    {
        let ns = bus.lock().unwrap();
        let queued = &ns.entities[QUEUE];
        assert_eq!(queued.len(), 4);
        assert_eq!(
            queued[0].id,
            good.trim_start_matches("cmd-"),
            "MessageId is the command id's UUID"
        );
        assert!(
            queued[0]
                .properties
                .iter()
                .any(|(k, v)| k == "cs-command-type" && v == "GenerateScaffold")
        );
    }
    std::fs::create_dir_all(env.path("out")).unwrap();
    let mut worker = env
        .command(&[
            "worker",
            "--from",
            "servicebus:FACTORY_SB",
            "--services",
            "scaffold-engine",
            "--output-root",
            env.path("out").to_str().unwrap(),
            "--health-interval",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(env.path("worker.log")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let ns = bus.lock().unwrap();
            let left = ns.entities.get(QUEUE).map_or(0, Vec::len);
            let dead = ns.entities.get(&format!("{QUEUE}.dlq")).map_or(0, Vec::len);
            if left == 0 && dead == 3 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{:?}\n{}",
            bus.lock().unwrap(),
            std::fs::read_to_string(env.path("worker.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::process::Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(worker.wait().unwrap().code(), Some(0));
    let ns = bus.lock().unwrap();
    assert!(ns.problems.is_empty(), "{:?}", ns.problems);
    assert!(env.path("out/svc/.factory/scaffold.yaml").is_file());
    // The outcome went to the topics through the event push.
    let integration: Vec<Value> = ns
        .entities
        .get("factory.integration")
        .into_iter()
        .flatten()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    assert!(
        integration
            .iter()
            .any(|e| e["eventType"] == "TemplateExecuted" && e["payload"]["status"] == "Succeeded"),
        "{integration:?}"
    );
    let dead = &ns.entities[&format!("{QUEUE}.dlq")];
    let reasons: Vec<&str> = dead
        .iter()
        .flat_map(|m| {
            m.properties
                .iter()
                .filter(|(k, _)| k == "x-factory-error")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("does not fit its schema")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("no template named") && !r.contains("attempts")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("cannot reach") && r.contains("after 3 attempts")),
        "{reasons:?}"
    );
    assert_eq!(
        ns.completed, 4,
        "every command completed (three after their copy went to the DLQ)"
    );
    assert_eq!(
        ns.abandoned, 2,
        "the unreachable one abandoned twice, then given up on; the missing template at once"
    );
    assert!(
        ns.renewed >= 1,
        "a lock was renewed while a command was being handled"
    );
    let text = format!("{:?}", env.store_snapshot());
    assert!(!text.contains("sb-key-5e1f"));
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        % 1_000_000
}
