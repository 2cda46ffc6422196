//! The reference tools the compatibility tests compare against, installed from PyPI into
//! virtual environments under target/ (once per version), and tree comparison helpers.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `bin` from a virtual environment with `package==version` installed; `None` (said loudly)
/// without python3 or PyPI, which CI does not accept.
pub fn tool(package: &str, version: &str, bin: &str) -> Option<PathBuf> {
    let venv = super::repo().join(format!("target/test-venvs/{package}-{version}"));
    let path = venv.join("bin").join(bin);
    if path.is_file() {
        return Some(path);
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", &format!("{package}=={version}")])
            .status()
            .is_ok_and(|s| s.success());
    if made && path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must be able to install {package} from PyPI"
    );
    eprintln!("\n*** SKIPPED: {package} could not be installed (no python3 or no PyPI) ***\n");
    None
}

/// Files below `dir` with their bytes, `.factory/` left out, sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if entry.file_type().is_file() && !rel.starts_with(".factory") {
            out.push((rel, std::fs::read(entry.path()).unwrap()));
        }
    }
    out
}

/// Asserts two trees hold the same files with the same bytes, showing text differences.
#[track_caller]
pub fn assert_same(mine: &[(String, Vec<u8>)], theirs: &[(String, Vec<u8>)], what: &str) {
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(mine), names(theirs), "{what}: the same files");
    for ((path, a), (_, b)) in mine.iter().zip(theirs) {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "{what}: {path}"
        );
    }
}

/// Runs a reference tool (its output goes where its arguments say), with `home` as HOME, and
/// fails with its own error output when it fails.
#[track_caller]
pub fn run_reference(mut command: Command, home: &Path) {
    let out = command
        .env("HOME", home)
        .output()
        .expect("the reference tool starts");
    assert!(
        out.status.success(),
        "{:?}: {}",
        command.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `factory generate TEMPLATE -o OURS --defaults --set PAIR…`, which must succeed.
pub fn generate_with(env: &super::Env, template: &Path, ours: &Path, sets: &[&str]) {
    let mut args = vec![
        "generate".to_string(),
        template.display().to_string(),
        "-o".into(),
        ours.display().to_string(),
        "--defaults".into(),
    ];
    for pair in sets {
        args.extend(["--set".to_string(), pair.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args).ok();
}
