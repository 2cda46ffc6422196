//! The README's first steps, run as a new user would (issue 27 item 16): `scripts/demo`, then
//! the walkthrough's commands in order, in a temporary home, with the demo's store and the
//! walkthrough's store both in temporary folders, so no user's store is touched. (The
//! README's other command, `cargo test`, is what runs this.)

mod common;

use std::process::Command;

/// The commands of the README's walkthrough block, in order.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let section = readme
        .split("## The walkthrough")
        .nth(1)
        .expect("the README has a walkthrough");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the walkthrough is a sh block");
    block
        .lines()
        .map(|l| l.split("  #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_demo_then_the_walkthrough_run_in_order_on_stores_of_their_own() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(
        &common::repo().join("templates-examples"),
        &work.path().join("templates-examples"),
    );
    let demo_store = work.path().join("demo-store");
    let bin_dir = common::binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |program: &str, args: &[&str], dir: &std::path::Path| {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .env("FACTORY_BIN", common::binary())
            .env("FACTORY_DEMO_STORE", &demo_store)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let demo = common::repo().join("scripts/demo");
    let (code, text) = run(demo.to_str().unwrap(), &[], work.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("store: {}", demo_store.display()))
            && text.contains("Published ConnectSoft.Template.ReservationsApi@0.1.0"),
        "{text}"
    );
    // Again: the next patch version, on the same store of its own.
    let (code, text) = run(demo.to_str().unwrap(), &[], work.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("@0.1.1"), "{text}");
    // The walkthrough, on the store factory finds by itself (here: below the temporary home).
    let commands = walkthrough();
    assert!(commands.len() >= 7, "{commands:?}");
    for command in &commands {
        let (code, text) = run("sh", &["-c", command], work.path());
        assert_eq!(code, Some(0), "$ {command}\n{text}");
    }
    assert!(work.path().join("orders/.factory/scaffold.yaml").is_file());
    let default_store = home.path().join(".local/share/factory/events.jsonl");
    let log = std::fs::read_to_string(&default_store).unwrap();
    assert!(log.contains("ScaffoldGenerated"));
    // The demo's store holds the demo's versions only.
    let demo_log = std::fs::read_to_string(demo_store.join("events.jsonl")).unwrap();
    assert!(!demo_log.contains("ScaffoldGenerated"));
}
