//! Commands from queues on a real RabbitMQ (`scripts/rabbitmq-start`, which `.ci/run` runs
//! and which sets FACTORY_TEST_AMQP_URL): `factory send` and `factory worker` through every
//! outcome and failure mode, three workers with one killed by SIGKILL mid-way, and the
//! single active consumer of the registry queue taking over. Each test has its own vhost.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Env, Run};
use futures_util::StreamExt;
use lapin::options::*;
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};

const NEEDS: &str = "needs RabbitMQ: run scripts/rabbitmq-start";
const EXAMPLE: &str = "Factory.Template.RustCli";

/// A vhost of its own on the test broker; its URL.
fn vhost(name: &str) -> String {
    let base = std::env::var("FACTORY_TEST_AMQP_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("FACTORY_TEST_AMQP_URL is not set: {NEEDS}"));
    let vhost = format!("worker-{name}-{}", std::process::id());
    for args in [
        vec!["add_vhost", vhost.as_str()],
        vec![
            "set_permissions",
            "-p",
            vhost.as_str(),
            "guest",
            ".*",
            ".*",
            ".*",
        ],
    ] {
        let out = Command::new("rabbitmqctl")
            .args(["-n", &rabbitmq_node()])
            .args(&args)
            .output()
            .expect("rabbitmqctl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    format!("{}/{vhost}", base.rsplit_once('/').unwrap().0)
}

/// A store with the rust-cli example published, and an output root.
fn prepared() -> Env {
    let env = Env::new();
    let example = common::repo().join("templates-examples/rust-cli");
    env.run(&["register", example.to_str().unwrap()]).ok();
    env.run(&["version", EXAMPLE, "--version", "1.0.0"]).ok();
    env.run(&["validate", &format!("{EXAMPLE}@1.0.0")]).ok();
    env.run(&["publish", &format!("{EXAMPLE}@1.0.0")]).ok();
    std::fs::create_dir_all(env.path("out")).unwrap();
    env
}

/// A running `factory worker`, its stderr in a file; killed on drop.
struct Worker {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Worker {
    fn start(env: &Env, url: &str, name: &str, extra: &[&str]) -> Worker {
        let log = env.path(&format!("{name}.log"));
        let mut command = env.command(&[
            "worker",
            "--from",
            url,
            "--output-root",
            env.path("out").to_str().unwrap(),
            "--health-interval",
            "1",
        ]);
        command.args(extra);
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Serving once its first health line is out.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("worker: handled")
        {
            assert!(
                Instant::now() < deadline,
                "the worker did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Worker { child, log }
    }

    /// SIGTERM, then its exit code.
    fn stop(mut self) -> i32 {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap().code().unwrap_or(-1)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn send(env: &Env, url: &str, command_type: &str, payload: &Value, extra: &[&str]) -> Run {
    let file = env.path(&format!("payload-{}.json", uuid_like()));
    std::fs::write(&file, payload.to_string()).unwrap();
    let mut args = vec![
        "send",
        command_type,
        "--to",
        url,
        "--payload",
        file.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn uuid_like() -> String {
    format!("{:?}", Instant::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

/// Every message on a dead-letter queue (taken off it): (message id, reason header).
fn dead_letters(url: &str, queue: &str) -> Vec<(String, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = Connection::connect(url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let mut out = Vec::new();
        while let Some(message) = channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            let id = message
                .properties
                .message_id()
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default();
            out.push((
                id,
                factory::queue::amqp::header(&message.properties, "x-factory-error")
                    .unwrap_or_default(),
            ));
        }
        let _ = connection.close(200, "done".into()).await;
        out
    })
}

/// Events arriving on `factory.integration`, collected in the background.
fn listen(url: &str) -> Arc<Mutex<Vec<Value>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (url, into) = (url.to_string(), Arc::clone(&seen));
    let (ready, is_ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let connection = Connection::connect(&url, ConnectionProperties::default())
                .await
                .unwrap();
            let channel = connection.create_channel().await.unwrap();
            let durable = ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            };
            channel
                .exchange_declare(
                    "factory.integration".into(),
                    ExchangeKind::Topic,
                    durable,
                    FieldTable::default(),
                )
                .await
                .unwrap();
            let options = QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            };
            let queue = channel
                .queue_declare("".into(), options, FieldTable::default())
                .await
                .unwrap();
            channel
                .queue_bind(
                    queue.name().clone(),
                    "factory.integration".into(),
                    "#".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .unwrap();
            let mut consumer = channel
                .basic_consume(
                    queue.name().clone(),
                    "".into(),
                    BasicConsumeOptions {
                        no_ack: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .unwrap();
            ready.send(()).unwrap();
            while let Some(Ok(delivery)) = consumer.next().await {
                into.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&delivery.data).unwrap());
            }
        });
    });
    is_ready.recv().unwrap();
    seen
}

fn generate(folder: &str) -> Value {
    json!({"template": EXAMPLE, "answers": {}, "target": {"folder": folder}})
}

#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn commands_round_trip_through_a_worker_with_the_exit_codes_of_the_command_line() {
    let url = vhost("round-trip");
    let env = prepared();
    let worker = Worker::start(&env, &url, "worker", &[]);

    let made = send(
        &env,
        &url,
        "GenerateScaffold",
        &generate("orders"),
        &["--wait"],
    );
    made.ok();
    let sent = made.json();
    let command_id = sent["commandId"].as_str().unwrap().to_string();
    assert_eq!(sent["queue"], "factory.templates.scaffold-engine.commands");
    assert_eq!(sent["outcome"]["eventType"], "TemplateExecuted");
    assert_eq!(sent["outcome"]["payload"]["status"], "Succeeded");
    assert!(env.path("out/orders/.factory/scaffold.yaml").is_file());
    // The command's events: its correlation id, the first caused by the command.
    let caused: Vec<Value> = env
        .events()
        .into_iter()
        .filter(|e| e["causationId"] == command_id.as_str())
        .collect();
    assert_eq!(
        caused.len(),
        1,
        "one write, its first event caused by the command"
    );
    assert_eq!(caused[0]["eventType"], "TemplateExecutionRequested");

    let validated = send(
        &env,
        &url,
        "ValidateTemplate",
        &json!({"template": format!("{EXAMPLE}@1.0.0")}),
        &["--wait"],
    );
    validated.ok();
    assert_eq!(validated.json()["outcome"]["payload"]["passed"], true);
    let incompatible = send(
        &env,
        &url,
        "EvaluateCompatibility",
        &json!({"templates": [format!("{EXAMPLE}@1.0.0")], "runtime": "net6.0"}),
        &["--wait"],
    );
    assert!([0, 3].contains(&incompatible.code), "{incompatible:?}");
    assert_eq!(
        incompatible.json()["outcome"]["eventType"],
        "CompatibilityEvaluated"
    );

    // Failure modes: each with its reason and exit code, nothing written.
    let unknown_type = send(
        &env,
        &url,
        "MakeCoffee",
        &json!({}),
        &["--wait", "--service", "scaffold-engine", "--no-validate"],
    );
    unknown_type.expect_code(2);
    assert!(
        unknown_type
            .stderr
            .contains("`MakeCoffee` is not a command type"),
        "{}",
        unknown_type.stderr
    );
    let bad_payload = send(
        &env,
        &url,
        "GenerateScaffold",
        &json!({"template": 7}),
        &["--wait", "--no-validate"],
    );
    bad_payload.expect_code(2);
    assert!(
        bad_payload.stderr.contains("does not fit its schema"),
        "{}",
        bad_payload.stderr
    );
    let refused_locally = send(&env, &url, "GenerateScaffold", &json!({"template": 7}), &[]);
    refused_locally.expect_code(2);
    let missing = send(
        &env,
        &url,
        "GenerateScaffold",
        &json!({"template": "No.Such.Template", "target": {"folder": "nothing"}}),
        &["--wait", "--timeout", "30"],
    );
    missing.expect_code(1);
    assert_eq!(missing.json()["outcome"]["payload"]["status"], "Failed");
    assert!(
        missing.json()["outcome"]["payload"]["error"]
            .as_str()
            .unwrap()
            .contains("no template named `No.Such.Template`")
    );
    let escape = send(
        &env,
        &url,
        "GenerateScaffold",
        &generate("../escaped"),
        &["--wait"],
    );
    escape.expect_code(2);
    assert!(
        escape.json()["outcome"]["payload"]["error"]
            .as_str()
            .unwrap()
            .contains("leaves the output root"),
        "{}",
        escape.stdout
    );
    assert!(!env.path("escaped").exists() && !env.path("out/nothing").exists());

    // A repository target: the output committed (.factory/ included, the command in a
    // trailer) and pushed to a new branch before the run is recorded.
    let remote = env.path("remote.git");
    assert!(
        Command::new("git")
            .args(["init", "--bare", "--quiet"])
            .arg(&remote)
            .status()
            .unwrap()
            .success()
    );
    let url_of_remote = format!("file://{}", remote.display());
    let to_repository = json!({"template": EXAMPLE, "target": {"repository": url_of_remote, "branch": "scaffold/orders"}});
    let pushed = send(&env, &url, "GenerateScaffold", &to_repository, &["--wait"]);
    pushed.ok();
    let pushed_id = pushed.json()["commandId"].as_str().unwrap().to_string();
    let git = |args: &[&str]| {
        String::from_utf8(
            Command::new("git")
                .arg("--git-dir")
                .arg(&remote)
                .args(args)
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
    };
    assert!(
        git(&["log", "-1", "--format=%B", "scaffold/orders"])
            .contains(&format!("Factory-Command: {pushed_id}"))
    );
    assert!(
        git(&["ls-tree", "-r", "--name-only", "scaffold/orders"])
            .lines()
            .any(|l| l == ".factory/scaffold.yaml")
    );
    let generated = env
        .events()
        .into_iter()
        .find(|e| {
            e["eventType"] == "ScaffoldGenerated"
                && e["correlationId"] == pushed.json()["outcome"]["correlationId"]
        })
        .unwrap();
    assert_eq!(
        generated["payload"]["repository"],
        format!("{url_of_remote}#scaffold/orders")
    );
    // The branch exists now: a second push is refused, recorded as a failed run.
    let again = send(&env, &url, "GenerateScaffold", &to_repository, &["--wait"]);
    again.expect_code(1);
    assert!(again.stderr.contains("cannot push to"), "{}", again.stderr);
    let not_a_url = send(
        &env,
        &url,
        "GenerateScaffold",
        &json!({"template": EXAMPLE, "target": {"repository": "not a url", "branch": "b"}}),
        &["--wait"],
    );
    not_a_url.expect_code(2);
    assert!(
        std::fs::read_dir(env.path("out")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".factory-push-")),
        "scratch folders are removed"
    );

    assert_eq!(worker.stop(), 0, "SIGTERM stops it cleanly");
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    let reasons: Vec<&str> = dlq.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(dlq.len(), 6, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("cannot push to")));
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("is not a git repository URL"))
    );
    assert!(reasons.iter().any(|r| r.contains("not a command type")));
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("does not fit its schema"))
    );
    // A template that is not there will not be there on a retry: dead-lettered at once,
    // with the problem and nothing meant for a person at a terminal.
    let missing = reasons
        .iter()
        .find(|r| r.contains("no template named"))
        .expect("the missing template is dead-lettered");
    assert!(!missing.contains("attempts"), "not retried: {missing}");
    assert!(!missing.contains("`factory "), "no CLI hint: {missing}");
    assert!(reasons.iter().any(|r| r.contains("leaves the output root")));
    env.run(&["store", "check"]).ok();
}

/// Outcome events per command id in a store's log (following causation chains).
fn outcomes_by_command(env: &Env) -> std::collections::HashMap<String, usize> {
    let mut command_of: std::collections::HashMap<String, String> = Default::default();
    let mut out: std::collections::HashMap<String, usize> = Default::default();
    for event in env.events() {
        let Some(cause) = event["causationId"].as_str() else {
            continue;
        };
        let command = if cause.starts_with("cmd-") {
            Some(cause.to_string())
        } else {
            command_of.get(cause).cloned()
        };
        if let Some(command) = command {
            command_of.insert(
                event["eventId"].as_str().unwrap().to_string(),
                command.clone(),
            );
            if ["TemplateExecuted", "TemplateValidated"]
                .contains(&event["eventType"].as_str().unwrap())
            {
                *out.entry(command).or_default() += 1;
            }
        }
    }
    out
}

#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn three_workers_one_killed_mid_way_handle_every_command_exactly_once() {
    let url = vhost("scale-out");
    let env = prepared();
    // The preparation's events reach the broker with the first push too.
    let before: std::collections::HashSet<String> = env
        .events()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    let heard = listen(&url);
    let services = [
        "--services",
        "scaffold-engine,template-validation",
        "--concurrency",
        "2",
    ];
    let mut workers: Vec<Option<Worker>> = (0..3)
        .map(|i| Some(Worker::start(&env, &url, &format!("w{i}"), &services)))
        .collect();
    // 600 commands: 450 generates, 120 validations, 30 malformed on purpose.
    let mut batch = Vec::new();
    for i in 0..600 {
        let (kind, payload) = match i % 20 {
            0 => ("GenerateScaffold", json!({"template": 42})),
            1..=4 => (
                "ValidateTemplate",
                json!({"template": format!("{EXAMPLE}@1.0.0")}),
            ),
            _ => ("GenerateScaffold", generate(&format!("p{i:03}"))),
        };
        batch.push(json!({"type": kind, "payload": payload}));
    }
    let senders: Vec<_> = batch
        .chunks(100)
        .enumerate()
        .map(|(n, chunk)| {
            let script = chunk
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let file = env.path(&format!("c{n}-{i}.json"));
                    std::fs::write(&file, c["payload"].to_string()).unwrap();
                    format!("\"$F\" send {} --to '{url}' --payload {} --no-validate >/dev/null || exit 1\n", c["type"].as_str().unwrap(), file.display())
                })
                .collect::<String>();
            env.program("sh").args(["-c", &script]).spawn().unwrap()
        })
        .collect();
    for mut sender in senders {
        assert!(sender.wait().unwrap().success());
    }
    // Kill one worker mid-way, start another.
    let deadline = Instant::now() + Duration::from_secs(480);
    while outcomes_by_command(&env).len() < 150 {
        assert!(Instant::now() < deadline, "too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut victim = workers[0].take().unwrap();
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    workers.push(Some(Worker::start(&env, &url, "w3", &services)));
    while outcomes_by_command(&env).len() < 600 {
        assert!(
            Instant::now() < deadline,
            "only {} of 600 outcomes",
            outcomes_by_command(&env).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for worker in workers.into_iter().flatten() {
        assert_eq!(worker.stop(), 0);
    }
    let outcomes = outcomes_by_command(&env);
    // The malformed ones too: a GenerateScaffold given up on is recorded as a failed execution.
    assert_eq!(outcomes.len(), 600);
    assert!(
        outcomes.values().all(|&n| n == 1),
        "a command's outcome was recorded twice"
    );
    // On the broker: every outcome once by event id (a redelivered push repeats an id, never an event).
    std::thread::sleep(Duration::from_millis(500));
    let heard = heard.lock().unwrap();
    let mut ids: Vec<&str> = heard
        .iter()
        .filter(|e| {
            ["TemplateExecuted", "TemplateValidated"].contains(&e["eventType"].as_str().unwrap())
        })
        .map(|e| e["eventId"].as_str().unwrap())
        .filter(|id| !before.contains(*id))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 600);
    let failed = heard
        .iter()
        .filter(|e| e["eventType"] == "TemplateExecuted" && e["payload"]["status"] == "Failed")
        .map(|e| e["eventId"].as_str().unwrap())
        .collect::<std::collections::HashSet<_>>();
    assert_eq!(failed.len(), 30);
    // At least once by command id: a worker killed between dead-lettering a command and
    // acking it leaves a second copy, with the same message id.
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    let distinct: std::collections::HashSet<&str> = dlq.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(distinct.len(), 30, "exactly the malformed commands");
    assert!(
        dlq.iter()
            .all(|(_, reason)| reason.contains("does not fit its schema"))
    );
    let generated = std::fs::read_dir(env.path("out")).unwrap().count();
    assert_eq!(generated, 450);
    env.run(&["store", "check"]).ok();
}

#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn one_worker_writes_the_registry_and_another_takes_over_when_it_dies() {
    let url = vhost("single-active");
    let env = prepared();
    let registry = ["--services", "template-registry"];
    let first = Worker::start(&env, &url, "first", &registry);
    let second = Worker::start(&env, &url, "second", &registry);
    for _ in 0..10 {
        send(
            &env,
            &url,
            "CreateTemplateVersion",
            &json!({"template": EXAMPLE, "bump": "patch"}),
            &[],
        )
        .ok();
    }
    let versions = |env: &Env| {
        env.events()
            .iter()
            .filter(|e| e["eventType"] == "TemplateVersionCreated")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while versions(&env) < 4 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    // Only the first is active; the second has handled nothing.
    assert!(
        second
            .log()
            .lines()
            .all(|l| !l.starts_with("worker: handled") || l.starts_with("worker: handled 0")),
        "{}",
        second.log()
    );
    let mut first = first;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    for _ in 0..5 {
        send(
            &env,
            &url,
            "CreateTemplateVersion",
            &json!({"template": EXAMPLE, "bump": "patch"}),
            &[],
        )
        .ok();
    }
    while versions(&env) < 16 {
        assert!(Instant::now() < deadline, "{} versions", versions(&env));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(second.stop(), 0);
    let numbers: Vec<String> = env
        .events()
        .iter()
        .filter(|e| e["eventType"] == "TemplateVersionCreated")
        .map(|e| e["payload"]["version"].as_str().unwrap().to_string())
        .collect();
    let mut distinct = numbers.clone();
    distinct.dedup();
    assert_eq!(numbers.len(), 16, "1.0.0 and fifteen patches: {numbers:?}");
    assert_eq!(distinct, numbers, "no version twice");
    assert_eq!(numbers.last().unwrap(), "1.0.15");
}

#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn a_worker_never_writes_over_files_already_in_a_target() {
    let env = prepared();
    let url = vhost("precious");
    let worker = Worker::start(&env, &url, "w", &["--max-attempts", "3"]);
    let precious = env.path("out/precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("README.md"), "do not touch\n").unwrap();
    let refused = send(
        &env,
        &url,
        "GenerateScaffold",
        &generate("precious"),
        &["--wait", "--timeout", "30"],
    );
    refused.expect_code(1);
    assert_eq!(refused.json()["outcome"]["payload"]["status"], "Failed");
    assert!(
        refused.json()["outcome"]["payload"]["error"]
            .as_str()
            .unwrap()
            .contains("is not empty"),
        "{}",
        refused.stdout
    );
    let listing = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        std::fs::read_to_string(precious.join("README.md")).unwrap(),
        "do not touch\n"
    );
    assert_eq!(listing(&precious), ["README.md"]);
    // Only the command itself may ask to replace them.
    let mut overwrite = generate("precious");
    overwrite["overwrite"] = json!(true);
    send(
        &env,
        &url,
        "GenerateScaffold",
        &overwrite,
        &["--wait", "--timeout", "30"],
    )
    .ok();
    assert!(precious.join(".factory/scaffold.yaml").exists());
    // A folder or file:// repository of the worker's own machine is not a queue's to name
    // (the worker runs without --allow-local-sources).
    let folder = common::repo().join("templates-examples/rust-cli");
    for local in [
        folder.display().to_string(),
        format!("file://{}", common::repo().display()),
    ] {
        let payload = json!({"template": local, "target": {"folder": "local"}});
        let refused = send(&env, &url, "GenerateScaffold", &payload, &["--wait"]);
        refused.expect_code(2);
        assert!(!env.path("out/local").exists());
    }
    assert_eq!(worker.stop(), 0);
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    assert_eq!(dlq.len(), 3, "{dlq:?}");
    assert!(dlq[0].1.contains("is not empty"), "{dlq:?}");
    assert!(!dlq[0].1.contains("attempts"), "refused at once: {dlq:?}");
    assert!(
        dlq[1..]
            .iter()
            .all(|(_, r)| r.contains("of the worker's own machine")),
        "{dlq:?}"
    );
}

#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn a_command_delivered_three_times_at_once_has_one_outcome() {
    let env = prepared();
    let url = vhost("duplicates");
    let worker = Worker::start(&env, &url, "w", &["--concurrency", "2"]);
    let envelopes: Vec<_> = (0..20)
        .map(|n| raw_command(&format!("dup-{n}"), generate(&format!("dup{n}"))))
        .collect();
    let ids: Vec<String> = envelopes.iter().map(|e| e.command_id.clone()).collect();
    let copies: Vec<_> = envelopes.iter().flat_map(|e| [e, e, e]).collect();
    publish_raw(&url, &copies);
    // Sixty deliveries, each settled: the first of each id handled, its copies answered.
    let deadline = Instant::now() + Duration::from_secs(180);
    while !worker.log().contains("handled 60,") {
        assert!(Instant::now() < deadline, "{}", worker.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(worker.stop(), 0);
    let outcomes = outcomes_by_command(&env);
    for id in &ids {
        assert_eq!(outcomes.get(id), Some(&1), "{id}: {outcomes:?}");
    }
    let failed = env
        .events()
        .into_iter()
        .filter(|e| e["eventType"] == "TemplateExecuted" && e["payload"]["status"] == "Failed")
        .count();
    assert_eq!(failed, 0, "no duplicate ran into its own output");
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    assert!(
        dlq.is_empty(),
        "nothing that succeeded is dead-lettered: {dlq:?}"
    );
}

/// Issue 25 item 8: a worker whose broker connection is closed says so and exits non-zero
/// (a supervisor restarts it), instead of ending quietly with status 0.
#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn a_worker_whose_connection_is_closed_exits_non_zero_and_says_why() {
    let env = prepared();
    let url = vhost("lost");
    let mut worker = Worker::start(&env, &url, "w", &[]);
    let vhost = format!("worker-lost-{}", std::process::id());
    let closed = Command::new("rabbitmqctl")
        .args([
            "-n",
            &rabbitmq_node(),
            "close_all_connections",
            "--vhost",
            &vhost,
        ])
        .arg("closed by the test")
        .output()
        .unwrap();
    assert!(
        closed.status.success(),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = worker.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the worker kept running: {}",
            worker.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(1), "{}", worker.log());
    assert!(
        worker.log().contains("the broker closed the connection"),
        "{}",
        worker.log()
    );
}

/// Issue 25 item 8: a command larger than a worker reads is dead-lettered (without its
/// body) before anything is recorded, and the worker goes on with the next one.
#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn an_oversized_command_is_dead_lettered_before_anything_is_recorded() {
    let env = prepared();
    let url = vhost("oversized");
    let worker = Worker::start(&env, &url, "w", &[]);
    let before = env.events().len();
    let mut answers = serde_json::Map::new();
    for n in 0..120_000 {
        answers.insert(format!("k{n:06}"), json!("v"));
    }
    let payload = json!({"template": EXAMPLE, "answers": answers, "target": {"folder": "big"}});
    let envelope = raw_command("big", payload);
    assert!(envelope.to_bytes().len() > 1 << 20);
    publish_raw(&url, &[&envelope]);
    // A normal command after it is handled.
    send(
        &env,
        &url,
        "GenerateScaffold",
        &generate("after"),
        &["--wait", "--timeout", "60"],
    )
    .ok();
    assert_eq!(worker.stop(), 0);
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    assert_eq!(dlq.len(), 1, "{dlq:?}");
    assert!(dlq[0].1.contains("more than the 1048576"), "{dlq:?}");
    assert!(!env.path("out/big").exists());
    let recorded: Vec<Value> = env.events().into_iter().skip(before).collect();
    assert!(
        recorded.iter().all(|e| e["correlationId"] != "big"),
        "nothing of the oversized command is recorded"
    );
}

/// Issue 25 item 4: the broker's URL from FACTORY_AMQP_URL, so its password is not on a
/// command line for `ps` to show; never printed in clear, not even by `--help`.
#[test]
fn the_broker_url_comes_from_the_environment_and_its_password_is_never_printed() {
    let env = Env::new();
    let url = "amqp://factory:s3cret-broker-pw@127.0.0.1:1/%2f";
    let payload = env.path("payload.json");
    std::fs::write(&payload, r#"{"name": "Acme.Json"}"#).unwrap();
    let mut send = env.command(&["send", "RegisterLibrary", "--payload"]);
    send.arg(&payload).env("FACTORY_AMQP_URL", url);
    let sent: Run = send.output().unwrap().into();
    sent.expect_code(1);
    assert!(sent.stderr.contains("127.0.0.1:1"), "{}", sent.stderr);
    assert!(!format!("{}{}", sent.stdout, sent.stderr).contains("s3cret-broker-pw"));
    for command in ["send", "worker"] {
        let mut help = env.command(&[command, "--help"]);
        help.env("FACTORY_AMQP_URL", url);
        let help: Run = help.output().unwrap().into();
        help.ok();
        assert!(help.stdout.contains("FACTORY_AMQP_URL"), "{}", help.stdout);
        assert!(!help.stdout.contains("s3cret-broker-pw"), "{}", help.stdout);
    }
}

/// A GenerateScaffold envelope as a sender other than `factory send` would make it.
fn raw_command(correlation: &str, payload: Value) -> factory::queue::CommandEnvelope {
    factory::queue::CommandEnvelope {
        command_id: format!("cmd-{}", uuid::Uuid::now_v7()),
        command_type: "GenerateScaffold".into(),
        tenant_id: "default".into(),
        project_id: None,
        module_id: None,
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        correlation_id: correlation.into(),
        causation_id: None,
        issued_at: "2026-12-05T00:00:00Z".into(),
        payload,
    }
}

/// Puts these messages on the scaffold engine's queue as they are, in order, confirmed.
fn publish_raw(url: &str, envelopes: &[&factory::queue::CommandEnvelope]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = Connection::connect(url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        for envelope in envelopes {
            channel
                .basic_publish(
                    "".into(),
                    "factory.templates.scaffold-engine.commands".into(),
                    BasicPublishOptions::default(),
                    &envelope.to_bytes(),
                    factory::queue::amqp::properties(envelope, &[]),
                )
                .await
                .unwrap()
                .await
                .unwrap();
        }
        let _ = connection.close(200, "done".into()).await;
    });
}

/// The test node's name, as scripts/rabbitmq-start printed it.
fn rabbitmq_node() -> String {
    std::env::var("FACTORY_TEST_RABBITMQ_NODE").unwrap_or_else(|_| "factory-test@localhost".into())
}

/// Issue 26 item 2: a worker command whose target folder is a `.git` (or inside one) is
/// refused for good, as the command line refuses it, and the repository is left as it was.
#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn a_target_folder_named_git_is_refused_and_the_repository_is_left_as_it_was() {
    let url = vhost("dot-git");
    let env = prepared();
    let victim = env.path("out/victimproj");
    std::fs::create_dir_all(&victim).unwrap();
    assert!(
        Command::new("git")
            .args(["init", "--quiet"])
            .arg(&victim)
            .status()
            .unwrap()
            .success()
    );
    let before = common::snapshot(&env.path("out"));
    let worker = Worker::start(&env, &url, "worker", &[]);
    for folder in ["victimproj/.git", "victimproj/.git/hooks", "fresh/.GIT"] {
        let refused = send(
            &env,
            &url,
            "GenerateScaffold",
            &generate(folder),
            &["--wait"],
        );
        refused.expect_code(2);
        assert!(
            refused.json()["outcome"]["payload"]["error"]
                .as_str()
                .unwrap()
                .contains("a git repository's own folder"),
            "{folder}: {}",
            refused.stdout
        );
    }
    assert_eq!(worker.stop(), 0, "{}", "the worker stops cleanly");
    assert_eq!(
        before,
        common::snapshot(&env.path("out")),
        "nothing was written"
    );
    assert!(!env.path("out/fresh").exists());
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    assert_eq!(dlq.len(), 3, "{dlq:?}");
    assert!(
        dlq.iter()
            .all(|(_, r)| r.contains("a git repository's own folder"))
    );
}

/// Issue 27 items 13 and 14: the worker logs one line per command handled (type, id,
/// outcome, duration, error; a JSON object with --json), and `send --wait` prints success and
/// failure in one shape (status, event, output or reason), in text and JSON.
#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn the_worker_logs_each_command_and_send_prints_every_outcome_in_one_shape() {
    let url = vhost("log-lines");
    let env = prepared();
    let worker = Worker::start(&env, &url, "w", &["--max-attempts", "1"]);
    let payload = |name: &str, value: &Value| {
        let file = env.path(name);
        std::fs::write(&file, value.to_string()).unwrap();
        file.to_str().unwrap().to_string()
    };
    let good = payload("good.json", &generate("orders"));
    let made = env.run(&[
        "send",
        "GenerateScaffold",
        "--to",
        &url,
        "--payload",
        &good,
        "--wait",
    ]);
    made.ok();
    let lines: Vec<&str> = made.stdout.lines().collect();
    assert!(lines[0].starts_with("Sent cmd-"), "{}", made.stdout);
    assert_eq!(lines[1], "  status  succeeded (exit 0)", "{}", made.stdout);
    assert!(
        lines[2].starts_with("  event   TemplateExecuted evt-"),
        "{}",
        made.stdout
    );
    assert_eq!(
        lines[3], "  output  orders (below the worker's --output-root)",
        "{}",
        made.stdout
    );
    let bad = payload(
        "bad.json",
        &json!({"template": "No.Such.Template", "target": {"folder": "nothing"}}),
    );
    let failed = env.run(&[
        "send",
        "GenerateScaffold",
        "--to",
        &url,
        "--payload",
        &bad,
        "--wait",
    ]);
    failed.expect_code(1);
    let lines: Vec<&str> = failed.stdout.lines().collect();
    assert_eq!(lines[1], "  status  failed (exit 1)", "{}", failed.stdout);
    assert!(lines[2].starts_with("  event   TemplateExecuted evt-"));
    assert!(
        lines[3].starts_with("  reason  ")
            && lines[3].contains("no template named `No.Such.Template`"),
        "{}",
        failed.stdout
    );
    assert!(
        failed.stderr.contains("failed (exit 1): ") && failed.stderr.contains("no template named"),
        "{}",
        failed.stderr
    );
    // The same shape in JSON, for both.
    let json_ok = send(
        &env,
        &url,
        "GenerateScaffold",
        &generate("billing"),
        &["--wait"],
    );
    json_ok.ok();
    let doc = json_ok.json();
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(doc["output"], "billing");
    assert_eq!(doc["reason"], Value::Null);
    assert_eq!(doc["eventId"], doc["outcome"]["eventId"]);
    let json_failed = send(
        &env,
        &url,
        "GenerateScaffold",
        &json!({"template": "No.Such.Template", "target": {"folder": "x"}}),
        &["--wait"],
    );
    json_failed.expect_code(1);
    let doc = json_failed.json();
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["output"], Value::Null);
    assert!(
        doc["reason"]
            .as_str()
            .unwrap()
            .contains("no template named")
    );
    assert!(doc["eventId"].as_str().unwrap().starts_with("evt-"));
    let malformed = send(
        &env,
        &url,
        "GenerateScaffold",
        &json!({"template": 7}),
        &["--wait", "--no-validate"],
    );
    malformed.expect_code(2);
    assert_eq!(malformed.json()["status"], "dead-lettered");
    assert!(
        malformed.json()["reason"]
            .as_str()
            .unwrap()
            .contains("does not fit its schema")
    );
    let made_id = made.stdout[5..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let failed_id = failed.stdout[5..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(worker.stop(), 0);
    // One line per command: type, id, outcome, duration, and the error of a failure.
    let log = std::fs::read_to_string(env.path("w.log")).unwrap();
    let line_of = |id: &str| {
        log.lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{log}"))
            .to_string()
    };
    let ok_line = line_of(&made_id);
    assert!(
        ok_line.starts_with(&format!("worker: GenerateScaffold {made_id} succeeded in "))
            && ok_line.ends_with('s'),
        "{ok_line}"
    );
    let failed_line = line_of(&failed_id);
    assert!(
        failed_line.starts_with(&format!("worker: GenerateScaffold {failed_id} failed in "))
            && failed_line.contains(", exit 1: ")
            && failed_line.contains("no template named"),
        "{failed_line}"
    );
    let commands = log
        .lines()
        .filter(|l| l.starts_with("worker: GenerateScaffold "))
        .count();
    assert_eq!(commands, 5, "{log}");

    // With --json, each line is an object a log shipper reads.
    let log_file = env.path("json.log");
    let mut child = env
        .command(&[
            "worker",
            "--from",
            &url,
            "--output-root",
            env.path("out").to_str().unwrap(),
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .unwrap();
    let sent = send(
        &env,
        &url,
        "GenerateScaffold",
        &generate("json-one"),
        &["--wait"],
    );
    sent.ok();
    let id = sent.json()["commandId"].as_str().unwrap().to_string();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let text = std::fs::read_to_string(&log_file).unwrap();
    let line: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["commandId"] == id.as_str())
        .unwrap_or_else(|| panic!("no JSON line for {id}:\n{text}"));
    assert_eq!(line["commandType"], "GenerateScaffold");
    assert_eq!(line["outcome"], "succeeded");
    assert_eq!(line["exitCode"], 0);
    assert_eq!(line["attempt"], 1);
    assert_eq!(line["error"], Value::Null);
    assert!(line["durationMs"].as_u64().is_some());
    assert_eq!(line["queue"], "factory.templates.scaffold-engine.commands");
}

/// Issue 22: whether a retry can help is decided by the kind of error. A template that is
/// not there is dead-lettered after one attempt; a source that cannot be reached now (a
/// closed port: an outage) is tried again, and dead-lettered only after the last attempt,
/// with the count in the reason.
#[test]
#[ignore = "needs RabbitMQ: run scripts/rabbitmq-start"]
fn an_outage_is_retried_and_a_missing_template_is_not() {
    let env = prepared();
    let url = vhost("retry");
    let worker = Worker::start(&env, &url, "w", &["--max-attempts", "3"]);
    let missing = send(
        &env,
        &url,
        "GenerateScaffold",
        &serde_json::json!({"template": "no-such-template", "target": {"folder": "a"}}),
        &["--wait", "--timeout", "60"],
    );
    assert_eq!(missing.json()["status"], "failed", "{}", missing.stdout);
    let outage = send(
        &env,
        &url,
        "GenerateScaffold",
        &serde_json::json!({"template": "git://127.0.0.1:1/gone.git", "target": {"folder": "b"}}),
        &["--wait", "--timeout", "60"],
    );
    assert_ne!(outage.code, 0, "{}", outage.stdout);
    let log = worker.log();
    assert_eq!(worker.stop(), 0);
    let dlq = dead_letters(&url, "factory.templates.scaffold-engine.commands.dlq");
    let reasons: Vec<&str> = dlq.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(dlq.len(), 2, "{reasons:?}\n{log}");
    let missing = reasons.iter().find(|r| r.contains("no template named"));
    assert!(
        missing.is_some_and(|r| !r.contains("attempts") && !r.contains("`factory ")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("cannot reach") && r.contains("after 3 attempts")),
        "{reasons:?}\n{log}"
    );
    // The worker's log line per attempt: the outage three times, the missing template once.
    let attempts = |needle: &str| {
        log.lines()
            .filter(|l| l.starts_with("worker: GenerateScaffold") && l.contains(needle))
            .count()
    };
    assert!(log.contains("attempt 3"), "{log}");
    assert_eq!(attempts("no template named"), 1, "{log}");
}
