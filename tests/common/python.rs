//! The reference tools the compatibility tests compare against, installed from PyPI into
//! virtual environments under target/ (once per version), and tree comparison helpers.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `bin` from a virtual environment with `package==version` installed; `None` (said loudly)
/// without python3 or PyPI, which CI does not accept.
pub fn tool(package: &str, version: &str, bin: &str) -> Option<PathBuf> {
    tool_with(
        &format!("{package}-{version}"),
        &[&format!("{package}=={version}")],
        bin,
    )
}

/// `bin` from a virtual environment `name` with every requirement in `packages` installed
/// (`None` as for [`tool`]).
pub fn tool_with(name: &str, packages: &[&str], bin: &str) -> Option<PathBuf> {
    let venv = super::repo().join(format!("target/test-venvs/{name}"));
    let path = venv.join("bin").join(bin);
    // A venv copied from another folder (a warm target/) has scripts whose `#!` names an
    // interpreter elsewhere, which may be gone.
    let usable = || {
        Command::new(&path)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if path.is_file() && usable() {
        return Some(path);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet"])
            .args(packages)
            .status()
            .is_ok_and(|s| s.success());
    if made && path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must be able to install {} from PyPI",
        packages.join(" ")
    );
    eprintln!(
        "\n*** SKIPPED: {} could not be installed (no python3 or no PyPI) ***\n",
        packages.join(" ")
    );
    None
}

/// What the reference tools' Python loads first (through `PYTHONPATH`): with
/// `FACTORY_UUID_SEED` set, `uuid.uuid4` gives factory's repeatable sequence, and with
/// `FACTORY_NOW` set, jinja2-time's clock (arrow) is pinned to it, so outputs can match.
const PINNING: &str = r#"import hashlib, os, uuid

seed = os.environ.get("FACTORY_UUID_SEED")
if seed:
    issued = [0]

    def uuid4():
        n = issued[0]
        issued[0] += 1
        digest = hashlib.sha256(f"{seed}:{n}".encode()).digest()
        return uuid.UUID(bytes=digest[:16], version=4)

    uuid.uuid4 = uuid4

now = os.environ.get("FACTORY_NOW")
if now:
    try:
        import arrow
    except ImportError:
        arrow = None
    if arrow is not None:
        pinned = arrow.get(now)
        arrow.now = lambda tz="local": pinned.to(tz)
        arrow.utcnow = lambda: pinned.to("utc")
    # jinja2-ansible-filters' strftime reads time.localtime() when given no seconds.
    import time
    from datetime import datetime

    seconds = datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()
    localtime = time.localtime
    time.localtime = lambda secs=None: localtime(seconds if secs is None else secs)
"#;

/// A command for a reference tool with this test's environment (see [`Env::program`]) and
/// its clock and uuid4 pinned like factory's (`FACTORY_NOW`, `FACTORY_UUID_SEED`).
///
/// [`Env::program`]: super::Env::program
pub fn reference_command(env: &super::Env, tool: &Path) -> Command {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = super::repo().join("target/test-venvs/pinning");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sitecustomize.py");
        if std::fs::read_to_string(&file).ok().as_deref() != Some(PINNING) {
            // Written beside and renamed: test binaries running at once never see half a file.
            let partial = dir.join(format!("sitecustomize.{}.partial", std::process::id()));
            std::fs::write(&partial, PINNING).unwrap();
            std::fs::rename(&partial, &file).unwrap();
        }
        dir
    });
    let mut command = env.program(tool);
    command.env("PYTHONPATH", dir);
    command
}

/// Runs a reference tool with `args` in `dir` (this test's environment); what it did.
pub fn reference_run(
    env: &super::Env,
    tool: &Path,
    args: &[&str],
    dir: &Path,
) -> std::process::Output {
    reference_command(env, tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs a reference tool with `args` in `dir`, which must succeed.
#[track_caller]
pub fn reference_ok(env: &super::Env, tool: &Path, args: &[&str], dir: &Path) {
    let out = reference_run(env, tool, args, dir);
    assert!(
        out.status.success(),
        "{tool:?} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// copier's answers file, as a template's file to write: its YAML of the answers.
pub const ANSWERS: (&str, Option<&str>) = (
    "{{ _copier_conf.answers_file }}.jinja",
    Some("{{ _copier_answers|to_nice_yaml }}"),
);

/// `copier copy ARGS SRC DST`, which must succeed; what copier said on stderr.
#[track_caller]
pub fn copier_copy(
    env: &super::Env,
    copier: &Path,
    args: &[&str],
    src: &Path,
    dst: &Path,
) -> String {
    let out = reference_command(env, copier)
        .arg("copy")
        .args(args)
        .arg(src)
        .arg(dst)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "copier copy {args:?}: {stderr}");
    stderr
}

/// Two copies (`cp -a`: links, modes and times kept) of the project `made`, for copier and
/// for factory to update: `by-copier` and `by-factory` in the test's folder.
pub fn twin_projects(env: &super::Env, made: &Path) -> (PathBuf, PathBuf) {
    let (by_copier, by_factory) = (env.path("by-copier"), env.path("by-factory"));
    for to in [&by_copier, &by_factory] {
        let copied = env.program("cp").arg("-a").arg(made).arg(to).status();
        assert!(copied.unwrap().success(), "cp -a {made:?} {to:?}");
    }
    (by_copier, by_factory)
}

/// A project's files as [`tree`] has them, its `.git/` left out.
pub fn project_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".git/"))
        .collect()
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
        // factory's provenance is in the project folder: for cookiecutter, one level down.
        if rel.split('/').any(|part| part == ".factory") {
            continue;
        }
        if entry.file_type().is_file() {
            out.push((rel, std::fs::read(entry.path()).unwrap()));
        } else if entry.file_type().is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            out.push((rel, format!("-> {}", target.display()).into_bytes()));
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

/// copier 9.19.1 with copier-templates-extensions 0.3.2 beside it (context hooks, the
/// extension loader), in a venv of their own.
pub fn copier_with_extensions() -> Option<PathBuf> {
    tool_with(
        "copier-9.19.1-templates-extensions-0.3.2",
        &["copier==9.19.1", "copier-templates-extensions==0.3.2"],
        "copier",
    )
}

/// copier 9.19.1 from PyPI, in a virtual environment under target/ made once per test
/// process (tests run in parallel); `None` where python3 or PyPI is missing.
pub fn copier() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(|| tool("copier", "9.19.1", "copier"))
        .clone()
}
