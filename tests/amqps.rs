//! `amqps://` is TLS or an error, for events (`events push`) and commands (`send`, and the
//! worker, which opens its connection the same way): against a loopback server that records
//! the first bytes it is sent (not ignored: no broker needed), and against a real RabbitMQ
//! with a TLS listener from a test CA (`scripts/rabbitmq-start`, then `scripts/rabbitmq-tls`,
//! which `.ci/run` runs; they set FACTORY_TEST_AMQP_URL, FACTORY_TEST_AMQPS_URL and
//! FACTORY_TEST_AMQPS_CA).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Env, Run};
use lapin::options::*;
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use serde_json::json;

const NEEDS: &str = "needs RabbitMQ with a TLS listener: run eval \"$(scripts/rabbitmq-start)\" and eval \"$(scripts/rabbitmq-tls)\"";
const PASSWORD: &str = "S3cret-amqps-pw";

fn var(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set: {NEEDS}"))
}

/// A store with a few template events in its log.
fn store_with_events() -> Env {
    let env = Env::new();
    let template = env.template("t", &[("template.yaml", "name: tls-probe\n")]);
    env.run(&["register", template.to_str().unwrap()]).ok();
    assert!(!env.events().is_empty());
    env
}

/// `factory send GenerateScaffold --to URL --json` with a small payload.
fn send(env: &Env, url: &str) -> Run {
    let payload = env.path("payload.json");
    let command = json!({"template": "tls-probe", "answers": {}, "target": {"folder": "o"}});
    std::fs::write(&payload, command.to_string()).unwrap();
    env.run(&[
        "send",
        "GenerateScaffold",
        "--to",
        url,
        "--payload",
        payload.to_str().unwrap(),
        "--json",
    ])
}

/// A loopback server that keeps the first bytes each connection sends, then hangs up.
fn recorder() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in socket.incoming().flatten() {
            let mut stream = stream;
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut first = vec![0; 4096];
            let n = stream.read(&mut first).unwrap_or(0);
            first.truncate(n);
            keep.lock().unwrap().push(first);
        }
    });
    (port, seen)
}

#[test]
fn amqps_opens_with_a_tls_client_hello_never_with_amqp_in_clear() {
    // Before, `amqps://` opened a plain AMQP connection: the server was sent `AMQP\0\0\x09\x01`
    // and then, once it answered, the password.
    let (port, seen) = recorder();
    let url = format!("amqps://factory:{PASSWORD}@127.0.0.1:{port}/%2f");
    let env = store_with_events();
    let pushed = env.run(&["events", "push", "--max-retries", "0", "--to", &url]);
    pushed.expect_code(1);
    let sent = send(&env, &url);
    sent.expect_code(1);
    for run in [&pushed, &sent] {
        assert!(
            run.stderr.contains(&format!(
                "RabbitMQ at amqps://factory:***@127.0.0.1:{port}/%2f"
            )),
            "{}",
            run.stderr
        );
        assert!(
            !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
            "{run:?}"
        );
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one connection each");
    for first in seen.iter() {
        // A TLS record of type handshake (22), TLS 1.x, carrying a ClientHello (1).
        assert!(
            first.len() > 5 && first[0] == 0x16 && first[1] == 0x03 && first[5] == 0x01,
            "not a TLS ClientHello: {:?}",
            &first[..first.len().min(16)]
        );
        assert!(!first.windows(4).any(|w| w == b"AMQP"));
        assert!(
            !first
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes())
        );
    }
}

/// A vhost of its own on the test broker (created with rabbitmqctl); its name.
fn vhost(name: &str) -> String {
    let node = std::env::var("FACTORY_TEST_RABBITMQ_NODE")
        .unwrap_or_else(|_| "factory-test@localhost".to_string());
    let vhost = format!("amqps-{name}-{}", std::process::id());
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
            .args(["-n", &node])
            .args(&args)
            .output()
            .expect("rabbitmqctl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    vhost
}

/// `url` (`scheme://user:pass@host:port/vhost`) on another vhost.
fn on_vhost(url: &str, vhost: &str) -> String {
    format!("{}/{vhost}", url.rsplit_once('/').unwrap().0)
}

/// The port of `scheme://user:pass@host:port/vhost`.
fn port_of(url: &str) -> String {
    let after = url.rsplit_once(':').unwrap().1;
    after.split('/').next().unwrap().to_string()
}

/// The message ids on `queue`, taken off it (over the plain URL: what the broker got).
fn take_all(
    runtime: &tokio::runtime::Runtime,
    channel: &lapin::Channel,
    queue: &str,
) -> Vec<String> {
    runtime.block_on(async {
        let mut ids = Vec::new();
        while let Some(message) = channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            ids.push(
                message
                    .properties
                    .message_id()
                    .as_ref()
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            );
        }
        ids
    })
}

#[test]
#[ignore = "needs RabbitMQ with a TLS listener: run scripts/rabbitmq-start and scripts/rabbitmq-tls"]
fn amqps_to_a_tls_listener_checks_the_ca_and_a_plain_port_is_an_error() {
    let vhost = vhost("tls");
    let plain = on_vhost(&var("FACTORY_TEST_AMQP_URL"), &vhost);
    let tls = on_vhost(&var("FACTORY_TEST_AMQPS_URL"), &vhost);
    let ca = var("FACTORY_TEST_AMQPS_CA");
    let tls_port = port_of(&tls);

    // What arrives, seen over the plain port: a queue on the template topic.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_connection, channel) = runtime.block_on(async {
        let connection = Connection::connect(&plain, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                "factory.templates.template".into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_declare(
                "seen".into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                "seen".into(),
                "factory.templates.template".into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        (connection, channel)
    });

    let mut env = store_with_events();
    // Without the test CA, the broker's certificate is refused, and nothing is pushed.
    let untrusted = env.run(&["events", "push", "--max-retries", "0", "--to", &tls]);
    untrusted.expect_code(1);
    assert!(
        untrusted
            .stderr
            .contains("the broker's TLS certificate was refused")
            && untrusted.stderr.contains("SSL_CERT_FILE"),
        "{}",
        untrusted.stderr
    );
    let untrusted_send = send(&env, &tls);
    untrusted_send.expect_code(1);
    assert!(
        untrusted_send
            .stderr
            .contains("the broker's TLS certificate was refused"),
        "{}",
        untrusted_send.stderr
    );
    assert!(take_all(&runtime, &channel, "seen").is_empty());

    // With it (SSL_CERT_FILE, as for HTTPS), events and commands travel over TLS.
    env.set_env("SSL_CERT_FILE", &ca);
    let pushed = env.run(&["events", "push", "--to", &tls]);
    pushed.ok();
    assert!(
        pushed
            .stdout
            .contains(&format!("to amqps://***:***@127.0.0.1:{tls_port}/{vhost}")),
        "{}",
        pushed.stdout
    );
    let mut expected: Vec<String> = env
        .events()
        .iter()
        .filter(|e| e["eventType"].as_str().unwrap().starts_with("Template"))
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    let mut received = take_all(&runtime, &channel, "seen");
    expected.sort();
    received.sort();
    assert_eq!(received, expected);
    let sent = send(&env, &tls);
    sent.ok();
    let command_id = sent.json()["commandId"].as_str().unwrap().to_string();
    let queued = take_all(
        &runtime,
        &channel,
        "factory.templates.scaffold-engine.commands",
    );
    assert_eq!(queued, vec![command_id]);

    // amqps:// to the plain AMQP port: an error that says so, nothing sent in clear.
    let wrong = tls.replace(&format!(":{tls_port}/"), &format!(":{}/", port_of(&plain)));
    let before = env.store_snapshot();
    for run in [
        env.run(&["events", "push", "--max-retries", "0", "--to", &wrong]),
        send(&env, &wrong),
    ] {
        run.expect_code(1);
        assert!(
            run.stderr.contains("the broker did not answer TLS")
                && run.stderr.contains("nothing was sent in clear"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains(":guest@"), "{}", run.stderr);
    }
    // The push cursor did not move and the send recorded nothing (a failed push leaves the
    // empty lock file of the new target's cursor, nothing else).
    let without_locks = |files: Vec<(std::path::PathBuf, Vec<u8>)>| -> Vec<_> {
        files
            .into_iter()
            .filter(|(path, _)| path.extension().is_none_or(|e| e != "lock"))
            .collect()
    };
    assert_eq!(without_locks(before), without_locks(env.store_snapshot()));
    assert!(take_all(&runtime, &channel, "seen").is_empty());
}
