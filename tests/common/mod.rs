//! Helpers for the end-to-end tests: run the real binary against a store in a temporary
//! folder, with a clean environment.
// Shared by every test crate, each using part of it: `pub` is how its items reach them.
#![allow(unreachable_pub)]
#![allow(dead_code)]

pub mod fake_registry;
pub mod http;
pub mod python;
pub mod registry;
pub mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The example template every lifecycle test starts from.
pub const EXAMPLE: &str = "templates-examples/reservations-api";
/// Its name.
pub const EXAMPLE_NAME: &str = "ConnectSoft.Template.ReservationsApi";

/// A store in a temporary folder and a way to run `factory` against it.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
    envs: Vec<(String, String)>,
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_factory"))
}

impl Env {
    /// A new temporary folder with `store/` as the store (not created yet).
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store");
        Env {
            dir,
            store,
            envs: Vec::new(),
        }
    }

    /// Sets an environment variable for every later run.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.envs.push((key.to_string(), value.to_string()));
    }

    /// A command for `factory ARGS` against this store, in the temporary folder.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.program(binary());
        command.args(args);
        command
    }

    /// A command for any program with this test's environment (clean, store set, `F` naming
    /// the factory binary for shell scripts).
    pub fn program(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.dir.path())
            // factory reads answers from a stdin that is not a terminal: a test never
            // depends on the stdin its runner was given (one that sets it overrides this).
            .stdin(std::process::Stdio::null())
            .env_clear()
            .env("F", binary())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("FACTORY_STORE", &self.store)
            .env("NO_COLOR", "1");
        for (k, v) in &self.envs {
            command.env(k, v);
        }
        command
    }

    /// Runs `factory ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("factory runs").into()
    }

    /// A path inside the temporary folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Copies the example template into the temporary folder; returns its path.
    pub fn example(&self) -> PathBuf {
        let target = self.path("reservations-api");
        copy_dir(&repo().join(EXAMPLE), &target);
        target
    }

    /// Writes a template folder from (path, contents) pairs; returns its path.
    pub fn template(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root = self.path(name);
        for (rel, text) in files {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    /// The log's lines parsed.
    pub fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.store.join("events.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("log line is JSON"))
            .collect()
    }

    /// The log's bytes.
    pub fn log_bytes(&self) -> Vec<u8> {
        std::fs::read(self.store.join("events.jsonl")).unwrap_or_default()
    }

    /// Every file below the store with its bytes, for "nothing changed" assertions
    /// (the lock file, which only writers touch, is left out).
    pub fn store_snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        snapshot(&self.store)
    }

    /// Registers, versions, validates and publishes the example; returns its folder.
    pub fn published_example(&self) -> PathBuf {
        let path = self.example();
        self.run(&["register", path.to_str().unwrap()]).ok();
        self.run(&["version", EXAMPLE_NAME, "--version", "1.0.0"])
            .ok();
        self.run(&["validate", &format!("{EXAMPLE_NAME}@1.0.0")])
            .ok();
        self.run(&["publish", &format!("{EXAMPLE_NAME}@1.0.0")])
            .ok();
        path
    }
}

/// Every file below `root` with its bytes, sorted, without the lock file.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if !root.exists() {
        return out;
    }
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && entry.file_name() != "lock" {
            out.push((
                entry.path().to_path_buf(),
                std::fs::read(entry.path()).unwrap(),
            ));
        }
    }
    out
}

/// Copies a folder recursively, keeping executable bits.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Env {
    /// A test environment whose git commits (the tools', the test's) have an author.
    pub fn with_git_author() -> Env {
        let mut env = Env::new();
        for (key, value) in [
            ("GIT_AUTHOR_NAME", "t"),
            ("GIT_AUTHOR_EMAIL", "t@localhost"),
            ("GIT_COMMITTER_NAME", "t"),
            ("GIT_COMMITTER_EMAIL", "t@localhost"),
        ] {
            env.set_env(key, value);
        }
        env
    }

    /// `git ARGS` in `dir` with this environment; its stdout (a failure fails the test).
    #[track_caller]
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self
            .program("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `dir` (made if missing) a new git repository on branch `main`.
    pub fn git_init(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        self.git(dir, &["init", "-q", "-b", "main"]);
    }

    /// Everything in `dir` committed (`git add -A`; the commit may be empty).
    pub fn commit_all(&self, dir: &Path, message: &str) {
        self.git(dir, &["add", "-A"]);
        self.git(dir, &["commit", "-qm", message, "--allow-empty"]);
    }

    /// A project folder made a repository with everything in it committed.
    pub fn git_init_committed(&self, dir: &Path, message: &str) {
        self.git_init(dir);
        self.commit_all(dir, message);
    }

    /// A version of the template repository `dir`: `files` written (`None`: deleted), all
    /// committed with `tag` for a message, and tagged `tag`.
    pub fn tag_version(&self, dir: &Path, tag: &str, files: &[(&str, Option<&str>)]) {
        write_files(dir, files);
        self.commit_all(dir, tag);
        self.git(dir, &["tag", tag]);
    }
}

/// Writes the files below `dir` (`None`: deletes it), making folders as needed.
pub fn write_files(dir: &Path, files: &[(&str, Option<&str>)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        match text {
            Some(text) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            None => std::fs::remove_file(path).unwrap(),
        }
    }
}
