//! A closed stdout (`factory … | head -1`) ends a command quietly: exit 0, no panic, and the
//! work the command did is recorded all the same.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::Env;

/// Runs `factory ARGS` with a stdout whose reader reads `keep` bytes and then closes it.
fn with_closed_stdout(env: &Env, args: &[&str], keep: usize) -> (i32, String) {
    let mut child = env
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("factory starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0u8; keep];
    if keep > 0 {
        let _ = stdout.read_exact(&mut first);
    }
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn streams_and_reports_end_quietly_when_nobody_reads() {
    let env = Env::new();
    env.published_example();
    // Enough events that the stream outgrows the pipe's buffer.
    for _ in 0..40 {
        env.run(&[
            "validate",
            &format!("{}@1.0.0", common::EXAMPLE_NAME),
            "--quiet",
        ]);
    }
    let (code, stderr) = with_closed_stdout(&env, &["events"], 1);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (code, stderr) = with_closed_stdout(
        &env,
        &[
            "generate",
            common::EXAMPLE_NAME,
            "-o",
            "out",
            "--set",
            "service_name=orders",
        ],
        0,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The generation happened and was recorded although its report was not read.
    assert!(env.path("out/.factory/manifest.sha256").is_file());
    assert!(
        env.events()
            .iter()
            .any(|e| e["eventType"] == "TemplateExecuted" && e["payload"]["status"] == "Succeeded")
    );
}
