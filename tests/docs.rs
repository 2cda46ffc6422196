//! Documentation examples are executed: every ```console block in docs/ runs against the
//! built binary, page by page in a fresh sandbox (the example templates copied in, a store of
//! its own, the clock pinned). A line starting with `$ ` is a command (`# exit N` at its end
//! expects that exit code); the other lines are output that must appear, `…` standing for the
//! parts that change from run to run (ids, hashes, paths).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Example {
    page: PathBuf,
    line: usize,
    command: String,
    code: i32,
    expected: Vec<String>,
}

fn examples(page: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(page).unwrap();
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let (command, code) = match command.rsplit_once("  # exit ") {
                Some((c, code)) => (c.to_string(), code.trim().parse().unwrap()),
                None => (command.to_string(), 0),
            };
            out.push(Example {
                page: page.to_path_buf(),
                line: i + 1,
                command,
                code,
                expected: Vec::new(),
            });
        } else if !line.trim().is_empty() {
            out.last_mut()
                .expect("output follows a command")
                .expected
                .push(line.to_string());
        }
    }
    out
}

/// Whether `output` has a line holding every `…`-separated fragment of `expected`, in order.
fn shows(output: &str, expected: &str) -> bool {
    let fragments: Vec<&str> = expected
        .split('…')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    output.lines().any(|line| {
        let mut rest = line;
        fragments.iter().all(|f| match rest.find(f) {
            Some(at) => {
                rest = &rest[at + f.len()..];
                true
            }
            None => false,
        })
    })
}

fn pages(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

#[test]
fn every_console_example_in_docs_runs() {
    let mut all = Vec::new();
    pages(&common::repo().join("docs"), &mut all);
    all.sort();
    let bin_dir = common::binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut failures = Vec::new();
    for page in &all {
        let examples = examples(page);
        if examples.is_empty() {
            continue;
        }
        let sandbox = tempfile::tempdir().unwrap();
        common::copy_dir(
            &common::repo().join("templates-examples"),
            &sandbox.path().join("templates-examples"),
        );
        for example in examples {
            let out = Command::new("sh")
                .arg("-c")
                .arg(&example.command)
                .current_dir(sandbox.path())
                .env_clear()
                .env("PATH", &path)
                .env("HOME", sandbox.path())
                .env("FACTORY_STORE", sandbox.path().join("store"))
                .env("FACTORY_NOW", "2026-06-11T09:05:00Z")
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            ran += 1;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let at = format!(
                "{}:{}: $ {}",
                example.page.strip_prefix(common::repo()).unwrap().display(),
                example.line,
                example.command
            );
            if out.status.code() != Some(example.code) {
                failures.push(format!(
                    "{at}\n  exit {:?}, expected {}\n{text}",
                    out.status.code(),
                    example.code
                ));
                continue;
            }
            for expected in &example.expected {
                if !shows(&text, expected) {
                    failures.push(format!("{at}\n  missing: {expected}\n{text}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} examples failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran >= 40, "only {ran} examples ran");
}
